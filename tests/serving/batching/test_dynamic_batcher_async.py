"""DynamicBatcher.run_async, the batcher as the gRPC transport's event loop uses it: requests
from one thread merge, an idle batcher runs at once off the loop's thread, a deadline or a
cancellation takes a waiting request out of the queue, and requests the queue cannot take run
through `run` in the loop's executor."""

from __future__ import annotations

import asyncio
import contextlib
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


async def wait_queued(batcher, count: int) -> None:
    limit = time.monotonic() + WAIT_SECONDS
    while batcher.queued_requests() < count:
        assert time.monotonic() < limit, f"{count} requests never queued"
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def model_busy(batcher, gated_model):
    """Holds the model inside a first request (x = 0) for the block, so what the block sends
    queues behind it; then lets it finish. Yields the first request's future."""
    gated_model.hold()
    first = asyncio.ensure_future(batcher.run_async("serving_default", x(0.0), ["y"]))
    await asyncio.get_running_loop().run_in_executor(None, gated_model.wait_entered)
    yield first
    gated_model.release()
    await asyncio.wait_for(first, WAIT_SECONDS)


def test_requests_from_one_event_loop_thread_merge_into_one_batch(batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8, num_batch_threads=1))

    async def scenario():
        async with model_busy(batcher, gated_model) as first:
            queued = [asyncio.ensure_future(batcher.run_async("serving_default", feeds, ["y"]))
                      for feeds in (x(1.0), x(2.0, 3.0), x(4.0))]
            await wait_queued(batcher, 3)
        return await asyncio.wait_for(asyncio.gather(first, *queued), WAIT_SECONDS)

    results = asyncio.run(scenario())

    assert [result["y"].tolist() for result in results] == [[0.0], [2.0], [4.0, 6.0], [8.0]]
    assert gated_model.batch_sizes == [1, 4]


def test_idle_request_runs_at_once_on_a_batch_thread_not_the_loop_thread(batchers):
    seen = []
    batcher = batchers(lambda name, inputs, aliases: seen.append(threading.current_thread()) or
                       {"y": inputs["x"]},
                       BatchingOptions(max_batch_size=4, batch_timeout_micros=30_000_000))

    async def scenario():
        return await asyncio.wait_for(batcher.run_async("serving_default", x(1.0), ["y"]),
                                      WAIT_SECONDS)

    outputs = asyncio.run(scenario())

    assert outputs["y"].tolist() == [1.0]
    assert len(seen) == 1 and seen[0] is not threading.current_thread()


def test_timing_says_how_long_the_request_queued_and_ran(batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=4))
    timing = RunTiming()

    asyncio.run(batcher.run_async("serving_default", x(1.0), ["y"], timing=timing))

    assert timing.compute_infer > 0 and timing.queue >= 0


def test_deadline_passing_while_queued_answers_deadline_exceeded_and_leaves_the_queue(
        batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8, num_batch_threads=1))

    async def scenario():
        async with model_busy(batcher, gated_model):
            with pytest.raises(errors.DeadlineExceeded, match="waited for its batch"):
                await batcher.run_async("serving_default", x(1.0), ["y"],
                                        deadline=time.monotonic() + 0.1)
            assert batcher.queued_requests() == 0

    asyncio.run(scenario())

    assert gated_model.batch_sizes == [1]


def test_cancelled_request_leaves_the_queue_and_is_never_run(batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=8, num_batch_threads=1))

    async def scenario():
        async with model_busy(batcher, gated_model):
            cancelled = asyncio.ensure_future(batcher.run_async("serving_default", x(1.0), ["y"]))
            await wait_queued(batcher, 1)
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
            assert batcher.queued_requests() == 0

    asyncio.run(scenario())

    assert gated_model.batch_sizes == [1]


def test_expired_deadline_is_refused_before_queueing(batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=4))

    with pytest.raises(errors.DeadlineExceeded, match="before it was queued"):
        asyncio.run(batcher.run_async("serving_default", x(1.0), ["y"],
                                      deadline=time.monotonic() - 1))

    assert gated_model.batch_sizes == []


def test_request_larger_than_a_batch_is_split_through_the_executor(batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(
        max_batch_size=8, max_execution_batch_size=2, enable_large_batch_splitting=True))

    outputs = asyncio.run(batcher.run_async("serving_default", x(1.0, 2.0, 3.0), ["y"]))

    assert outputs["y"].tolist() == [2.0, 4.0, 6.0]
    assert sorted(gated_model.batch_sizes) == [1, 2]


def test_request_over_max_batch_size_is_refused_as_run_refuses_it(batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=2))

    with pytest.raises(errors.InvalidArgument, match="larger than maximum input batch size 2"):
        asyncio.run(batcher.run_async("serving_default", x(1.0, 2.0, 3.0), ["y"]))


def test_stopping_batcher_refuses_new_requests_with_unavailable(batchers, gated_model):
    batcher = batchers(gated_model, BatchingOptions(max_batch_size=4))
    batcher.stop()

    with pytest.raises(errors.Unavailable, match="being unloaded"):
        asyncio.run(batcher.run_async("serving_default", x(1.0), ["y"]))


def test_model_error_reaches_every_request_of_the_batch(batchers):
    def failing(name, inputs, aliases):
        raise errors.InvalidArgument("bad values")

    batcher = batchers(failing, BatchingOptions(max_batch_size=4))

    with pytest.raises(errors.InvalidArgument, match="bad values"):
        asyncio.run(batcher.run_async("serving_default", x(1.0), ["y"]))
