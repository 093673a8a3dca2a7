"""A real server (--prefer_tflite_model) serving TF Lite models the way TF Serving's integration
suite asks (testPredictWithSignatureDefOnTfLite, testPredictOnTfLite): half_plus_two with an
embedded SignatureDef map (keys, aliases and method names from the map, over gRPC and REST, shape
[1] for a [1, 1] input), and a linear model whose inner dimension TF Lite cannot resize."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, prediction_service_pb2_grpc
from tests.support import tflite_models
from tests.support.rest_harness import RestClient
from tests.support.rpc_helpers import RPC_TIMEOUT_SECONDS, call_error, outputs_of, predict_request
from tests.support.server_harness import free_port, model_config_text

FLOAT = types_pb2.DT_FLOAT
PREDICT = "tensorflow/serving/predict"
VERSION = 123  # TF Serving's test models are version 00000123


@pytest.fixture(scope="module")
def server(start_model_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("tflite_embedded")
    tflite_models.write_half_plus_two_model(root / "half_plus_two" / str(VERSION), {
        "serving_default": tflite_models.signature_def(
            PREDICT, {"x": ("tflite_input:0", FLOAT, [1, 1])}, {"y": ("y:0", FLOAT, [1, 1])}),
        "exact_names": tflite_models.signature_def(
            "custom/method", {"value": ("tflite_input", FLOAT, [-1, 1])},
            {"half_plus_two": ("y", FLOAT, [-1, 1])}),
    })
    tflite_models.write_linear_model(root / "linear" / "1")
    config = root / "models.config"
    config.write_text(model_config_text({"half_plus_two": str(root / "half_plus_two"),
                                         "linear": str(root / "linear")}))
    return start_model_server(f"--model_config_file={config}", "--file_system_poll_wait_seconds=0",
                              "--prefer_tflite_model", f"--rest_api_port={free_port()}")


@pytest.fixture(scope="module")
def stub(server):
    with grpc.insecure_channel(server.target) as channel:
        yield prediction_service_pb2_grpc.PredictionServiceStub(channel)


def test_get_model_metadata_shows_the_embedded_signature_defs(stub):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = "half_plus_two"
    response = stub.GetModelMetadata(request, timeout=RPC_TIMEOUT_SECONDS)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signature_map)
    signatures = signature_map.signature_def
    assert (response.model_spec.version.value, sorted(signatures)) == (
        VERSION, ["exact_names", "serving_default"])
    x = signatures["serving_default"].inputs["x"]
    assert (x.name, x.dtype, [dim.size for dim in x.tensor_shape.dim]) == ("tflite_input", FLOAT, [1, 1])
    assert list(signatures["serving_default"].outputs) == ["y"]
    assert signatures["serving_default"].method_name == PREDICT
    assert (list(signatures["exact_names"].inputs), signatures["exact_names"].method_name) == (
        ["value"], "custom/method")


def test_grpc_predict_sends_x_and_reads_y(stub):
    response = stub.Predict(predict_request("half_plus_two", {"x": np.array([[2.0]], np.float32)}),
                            timeout=RPC_TIMEOUT_SECONDS)
    assert (response.model_spec.name, response.model_spec.version.value) == ("half_plus_two", VERSION)
    assert outputs_of(response)["y"].tolist() == [[3.0]]


def test_rest_predict_sends_x_and_reads_y(server):
    reply = RestClient(server.server.rest.port).post("/v1/models/half_plus_two:predict",
                                                     {"inputs": {"x": [[2.0]]}})
    assert (reply.status, reply.json()) == (200, {"outputs": [[3.0]]})


def test_grpc_predict_of_shape_one_runs_on_the_one_by_one_input(stub):
    # TF Serving's own suite sends x as shape [1] to this [1, 1] input.
    response = stub.Predict(predict_request("half_plus_two", {"x": np.array([2.0], np.float32)}),
                            timeout=RPC_TIMEOUT_SECONDS)
    assert (response.model_spec.version.value, outputs_of(response)["y"].tolist()) == (VERSION, [3.0])


def test_rest_predict_of_shape_one_runs_on_the_one_by_one_input(server):
    reply = RestClient(server.server.rest.port).post("/v1/models/half_plus_two:predict",
                                                     {"inputs": {"x": [2.0]}})
    assert (reply.status, reply.json()) == (200, {"outputs": [3.0]})


def test_shape_tflite_cannot_run_is_invalid_argument_naming_input_and_shapes(stub):
    error = call_error(stub.Predict, predict_request("linear", {"x": np.ones((2, 5), np.float32)}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    for fragment in ('"x"', "[-1,3]", "[2,5]"):
        assert fragment in error.details()
