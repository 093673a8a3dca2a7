"""Feeds a batcher's measurements to the server's Prometheus metrics (serving.metrics).

TF Serving exports the processed batch size and the queuing latency per model; tfzoo adds the
queue depth. One observer per model version, so each series carries its model and version. The
labelled series are looked up once here rather than on every request: `set_queue_depth` and
friends would find the same children each time, at a few microseconds per call on the hot path.
"""

from __future__ import annotations

from serving.metrics import recorders


class MetricsObserver:
    """A BatchObserver that records into serving.metrics for one model version.

    The series are the ones `serving.metrics.observe_batch_size`, `observe_queuing_latency` and
    `set_queue_depth` write, with the same units (rows; microseconds; requests).
    """

    def __init__(self, model_name: str, version: int):
        labels = (model_name, str(version))
        self._batch_size = recorders.BATCH_SIZE.labels(*labels)
        self._queuing_latency = recorders.QUEUING_LATENCY.labels(*labels)
        self._queue_depth = recorders.QUEUE_DEPTH.labels(*labels)

    def batch_ran(self, size: int) -> None:
        self._batch_size.observe(size)

    def request_queued(self, seconds: float) -> None:
        self._queuing_latency.observe(seconds * 1e6)

    def queue_depth(self, requests: int) -> None:
        self._queue_depth.set(requests)
