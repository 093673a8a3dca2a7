"""DynamicBatcher's scheduling: inline when idle, merging, padding, limits, deadlines, stop."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import numpy as np
import pytest
from tests.support.batching_helpers import WAIT_SECONDS

from serving import errors
from serving.batching import BatchingOptions
from serving.core import RunTiming


def x(*values) -> dict[str, np.ndarray]:
    return {"x": np.array(values, dtype=np.float32)}


def submit_when_running(pool, batcher, gated_model, feeds_list, deadline=None):
    """Holds the model, starts one request (it runs inline and blocks in the model), then submits
    `feeds_list`, each queued behind it. Returns (first future, list of futures)."""
    gated_model.hold()
    first = pool.submit(batcher.run, "serving_default", x(0.0), ["y"])
    gated_model.wait_entered()
    futures = [pool.submit(batcher.run, "serving_default", feeds, ["y"], deadline)
               for feeds in feeds_list]
    return first, futures


def wait_queued(batcher, count: int) -> None:
    limit = time.monotonic() + WAIT_SECONDS
    while batcher.queued_requests() < count:
        assert time.monotonic() < limit, f"{count} requests never queued"
        time.sleep(0.005)


@pytest.fixture
def pool():
    with concurrent.futures.ThreadPoolExecutor(16) as executor:
        yield executor


def test_request_finding_the_batcher_idle_runs_at_once_without_waiting_for_the_timeout(
        batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(
        max_batch_size=8, batch_timeout_micros=5_000_000, num_batch_threads=1))

    started = time.monotonic()
    outputs = batcher.run("serving_default", x(1.0, 2.0), ["y"])

    assert time.monotonic() - started < 1.0
    np.testing.assert_array_equal(outputs["y"], [2.0, 4.0])
    assert gated_model.batch_sizes == [2]


def test_idle_request_runs_in_the_calling_thread(batchers):
    seen = []
    batcher = batchers(lambda name, inputs, aliases: seen.append(threading.current_thread()) or
                       {"y": inputs["x"]}, BatchingOptions(max_batch_size=4))

    batcher.run("serving_default", x(1.0), ["y"])

    assert seen == [threading.current_thread()]


def test_queued_requests_merge_into_one_batch_and_each_gets_its_own_rows(batchers, gated_model,
                                                                         pool):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8, num_batch_threads=1))
    first, futures = submit_when_running(pool, batcher, gated_model,
                                         [x(1.0), x(2.0, 3.0), x(4.0)])
    wait_queued(batcher, 3)

    gated_model.release()

    np.testing.assert_array_equal(first.result(WAIT_SECONDS)["y"], [0.0])
    results = [future.result(WAIT_SECONDS)["y"] for future in futures]
    np.testing.assert_array_equal(results[0], [2.0])
    np.testing.assert_array_equal(results[1], [4.0, 6.0])
    np.testing.assert_array_equal(results[2], [8.0])
    assert gated_model.batch_sizes == [1, 4]


def test_batch_is_padded_to_the_next_allowed_size_with_a_real_row(batchers, gated_model, pool):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8, allowed_batch_sizes=(2, 4, 8),
                                                    num_batch_threads=1))
    first, futures = submit_when_running(pool, batcher, gated_model, [x(1.0), x(2.0), x(3.0)])
    wait_queued(batcher, 3)

    gated_model.release()

    answers = [future.result(WAIT_SECONDS)["y"].tolist() for future in futures]
    assert answers == [[2.0], [4.0], [6.0]]
    assert first.result(WAIT_SECONDS)["y"].tolist() == [0.0]
    assert gated_model.batch_sizes == [2, 4]  # 1 -> 2 and 3 -> 4
    np.testing.assert_array_equal(gated_model.batches[1]["x"], [1.0, 2.0, 3.0, 3.0])


def test_inputs_with_different_non_batch_shapes_never_share_a_batch(batchers, gated_model, pool):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8, num_batch_threads=1))
    narrow = {"x": np.ones((1, 2), np.float32)}
    wide = {"x": np.ones((1, 3), np.float32)}
    first, futures = submit_when_running(pool, batcher, gated_model, [narrow, wide, narrow, wide])
    wait_queued(batcher, 4)

    gated_model.release()

    shapes = [future.result(WAIT_SECONDS)["y"].shape for future in futures]
    first.result(WAIT_SECONDS)
    assert shapes == [(1, 2), (1, 3), (1, 2), (1, 3)]
    assert sorted(batch["x"].shape for batch in gated_model.batches[1:]) == [(2, 2), (2, 3)]


def test_variable_length_inputs_are_padded_to_one_shape_when_asked(batchers, gated_model, pool):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8, num_batch_threads=1,
                                                    pad_variable_length_inputs=True))
    short = {"x": np.array([[5.0, 6.0]], np.float32)}
    long = {"x": np.array([[1.0, 2.0, 3.0]], np.float32)}
    first, futures = submit_when_running(pool, batcher, gated_model, [short, long])
    wait_queued(batcher, 2)

    gated_model.release()

    first.result(WAIT_SECONDS)
    # TF Serving pads at the end with the tensor's own first element.
    assert futures[0].result(WAIT_SECONDS)["y"].tolist() == [[10.0, 12.0, 10.0]]
    assert futures[1].result(WAIT_SECONDS)["y"].tolist() == [[2.0, 4.0, 6.0]]
    assert gated_model.batch_sizes == [1, 2]


def test_a_full_queue_answers_unavailable_at_once(batchers, gated_model, pool):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=2, max_enqueued_batches=1,
                                                    num_batch_threads=1))
    first, futures = submit_when_running(pool, batcher, gated_model, [x(1.0), x(2.0)])
    wait_queued(batcher, 2)

    started = time.monotonic()
    with pytest.raises(errors.Unavailable, match="queue .* is full"):
        batcher.run("serving_default", x(3.0), ["y"])
    assert time.monotonic() - started < 1.0

    gated_model.release()
    assert [future.result(WAIT_SECONDS)["y"].tolist() for future in futures] == [[2.0], [4.0]]
    first.result(WAIT_SECONDS)


def test_request_whose_deadline_passed_before_it_ran_is_answered_deadline_exceeded_and_not_run(
        batchers, gated_model, pool):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8, num_batch_threads=1))
    first, futures = submit_when_running(pool, batcher, gated_model, [x(7.0)],
                                         deadline=time.monotonic() + 0.2)
    wait_queued(batcher, 1)

    with pytest.raises(errors.DeadlineExceeded):
        futures[0].result(WAIT_SECONDS)
    assert batcher.queued_requests() == 0  # withdrawn from the queue, not left to run
    gated_model.release()
    first.result(WAIT_SECONDS)
    batcher.run("serving_default", x(8.0), ["y"])

    assert [batch["x"].tolist() for batch in gated_model.batches] == [[0.0], [8.0]]


def test_a_deadline_centuries_away_waits_like_no_deadline(batchers, gated_model, pool):
    # perf_analyzer's gRPC calls carry a deadline beyond what a lock can wait for.
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8, num_batch_threads=1))
    first, futures = submit_when_running(pool, batcher, gated_model, [x(7.0)],
                                         deadline=time.monotonic() + 1e13)
    wait_queued(batcher, 1)
    gated_model.release()

    assert futures[0].result(WAIT_SECONDS)["y"].tolist() == [14.0]
    first.result(WAIT_SECONDS)


def test_already_expired_request_is_refused_before_queueing(batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8))

    with pytest.raises(errors.DeadlineExceeded):
        batcher.run("serving_default", x(1.0), ["y"], deadline=time.monotonic() - 1)

    assert gated_model.batches == []


def test_request_larger_than_max_batch_size_is_invalid_argument(batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=2))

    with pytest.raises(errors.InvalidArgument, match="Task size 3 is larger than maximum input "
                                                    "batch size 2"):
        batcher.run("serving_default", x(1.0, 2.0, 3.0), ["y"])


def test_large_batch_splitting_runs_a_big_request_in_chunks_and_joins_them(batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(
        max_batch_size=8, enable_large_batch_splitting=True, max_execution_batch_size=3,
        num_batch_threads=1))

    outputs = batcher.run("serving_default", x(1, 2, 3, 4, 5, 6, 7), ["y"])

    assert outputs["y"].tolist() == [2, 4, 6, 8, 10, 12, 14]
    assert gated_model.batch_sizes == [3, 3, 1]


def test_no_more_batches_run_at_once_than_num_batch_threads(batchers, gated_model, pool):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=1, max_enqueued_batches=100,
                                                    num_batch_threads=2))
    gated_model.hold()
    futures = [pool.submit(batcher.run, "serving_default", x(float(i)), ["y"]) for i in range(8)]
    gated_model.wait_entered(2)
    wait_queued(batcher, 6)

    gated_model.release()

    assert sorted(future.result(WAIT_SECONDS)["y"][0] for future in futures) == [
        2.0 * i for i in range(8)]
    assert gated_model.most_running == 2


def test_a_failing_batch_fails_every_request_in_it_with_the_models_error(batchers, gated_model,
                                                                         pool):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8, num_batch_threads=1))
    first, futures = submit_when_running(pool, batcher, gated_model, [x(1.0), x(2.0)])
    wait_queued(batcher, 2)
    gated_model.error = errors.InvalidArgument("the model rejected a value")

    gated_model.release()

    for future in [first, *futures]:
        with pytest.raises(errors.InvalidArgument, match="rejected a value"):
            future.result(WAIT_SECONDS)


def test_stop_runs_what_is_queued_then_refuses_new_requests(batchers, gated_model, pool):
    batcher = batchers(gated_model, BatchingOptions(
        max_batch_size=8, batch_timeout_micros=60_000_000, num_batch_threads=1))
    first, futures = submit_when_running(pool, batcher, gated_model, [x(1.0)])
    wait_queued(batcher, 1)

    stopping = pool.submit(batcher.stop)
    gated_model.release()
    stopping.result(WAIT_SECONDS)

    assert futures[0].result(WAIT_SECONDS)["y"].tolist() == [2.0]  # not left for the 60 s timeout
    first.result(WAIT_SECONDS)
    with pytest.raises(errors.Unavailable):
        batcher.run("serving_default", x(1.0), ["y"])


def test_request_with_no_common_batch_dimension_runs_on_its_own(batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=2))

    outputs = batcher.run("serving_default", {"x": np.float32(3.0)}, ["y"])

    assert outputs["y"] == 6.0


def test_observer_hears_batch_sizes_queue_depth_and_queuing_time(batchers, gated_model, pool):
    class Recorder:
        def __init__(self):
            self.sizes, self.depths, self.waits, self.timings = [], [], [], []

        def batch_ran(self, size, timing):
            self.sizes.append(size)
            self.timings.append(timing)

        def queue_depth(self, requests):
            self.depths.append(requests)

        def request_queued(self, seconds):
            self.waits.append(seconds)

    recorder = Recorder()
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8, num_batch_threads=1),
                       observer=recorder)
    first, futures = submit_when_running(pool, batcher, gated_model, [x(1.0), x(2.0)])
    wait_queued(batcher, 2)
    gated_model.release()
    for future in [first, *futures]:
        future.result(WAIT_SECONDS)

    assert recorder.sizes == [1, 2]
    assert all(timing.compute_infer > 0 for timing in recorder.timings)
    assert recorder.depths[:2] == [1, 2] and recorder.depths[-1] == 0
    assert len(recorder.waits) == 2 and all(wait >= 0 for wait in recorder.waits)


def test_each_request_learns_its_queue_time_and_its_batch_compute_times(batchers, gated_model,
                                                                         pool):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8, num_batch_threads=1))
    gated_model.hold()
    inline_timing, queued_timings = RunTiming(), [RunTiming(), RunTiming()]
    first = pool.submit(batcher.run, "serving_default", x(0.0), ["y"], None, inline_timing)
    gated_model.wait_entered()
    futures = [pool.submit(batcher.run, "serving_default", x(value), ["y"], None, timing)
               for value, timing in zip((1.0, 2.0), queued_timings)]
    wait_queued(batcher, 2)
    time.sleep(0.05)
    gated_model.release()
    for future in [first, *futures]:
        future.result(WAIT_SECONDS)

    assert inline_timing.queue == 0.0 and inline_timing.compute_infer >= 0.05
    for timing in queued_timings:  # queued while the first request held the model
        assert timing.queue >= 0.05
        assert timing.compute_infer > 0 and timing.compute_input > 0 and timing.compute_output > 0
    # The two queued requests ran as one batch: they share its compute times.
    assert queued_timings[0].compute_infer == queued_timings[1].compute_infer
