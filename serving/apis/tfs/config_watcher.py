"""--model_config_file_poll_wait_seconds: re-read the model config file and apply its changes."""

from __future__ import annotations

import logging
import threading

from serving import errors
from serving.apis.tfs.model_config import parse_model_config_text
from serving.apis.tfs.reload import apply_model_server_config

logger = logging.getLogger("serving.core")


class ConfigFileWatcher:
    """Re-reads a model config file every `poll_wait_seconds` and applies it when it changes.

    This is `--model_config_file_poll_wait_seconds`: a changed file replaces the manager's model
    list through `manager.reload_config`, and the request logging of `request_logger` (a
    ServerRequestLogger). A file that cannot be read or is invalid is logged and the running
    config is kept, so a half-edited file never takes models down.
    """

    def __init__(self, path: str, manager, poll_wait_seconds: float, request_logger=None):
        if poll_wait_seconds <= 0:
            raise ValueError("poll_wait_seconds must be positive. "
                             f"Received: poll_wait_seconds={poll_wait_seconds}")
        self.path = path
        self.poll_wait_seconds = poll_wait_seconds
        self._manager = manager
        self._request_logger = request_logger
        self._last_read_error = ""
        self._last_text = self._read_text()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Starts polling in a daemon thread; the current content counts as already applied."""
        if self._thread is not None:
            raise RuntimeError("ConfigFileWatcher.start() was already called")
        self._thread = threading.Thread(target=self._poll_forever, name="config-file-watcher",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops polling and waits for a reload in progress to finish."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def poll_once(self) -> bool:
        """Applies the file if it changed since the last attempt; True if it was applied."""
        text = self._read_text()
        if text is None or text == self._last_text:
            return False
        self._last_text = text
        try:
            config = parse_model_config_text(text, source=self.path)
            apply_model_server_config(self._manager, config, self._request_logger)
        except errors.ServingError as error:
            logger.error("event=config_reload_failed path=%s error=%r keeping=previous_config",
                         self.path, error.message)
            return False
        logger.info("event=config_reloaded path=%s models=%s", self.path,
                    ",".join(model.name for model in config.model_config_list.config))
        return True

    def _read_text(self) -> str | None:
        try:
            with open(self.path, encoding="utf-8") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as error:
            if str(error) != self._last_read_error:  # once per problem, not once per poll
                logger.error("event=config_read_failed path=%s error=%r", self.path, str(error))
            self._last_read_error = str(error)
            return None
        self._last_read_error = ""
        return text

    def _poll_forever(self) -> None:
        while not self._stopping.wait(self.poll_wait_seconds):
            try:
                self.poll_once()
            except Exception:  # a bug here must not silently end hot reload
                logger.exception("event=config_watcher_error path=%s", self.path)
