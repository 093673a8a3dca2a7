"""VersionRecorder: one model version's measurements, recorded once into both of their readers.

The server gives every version it loads a VersionRecorder as its observer (serving.core's
VersionObserver, which the version's batcher also reports to). Each measurement goes to the
Prometheus series TF Serving exports (processed batch size, queuing latency; tfzoo's queue depth)
and to the version's statistics (statistics.py), which the Open Inference Protocol's statistics
extension serves to Triton's tools; so the two can never disagree about what happened.

The labelled Prometheus series are looked up once here rather than on every request: finding
the same children each time costs a few microseconds per call on the hot path.
"""

from __future__ import annotations

from serving.metrics import recorders
from serving.metrics.statistics import version_statistics


class VersionRecorder:
    """Records one model version's requests, executions and batching queue.

    `timing` arguments are serving.core.RunTiming values (queue, compute_input, compute_infer,
    compute_output, in seconds); sizes are in rows, the queue depth in requests.
    """

    def __init__(self, model_name: str, version: int):
        labels = (model_name, str(version))
        self._batch_size = recorders.BATCH_SIZE.labels(*labels)
        self._queuing_latency = recorders.QUEUING_LATENCY.labels(*labels)
        self._queue_depth = recorders.QUEUE_DEPTH.labels(*labels)
        self._statistics = version_statistics(model_name, version)

    def request_succeeded(self, rows: int, seconds: float, timing) -> None:
        self._statistics.request_succeeded(rows, seconds, timing.queue, timing.compute_input,
                                           timing.compute_infer, timing.compute_output)

    def request_failed(self, seconds: float) -> None:
        self._statistics.request_failed(seconds)

    def model_ran(self, size: int, timing) -> None:
        self._statistics.model_executed(size, timing.compute_input, timing.compute_infer,
                                        timing.compute_output)

    def batch_ran(self, size: int, timing) -> None:
        self._batch_size.observe(size)
        if timing is not None:
            self.model_ran(size, timing)

    def request_queued(self, seconds: float) -> None:
        self._queuing_latency.observe(seconds * 1e6)

    def queue_depth(self, requests: int) -> None:
        self._queue_depth.set(requests)
