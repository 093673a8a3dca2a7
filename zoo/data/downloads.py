"""Datasets that keras.datasets downloads: find them in the keras cache, or fail fast offline.

keras.datasets downloads with `urlretrieve`, which has no timeout: offline, or behind a firewall
that drops packets, a call can hang. So before asking keras to download we check, with a short
timeout, that its host answers at all, and raise a one-line `DatasetUnavailableError` if not.
Files already in the keras cache are loaded without that check. With ZOO_NO_OPTIONAL_DATA set
(zoo/data/optional.py) the cache counts as empty and nothing is downloaded.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import importlib
import os
import socket
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from zoo.data.optional import optional_data_hidden
from zoo.errors import ConfigError, DatasetUnavailableError

DEFAULT_DOWNLOAD_TIMEOUT = 3.0  # seconds for the host to resolve and accept a connection


@dataclasses.dataclass(frozen=True)
class KerasSource:
    """Where keras.datasets gets one dataset from, and the files it leaves in its cache.

    `cache_files` are relative to `<keras home>/datasets/`, as keras' `get_file` names them.
    """

    module: str  # the keras.datasets module, e.g. "mnist"
    host: str  # the download host, checked before a download
    cache_files: tuple[str, ...]

    def cache_paths(self) -> list[Path]:
        return [keras_cache_dir() / name for name in self.cache_files]

    def is_cached(self) -> bool:
        return not optional_data_hidden() and all(path.is_file() for path in self.cache_paths())


def keras_cache_dir() -> Path:
    """The folder keras.datasets caches downloads in, found as keras does, without importing keras.

    Keras uses $KERAS_HOME, else ~/.keras (or /tmp/.keras when home is not writable).
    """
    if "KERAS_HOME" in os.environ:
        home = Path(os.environ["KERAS_HOME"]).expanduser()
    else:
        user_home = Path.home()
        home = (user_home if os.access(user_home, os.W_OK) else Path("/tmp")) / ".keras"
    if not os.access(home, os.W_OK):  # as keras' get_file does
        home = Path("/tmp/.keras")
    return home / "datasets"


def host_reachable(host: str, port: int, timeout: float) -> bool:
    """Whether `host:port` resolves and accepts a TCP connection within `timeout` seconds.

    Name resolution has no timeout of its own, so it runs in a worker thread we stop waiting for.
    """
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        addresses = executor.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        resolved = addresses.result(timeout=timeout)
    except (concurrent.futures.TimeoutError, OSError):
        return False
    finally:
        executor.shutdown(wait=False)
    family, kind, protocol, _, address = resolved[0]
    try:
        with socket.socket(family, kind, protocol) as connection:
            connection.settimeout(timeout)
            connection.connect(address)
    except OSError:
        return False
    return True


def parse_host_port(address: str) -> tuple[str, int]:
    """Parses the `download_origin` option, "host:port"."""
    host, _, port = str(address).rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"download_origin must be 'host:port'. Received: download_origin={address!r}")
    return host, int(port)


def load_with_keras(
    name: str,
    source: KerasSource,
    *,
    load: Callable[[ModuleType], Any] = lambda module: module.load_data(),
    not_found: str,
    how_to_get: str,
    download_origin: str | None = None,
    download_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
) -> Any:
    """Calls `load(keras.datasets.<module>)`, from the cache or after a quick reachability check.

    Args:
        name: the dataset's name, which starts the error message.
        source: where keras downloads it from and caches it.
        load: what to call on the keras.datasets module; by default its `load_data()`.
        not_found: where else the caller looked, e.g. "not found in /usr/share/datasets/x".
        how_to_get: the error message's last sentence, saying how to make the data available.
        download_origin: "host:port" to check instead of `source.host:443`.
        download_timeout: seconds to wait for that check.

    Raises:
        DatasetUnavailableError: the data is not cached and keras cannot download it, or
            ZOO_NO_OPTIONAL_DATA is set (`not_found` then says so).
    """
    if (
        isinstance(download_timeout, bool)
        or not isinstance(download_timeout, (int, float))
        or download_timeout <= 0
    ):
        raise ConfigError(
            f"download_timeout must be positive. Received: download_timeout={download_timeout!r}"
        )
    host, port = parse_host_port(download_origin) if download_origin else (source.host, 443)
    if optional_data_hidden():
        raise DatasetUnavailableError(f"{name}: {not_found}. {how_to_get}")
    if not source.is_cached() and not host_reachable(host, port, download_timeout):
        raise DatasetUnavailableError(
            f"{name}: {not_found}, and keras.datasets cannot reach {host}:{port} to download it "
            f"(offline?). {how_to_get}"
        )
    module = importlib.import_module(f"keras.datasets.{source.module}")
    try:
        return load(module)
    except Exception as error:  # keras raises a bare Exception for a failed download
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DatasetUnavailableError(
            f"{name}: keras.datasets failed to download it ({reason}). {how_to_get}"
        ) from error
