"""GetModelMetadata and GetModelStatus on the shared server."""

import json

import grpc
import keras
from google.protobuf import wrappers_pb2
from tests.support.rpc_helpers import RPC_TIMEOUT_SECONDS, call_error
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, prediction_service_pb2_grpc

from zoo.export import export_saved_model
from zoo.spec import DataSpec

AVAILABLE = get_model_status_pb2.ModelVersionStatus.AVAILABLE


def _metadata_request(model="multi_io", fields=("signature_def",), version=None):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=list(fields))
    request.model_spec.name = model
    if version is not None:
        request.model_spec.version.value = version
    return request


def _status_request(model="half_plus_two", version=None):
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = model
    if version is not None:
        request.model_spec.version.value = version
    return request


def test_metadata_is_a_signature_def_map_packed_in_any(prediction_stub):
    response = prediction_stub.GetModelMetadata(_metadata_request(), timeout=RPC_TIMEOUT_SECONDS)
    assert response.model_spec.name == "multi_io" and response.model_spec.version.value == 1
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signature_map)
    serving_default = signature_map.signature_def["serving_default"]
    assert set(serving_default.inputs) == {"features", "ids", "names"}
    assert set(serving_default.outputs) == {"total", "doubled_ids", "greeting"}
    assert "sum_only" in signature_map.signature_def


def test_metadata_keeps_tf1_method_names(prediction_stub):
    response = prediction_stub.GetModelMetadata(_metadata_request("tf1"), timeout=RPC_TIMEOUT_SECONDS)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signature_map)
    methods = {key: signature.method_name for key, signature in signature_map.signature_def.items()}
    assert methods == {
        "classify": "tensorflow/serving/classify",
        "regress": "tensorflow/serving/regress",
        "serving_default": "tensorflow/serving/predict",
    }


def test_metadata_of_a_specific_version(prediction_stub):
    response = prediction_stub.GetModelMetadata(_metadata_request("half_plus_two", version=1), timeout=RPC_TIMEOUT_SECONDS)
    assert response.model_spec.version.value == 1


def test_metadata_without_fields_is_invalid_argument(prediction_stub):
    error = call_error(prediction_stub.GetModelMetadata, _metadata_request(fields=()))
    assert (error.code(), error.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT, "GetModelMetadataRequest must specify at least one metadata_field")


def test_metadata_with_unsupported_field_is_invalid_argument(prediction_stub):
    error = call_error(prediction_stub.GetModelMetadata, _metadata_request(fields=("signature_def", "bogus")))
    assert (error.code(), error.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "Metadata field bogus is not supported; supported fields: signature_def, labels, model_card")


def test_labels_and_model_card_are_sent_when_the_export_has_them(start_model_server, tmp_path):
    spec = DataSpec(name="tiny", kind="tabular", task="classification", input_shape=(3,), num_outputs=2,
                    class_names=("no", "yes"))
    inputs = keras.Input((3,), name="features")
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="probabilities")(inputs))
    export_saved_model(model, spec, tmp_path, "tiny", model_card={"dataset": "tiny"})
    server = start_model_server("--model_name=tiny", f"--model_base_path={tmp_path / 'tiny'}")
    with grpc.insecure_channel(server.target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = _metadata_request("tiny", fields=("labels", "model_card"))
        response = stub.GetModelMetadata(request, timeout=RPC_TIMEOUT_SECONDS)
    labels, card = wrappers_pb2.StringValue(), wrappers_pb2.StringValue()
    assert response.metadata["labels"].Unpack(labels) and response.metadata["model_card"].Unpack(card)
    assert labels.value.split() == ["no", "yes"]
    assert json.loads(card.value)["dataset"] == "tiny"
    assert "signature_def" not in response.metadata


def test_extra_fields_are_left_out_for_a_plain_savedmodel(prediction_stub):
    response = prediction_stub.GetModelMetadata(_metadata_request(fields=("signature_def", "labels", "model_card")),
                                                timeout=RPC_TIMEOUT_SECONDS)
    assert set(response.metadata) == {"signature_def"}


def test_metadata_without_model_spec_is_invalid_argument(prediction_stub):
    error = call_error(prediction_stub.GetModelMetadata,
                       get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"]))
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")


def test_metadata_of_unknown_model_is_not_found(prediction_stub):
    error = call_error(prediction_stub.GetModelMetadata, _metadata_request("nope"))
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(nope)")


def test_model_status_lists_every_version_with_state_and_ok_status(model_stub):
    response = model_stub.GetModelStatus(_status_request(), timeout=RPC_TIMEOUT_SECONDS)
    assert [(s.version, s.state, s.status.error_code, s.status.error_message)
            for s in response.model_version_status] == [(1, AVAILABLE, 0, ""), (2, AVAILABLE, 0, "")]


def test_model_status_of_one_version(model_stub):
    response = model_stub.GetModelStatus(_status_request(version=2), timeout=RPC_TIMEOUT_SECONDS)
    assert [(s.version, s.state) for s in response.model_version_status] == [(2, AVAILABLE)]


def test_model_status_of_unknown_version_is_not_found(model_stub):
    error = call_error(model_stub.GetModelStatus, _status_request(version=7))
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "Could not find version 7 of model half_plus_two")


def test_model_status_of_unknown_model_is_not_found(model_stub):
    error = call_error(model_stub.GetModelStatus, _status_request("nope"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details().startswith("Could not find any versions of model nope")


def test_model_status_without_model_spec_is_invalid_argument(model_stub):
    error = call_error(model_stub.GetModelStatus, get_model_status_pb2.GetModelStatusRequest())
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")
