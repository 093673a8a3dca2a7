"""Per-version statistics (Triton's figures) and the VersionRecorder that feeds them together
with the Prometheus series. Each test uses a model name of its own: both are process-wide."""

import concurrent.futures

import pytest

from serving.core import RunTiming
from serving.metrics import VersionRecorder, statistics_snapshot
from serving.metrics.recorders import REGISTRY
from serving.metrics.statistics import Duration, VersionStatistics


def test_successful_requests_count_once_in_every_stage_in_nanoseconds():
    statistics = VersionStatistics("stats_success", 2)
    statistics.request_succeeded(3, 0.004, queue=0.001, compute_input=0.0002,
                                 compute_infer=0.002, compute_output=0.0001)
    statistics.request_succeeded(1, 0.002, queue=0.0, compute_input=0.0,
                                 compute_infer=0.0015, compute_output=0.0)
    snapshot = statistics.snapshot()

    assert (snapshot.model, snapshot.version, snapshot.inference_count) == ("stats_success", 2, 4)
    assert snapshot.success == Duration(2, 6_000_000)
    assert snapshot.queue == Duration(2, 1_000_000)
    assert snapshot.compute_input == Duration(2, 200_000)
    assert snapshot.compute_infer == Duration(2, 3_500_000)
    assert snapshot.compute_output == Duration(2, 100_000)
    assert snapshot.fail == Duration(0, 0) and snapshot.execution_count == 0
    assert snapshot.last_inference_ms > 0


def test_failures_count_apart_and_do_not_touch_the_success_figures():
    statistics = VersionStatistics("stats_failure", 1)
    statistics.request_failed(0.5)
    snapshot = statistics.snapshot()

    assert snapshot.fail == Duration(1, 500_000_000)
    assert snapshot.success == Duration(0, 0) and snapshot.last_inference_ms == 0


def test_executions_are_counted_per_batch_size_sorted():
    statistics = VersionStatistics("stats_batches", 1)
    for size in (8, 2, 8):
        statistics.model_executed(size, 0.001, 0.01, 0.002)
    snapshot = statistics.snapshot()

    assert snapshot.execution_count == 3
    assert [(batch.batch_size, batch.compute_infer) for batch in snapshot.batches] == [
        (2, Duration(1, 10_000_000)), (8, Duration(2, 20_000_000))]
    assert snapshot.batches[1].compute_input == Duration(2, 2_000_000)
    assert snapshot.batches[1].compute_output == Duration(2, 4_000_000)


def test_concurrent_recording_loses_nothing():
    statistics = VersionStatistics("stats_threads", 1)

    def record(_):
        for _ in range(500):
            statistics.request_succeeded(2, 1e-6, 0.0, 0.0, 1e-6, 0.0)
            statistics.model_executed(2, 0.0, 1e-6, 0.0)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(record, range(4)))
    snapshot = statistics.snapshot()

    assert snapshot.success.count == snapshot.execution_count == 2000
    assert snapshot.inference_count == 4000 and snapshot.success.ns == 2000 * 1000


def test_a_version_that_recorded_nothing_reads_as_zeros():
    snapshot = statistics_snapshot("stats_never", 7)

    assert (snapshot.model, snapshot.version, snapshot.success, snapshot.batches) == (
        "stats_never", 7, Duration(0, 0), ())


def _batch_size_count(model: str) -> float:
    return REGISTRY.get_sample_value(":tensorflow:serving:batching_session:processed_batch_size_count",
                                     {"model_name": model, "version": "1"}) or 0.0


def test_version_recorder_feeds_prometheus_and_the_statistics_from_one_call():
    recorder = VersionRecorder("stats_recorder", 1)
    recorder.request_succeeded(4, 0.003, RunTiming(queue=0.001, compute_infer=0.002))
    recorder.batch_ran(4, RunTiming(compute_input=0.0001, compute_infer=0.002))
    recorder.batch_ran(8, None)  # a batch that failed: a processed batch, no execution
    recorder.model_ran(1, RunTiming(compute_infer=0.001))
    recorder.request_queued(0.001)
    snapshot = statistics_snapshot("stats_recorder", 1)

    assert _batch_size_count("stats_recorder") == 2
    assert REGISTRY.get_sample_value(
        ":tensorflow:serving:batching_session:queuing_latency_sum",
        {"model_name": "stats_recorder", "version": "1"}) == pytest.approx(1000)
    assert snapshot.execution_count == 2
    assert [batch.batch_size for batch in snapshot.batches] == [1, 4]
    assert snapshot.queue == Duration(1, 1_000_000) and snapshot.inference_count == 4
