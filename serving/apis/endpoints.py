"""Every endpoint the server answers, in one table: what it is called in the metrics and logs,
whether it answers without a bearer token, and whether it is counted.

Both transports look their routes up here (gRPC methods in serving/transports/grpc, REST routes
in serving/transports/rest), so the guard treats an API the same whichever way it is reached.
A new API adds a row here, its function under serving/apis, and one route per transport.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One API. `name` is the `api` label of :tensorflow:serving:request_count (snake case, as
    TF Serving's own names); a `public` endpoint answers without a token (health and liveness
    probes, so orchestrators need no secret); an endpoint that is not `counted` records no
    request metrics (health checks, reflection, the metrics page itself)."""

    name: str
    public: bool = False
    counted: bool = True


# TensorFlow Serving's PredictionService and ModelService (gRPC and /v1 REST).
PREDICT = Endpoint("predict")
CLASSIFY = Endpoint("classify")
REGRESS = Endpoint("regress")
MULTI_INFERENCE = Endpoint("multi_inference")
GET_MODEL_METADATA = Endpoint("get_model_metadata")
GET_MODEL_STATUS = Endpoint("get_model_status")
RELOAD_CONFIG = Endpoint("reload_config")
# The Open Inference Protocol (gRPC GRPCInferenceService and /v2 REST).
OIP_SERVER_LIVE = Endpoint("oip_server_live", public=True)
OIP_SERVER_READY = Endpoint("oip_server_ready", public=True)
OIP_SERVER_METADATA = Endpoint("oip_server_metadata")
OIP_MODEL_READY = Endpoint("oip_model_ready")
OIP_MODEL_METADATA = Endpoint("oip_model_metadata")
OIP_INFER = Endpoint("oip_infer")
# Triton's extensions of the protocol that its tools call.
OIP_MODEL_CONFIG = Endpoint("oip_model_config")
OIP_MODEL_STATISTICS = Endpoint("oip_model_statistics")
OIP_SHARED_MEMORY = Endpoint("oip_shared_memory")
# Infrastructure: grpc.health.v1, gRPC reflection, the Prometheus page, the REST API's OpenAPI
# documents and docs page, and what no route names.
HEALTH = Endpoint("health", public=True, counted=False)
REFLECTION = Endpoint("reflection", counted=False)
METRICS_PAGE = Endpoint("metrics", counted=False)
OPENAPI = Endpoint("openapi", counted=False)
API_DOCS = Endpoint("api_docs", counted=False)
UNROUTED = Endpoint("unrouted", counted=False)
