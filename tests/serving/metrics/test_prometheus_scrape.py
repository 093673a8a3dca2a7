"""Scraping the Prometheus page of a real server after gRPC and REST calls, parsed with
prometheus_client's parser."""

import json

import grpc
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from serving import metrics

METRICS_PATH = "/monitoring/prometheus/metrics"


def _scrape(http_call) -> dict:
    status, body, headers = http_call("GET", METRICS_PATH)
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {family.name: family for family in text_string_to_metric_families(body.decode())}


def _sample(families, family_name, sample_name=None, **labels) -> float:
    for sample in families[family_name].samples:
        if sample.name == (sample_name or family_name) and all(
                sample.labels.get(key) == value for key, value in labels.items()):
            return sample.value
    return 0.0


def _count(families, **labels) -> float:
    return _sample(families, ":tensorflow:serving:request_count",
                   ":tensorflow:serving:request_count_total", model_name="scraped", **labels)


def _grpc_predict(target: str, model: str):
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.inputs["x"].CopyFrom(ndarray_to_tensor_proto(np.array([1.0], np.float32)))
    with grpc.insecure_channel(target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            stub.Predict(request, timeout=30)
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


def test_grpc_and_rest_predicts_are_counted_by_entrypoint_and_status(metrics_server, http_call):
    before = _scrape(http_call)
    assert _grpc_predict(metrics_server.target, "scraped") == grpc.StatusCode.OK
    assert http_call("POST", "/v1/models/scraped:predict", json.dumps({"instances": [1.0]}).encode())[0] == 200
    assert http_call("POST", "/v1/models/scraped/versions/9:predict",
                     json.dumps({"instances": [1.0]}).encode())[0] == 404
    after = _scrape(http_call)
    grpc_ok = dict(API="predict", entrypoint="GRPC", status="OK", version="1")
    rest_ok = dict(API="predict", entrypoint="REST", status="OK", version="1")
    rest_missing = dict(API="predict", entrypoint="REST", status="NOT_FOUND", version="9")
    assert _count(after, **grpc_ok) - _count(before, **grpc_ok) == 1
    assert _count(after, **rest_ok) - _count(before, **rest_ok) == 1
    assert _count(after, **rest_missing) - _count(before, **rest_missing) == 1


def test_successful_requests_add_to_the_latency_histogram(metrics_server, http_call):
    labels = dict(model_name="scraped", API="get_model_status", entrypoint="REST")
    name = ":tensorflow:serving:request_latency"
    before = _sample(_scrape(http_call), name, name + "_count", **labels)
    assert http_call("GET", "/v1/models/scraped")[0] == 200
    after = _scrape(http_call)
    assert _sample(after, name, name + "_count", **labels) == before + 1
    assert _sample(after, name, name + "_bucket", le="+Inf", **labels) == before + 1


def test_oip_grpc_infer_is_counted_as_oip_infer(metrics_server, http_call):
    import tritonclient.grpc

    before = _count(_scrape(http_call), API="oip_infer", entrypoint="GRPC", status="OK")
    with tritonclient.grpc.InferenceServerClient(url=metrics_server.target) as client:
        tensor = tritonclient.grpc.InferInput("x", [1], "FP32")
        tensor.set_data_from_numpy(np.array([1.0], np.float32))
        client.infer("scraped", [tensor], client_timeout=30)
    assert _count(_scrape(http_call), API="oip_infer", entrypoint="GRPC", status="OK") == before + 1


def test_unknown_grpc_model_is_counted_not_found(metrics_server, http_call):
    labels = dict(API="predict", entrypoint="GRPC", status="NOT_FOUND")
    family = ":tensorflow:serving:request_count"

    def count(families):
        return _sample(families, family, family + "_total", model_name="scraped_missing", **labels)

    before = count(_scrape(http_call))
    assert _grpc_predict(metrics_server.target, "scraped_missing") == grpc.StatusCode.NOT_FOUND
    assert count(_scrape(http_call)) == before + 1


def test_model_version_state_shows_the_loaded_version(http_call):
    families = _scrape(http_call)
    name = ":tfzoo:serving:model_version_state"
    assert _sample(families, name, model_name="scraped", version="1", state="AVAILABLE") == 1
    assert _sample(families, name, model_name="scraped", version="1", state="LOADING") == 0


def test_batching_metrics_recorded_through_the_api_appear_on_the_page(http_call):
    metrics.observe_batch_size("scraped", 1, 16)
    metrics.set_queue_depth("scraped", 1, 3)
    families = _scrape(http_call)
    batch = ":tensorflow:serving:batching_session:processed_batch_size"
    assert _sample(families, batch, batch + "_bucket", model_name="scraped", version="1", le="16.0") >= 1
    assert _sample(families, ":tfzoo:serving:batching_queue_depth", model_name="scraped",
                   version="1") == 3


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_metrics_page_is_get_only(http_call, method):
    status, body, headers = http_call(method, METRICS_PATH)
    assert (status, headers["Allow"]) == (405, "GET")
    assert json.loads(body)["error"] == f"Method {method} is not allowed for {METRICS_PATH}; use GET"


def test_predicts_are_counted_by_the_signature_that_ran(metrics_server, http_call):
    ran = dict(API="predict", entrypoint="REST", signature_name="serving_default", version="1")
    made_up = dict(API="predict", entrypoint="REST", signature_name="made_up", version="1")
    unnamed_failure = dict(API="predict", entrypoint="REST", signature_name="", version="",
                           status="INVALID_ARGUMENT")
    before = _scrape(http_call)
    assert http_call("POST", "/v1/models/scraped:predict", json.dumps({"instances": [1.0]}).encode())[0] == 200
    assert http_call("POST", "/v1/models/scraped:predict",
                     json.dumps({"signature_name": "made_up", "instances": [1.0]}).encode())[0] == 400
    after = _scrape(http_call)
    assert _count(after, status="OK", **ran) - _count(before, status="OK", **ran) == 1
    latency = ":tensorflow:serving:request_latency"
    assert (_sample(after, latency, latency + "_count", model_name="scraped", **ran)
            - _sample(before, latency, latency + "_count", model_name="scraped", **ran)) == 1
    assert _count(after, **made_up) == 0  # a name the model lacks never becomes a label
    assert _count(after, **unnamed_failure) - _count(before, **unnamed_failure) == 1
