"""Triton's statistics extension over gRPC, read with tritonclient: the counts move with real
requests, per model version, on the figures perf_analyzer derives its server-side report from."""

from __future__ import annotations

import concurrent.futures
import time

import numpy as np
import pytest
import tritonclient.grpc as triton_grpc
from tests.support.oip_harness import RPC_TIMEOUT_SECONDS
from tritonclient.utils import InferenceServerException


def statistics(client, name: str = "", version: str = "") -> dict[tuple[str, str], object]:
    response = client.get_inference_statistics(name, version, client_timeout=RPC_TIMEOUT_SECONDS)
    return {(stats.name, stats.version): stats for stats in response.model_stats}


def version_statistics(client, name: str, version: str):
    return statistics(client, name, version)[(name, version)]


def infer_half(client, values, *, model: str = "half", version: str = "", input_name: str = "x"):
    array = np.asarray(values, np.float32)
    tensor = triton_grpc.InferInput(input_name, list(array.shape), "FP32")
    tensor.set_data_from_numpy(array)
    return client.infer(model, [tensor], model_version=version, client_timeout=RPC_TIMEOUT_SECONDS)


def batch_counts(stats) -> dict[int, int]:
    return {batch.batch_size: batch.compute_infer.count for batch in stats.batch_stats}


def test_successful_requests_count_their_examples_executions_and_stage_times(triton):
    before = version_statistics(triton, "half", "2")
    started_ms = time.time_ns() // 1_000_000
    for _ in range(3):
        infer_half(triton, [1.0, 2.0])  # the latest version: 2
    after = version_statistics(triton, "half", "2")

    requests = after.inference_stats
    assert requests.success.count - before.inference_stats.success.count == 3
    assert after.inference_count - before.inference_count == 6  # 2 examples a request
    assert after.execution_count - before.execution_count == 3
    # perf_analyzer needs one queue and compute entry per successful request.
    for stage in ("queue", "compute_input", "compute_infer", "compute_output"):
        assert getattr(requests, stage).count - getattr(before.inference_stats, stage).count == 3
    infer_ns = requests.compute_infer.ns - before.inference_stats.compute_infer.ns
    assert 0 < infer_ns <= requests.success.ns - before.inference_stats.success.ns
    assert requests.fail.count == before.inference_stats.fail.count
    assert batch_counts(after)[2] - batch_counts(before).get(2, 0) == 3
    assert started_ms <= after.last_inference <= time.time_ns() // 1_000_000


def test_a_failed_request_counts_as_a_failure_of_its_version_only(triton):
    before = version_statistics(triton, "half", "1")
    with pytest.raises(InferenceServerException, match="input size does not match"):
        infer_half(triton, [1.0], version="1", input_name="z")
    after = version_statistics(triton, "half", "1")

    assert after.inference_stats.fail.count - before.inference_stats.fail.count == 1
    assert after.inference_stats.fail.ns > before.inference_stats.fail.ns
    assert after.inference_stats.success.count == before.inference_stats.success.count
    assert after.execution_count == before.execution_count


def test_statistics_of_every_model_list_every_available_version(triton):
    assert set(statistics(triton)) == {("half", "1"), ("half", "2"), ("multi", "1"),
                                       ("dtypes", "1"), ("fixed", "1")}


@pytest.mark.parametrize("version,expected", [("", ["1", "2"]), ("1", ["1"]), ("stable", ["1"])])
def test_statistics_of_one_model_list_its_versions_or_the_one_asked_for(triton, version,
                                                                         expected):
    assert sorted(version for _, version in statistics(triton, "half", version)) == expected


@pytest.mark.parametrize("name,version,status", [
    ("nosuch", "", "NOT_FOUND"),
    ("half", "9", "NOT_FOUND"),
    ("", "1", "INVALID_ARGUMENT"),
])
def test_statistics_of_an_unknown_model_or_version_are_an_error(triton, name, version, status):
    with pytest.raises(InferenceServerException) as raised:
        statistics(triton, name, version)

    assert raised.value.status() == f"StatusCode.{status}"


def test_batched_requests_queue_and_run_in_padded_batches(batching_triton):
    before = version_statistics(batching_triton, "batched", "1")
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda value: infer_half(batching_triton, [value],
                                                         model="batched"), range(12)))
    after = version_statistics(batching_triton, "batched", "1")

    assert [answer.as_numpy("y").tolist() for answer in answers] == [
        [0.5 * value + 2] for value in range(12)]
    requests, earlier = after.inference_stats, before.inference_stats
    assert requests.success.count - earlier.success.count == 12
    assert requests.queue.count - earlier.queue.count == 12
    assert after.inference_count - before.inference_count == 12
    executions = after.execution_count - before.execution_count
    assert 1 <= executions <= 12
    # Batches run at the padded sizes: 4 or 16 rows, whatever number of requests they held.
    new_batches = {size: count - batch_counts(before).get(size, 0)
                   for size, count in batch_counts(after).items()}
    assert set(size for size, count in new_batches.items() if count) <= {4, 16}
    assert sum(new_batches.values()) == executions
