"""`zoo-serve` / `python -m serving`: tensorflow_model_server's command line, served from Python.

    zoo-serve --model_name=mnist --model_base_path=/models/mnist --port=8500
    zoo-serve --model_config_file=/models/models.config --model_config_file_poll_wait_seconds=30

Exit status: 0 after a graceful SIGTERM/SIGINT shutdown (or --help/--version), 2 for a command
line mistake (one line on stderr saying how to fix it), 1 when the server cannot start (bad model
config, port in use). Logs go to stderr, one line each: `time level logger message key=value`.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import logging
import os
import resource
import signal
import sys
import threading
from typing import Sequence

from serving import errors, flags
from serving.options import OptionsError
from serving.tensorflow_startup import find_devices, import_tensorflow

logger = logging.getLogger("serving.main")

# Attributes every LogRecord has; anything else on a record came from `extra=` and is printed.
_STANDARD_RECORD_FIELDS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "taskName"}
)


class OneLineFormatter(logging.Formatter):
    """`2025-01-02T03:04:05.678Z INFO serving.server message key=value`, one line per record.

    Fields passed with `extra=` are appended as key=value; values with spaces, quotes or `=` are
    JSON-quoted, and a traceback becomes a quoted `traceback=` field, so every record stays on one
    line for log collectors.
    """

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
        parts = [
            created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z",
            record.levelname,
            record.name,
            record.getMessage().replace("\n", "\\n"),
        ]
        for key, value in vars(record).items():
            if key not in _STANDARD_RECORD_FIELDS and not key.startswith("_"):
                parts.append(f"{key}={_quote(value)}")
        if record.exc_info:
            parts.append(f"traceback={_quote(self.formatException(record.exc_info))}")
        return " ".join(parts)


def _quote(value) -> str:
    text = str(value)
    if not text or any(char in text for char in ' "=\n\t'):
        return json.dumps(text)
    return text


def configure_logging(level: int = logging.INFO) -> None:
    """Sends every logger's records to stderr through OneLineFormatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the server until SIGTERM/SIGINT; returns the process exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if flags.wants_help(arguments):
        print(flags.help_text())
        return 0
    try:
        options = flags.parse_flags(arguments)
        if options.version:
            print(flags.version_text())
            return 0
        # Before the server imports it: TensorFlow's C++ start-up lines (oneDNN, CUDA probing)
        # would break the one-line logs, and only a first import can keep them out.
        skip_tensorflows_keras_import()
        import_tensorflow(verbose=options.verbose)
        devices = find_devices()
        from serving.server import ModelServer

        server = ModelServer(options)  # an unusable --batching_parameters_file: status 2
    except OptionsError as error:
        print(f"{flags.PROG}: {error}", file=sys.stderr)
        return 2

    configure_logging()
    raise_open_file_limit()
    logger.info("event=devices_found devices=%r", devices.describe())
    for warning in flags.unimplemented_flag_warnings(options):
        logger.warning(warning)

    stop_requested = threading.Event()
    previous_handlers = _install_stop_handlers(stop_requested)
    try:
        return _serve(server, stop_requested)
    finally:
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)


def skip_tensorflows_keras_import() -> None:
    """Keeps `import tensorflow` from importing Keras in this process: the server never uses it.

    TensorFlow 2.21 imports all of Keras 3 at import time (`keras.src.optimizers`, for
    registrations only training needs), and Keras imports scikit-learn where it is installed:
    about 140 MB of resident memory and a second and a half of start-up, for nothing a server
    calls. TensorFlow skips that import when TF_USE_LEGACY_KERAS asks for `tf_keras` and it is
    not installed (it catches the ImportError). SavedModels load and run the same without Keras,
    as they do in TF Serving, which has none. Nothing changes when TensorFlow is already imported
    (the server embedded in a program), when the user set the variable, or when tf_keras is
    installed.
    """
    if ("tensorflow" not in sys.modules and "TF_USE_LEGACY_KERAS" not in os.environ
            and importlib.util.find_spec("tf_keras") is None):
        os.environ["TF_USE_LEGACY_KERAS"] = "1"


def raise_open_file_limit() -> None:
    """Raises the soft limit on open files to the hard one, as servers holding many connections
    do: each REST or gRPC connection is a descriptor, and at the common soft default of 1,024 a
    thousand idle clients would leave the REST port unable to accept anyone else."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as error:  # a hard limit the kernel caps lower
            logger.warning("event=open_file_limit_unchanged soft=%d hard=%d error=%r", soft, hard,
                           error)


def _serve(server, stop_requested: threading.Event) -> int:
    from serving.heap import HeapFreezer
    from serving.server import ServerStartError

    try:
        server.start()
    except (errors.ServingError, ServerStartError) as error:
        message = error.message if isinstance(error, errors.ServingError) else str(error)
        logger.error("event=start_failed error=%r", message)
        print(f"{flags.PROG}: failed to start: {message}", file=sys.stderr)
        return 1
    heap_freezer = HeapFreezer(server.manager)
    print(f"serving on {' and '.join(server.addresses)} models={','.join(server.manager.model_names())}",
          flush=True)
    stop_requested.wait()
    heap_freezer.stop()
    server.stop()
    return 0


def _install_stop_handlers(stop_requested: threading.Event) -> dict:
    """SIGTERM/SIGINT ask for a graceful stop; a second one ends the process at once."""
    if threading.current_thread() is not threading.main_thread():
        return {}  # signal handlers can only be set from the main thread

    def request_stop(signum, frame):
        logger.info("event=signal_received signal=%s action=graceful_shutdown", signal.Signals(signum).name)
        signal.signal(signum, signal.SIG_DFL)
        stop_requested.set()

    return {signum: signal.signal(signum, request_stop) for signum in (signal.SIGTERM, signal.SIGINT)}
