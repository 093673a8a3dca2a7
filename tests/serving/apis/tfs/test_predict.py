"""PredictionService.Predict against the shared server, with the official TF Serving stubs."""

import asyncio

import grpc
import numpy as np
import pytest
from tests.support.rpc_helpers import RPC_TIMEOUT_SECONDS, call_error, outputs_of, predict_request
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2

from serving.apis import endpoints
from serving.apis.guard import GRPC, Call
from serving.apis.tfs import predict
from serving.apis.tfs.settings import TfsSettings


def _typed(dtype, shape, **field_values) -> tensor_pb2.TensorProto:
    shape_proto = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in shape])
    return tensor_pb2.TensorProto(dtype=dtype, tensor_shape=shape_proto, **field_values)


def test_predict_with_tensor_content_returns_outputs_and_model_spec(prediction_stub):
    request = predict_request("half_plus_two", {"x": np.array([1.0, 2.0, 5.0], np.float32)}, version=1)
    response = prediction_stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS)
    np.testing.assert_allclose(outputs_of(response)["y"], [2.5, 3.0, 4.5])
    assert response.model_spec.name == "half_plus_two"
    assert response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "serving_default"


def test_predict_outputs_are_sent_in_typed_fields_by_default_as_tf_serving_does(prediction_stub):
    request = predict_request("multi_io", {
        "features": np.ones((1, 3), np.float32), "ids": np.array([4], np.int64), "names": np.array([b"ann"], object),
    })
    outputs = prediction_stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS).outputs
    assert list(outputs["total"].float_val) == [7.0] and not outputs["total"].tensor_content
    assert outputs["doubled_ids"].dtype == types_pb2.DT_INT64 and list(outputs["doubled_ids"].int64_val) == [8]
    assert list(outputs["greeting"].string_val) == [b"hello ann"]


def test_predict_with_typed_fields_for_float_int64_and_string_inputs(prediction_stub):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "multi_io"
    request.inputs["features"].CopyFrom(_typed(types_pb2.DT_FLOAT, [2, 3], float_val=[1, 2, 3, 4, 5, 6]))
    request.inputs["ids"].CopyFrom(_typed(types_pb2.DT_INT64, [2], int64_val=[10, 20]))
    request.inputs["names"].CopyFrom(_typed(types_pb2.DT_STRING, [2], string_val=[b"a", b"b"]))
    outputs = outputs_of(prediction_stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS))
    np.testing.assert_allclose(outputs["total"], [16.0, 35.0])
    np.testing.assert_array_equal(outputs["doubled_ids"], [20, 40])
    assert outputs["greeting"].tolist() == [b"hello a", b"hello b"]


def test_single_typed_value_is_broadcast_to_the_declared_shape(prediction_stub):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "half_plus_two"
    request.model_spec.version.value = 1
    request.inputs["x"].CopyFrom(_typed(types_pb2.DT_FLOAT, [3], float_val=[4.0]))
    np.testing.assert_allclose(outputs_of(prediction_stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS))["y"], [4.0] * 3)


def test_output_filter_returns_only_the_requested_outputs(prediction_stub):
    request = predict_request("multi_io", {
        "features": np.zeros((1, 3), np.float32), "ids": np.array([3], np.int64), "names": np.array([b"x"], object),
    }, output_filter=["doubled_ids"])
    outputs = outputs_of(prediction_stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS))
    assert list(outputs) == ["doubled_ids"]
    np.testing.assert_array_equal(outputs["doubled_ids"], [6])


def test_signature_name_selects_another_signature(prediction_stub):
    request = predict_request("multi_io", {"features": np.ones((2, 3), np.float32)}, signature="sum_only")
    response = prediction_stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS)
    np.testing.assert_allclose(outputs_of(response)["total"], [3.0, 3.0])
    assert response.model_spec.signature_name == "sum_only"


@pytest.mark.parametrize("selection, expected_version, expected_y", [
    ({}, 2, 5.0),  # latest of the "all" policy
    ({"version": 1}, 1, 3.0),
    ({"version": 2}, 2, 5.0),
    ({"label": "stable"}, 1, 3.0),
    ({"label": "canary"}, 2, 5.0),
])
def test_version_and_version_label_select_the_served_version(prediction_stub, selection, expected_version, expected_y):
    request = predict_request("half_plus_two", {"x": np.array([2.0], np.float32)}, **selection)
    response = prediction_stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS)
    assert response.model_spec.version.value == expected_version
    np.testing.assert_allclose(outputs_of(response)["y"], [expected_y])


# === Errors: code and message ===


def test_unknown_model_is_not_found_latest(prediction_stub):
    error = call_error(prediction_stub.Predict, predict_request("nope", {"x": np.ones(1, np.float32)}))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == "Servable not found for request: Latest(nope)"


def test_unknown_version_is_not_found_specific(prediction_stub):
    error = call_error(prediction_stub.Predict, predict_request("half_plus_two", {"x": np.ones(1, np.float32)}, version=3))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == "Servable not found for request: Specific(half_plus_two, 3)"


def test_unknown_version_label_is_invalid_argument(prediction_stub):
    error = call_error(prediction_stub.Predict, predict_request("half_plus_two", {"x": np.ones(1, np.float32)}, label="beta"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("Unrecognized servable version label: beta")


def test_request_without_model_spec_is_invalid_argument(prediction_stub):
    error = call_error(prediction_stub.Predict, predict_pb2.PredictRequest())
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")


def test_model_spec_without_name_is_invalid_argument(prediction_stub):
    request = predict_pb2.PredictRequest()
    request.model_spec.signature_name = "serving_default"
    error = call_error(prediction_stub.Predict, request)
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "ModelSpec has no name specified.")


def test_unknown_signature_is_failed_precondition(prediction_stub):
    error = call_error(prediction_stub.Predict, predict_request("half_plus_two", {"x": np.ones(1, np.float32)}, signature="x"))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error.details() == 'Serving signature key "x" not found.'


def test_missing_and_extra_aliases_are_named(prediction_stub):
    request = predict_request("multi_io", {"features": np.ones((1, 3), np.float32), "extra": np.ones(1, np.float32)})
    error = call_error(prediction_stub.Predict, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(
        "input size does not match signature: 2!=3 len({extra,features}) != len({features,ids,names}). "
        "Sent extra: {extra}. Missing but required: {ids,names}."
    )


def test_wrong_dtype_names_alias_expected_and_received(prediction_stub):
    error = call_error(prediction_stub.Predict, predict_request("half_plus_two", {"x": np.array([1], np.int64)}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert '"x"' in error.details() and "DT_FLOAT" in error.details() and "DT_INT64" in error.details()


def test_a_shape_other_than_the_signatures_is_fed_to_the_model_as_tf_serving_does(prediction_stub):
    request = predict_request("half_plus_two", {"x": np.ones((2, 2), np.float32)}, version=1)
    response = prediction_stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS)
    np.testing.assert_allclose(outputs_of(response)["y"], np.full((2, 2), 2.5))


def test_a_shape_the_model_fails_on_names_expected_and_received_shapes(prediction_stub):
    inputs = {"features": np.ones(3, np.float32), "ids": np.array([1], np.int64),
              "names": np.array([b"a"], object)}
    error = call_error(prediction_stub.Predict, predict_request("multi_io", inputs))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(
        'signature "serving_default" input "features": expected shape [-1,3] (-1 matches any '
        "size), received shape [3]. The signature has a batch dimension: send one example as "
        "shape [1,3]; the model failed on it: ")


def test_unknown_output_filter_alias_lists_the_outputs(prediction_stub):
    request = predict_request("half_plus_two", {"x": np.ones(1, np.float32)}, output_filter=["z"])
    error = call_error(prediction_stub.Predict, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("output tensor alias not found in signature: z Outputs expected to be in the set {y}.")


def test_duplicate_output_filter_alias_is_invalid_argument(prediction_stub):
    request = predict_request("half_plus_two", {"x": np.ones(1, np.float32)}, output_filter=["y", "y"])
    error = call_error(prediction_stub.Predict, request)
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "duplicate output tensor alias: y")


def test_value_count_that_does_not_match_the_shape_names_the_tensor(prediction_stub):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "half_plus_two"
    request.inputs["x"].CopyFrom(_typed(types_pb2.DT_FLOAT, [3], float_val=[1.0, 2.0]))
    error = call_error(prediction_stub.Predict, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == (
        'Tensor "x" has shape [3] (3 values) but float_val holds 2 values; send exactly 3 values, or 1 to fill the shape'
    )


def test_unknown_signature_is_reported_before_a_malformed_input(prediction_stub):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "half_plus_two"
    request.model_spec.signature_name = "nope"
    request.inputs["x"].CopyFrom(_typed(types_pb2.DT_FLOAT, [3], float_val=[1.0, 2.0]))
    assert call_error(prediction_stub.Predict, request).code() == grpc.StatusCode.FAILED_PRECONDITION


def test_tensor_content_outputs_when_tensor_content_serialization_is_on(tfs_server):
    request = predict_request("half_plus_two", {"x": np.array([2.0, 4.0], np.float32)}, version=1)
    response = asyncio.run(predict.predict_async(tfs_server.manager, request,
                                                 Call(endpoints.PREDICT, GRPC),
                                                 TfsSettings(tensor_content_outputs=True)))
    output = response.outputs["y"]
    assert not output.float_val and np.frombuffer(output.tensor_content, np.float32).tolist() == [3.0, 4.0]
