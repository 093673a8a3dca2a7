"""`inference.GRPCInferenceService`, the Open Inference Protocol over gRPC: each RPC converts its
message (oip_messages.py), calls the data plane in serving/apis/oip and converts back."""

from __future__ import annotations

from serving.apis import endpoints
from serving.apis.oip import inference, model_config, shared_memory, statistics
from serving.transports.grpc import grpc_predict_v2_pb2 as pb2
from serving.transports.grpc import oip_messages
from serving.transports.grpc.handlers import GrpcMethod

SERVICE_NAME = pb2.DESCRIPTOR.services_by_name["GRPCInferenceService"].full_name
# Protocol extensions this transport implements, as ServerMetadata reports them (Triton's names;
# perf_analyzer reads server-side statistics only from a server that lists "statistics").
GRPC_EXTENSIONS = ("model_configuration", "statistics")
# The shared memory RPCs, all refused: method name -> (kind of memory, what it asks).
_SHARED_MEMORY_METHODS = {
    f"{prefix}SharedMemory{action.capitalize()}": (kind, action)
    for prefix, kind in (("System", shared_memory.SYSTEM), ("Cuda", shared_memory.CUDA))
    for action in ("status", "register", "unregister")}


def oip_service(manager, request_logger=None) -> dict[str, GrpcMethod]:
    """GRPCInferenceService's six core RPCs and Triton's model configuration and statistics
    extensions, answering from `manager`; its shared memory RPCs, refused. `request_logger` (a
    ServerRequestLogger) logs inferences as TF Serving PredictLogs."""

    def server_live(request, call):
        # Answering at all is the proof of life: the process serves RPCs.
        return pb2.ServerLiveResponse(live=True)

    def server_ready(request, call):
        return pb2.ServerReadyResponse(ready=inference.server_ready(manager))

    def server_metadata(request, call):
        metadata = inference.server_metadata(GRPC_EXTENSIONS)
        return pb2.ServerMetadataResponse(name=metadata.name, version=metadata.version,
                                          extensions=metadata.extensions)

    def model_ready(request, call):
        return pb2.ModelReadyResponse(
            ready=inference.model_ready(manager, request.name, request.version, call))

    def model_metadata(request, call):
        metadata = inference.model_metadata(manager, request.name, request.version, call)
        return oip_messages.model_metadata_to_proto(metadata)

    async def model_infer(request, call):
        response = await inference.infer_async(
            manager, oip_messages.infer_request_from_proto(request), call, request_logger)
        return oip_messages.infer_response_to_proto(
            response, raw=oip_messages.uses_raw_contents(request))

    def model_configuration(request, call):
        config = model_config.model_config(manager, request.name, request.version, call)
        return oip_messages.model_config_to_proto(config)

    def model_statistics(request, call):
        return oip_messages.statistics_to_proto(
            statistics.model_statistics(manager, request.name, request.version, call))

    def refusal(kind: str, action: str):
        def refuse(request, call):
            shared_memory.refuse_shared_memory(kind, action, request.name)

        return refuse

    refusals = {name: GrpcMethod(endpoints.OIP_SHARED_MEMORY, pb2.SharedMemoryRequest,
                                 refusal(kind, action))
                for name, (kind, action) in _SHARED_MEMORY_METHODS.items()}
    return {
        "ServerLive": GrpcMethod(endpoints.OIP_SERVER_LIVE, pb2.ServerLiveRequest, server_live),
        "ServerReady": GrpcMethod(endpoints.OIP_SERVER_READY, pb2.ServerReadyRequest,
                                  server_ready),
        "ServerMetadata": GrpcMethod(endpoints.OIP_SERVER_METADATA, pb2.ServerMetadataRequest,
                                     server_metadata),
        "ModelReady": GrpcMethod(endpoints.OIP_MODEL_READY, pb2.ModelReadyRequest, model_ready),
        "ModelMetadata": GrpcMethod(endpoints.OIP_MODEL_METADATA, pb2.ModelMetadataRequest,
                                    model_metadata),
        "ModelInfer": GrpcMethod(endpoints.OIP_INFER, pb2.ModelInferRequest, model_infer,
                                 awaited=True),
        "ModelConfig": GrpcMethod(endpoints.OIP_MODEL_CONFIG, pb2.ModelConfigRequest,
                                  model_configuration),
        "ModelStatistics": GrpcMethod(endpoints.OIP_MODEL_STATISTICS, pb2.ModelStatisticsRequest,
                                      model_statistics),
        **refusals,
    }
