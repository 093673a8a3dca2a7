"""Triton's model configuration, statistics and shared memory endpoints on REST, read with
tritonclient.http and plain HTTP: the same answers as over gRPC, in the JSON Triton's tools parse
(every integer a number, every statistics field perf_analyzer reads present)."""

from __future__ import annotations

import numpy as np
import pytest
import tritonclient.grpc as triton_grpc
import tritonclient.http as triton_http_module
from tritonclient.utils import InferenceServerException

from serving.apis.oip.model_config import NO_BATCH_LIMIT

DURATION_FIELDS = ("success", "fail", "queue", "compute_input", "compute_infer",
                   "compute_output", "cache_hit", "cache_miss")


def infer(client, model: str, version: str, values) -> None:
    array = np.asarray(values, np.float32)
    tensor = triton_http_module.InferInput("x", list(array.shape), "FP32")
    tensor.set_data_from_numpy(array)
    client.infer(model, [tensor], model_version=version)


def stats_of(client, name: str, version: str) -> dict:
    [stats] = client.get_inference_statistics(name, version)["model_stats"]
    return stats


def test_model_config_over_http_is_the_config_over_grpc(triton_http, rest_server):
    over_http = triton_http.get_model_config("multi_io")
    grpc_client = triton_grpc.InferenceServerClient(url=rest_server.target)
    over_grpc = grpc_client.get_model_config("multi_io", as_json=True)["config"]
    grpc_client.close()

    assert over_http["name"] == over_grpc["name"] == "multi_io"
    assert over_http["platform"] == over_grpc["platform"] == "tensorflow_savedmodel"
    assert over_http["max_batch_size"] == over_grpc["max_batch_size"] == NO_BATCH_LIMIT
    for key in ("input", "output"):
        # protobuf's JSON writes int64 dims as strings; Triton's HTTP endpoint as numbers.
        assert over_http[key] == [{**tensor, "dims": [int(dim) for dim in tensor.get("dims", [])]}
                                  for tensor in over_grpc[key]]
    assert {tensor["name"]: tensor["data_type"] for tensor in over_http["input"]} == {
        "features": "TYPE_FP32", "ids": "TYPE_INT64", "names": "TYPE_STRING"}
    assert "dynamic_batching" not in over_http


def test_model_config_follows_versions_and_labels_and_names_unknown_models(rest):
    assert rest.get("/v2/models/half_plus_two/versions/2/config").json()["name"] == "half_plus_two"
    assert rest.get("/v2/models/half_plus_two/versions/canary/config").status == 200
    reply = rest.get("/v2/models/nosuch/config")
    assert reply.status == 404 and "nosuch" in reply.error


def test_statistics_count_requests_of_both_protocols_in_perf_analyzers_fields(triton_http, rest):
    before = stats_of(triton_http, "half_plus_two", "1")
    assert rest.post("/v1/models/half_plus_two/versions/1:predict",
                     {"instances": [1.0, 2.0]}).status == 200
    infer(triton_http, "half_plus_two", "1", [1.0, 2.0, 3.0])
    after = stats_of(triton_http, "half_plus_two", "1")

    assert (after["name"], after["version"]) == ("half_plus_two", "1")
    assert after["inference_count"] - before["inference_count"] == 5
    assert after["execution_count"] - before["execution_count"] == 2
    requests = after["inference_stats"]
    assert set(requests) == set(DURATION_FIELDS)
    for field in DURATION_FIELDS:
        assert set(requests[field]) == {"count", "ns"}
        assert all(type(value) is int for value in requests[field].values())
    for field in ("success", "queue", "compute_input", "compute_infer", "compute_output"):
        assert requests[field]["count"] - before["inference_stats"][field]["count"] == 2
    assert requests["cache_hit"] == requests["cache_miss"] == {"count": 0, "ns": 0}
    assert {entry["batch_size"] for entry in after["batch_stats"]} >= {2, 3}


def test_statistics_of_every_model_list_every_available_version(rest):
    reply = rest.get("/v2/models/stats")
    listed = {(stats["name"], stats["version"]) for stats in reply.json()["model_stats"]}

    assert {("half_plus_two", "1"), ("half_plus_two", "2"), ("multi_io", "1")} <= listed


def test_statistics_of_one_model_list_its_versions(rest):
    reply = rest.get("/v2/models/half_plus_two/stats")
    assert [stats["version"] for stats in reply.json()["model_stats"]] == ["1", "2"]
    reply = rest.get("/v2/models/half_plus_two/versions/stable/stats")
    assert [stats["version"] for stats in reply.json()["model_stats"]] == ["1"]
    assert rest.get("/v2/models/nosuch/stats").status == 404


@pytest.mark.parametrize("call,named", [
    (lambda client: client.register_system_shared_memory("inputs", "/tfzoo_inputs", 64),
     "register of region 'inputs'"),
    (lambda client: client.unregister_system_shared_memory(), "unregister of all regions"),
    (lambda client: client.get_system_shared_memory_status("inputs"),
     "status of region 'inputs'"),
    (lambda client: client.unregister_cuda_shared_memory("gpu"), "unregister of region 'gpu'"),
    (lambda client: client.get_cuda_shared_memory_status(), "status of all regions"),
])
def test_shared_memory_endpoints_refuse_with_a_clear_message(triton_http, call, named):
    with pytest.raises(InferenceServerException) as raised:
        call(triton_http)

    assert raised.value.status() == "501"
    assert f"shared memory is not supported by this server ({named} refused)" in \
        raised.value.message()


def test_cuda_shared_memory_registration_is_refused(rest):
    reply = rest.post("/v2/cudasharedmemory/region/gpu/register",
                      {"raw_handle": {"b64": "aGFuZGxl"}, "device_id": 0, "byte_size": 64})

    assert reply.status == 501
    assert reply.error.startswith("CUDA shared memory is not supported by this server")
