"""TensorFlow Serving's REST API (g3doc/api_rest.md): JSON in and out of serving/apis/tfs.

    GET  /v1/models/NAME[/versions/N|/labels/L]             status (GetModelStatus as JSON)
    GET  /v1/models/NAME[/versions/N|/labels/L]/metadata    GetModelMetadata (signature_def)
    POST /v1/models/NAME[/versions/N|/labels/L]:predict     instances / inputs
    POST /v1/models/NAME[/versions/N|/labels/L]:classify    context / examples
    POST /v1/models/NAME[/versions/N|/labels/L]:regress     context / examples

As TF Serving's REST handler does, each route turns its JSON into the API's request message, runs
the same API function as the gRPC service, and prints the answer: protobuf responses the way TF
Serving's REST layer does (proto field names, every field, int64 as strings), Predict outputs in
its row or columnar JSON. Predict alone skips the message: its JSON tensors go to the Predict
API's checks and model call as numpy arrays (predict.predict_arrays), since building tensor
protos only to decode them again cost the hot path more than the JSON did. Paths are matched
case-insensitively, as TF Serving's regular expressions do.
"""

from __future__ import annotations

import re

from google.protobuf import json_format
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2, model_pb2, regression_pb2)

from serving import contract, errors
from serving.apis import endpoints
from serving.apis.tfs import classify_regress, metadata, model_specs, predict, status
from serving.apis.tfs.settings import TfsSettings
from serving.transports.rest import tfs_examples, tfs_tensors
from serving.transports.rest.dense_json import parse_predict_body
from serving.transports.rest.dispatcher import Route
from serving.transports.rest.json_io import parse_json_object
from serving.transports.rest.messages import RestRequest, RestResponse, json_response
from serving.transports.rest.openapi_operation import TFS_TAG, OperationDoc, servable_paths

_INT64_MAX = 2**63 - 1
_SERVABLE = r"/v1/models/(?P<model>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
_SERVABLE_TEMPLATE = "/v1/models/{model}"
_NAMING = ("The path names the latest version of the model, a version number "
           "(/versions/N) or a version label (/labels/L).")

PREDICT_DOC = OperationDoc(
    "tfsPredict", "Predict", TFS_TAG, servable_paths(_SERVABLE_TEMPLATE, ":predict"),
    "Runs a signature (serving_default unless signature_name says otherwise) on the inputs, in "
    'the row format ("instances": one entry per example) or the columnar format ("inputs"); '
    'the answer uses the same format ("predictions" or "outputs"). ' + _NAMING,
    request="PredictRequest", response="PredictResponse", per_model=True)
CLASSIFY_DOC = OperationDoc(
    "tfsClassify", "Classify tf.Examples", TFS_TAG,
    servable_paths(_SERVABLE_TEMPLATE, ":classify"),
    "Runs a classify signature on the examples (each an object of feature name -> value or "
    'list of values; {"b64": ...} for bytes), with an optional common context. ' + _NAMING,
    request="ExamplesRequest", response="ClassifyResponse", per_model=True)
REGRESS_DOC = OperationDoc(
    "tfsRegress", "Regress tf.Examples", TFS_TAG, servable_paths(_SERVABLE_TEMPLATE, ":regress"),
    "Runs a regress signature on the examples, as for classify. " + _NAMING,
    request="ExamplesRequest", response="RegressResponse", per_model=True)
METADATA_DOC = OperationDoc(
    "tfsMetadata", "Model metadata (SignatureDefs)", TFS_TAG,
    servable_paths(_SERVABLE_TEMPLATE, "/metadata"),
    "GetModelMetadata: the signatures of the version, as TF Serving prints them. " + _NAMING,
    response="MetadataResponse", per_model=True)
STATUS_DOC = OperationDoc(
    "tfsStatus", "Model status", TFS_TAG, servable_paths(_SERVABLE_TEMPLATE, ""),
    "GetModelStatus: the state of each version (or of the one named). " + _NAMING,
    response="StatusResponse", per_model=True)
MISSING_MODEL_DOC = OperationDoc(
    "tfsMissingModelName", "A /v1 request without a model name", TFS_TAG,
    ("/v1/models", "/v1/models/"),
    "Always 400 (\"Missing model name in request.\"), as from TF Serving.")


def tfs_routes(manager, settings: TfsSettings) -> list[Route]:
    """The /v1 routes, answering from `manager` with `settings`' checks."""
    api = _TfsRoutes(manager, settings)
    return [
        Route("POST", _pattern(_SERVABLE + ":predict"), api.predict, endpoints.PREDICT,
              doc=PREDICT_DOC),
        Route("POST", _pattern(_SERVABLE + ":classify"), api.classify, endpoints.CLASSIFY,
              doc=CLASSIFY_DOC),
        Route("POST", _pattern(_SERVABLE + ":regress"), api.regress, endpoints.REGRESS,
              doc=REGRESS_DOC),
        Route("GET", _pattern(_SERVABLE + "/metadata"), api.metadata,
              endpoints.GET_MODEL_METADATA, doc=METADATA_DOC),
        Route("GET", _pattern(_SERVABLE), api.status, endpoints.GET_MODEL_STATUS,
              doc=STATUS_DOC),
        Route("GET", _pattern(r"/v1/models/?"), _missing_model_name, endpoints.UNROUTED,
              model_call=False, doc=MISSING_MODEL_DOC),
    ]


class _TfsRoutes:
    def __init__(self, manager, settings: TfsSettings):
        self._manager = manager
        self._settings = settings

    def status(self, request: RestRequest, params: dict, call) -> RestResponse:
        status_request = get_model_status_pb2.GetModelStatusRequest(
            model_spec=_model_spec(params, call))
        response = status.get_model_status(self._manager, status_request, call)
        return json_response(_to_json(response))

    def metadata(self, request: RestRequest, params: dict, call) -> RestResponse:
        metadata_request = get_model_metadata_pb2.GetModelMetadataRequest(
            model_spec=_model_spec(params, call), metadata_field=[metadata.SIGNATURE_DEF_FIELD])
        response = metadata.get_model_metadata(self._manager, metadata_request, call)
        signature_defs = get_model_metadata_pb2.SignatureDefMap()
        response.metadata[metadata.SIGNATURE_DEF_FIELD].Unpack(signature_defs)
        return json_response({"model_spec": _to_json(response.model_spec),
                              "metadata": {metadata.SIGNATURE_DEF_FIELD: _to_json(signature_defs)}})

    def predict(self, request: RestRequest, params: dict, call) -> RestResponse:
        """Runs the decoded JSON tensors on the model directly: the same checks and model call
        as the Predict API, without a PredictRequest built only to be taken apart again."""
        model_spec = _model_spec(params, call)
        document = parse_predict_body(request.body)
        signature_name = tfs_tensors.signature_name(document) or contract.DEFAULT_SIGNATURE
        # The JSON is decoded against the signature of the version that will run it.
        with model_specs.servable_for(self._manager, model_spec) as servable:
            signature_def = servable.signature_defs.get(signature_name)
            if signature_def is None:
                raise errors.InvalidArgument(
                    f'Serving signature name: "{signature_name}" not found in signature def')
            call.signature_name = signature_name
            inputs = tfs_tensors.decode_predict_inputs(document, signature_def.inputs)
            outputs = predict.predict_arrays(servable, signature_name, inputs.arrays,
                                             call.deadline, self._settings)
            call.served_by(servable.version)
        if self._settings.request_logger is not None:
            self._settings.request_logger.log_infer(model_spec.name, servable.version,
                                                    signature_name, inputs.arrays, (), outputs)
        return json_response(tfs_tensors.encode_predict_outputs(outputs, inputs.format))

    def classify(self, request: RestRequest, params: dict, call) -> RestResponse:
        response = self._on_examples(request, params, call, "classify",
                                     classification_pb2.ClassificationRequest,
                                     classify_regress.classify)
        return json_response(tfs_examples.classification_json(response.result))

    def regress(self, request: RestRequest, params: dict, call) -> RestResponse:
        response = self._on_examples(request, params, call, "regress",
                                     regression_pb2.RegressionRequest, classify_regress.regress)
        return json_response(tfs_examples.regression_json(response.result))

    def _on_examples(self, request: RestRequest, params: dict, call, verb: str, request_type,
                     api):
        """Classify or Regress: the JSON `examples` (and `context`) as the API's request."""
        model_spec = _model_spec(params, call)
        document = parse_json_object(request.body)
        model_spec.signature_name = tfs_tensors.signature_name(document)
        api_request = request_type(model_spec=model_spec,
                                   input=tfs_examples.input_from_json(document, verb))
        return api(self._manager, api_request, call, self._settings)


def _missing_model_name(request: RestRequest, params: dict, call) -> RestResponse:
    raise errors.InvalidArgument("Missing model name in request.")


def _model_spec(params: dict, call) -> model_pb2.ModelSpec:
    """The ModelSpec the path names: a model and at most one of a version or a label. The guard
    learns it first, so a request whose body is unusable is still counted for its model."""
    spec = model_pb2.ModelSpec(name=params["model"])
    if "version" in params:
        version = int(params["version"])
        if version > _INT64_MAX:
            raise errors.InvalidArgument(
                f"Failed to convert version: {params['version']} to numeric.")
        spec.version.value = version
    if "label" in params:
        spec.version_label = params["label"]
    model_specs.target(call, spec)
    return spec


def _to_json(message) -> dict:
    """A message as TF Serving's REST layer prints it: proto names, every field, int64 strings."""
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True,
                                     preserving_proto_field_name=True)


def _pattern(path: str) -> re.Pattern:
    return re.compile(path, re.IGNORECASE)
