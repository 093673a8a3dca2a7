"""The Open Inference Protocol's REST endpoints (KServe v2) over the model manager.

    GET  /v2/health/live                       {"live": true}
    GET  /v2/health/ready                      {"ready": bool}; 503 when not ready
    GET  /v2                                   server metadata
    GET  /v2/models/M[/versions/V]             model metadata
    GET  /v2/models/M[/versions/V]/ready       {"name": M, "ready": bool}; 503 when not ready
    POST /v2/models/M[/versions/V]/infer       inference (JSON, or JSON + binary tensors)

Everything a model version, a signature or an output selection means is decided by the same
data plane as the gRPC service (serving.oip.inference); this module only speaks JSON. A version
may be a number or a TF Serving version label, as over gRPC. Readiness answers 503 rather than
200 with false, so HTTP probes (Kubernetes) see a not-ready server or model as failing.
"""

from __future__ import annotations

import re

import serving
from serving.oip import inference
from serving.oip.servicer import SERVER_NAME
from serving.rest import oip_json
from serving.rest.messages import RestRequest, RestResponse, json_response
from serving.rest.routing import Route

# Extensions the REST endpoints implement, as server metadata lists them.
REST_EXTENSIONS = ("binary_tensor_data",)
_MODEL = r"/v2/models/(?P<model>[^/]+)(?:/versions/(?P<version>[^/]+))?"


def oip_routes(manager) -> list[Route]:
    """The /v2 routes, answering from `manager`. The health endpoints are public."""
    api = _OipApi(manager)
    return [
        Route("GET", re.compile(r"/v2/health/live"), api.live, api="oip_server_live", public=True,
              model_call=False),
        Route("GET", re.compile(r"/v2/health/ready"), api.ready, api="oip_server_ready",
              public=True, model_call=False),
        Route("GET", re.compile(r"/v2/?"), api.server_metadata, api="oip_server_metadata",
              model_call=False),
        Route("GET", re.compile(_MODEL), api.model_metadata, api="oip_model_metadata"),
        Route("GET", re.compile(_MODEL + "/ready"), api.model_ready, api="oip_model_ready",
              model_call=False),
        Route("POST", re.compile(_MODEL + "/infer"), api.infer, api="oip_infer"),
    ]


class _OipApi:
    def __init__(self, manager):
        self._manager = manager

    def live(self, request: RestRequest, params: dict) -> RestResponse:
        return json_response({"live": True})

    def ready(self, request: RestRequest, params: dict) -> RestResponse:
        ready = self._manager.is_ready()
        return json_response({"ready": ready}, status=200 if ready else 503)

    def server_metadata(self, request: RestRequest, params: dict) -> RestResponse:
        return json_response({"name": SERVER_NAME, "version": serving.__version__,
                              "extensions": list(REST_EXTENSIONS)})

    def model_metadata(self, request: RestRequest, params: dict) -> RestResponse:
        metadata = inference.model_metadata(self._manager, params["model"], params.get("version", ""))
        return json_response({
            "name": metadata.name,
            "versions": list(metadata.versions),
            "platform": metadata.platform,
            "inputs": [_tensor_json(tensor) for tensor in metadata.inputs],
            "outputs": [_tensor_json(tensor) for tensor in metadata.outputs],
        })

    def model_ready(self, request: RestRequest, params: dict) -> RestResponse:
        ready = inference.model_ready(self._manager, params["model"], params.get("version", ""))
        return json_response({"name": params["model"], "ready": ready}, status=200 if ready else 503)

    def infer(self, request: RestRequest, params: dict) -> RestResponse:
        decoded = oip_json.decode_infer(request.body, request.headers, params["model"],
                                        params.get("version", ""))
        response = inference.infer(self._manager, decoded.request, deadline=request.deadline)
        header, binary = oip_json.encode_infer(response, decoded)
        version = int(response.model_version)
        if not binary:
            return RestResponse(body=header, model_version=version)
        return RestResponse(body=header + binary, content_type="application/octet-stream",
                            headers=((oip_json.HEADER_LENGTH_HEADER, str(len(header))),),
                            model_version=version)


def _tensor_json(tensor: inference.TensorMetadata) -> dict:
    return {"name": tensor.name, "datatype": tensor.datatype, "shape": list(tensor.shape)}
