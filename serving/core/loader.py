"""Loading one version: the SavedModel, then its warmup, retried like TF Serving's LoaderHarness.

A load is tried once plus `max_retries` more times, `retry_interval_seconds` apart, and gives up
early when the version is no longer wanted. Each attempt logs one line (loaded or failed).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

import grpc

from serving import errors
from serving.core import warmup
from serving.core.servable import Servable, ServableLoadError

logger = logging.getLogger("serving.core")


@dataclasses.dataclass(frozen=True)
class LoadOptions:
    """How to load every version: MetaGraph tags, warmup, and retries (the server's flags)."""

    tags: tuple[str, ...] = ("serve",)
    warmup_iterations: int | None = 1  # None: warmup disabled
    max_retries: int = 5
    retry_interval_seconds: float = 60.0
    batching: object = None  # a serving.batching.BatchingPolicy; None: no batching
    tflite: object = None  # a serving.tflite.TfliteOptions: serve model.tflite where present


def load_with_retries(name: str, version: int, path: str, options: LoadOptions,
                      cancelled: threading.Event) -> Servable:
    """Loads and warms up one version, retrying failures; returns the ready Servable.

    Raises:
        errors.ServingError: the last attempt's error (a ServableLoadError carries the status
            code to report), or CANCELLED if `cancelled` was set before any attempt was made.
    """
    attempts = 1 + options.max_retries
    error: errors.ServingError | None = None
    for attempt in range(1, attempts + 1):
        waited_out = attempt > 1 and cancelled.wait(options.retry_interval_seconds)
        if waited_out or cancelled.is_set():
            break
        started = time.monotonic()
        try:
            servable = _load_and_warm_up(name, version, path, options)
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


def _load_and_warm_up(name: str, version: int, path: str, options: LoadOptions) -> Servable:
    batching_options = None
    if options.batching is not None:
        from serving.batching.attach import version_batching_options

        batching_options = version_batching_options(path, options.batching)
    if options.tflite is not None:
        from serving.tflite import load_preferring_tflite  # imported late: it imports serving.core

        servable = load_preferring_tflite(name, version, path, options.tags, options.tflite)
    else:
        servable = Servable.load(name, version, path, options.tags)
    if options.warmup_iterations is not None:
        warmup.warm_up(servable, options.warmup_iterations)
    if batching_options is not None:
        from serving.batching.attach import attach_batcher

        attach_batcher(servable, batching_options)
    return servable


def _as_serving_error(caught: Exception) -> errors.ServingError:
    if isinstance(caught, errors.ServingError):
        return caught
    return ServableLoadError(f"{type(caught).__name__}: {caught}", grpc.StatusCode.UNKNOWN)
