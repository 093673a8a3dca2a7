"""`inference.GRPCInferenceService` (the Open Inference Protocol over gRPC) over a ModelManager.

Each RPC converts its message, calls the data plane in `serving.oip.inference` and converts back.
Errors are raised as typed `serving.errors` exceptions (NotFound for an unknown model or version,
InvalidArgument for bad inputs, FailedPrecondition for an unknown signature...) and turned into
gRPC statuses in one place for every service: `serving.server.ErrorMappingInterceptor`, which
the server this service is added to must have (ModelServer's does).

Register it with `add_oip_service(grpc_server, manager)`.
"""

from __future__ import annotations

import grpc

import serving
from serving.batching.deadlines import grpc_deadline
from serving.oip import grpc_predict_v2_pb2 as pb2
from serving.oip import grpc_predict_v2_pb2_grpc as pb2_grpc
from serving.oip import inference, messages

SERVICE_NAME = pb2.DESCRIPTOR.services_by_name["GRPCInferenceService"].full_name
SERVER_NAME = "tfzoo"
# Protocol extensions this server implements, as ServerMetadata reports them. None of Triton's
# gRPC extensions (model_repository, statistics, shared memory...) is served, so none is listed.
SERVER_EXTENSIONS: tuple[str, ...] = ()


class InferenceServicer(pb2_grpc.GRPCInferenceServiceServicer):
    """The six core RPCs of the Open Inference Protocol, answered from `manager`."""

    def __init__(self, manager):
        self._manager = manager

    def ServerLive(self, request, context):
        # Answering at all is the proof of life: the process serves RPCs.
        return pb2.ServerLiveResponse(live=True)

    def ServerReady(self, request, context):
        return pb2.ServerReadyResponse(ready=self._manager.is_ready())

    def ModelReady(self, request, context):
        ready = inference.model_ready(self._manager, request.name, request.version)
        return pb2.ModelReadyResponse(ready=ready)

    def ServerMetadata(self, request, context):
        return pb2.ServerMetadataResponse(name=SERVER_NAME, version=serving.__version__,
                                          extensions=SERVER_EXTENSIONS)

    def ModelMetadata(self, request, context):
        metadata = inference.model_metadata(self._manager, request.name, request.version)
        return messages.model_metadata_to_proto(metadata)

    def ModelInfer(self, request, context):
        response = inference.infer(self._manager, messages.infer_request_from_proto(request),
                                   deadline=grpc_deadline(context))
        return messages.infer_response_to_proto(response, raw=messages.uses_raw_contents(request))


def add_oip_service(grpc_server: grpc.Server, manager) -> InferenceServicer:
    """Registers the Open Inference Protocol service on `grpc_server`, answering from `manager`.

    `grpc_server` must be built with `serving.server.ErrorMappingInterceptor`, which turns the
    servicer's typed errors into statuses. Call before `grpc_server.start()`. Returns the servicer.
    """
    servicer = InferenceServicer(manager)
    pb2_grpc.add_GRPCInferenceServiceServicer_to_server(servicer, grpc_server)
    return servicer
