"""Loading one version with retries, like TF Serving's LoaderHarness.

The manager is given a load function (name, version, path) -> Servable; this harness tries it
once plus `max_retries` more times, `retry_interval_seconds` apart, and gives up early when the
version is no longer wanted. Each attempt logs one line (loaded or failed).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Callable

import grpc

from serving import errors
from serving.core.servable import Servable, ServableLoadError

logger = logging.getLogger("serving.core")

# load(name, version, path) -> the ready Servable; raises ServableLoadError (or anything else).
LoadFunction = Callable[[str, int, str], Servable]


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often a failed load is tried again (--max_num_load_retries and its interval)."""

    max_retries: int = 5
    retry_interval_seconds: float = 60.0


def load_with_retries(load: LoadFunction, name: str, version: int, path: str,
                      retries: RetryPolicy, cancelled: threading.Event) -> Servable:
    """Calls `load`, retrying failures; returns the ready Servable.

    Raises:
        errors.ServingError: the last attempt's error (a ServableLoadError carries the status
            code to report), or CANCELLED if `cancelled` was set before any attempt was made.
    """
    attempts = 1 + retries.max_retries
    error: errors.ServingError | None = None
    for attempt in range(1, attempts + 1):
        waited_out = attempt > 1 and cancelled.wait(retries.retry_interval_seconds)
        if waited_out or cancelled.is_set():
            break
        started = time.monotonic()
        try:
            servable = load(name, version, path)
        except Exception as caught:  # every failure ends up in the version's status
            error = _as_serving_error(caught)
            logger.error("event=version_load_failed model=%s version=%d path=%s attempt=%d/%d "
                         "code=%s error=%r", name, version, path, attempt, attempts,
                         error.code.name, error.message)
            continue
        logger.info("event=version_loaded model=%s version=%d path=%s attempt=%d/%d seconds=%.3f",
                    name, version, path, attempt, attempts, time.monotonic() - started)
        return servable
    if error is None:
        error = ServableLoadError("Load cancelled before it could be tried: the version is no "
                                  "longer wanted", grpc.StatusCode.CANCELLED)
    raise error


def _as_serving_error(caught: Exception) -> errors.ServingError:
    if isinstance(caught, errors.ServingError):
        return caught
    return ServableLoadError(f"{type(caught).__name__}: {caught}", grpc.StatusCode.UNKNOWN)
