"""TensorFlow Serving's REST API (g3doc/api_rest.md) over the model manager.

    GET  /v1/models/NAME[/versions/N|/labels/L]             status (GetModelStatus as JSON)
    GET  /v1/models/NAME[/versions/N|/labels/L]/metadata    GetModelMetadata (signature_def)
    POST /v1/models/NAME[/versions/N|/labels/L]:predict     instances / inputs
    POST /v1/models/NAME[/versions/N|/labels/L]:classify    context / examples
    POST /v1/models/NAME[/versions/N|/labels/L]:regress     context / examples

Paths are matched case-insensitively, as TF Serving's regular expressions do. Status and metadata
reuse the gRPC servicers and print their responses the way TF Serving's REST layer does (proto
field names, every field, int64 as strings); Predict, Classify and Regress share the gRPC path's
servable handling and tf.Example inference.
"""

from __future__ import annotations

import re

from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_pb2

from serving import errors
from serving.rest import tfs_examples, tfs_tensors
from serving.rest.json_io import parse_json_object
from serving.rest.messages import RestRequest, RestResponse, json_response
from serving.rest.routing import Route
from serving.tfs import example_inference, model_specs
from serving.tfs.model_service import ModelServicer
from serving.tfs.prediction_service import SIGNATURE_DEF_FIELD, PredictionServicer

_INT64_MAX = 2**63 - 1
_SERVABLE = r"/v1/models/(?P<model>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"


def tfs_routes(manager, *, check_method_name: bool = False) -> list[Route]:
    """The /v1 routes, answering from `manager`. `check_method_name`:
    --enable_signature_method_name_check for classify and regress."""
    api = _TfsApi(manager, check_method_name)
    return [
        Route("POST", _pattern(_SERVABLE + ":predict"), api.predict, api="predict"),
        Route("POST", _pattern(_SERVABLE + ":classify"), api.classify, api="classify"),
        Route("POST", _pattern(_SERVABLE + ":regress"), api.regress, api="regress"),
        Route("GET", _pattern(_SERVABLE + "/metadata"), api.metadata, api="get_model_metadata"),
        Route("GET", _pattern(_SERVABLE), api.status, api="get_model_status"),
        Route("GET", _pattern(r"/v1/models/?"), _missing_model_name, model_call=False),
    ]


class _TfsApi:
    def __init__(self, manager, check_method_name: bool):
        self._manager = manager
        self._check_method_name = check_method_name
        self._model_servicer = ModelServicer(manager)
        self._prediction_servicer = PredictionServicer(manager, check_method_name=check_method_name)

    def status(self, request: RestRequest, params: dict) -> RestResponse:
        status_request = get_model_status_pb2.GetModelStatusRequest(model_spec=_model_spec(params))
        response = self._model_servicer.GetModelStatus(status_request, None)
        for version_status in response.model_version_status:
            version_status.status.SetInParent()  # TF Serving always writes status, OK included
        return json_response(_to_json(response))

    def metadata(self, request: RestRequest, params: dict) -> RestResponse:
        metadata_request = get_model_metadata_pb2.GetModelMetadataRequest(
            model_spec=_model_spec(params), metadata_field=[SIGNATURE_DEF_FIELD])
        response = self._prediction_servicer.GetModelMetadata(metadata_request, None)
        signature_defs = get_model_metadata_pb2.SignatureDefMap()
        response.metadata[SIGNATURE_DEF_FIELD].Unpack(signature_defs)
        document = {"model_spec": _to_json(response.model_spec),
                    "metadata": {SIGNATURE_DEF_FIELD: _to_json(signature_defs)}}
        return json_response(document, model_version=response.model_spec.version.value)

    def predict(self, request: RestRequest, params: dict) -> RestResponse:
        document = parse_json_object(request.body)
        signature_name = tfs_tensors.signature_name(document) or model_specs.DEFAULT_SIGNATURE
        with model_specs.servable_for(self._manager, _model_spec(params)) as servable:
            signature_def = servable.signature_defs.get(signature_name)
            if signature_def is None:
                raise errors.InvalidArgument(
                    f'Serving signature name: "{signature_name}" not found in signature def')
            inputs = tfs_tensors.decode_predict_inputs(document, signature_def.inputs)
            outputs = servable.run(signature_name, inputs.arrays, deadline=request.deadline)
            version = servable.version
        return json_response(tfs_tensors.encode_predict_outputs(outputs, inputs.format),
                             model_version=version)

    def classify(self, request: RestRequest, params: dict) -> RestResponse:
        document = parse_json_object(request.body)
        signature_name = tfs_tensors.signature_name(document) or model_specs.DEFAULT_SIGNATURE
        input_proto = tfs_examples.input_from_json(document, "classify")
        with model_specs.servable_for(self._manager, _model_spec(params)) as servable:
            result = example_inference.classify(servable, signature_name, input_proto,
                                                check_method_name=self._check_method_name,
                                                deadline=request.deadline)
            version = servable.version
        return json_response(tfs_examples.classification_json(result), model_version=version)

    def regress(self, request: RestRequest, params: dict) -> RestResponse:
        document = parse_json_object(request.body)
        signature_name = tfs_tensors.signature_name(document) or model_specs.DEFAULT_SIGNATURE
        input_proto = tfs_examples.input_from_json(document, "regress")
        with model_specs.servable_for(self._manager, _model_spec(params)) as servable:
            result = example_inference.regress(servable, signature_name, input_proto,
                                               check_method_name=self._check_method_name,
                                               deadline=request.deadline)
            version = servable.version
        return json_response(tfs_examples.regression_json(result), model_version=version)


def _missing_model_name(request: RestRequest, params: dict) -> RestResponse:
    raise errors.InvalidArgument("Missing model name in request.")


def _model_spec(params: dict) -> model_pb2.ModelSpec:
    """The ModelSpec the path names: a model and at most one of a version or a label."""
    spec = model_pb2.ModelSpec(name=params["model"])
    if "version" in params:
        version = int(params["version"])
        if version > _INT64_MAX:
            raise errors.InvalidArgument(
                f"Failed to convert version: {params['version']} to numeric.")
        spec.version.value = version
    if "label" in params:
        spec.version_label = params["label"]
    return spec


def _to_json(message) -> dict:
    """A message as TF Serving's REST layer prints it: proto names, every field, int64 strings."""
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True,
                                     preserving_proto_field_name=True)


def _pattern(path: str) -> re.Pattern:
    return re.compile(path, re.IGNORECASE)
