"""The Open Inference Protocol's REST endpoints (KServe v2) over the model manager.

    GET  /v2/health/live                       {"live": true}
    GET  /v2/health/ready                      {"ready": bool}; 503 when not ready
    GET  /v2                                   server metadata
    GET  /v2/models/M[/versions/V]             model metadata
    GET  /v2/models/M[/versions/V]/ready       {"name": M, "ready": bool}; 503 when not ready
    POST /v2/models/M[/versions/V]/infer       inference (JSON, or JSON + binary tensors)

Everything a model version, a signature or an output selection means is decided by the same
data plane as the gRPC service (serving.apis.oip.inference); this module only speaks JSON. A version
may be a number or a TF Serving version label, as over gRPC. Readiness answers 503 rather than
200 with false, so HTTP probes (Kubernetes) see a not-ready server or model as failing.
"""

from __future__ import annotations

import re

from serving.apis import endpoints
from serving.apis.oip import inference
from serving.transports.rest import oip_json
from serving.transports.rest.dispatcher import Route
from serving.transports.rest.messages import RestRequest, RestResponse, json_response
from serving.transports.rest.openapi_operation import MODEL_PARAMETER, OIP_TAG, OperationDoc

# Extensions the REST endpoints implement, as server metadata lists them.
REST_EXTENSIONS = ("binary_tensor_data",)
_MODEL = r"/v2/models/(?P<model>[^/]+)(?:/versions/(?P<version>[^/]+))?"
_MODEL_TEMPLATES = ("/v2/models/{model}", "/v2/models/{model}/versions/{version}")
# A version is a number or a TF Serving version label.
_VERSION = {"version": {"type": "string", "minLength": 1, "pattern": "^[^/]+$",
                        "description": "A version number or a version label."},
            "model": {**MODEL_PARAMETER, "pattern": "^[^/]+$"}}

LIVE_DOC = OperationDoc("oipServerLive", "Server liveness", OIP_TAG, ("/v2/health/live",),
                        "Public: answers without a token.", response="OipLiveResponse")
READY_DOC = OperationDoc(
    "oipServerReady", "Server readiness", OIP_TAG, ("/v2/health/ready",),
    "Public: answers without a token. 503 until every configured model can serve.",
    response="OipReadyResponse", responses={503: "OipReadyResponse"})
SERVER_METADATA_DOC = OperationDoc("oipServerMetadata", "Server metadata", OIP_TAG, ("/v2",),
                                   response="OipServerMetadataResponse")
MODEL_METADATA_DOC = OperationDoc(
    "oipModelMetadata", "Model metadata", OIP_TAG, _MODEL_TEMPLATES,
    "The inputs and outputs of the serving_default signature of the version.",
    response="OipModelMetadataResponse", parameters=_VERSION, per_model=True)
MODEL_READY_DOC = OperationDoc(
    "oipModelReady", "Model readiness", OIP_TAG, tuple(path + "/ready" for path in _MODEL_TEMPLATES),
    "503 while the model (or version) cannot serve.", response="OipModelReadyResponse",
    responses={503: "OipModelReadyResponse"}, parameters=_VERSION, per_model=True)
INFER_DOC = OperationDoc(
    "oipInfer", "Inference", OIP_TAG, tuple(path + "/infer" for path in _MODEL_TEMPLATES),
    "Runs the serving_default signature, or the one the signature_name parameter names. With "
    "the binary tensor data extension the body is the JSON header (its length in the "
    "Inference-Header-Content-Length header) followed by raw tensors.",
    request="OipInferRequest", response="OipInferResponse", parameters=_VERSION, binary=True,
    per_model=True)


def oip_routes(manager, request_logger=None) -> list[Route]:
    """The /v2 routes, answering from `manager`; `request_logger` (a ServerRequestLogger) logs
    inferences as TF Serving PredictLogs. The health endpoints are public."""
    api = _OipRoutes(manager, request_logger)
    return [
        Route("GET", re.compile(r"/v2/health/live"), api.live, endpoints.OIP_SERVER_LIVE,
              model_call=False, doc=LIVE_DOC),
        Route("GET", re.compile(r"/v2/health/ready"), api.ready, endpoints.OIP_SERVER_READY,
              model_call=False, doc=READY_DOC),
        Route("GET", re.compile(r"/v2/?"), api.server_metadata, endpoints.OIP_SERVER_METADATA,
              model_call=False, doc=SERVER_METADATA_DOC),
        Route("GET", re.compile(_MODEL), api.model_metadata, endpoints.OIP_MODEL_METADATA,
              doc=MODEL_METADATA_DOC),
        Route("GET", re.compile(_MODEL + "/ready"), api.model_ready, endpoints.OIP_MODEL_READY,
              model_call=False, doc=MODEL_READY_DOC),
        Route("POST", re.compile(_MODEL + "/infer"), api.infer, endpoints.OIP_INFER,
              doc=INFER_DOC),
    ]


class _OipRoutes:
    def __init__(self, manager, request_logger):
        self._manager = manager
        self._request_logger = request_logger

    def live(self, request: RestRequest, params: dict, call) -> RestResponse:
        return json_response({"live": True})

    def ready(self, request: RestRequest, params: dict, call) -> RestResponse:
        ready = inference.server_ready(self._manager)
        return json_response({"ready": ready}, status=200 if ready else 503)

    def server_metadata(self, request: RestRequest, params: dict, call) -> RestResponse:
        metadata = inference.server_metadata(REST_EXTENSIONS)
        return json_response({"name": metadata.name, "version": metadata.version,
                              "extensions": list(metadata.extensions)})

    def model_metadata(self, request: RestRequest, params: dict, call) -> RestResponse:
        metadata = inference.model_metadata(self._manager, params["model"],
                                            params.get("version", ""), call)
        return json_response({
            "name": metadata.name,
            "versions": list(metadata.versions),
            "platform": metadata.platform,
            "inputs": [_tensor_json(tensor) for tensor in metadata.inputs],
            "outputs": [_tensor_json(tensor) for tensor in metadata.outputs],
        })

    def model_ready(self, request: RestRequest, params: dict, call) -> RestResponse:
        ready = inference.model_ready(self._manager, params["model"], params.get("version", ""),
                                      call)
        return json_response({"name": params["model"], "ready": ready},
                             status=200 if ready else 503)

    def infer(self, request: RestRequest, params: dict, call) -> RestResponse:
        call.target(params["model"], label=params.get("version") or None)
        decoded = oip_json.decode_infer(request.body, request.headers, params["model"],
                                        params.get("version", ""))
        response = inference.infer(self._manager, decoded.request, call, self._request_logger)
        header, binary = oip_json.encode_infer(response, decoded)
        if not binary:
            return RestResponse(body=header)
        return RestResponse(body=header + binary, content_type="application/octet-stream",
                            headers=((oip_json.HEADER_LENGTH_HEADER, str(len(header))),))


def _tensor_json(tensor: inference.TensorMetadata) -> dict:
    return {"name": tensor.name, "datatype": tensor.datatype, "shape": list(tensor.shape)}
