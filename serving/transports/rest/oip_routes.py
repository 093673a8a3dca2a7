"""The Open Inference Protocol's REST endpoints (KServe v2) over the model manager.

    GET  /v2/health/live                       {"live": true}
    GET  /v2/health/ready                      {"ready": bool}; 503 when not ready
    GET  /v2                                   server metadata
    GET  /v2/models/M[/versions/V]             model metadata
    GET  /v2/models/M[/versions/V]/ready       {"name": M, "ready": bool}; 503 when not ready
    POST /v2/models/M[/versions/V]/infer       inference (JSON, or JSON + binary tensors)

and Triton's extensions that its tools call (tritonclient.http, perf_analyzer -i http):

    GET  /v2/models/M[/versions/V]/config      Triton's ModelConfig, as JSON
    GET  /v2/models[/M[/versions/V]]/stats     {"model_stats": [...]}, per model version
    GET  /v2/(systemsharedmemory|cudasharedmemory)[/region/R]/status         refused (501),
    POST /v2/(systemsharedmemory|cudasharedmemory)[/region/R]/(register|unregister)   as all

Everything a model version, a signature or an output selection means is decided by the same
data plane as the gRPC service (serving.apis.oip.inference); this module only speaks JSON. A version
may be a number or a TF Serving version label, as over gRPC. Readiness answers 503 rather than
200 with false, so HTTP probes (Kubernetes) see a not-ready server or model as failing. The
configuration and statistics documents have Triton's field names, with every integer a JSON
number (perf_analyzer reads them as such), and the statistics list the response cache's
counters Triton's clients expect, always zero: there is no cache.
"""

from __future__ import annotations

import re

from serving.apis import endpoints
from serving.apis.oip import inference, model_config, shared_memory, statistics
from serving.transports.rest import oip_json
from serving.transports.rest.dispatcher import Route
from serving.transports.rest.messages import RestRequest, RestResponse, json_response
from serving.transports.rest.openapi_operation import MODEL_PARAMETER, OIP_TAG, OperationDoc

# Extensions the REST endpoints implement, as server metadata lists them (Triton's names).
REST_EXTENSIONS = ("binary_tensor_data", "model_configuration", "statistics")
_MODEL = r"/v2/models/(?P<model>[^/]+)(?:/versions/(?P<version>[^/]+))?"
_SHARED_MEMORY = r"/v2/(?P<kind>system|cuda)sharedmemory(?:/region/(?P<region>[^/]+))?"
_SHARED_MEMORY_KINDS = {"system": shared_memory.SYSTEM, "cuda": shared_memory.CUDA}
_ZERO = {"count": 0, "ns": 0}

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

# Triton's extensions of the protocol, which its tools (perf_analyzer) call.
MODEL_CONFIG_DOC = OperationDoc(
    "oipModelConfig", "Model configuration (Triton)", OIP_TAG,
    tuple(path + "/config" for path in _MODEL_TEMPLATES),
    "The version as Triton's ModelConfig describes it: platform, max_batch_size (from the batching "
    "parameters), inputs and outputs with Triton data types and dims, dynamic_batching.",
    response="OipModelConfigResponse", parameters=_VERSION, per_model=True)
ALL_STATISTICS_DOC = OperationDoc(
    "oipAllModelStatistics", "Statistics of every model (Triton)", OIP_TAG, ("/v2/models/stats",),
    "Per model version: request and execution counts and durations, batch statistics.",
    response="OipModelStatisticsResponse")
MODEL_STATISTICS_DOC = OperationDoc(
    "oipModelStatistics", "Model statistics (Triton)", OIP_TAG,
    tuple(path + "/stats" for path in _MODEL_TEMPLATES),
    "Per version of the model (or the version named): request and execution counts and "
    "durations, batch statistics.",
    response="OipModelStatisticsResponse", parameters=_VERSION, per_model=True)
_REGION = {"region": {"type": "string", "minLength": 1, "pattern": "^[^/]+$",
                      "description": "A shared memory region's name."}}
_SHARED_MEMORY_REFUSED = ("This server offers no shared memory: always 501 UNIMPLEMENTED, saying so, "
                          "so a client falls back to sending tensors in the request.")
SHARED_MEMORY_STATUS_DOC = OperationDoc(
    "oipSharedMemoryStatus", "Shared memory status (Triton; refused)", OIP_TAG,
    tuple(f"/v2/{kind}sharedmemory{region}/status" for kind in _SHARED_MEMORY_KINDS
          for region in ("", "/region/{region}")),
    _SHARED_MEMORY_REFUSED, parameters=_REGION, responses={501: "Error"})
SHARED_MEMORY_REGISTRATION_DOC = OperationDoc(
    "oipSharedMemoryRegistration", "Shared memory (un)registration (Triton; refused)", OIP_TAG,
    tuple(f"/v2/{kind}sharedmemory{region}/{action}" for kind in _SHARED_MEMORY_KINDS
          for region in ("", "/region/{region}") for action in ("register", "unregister")),
    _SHARED_MEMORY_REFUSED, parameters=_REGION, responses={501: "Error"})


def oip_routes(manager, request_logger=None) -> list[Route]:
    """The /v2 routes, answering from `manager`; `request_logger` (a ServerRequestLogger) logs
    inferences as TF Serving PredictLogs. The health endpoints are public.

    The statistics of every model come before model metadata, whose pattern would read
    /v2/models/stats as a model called "stats".
    """
    api = _OipRoutes(manager, request_logger)
    return [
        Route("GET", re.compile(r"/v2/models/stats"), api.statistics,
              endpoints.OIP_MODEL_STATISTICS, model_call=False, doc=ALL_STATISTICS_DOC),
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
        Route("GET", re.compile(_MODEL + "/config"), api.model_config,
              endpoints.OIP_MODEL_CONFIG, model_call=False, doc=MODEL_CONFIG_DOC),
        Route("GET", re.compile(_MODEL + "/stats"), api.statistics,
              endpoints.OIP_MODEL_STATISTICS, model_call=False, doc=MODEL_STATISTICS_DOC),
        Route("GET", re.compile(_SHARED_MEMORY + "/(?P<action>status)"), _refuse_shared_memory,
              endpoints.OIP_SHARED_MEMORY, model_call=False, doc=SHARED_MEMORY_STATUS_DOC),
        Route("POST", re.compile(_SHARED_MEMORY + "/(?P<action>register|unregister)"),
              _refuse_shared_memory, endpoints.OIP_SHARED_MEMORY, model_call=False,
              doc=SHARED_MEMORY_REGISTRATION_DOC),
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

    def model_config(self, request: RestRequest, params: dict, call) -> RestResponse:
        config = model_config.model_config(self._manager, params["model"],
                                           params.get("version", ""), call)
        document = {
            "name": config.name,
            "platform": config.platform,
            "max_batch_size": config.max_batch_size,
            "input": [_tensor_config_json(tensor) for tensor in config.inputs],
            "output": [_tensor_config_json(tensor) for tensor in config.outputs],
        }
        if config.dynamic_batching is not None:
            document["dynamic_batching"] = {
                "preferred_batch_size": list(config.dynamic_batching.preferred_batch_sizes),
                "max_queue_delay_microseconds":
                    config.dynamic_batching.max_queue_delay_microseconds,
            }
        return json_response(document)

    def statistics(self, request: RestRequest, params: dict, call) -> RestResponse:
        snapshots = statistics.model_statistics(self._manager, params.get("model", ""),
                                                params.get("version", ""), call)
        return json_response({"model_stats": [_statistics_json(snapshot)
                                              for snapshot in snapshots]})


def _refuse_shared_memory(request: RestRequest, params: dict, call) -> RestResponse:
    shared_memory.refuse_shared_memory(_SHARED_MEMORY_KINDS[params["kind"]], params["action"],
                                       params.get("region", ""))


def _tensor_json(tensor: inference.TensorMetadata) -> dict:
    return {"name": tensor.name, "datatype": tensor.datatype, "shape": list(tensor.shape)}


def _tensor_config_json(tensor: model_config.TensorConfig) -> dict:
    return {"name": tensor.name, "data_type": tensor.data_type, "dims": list(tensor.dims)}


def _statistics_json(snapshot) -> dict:
    """One serving.metrics.StatisticsSnapshot as Triton's statistics document lists it."""
    inference_stats = {field: _duration_json(getattr(snapshot, field))
                       for field in statistics.REQUEST_DURATIONS}
    inference_stats.update(dict.fromkeys(statistics.CACHE_DURATIONS, _ZERO))
    return {
        "name": snapshot.model,
        "version": str(snapshot.version),
        "last_inference": snapshot.last_inference_ms,
        "inference_count": snapshot.inference_count,
        "execution_count": snapshot.execution_count,
        "inference_stats": inference_stats,
        "batch_stats": [{"batch_size": batch.batch_size,
                         **{field: _duration_json(getattr(batch, field))
                            for field in statistics.COMPUTE_DURATIONS}}
                        for batch in snapshot.batches],
    }


def _duration_json(duration) -> dict:
    return {"count": duration.count, "ns": duration.ns}
