"""What a model version reports about the requests it runs, and where each request's time went.

A Servable (and its batcher) report to a `VersionObserver`: every request that succeeded or
failed, every model execution, the batching queue. The server's observer is
serving.metrics.VersionRecorder, which feeds both the Prometheus metrics and the per-version
statistics that Triton's tools read (the Open Inference Protocol's statistics extension); the
core only measures and reports, it knows neither.

The split of a request's time is Triton's: waiting in the batching queue, preparing the model's
inputs (merging a batch), running the model, and taking the request's outputs back out of the
batch. A request that runs alone spends all of its model time in `compute_infer`.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

# Backend.model_format values: the file a version was loaded from.
SAVED_MODEL = "saved_model"
TFLITE = "tflite"


@dataclasses.dataclass
class RunTiming:
    """Seconds one request (or one batch) spent in each stage of a model run."""

    queue: float = 0.0
    compute_input: float = 0.0
    compute_infer: float = 0.0
    compute_output: float = 0.0


class VersionObserver(Protocol):
    """Receives one model version's measurements; every method is cheap and thread-safe."""

    def request_succeeded(self, rows: int, seconds: float, timing: RunTiming) -> None:
        """A request of `rows` examples was answered after `seconds` in the version."""

    def request_failed(self, seconds: float) -> None:
        """A request failed after `seconds` in the version (bad input, deadline, model error)."""

    def model_ran(self, size: int, timing: RunTiming) -> None:
        """The model ran one request of `size` examples on its own, successfully."""

    def batch_ran(self, size: int, timing: RunTiming | None) -> None:
        """The batcher ran a batch of `size` rows (padding included); `timing` is None when the
        batch failed."""

    def request_queued(self, seconds: float) -> None:
        """A request waited `seconds` in the batching queue before its batch started."""

    def queue_depth(self, requests: int) -> None:
        """`requests` requests wait in the batching queue now."""
