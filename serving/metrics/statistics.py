"""Per model version inference statistics, in the terms of Triton's statistics extension.

Triton's tools (perf_analyzer, tritonclient's get_inference_statistics) read, for each model
version: how many requests succeeded and failed and their total time, how long successful
requests queued and spent preparing inputs, running and collecting outputs, how many examples
(inferences) and model executions there were, and per executed batch size, how long its
executions took. A `VersionStatistics` accumulates exactly that; the server's VersionRecorder
(version_recorder.py) feeds it from the same measurements as the Prometheus metrics.

Like the Prometheus registry, the statistics are process-wide and cumulative: a version that is
unloaded and loaded again goes on counting where it stopped. Durations are kept in integer
nanoseconds, as the protocol reports them.
"""

from __future__ import annotations

import dataclasses
import threading
import time

_NS_PER_SECOND = 1_000_000_000


@dataclasses.dataclass(frozen=True)
class Duration:
    """How many times something happened and their total time in nanoseconds."""

    count: int = 0
    ns: int = 0


@dataclasses.dataclass(frozen=True)
class BatchStatistics:
    """The model executions of one batch size: each of the three Durations counts them all."""

    batch_size: int
    compute_input: Duration
    compute_infer: Duration
    compute_output: Duration


@dataclasses.dataclass(frozen=True)
class StatisticsSnapshot:
    """One model version's statistics at one moment.

    `last_inference_ms` is the wall-clock time of the last successful request in milliseconds
    since the epoch (0: none yet). `success` and `fail` time requests from their arrival at the
    version to their answer; `queue` and the three `compute_*` are counted once per successful
    request, so their counts equal `success.count`. `batches` are sorted by batch size.
    """

    model: str
    version: int
    last_inference_ms: int = 0
    inference_count: int = 0
    execution_count: int = 0
    success: Duration = Duration()
    fail: Duration = Duration()
    queue: Duration = Duration()
    compute_input: Duration = Duration()
    compute_infer: Duration = Duration()
    compute_output: Duration = Duration()
    batches: tuple[BatchStatistics, ...] = ()


class VersionStatistics:
    """The running totals of one model version; every method is thread-safe."""

    def __init__(self, model: str, version: int):
        self._model, self._version = model, version
        self._lock = threading.Lock()
        self._last_inference_ms = 0
        self._inferences = 0
        self._executions = 0
        # [count, ns] of successful requests: in all, queue, compute_input, _infer, _output.
        self._succeeded = [[0, 0] for _ in range(5)]
        self._failed = [0, 0]
        # batch size -> [executions, input ns, infer ns, output ns]
        self._batches: dict[int, list[int]] = {}

    def request_succeeded(self, rows: int, seconds: float, queue: float, compute_input: float,
                          compute_infer: float, compute_output: float) -> None:
        """A request of `rows` examples answered after `seconds`, with its time by stage."""
        now_ms = time.time_ns() // 1_000_000
        durations = [_ns(value) for value in
                     (seconds, queue, compute_input, compute_infer, compute_output)]
        with self._lock:
            self._last_inference_ms = now_ms
            self._inferences += rows
            for total, ns in zip(self._succeeded, durations):
                total[0] += 1
                total[1] += ns

    def request_failed(self, seconds: float) -> None:
        ns = _ns(seconds)
        with self._lock:
            self._failed[0] += 1
            self._failed[1] += ns

    def model_executed(self, batch_size: int, compute_input: float, compute_infer: float,
                       compute_output: float) -> None:
        """One successful model execution on a batch of `batch_size` rows."""
        durations = (_ns(compute_input), _ns(compute_infer), _ns(compute_output))
        with self._lock:
            self._executions += 1
            totals = self._batches.get(batch_size)
            if totals is None:
                totals = self._batches[batch_size] = [0, 0, 0, 0]
            totals[0] += 1
            for index, ns in enumerate(durations, start=1):
                totals[index] += ns

    def snapshot(self) -> StatisticsSnapshot:
        with self._lock:
            success, queue, compute_input, compute_infer, compute_output = (
                Duration(*total) for total in self._succeeded)
            batches = tuple(
                BatchStatistics(size, Duration(count, input_ns), Duration(count, infer_ns),
                                Duration(count, output_ns))
                for size, (count, input_ns, infer_ns, output_ns) in sorted(self._batches.items()))
            return StatisticsSnapshot(
                self._model, self._version, self._last_inference_ms, self._inferences,
                self._executions, success=success, fail=Duration(*self._failed), queue=queue,
                compute_input=compute_input, compute_infer=compute_infer,
                compute_output=compute_output, batches=batches)


_registry: dict[tuple[str, int], VersionStatistics] = {}
_registry_lock = threading.Lock()


def version_statistics(model: str, version: int) -> VersionStatistics:
    """The statistics of one model version, created at first use."""
    key = (model, version)
    statistics = _registry.get(key)
    if statistics is None:
        with _registry_lock:
            statistics = _registry.setdefault(key, VersionStatistics(model, version))
    return statistics


def statistics_snapshot(model: str, version: int) -> StatisticsSnapshot:
    """What one model version has recorded so far (all zeros for one that has recorded nothing)."""
    statistics = _registry.get((model, version))
    return statistics.snapshot() if statistics is not None else StatisticsSnapshot(model, version)


def _ns(seconds: float) -> int:
    return max(0, round(seconds * _NS_PER_SECOND))
