"""Reading GetModelMetadata and GetModelStatus responses, including the optional labels and
model card fields a server may add, and keeping cached metadata honest."""

import json

import grpc
import pytest
from google.protobuf import struct_pb2, wrappers_pb2
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2

from serving import errors
from tfzoo_client.messages import ModelRef
from tfzoo_client.metadata import metadata_from_response, statuses_from_response
from tfzoo_client.metadata_cache import MetadataCache


def metadata_response(**extra_fields) -> get_model_metadata_pb2.GetModelMetadataResponse:
    signatures = get_model_metadata_pb2.SignatureDefMap()
    default = signatures.signature_def["serving_default"]
    default.method_name = "tensorflow/serving/predict"
    image = default.inputs["image"]
    image.dtype = types_pb2.DT_FLOAT
    for size in (-1, 28, 28, 1):
        image.tensor_shape.dim.add(size=size)
    default.outputs["anything"].dtype = types_pb2.DT_STRING
    default.outputs["anything"].tensor_shape.unknown_rank = True
    signatures.signature_def["__saved_model_init_op"].outputs["__saved_model_init_op"].name = "NoOp"
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = "mnist"
    response.model_spec.version.value = 3
    response.metadata["signature_def"].Pack(signatures)
    for key, message in extra_fields.items():
        response.metadata[key].Pack(message)
    return response


def test_signatures_are_read_with_unknown_dimensions_as_none_and_internal_ones_left_out():
    metadata = metadata_from_response(metadata_response())
    assert (metadata.name, metadata.version, list(metadata.signatures)) == ("mnist", 3, ["serving_default"])
    image = metadata.signatures["serving_default"].inputs["image"]
    assert image.shape == (None, 28, 28, 1) and image.shape_text == "[-1,28,28,1]"
    assert metadata.signatures["serving_default"].outputs["anything"].shape is None


def test_labels_and_model_card_are_read_from_text_fields():
    card = {"dataset": "digits", "metrics": {"accuracy": 0.97}}
    metadata = metadata_from_response(metadata_response(
        labels=wrappers_pb2.StringValue(value="zero\none\n\n"),
        model_card=wrappers_pb2.StringValue(value=json.dumps(card)),
    ))
    assert metadata.labels == ("zero", "one")
    assert metadata.model_card == card


def test_labels_and_model_card_are_read_from_structured_fields():
    labels = struct_pb2.ListValue()
    labels.extend(["cat", "dog"])
    card = struct_pb2.Struct()
    card.update({"name": "pets"})
    metadata = metadata_from_response(metadata_response(labels=labels, model_card=card))
    assert metadata.labels == ("cat", "dog") and metadata.model_card == {"name": "pets"}


def test_response_without_signature_def_is_an_internal_error_naming_what_came():
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.metadata["other"].Pack(wrappers_pb2.StringValue(value="x"))
    with pytest.raises(errors.Internal, match='no "signature_def" field; it sent: other'):
        metadata_from_response(response)


def test_statuses_map_error_codes_onto_grpc_status_codes_newest_first():
    response = get_model_status_pb2.GetModelStatusResponse()
    response.model_version_status.add(version=1, state=get_model_status_pb2.ModelVersionStatus.AVAILABLE)
    failed = response.model_version_status.add(version=2, state=get_model_status_pb2.ModelVersionStatus.END)
    failed.status.error_code = grpc.StatusCode.NOT_FOUND.value[0]
    failed.status.error_message = "no saved_model.pb"
    statuses = statuses_from_response(response)
    assert [(s.version, s.state, s.error_code) for s in statuses] == [
        (2, "END", grpc.StatusCode.NOT_FOUND), (1, "AVAILABLE", None)]
    assert statuses[0].error_message == "no saved_model.pb" and not statuses[0].is_available


def test_cached_metadata_is_dropped_when_another_version_answers():
    cache, ref = MetadataCache(ttl=60.0), ModelRef("mnist")
    cache.put(ref, metadata_from_response(metadata_response()))
    cache.check_version(ref, 3)
    assert cache.get(ref) is not None
    cache.check_version(ref, 4)
    assert cache.get(ref) is None


def test_zero_ttl_turns_the_cache_off():
    cache, ref = MetadataCache(ttl=0), ModelRef("mnist")
    cache.put(ref, metadata_from_response(metadata_response()))
    assert cache.get(ref) is None
