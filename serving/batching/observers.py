"""Feeds a batcher's measurements to the server's Prometheus metrics (serving.metrics).

TF Serving exports the processed batch size and the queuing latency per model; tfzoo adds the
queue depth. One observer per model version, so each series carries its model and version.
"""

from __future__ import annotations

from serving import metrics


class MetricsObserver:
    """A BatchObserver that records into serving.metrics for one model version."""

    def __init__(self, model_name: str, version: int):
        self._model_name = model_name
        self._version = version

    def batch_ran(self, size: int) -> None:
        metrics.observe_batch_size(self._model_name, self._version, size)

    def request_queued(self, seconds: float) -> None:
        metrics.observe_queuing_latency(self._model_name, self._version, seconds)

    def queue_depth(self, requests: int) -> None:
        metrics.set_queue_depth(self._model_name, self._version, requests)
