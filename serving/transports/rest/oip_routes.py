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

# Extensions the REST endpoints implement, as server metadata lists them (Triton's names).
REST_EXTENSIONS = ("binary_tensor_data", "model_configuration", "statistics")
_MODEL = r"/v2/models/(?P<model>[^/]+)(?:/versions/(?P<version>[^/]+))?"
_SHARED_MEMORY = r"/v2/(?P<kind>system|cuda)sharedmemory(?:/region/(?P<region>[^/]+))?"
_SHARED_MEMORY_KINDS = {"system": shared_memory.SYSTEM, "cuda": shared_memory.CUDA}
_COMPUTE_DURATIONS = ("compute_input", "compute_infer", "compute_output")
_REQUEST_DURATIONS = ("success", "fail", "queue", *_COMPUTE_DURATIONS)
_ZERO = {"count": 0, "ns": 0}


def oip_routes(manager) -> list[Route]:
    """The /v2 routes, answering from `manager`. The health endpoints are public.

    The statistics of every model come before model metadata, whose pattern would read
    /v2/models/stats as a model called "stats".
    """
    api = _OipRoutes(manager)
    return [
        Route("GET", re.compile(r"/v2/models/stats"), api.statistics,
              endpoints.OIP_MODEL_STATISTICS, model_call=False),
        Route("GET", re.compile(r"/v2/health/live"), api.live, endpoints.OIP_SERVER_LIVE,
              model_call=False),
        Route("GET", re.compile(r"/v2/health/ready"), api.ready, endpoints.OIP_SERVER_READY,
              model_call=False),
        Route("GET", re.compile(r"/v2/?"), api.server_metadata, endpoints.OIP_SERVER_METADATA,
              model_call=False),
        Route("GET", re.compile(_MODEL), api.model_metadata, endpoints.OIP_MODEL_METADATA),
        Route("GET", re.compile(_MODEL + "/ready"), api.model_ready, endpoints.OIP_MODEL_READY,
              model_call=False),
        Route("POST", re.compile(_MODEL + "/infer"), api.infer, endpoints.OIP_INFER),
        Route("GET", re.compile(_MODEL + "/config"), api.model_config,
              endpoints.OIP_MODEL_CONFIG, model_call=False),
        Route("GET", re.compile(_MODEL + "/stats"), api.statistics,
              endpoints.OIP_MODEL_STATISTICS, model_call=False),
        Route("GET", re.compile(_SHARED_MEMORY + "/(?P<action>status)"), _refuse_shared_memory,
              endpoints.OIP_SHARED_MEMORY, model_call=False),
        Route("POST", re.compile(_SHARED_MEMORY + "/(?P<action>register|unregister)"),
              _refuse_shared_memory, endpoints.OIP_SHARED_MEMORY, model_call=False),
    ]


class _OipRoutes:
    def __init__(self, manager):
        self._manager = manager

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
        response = inference.infer(self._manager, decoded.request, call)
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
                       for field in _REQUEST_DURATIONS}
    inference_stats.update(cache_hit=_ZERO, cache_miss=_ZERO)
    return {
        "name": snapshot.model,
        "version": str(snapshot.version),
        "last_inference": snapshot.last_inference_ms,
        "inference_count": snapshot.inference_count,
        "execution_count": snapshot.execution_count,
        "inference_stats": inference_stats,
        "batch_stats": [{"batch_size": batch.batch_size,
                         **{field: _duration_json(getattr(batch, field))
                            for field in _COMPUTE_DURATIONS}}
                        for batch in snapshot.batches],
    }


def _duration_json(duration) -> dict:
    return {"count": duration.count, "ns": duration.ns}
