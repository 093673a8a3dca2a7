"""`inference.GRPCInferenceService`, the Open Inference Protocol over gRPC: each RPC converts its
message (oip_messages.py), calls the data plane in serving/apis/oip and converts back."""

from __future__ import annotations

from serving.apis import endpoints
from serving.apis.oip import inference
from serving.transports.grpc import grpc_predict_v2_pb2 as pb2
from serving.transports.grpc import oip_messages
from serving.transports.grpc.handlers import GrpcMethod

SERVICE_NAME = pb2.DESCRIPTOR.services_by_name["GRPCInferenceService"].full_name
# Protocol extensions this transport implements, as ServerMetadata reports them. None of
# Triton's gRPC extensions (model_repository, statistics, shared memory...) is served.
GRPC_EXTENSIONS: tuple[str, ...] = ()


def oip_service(manager, request_logger=None) -> dict[str, GrpcMethod]:
    """GRPCInferenceService's six core RPCs, answering from `manager`; `request_logger` (a
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

    def model_infer(request, call):
        response = inference.infer(manager, oip_messages.infer_request_from_proto(request), call,
                                   request_logger)
        return oip_messages.infer_response_to_proto(
            response, raw=oip_messages.uses_raw_contents(request))

    return {
        "ServerLive": GrpcMethod(endpoints.OIP_SERVER_LIVE, pb2.ServerLiveRequest, server_live),
        "ServerReady": GrpcMethod(endpoints.OIP_SERVER_READY, pb2.ServerReadyRequest,
                                  server_ready),
        "ServerMetadata": GrpcMethod(endpoints.OIP_SERVER_METADATA, pb2.ServerMetadataRequest,
                                     server_metadata),
        "ModelReady": GrpcMethod(endpoints.OIP_MODEL_READY, pb2.ModelReadyRequest, model_ready),
        "ModelMetadata": GrpcMethod(endpoints.OIP_MODEL_METADATA, pb2.ModelMetadataRequest,
                                    model_metadata),
        "ModelInfer": GrpcMethod(endpoints.OIP_INFER, pb2.ModelInferRequest, model_infer),
    }
