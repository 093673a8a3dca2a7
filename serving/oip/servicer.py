"""`inference.GRPCInferenceService` (the Open Inference Protocol over gRPC) over a ModelManager.

Each RPC converts its message, calls the data plane in `serving.oip.inference` and converts back.
Errors are mapped to gRPC status in one place, `_status_on_error`: a typed `serving.errors`
exception becomes its own code and message (NOT_FOUND for an unknown model or version,
INVALID_ARGUMENT for bad inputs, FAILED_PRECONDITION for an unknown signature...); anything else
is a bug, logged with its traceback and reported as INTERNAL with a generic message.

Register it on a server with `add_oip_service(grpc_server, manager)`.
"""

from __future__ import annotations

import functools
import logging

import grpc

import serving
from serving import errors
from serving.oip import grpc_predict_v2_pb2 as pb2
from serving.oip import grpc_predict_v2_pb2_grpc as pb2_grpc
from serving.oip import inference, messages

logger = logging.getLogger("serving.oip")

SERVER_NAME = "tfzoo"
# Protocol extensions this server implements, as ServerMetadata reports them. None of Triton's
# gRPC extensions (model_repository, statistics, shared memory...) is served, so none is listed.
SERVER_EXTENSIONS: tuple[str, ...] = ()


def _status_on_error(method):
    """Turns exceptions raised by an RPC method into the call's gRPC status."""

    @functools.wraps(method)
    def wrapper(self, request, context: grpc.ServicerContext):
        try:
            return method(self, request, context)
        except errors.ServingError as error:
            context.abort(error.code, error.message)
        except Exception:  # a bug: the client gets no internals, the log gets the traceback
            logger.exception("event=oip_internal_error rpc=%s", method.__name__)
            context.abort(grpc.StatusCode.INTERNAL,
                          f"Internal error in {method.__name__}; see the server log")

    return wrapper


class InferenceServicer(pb2_grpc.GRPCInferenceServiceServicer):
    """The six core RPCs of the Open Inference Protocol, answered from `manager`."""

    def __init__(self, manager):
        self._manager = manager

    @_status_on_error
    def ServerLive(self, request, context):
        # Answering at all is the proof of life: the process serves RPCs.
        return pb2.ServerLiveResponse(live=True)

    @_status_on_error
    def ServerReady(self, request, context):
        return pb2.ServerReadyResponse(ready=self._manager.is_ready())

    @_status_on_error
    def ModelReady(self, request, context):
        ready = inference.model_ready(self._manager, request.name, request.version)
        return pb2.ModelReadyResponse(ready=ready)

    @_status_on_error
    def ServerMetadata(self, request, context):
        return pb2.ServerMetadataResponse(name=SERVER_NAME, version=serving.__version__,
                                          extensions=SERVER_EXTENSIONS)

    @_status_on_error
    def ModelMetadata(self, request, context):
        metadata = inference.model_metadata(self._manager, request.name, request.version)
        return messages.model_metadata_to_proto(metadata)

    @_status_on_error
    def ModelInfer(self, request, context):
        response = inference.infer(self._manager, messages.infer_request_from_proto(request))
        return messages.infer_response_to_proto(response, raw=messages.uses_raw_contents(request))


def add_oip_service(grpc_server: grpc.Server, manager) -> InferenceServicer:
    """Registers the Open Inference Protocol service on `grpc_server`, answering from `manager`.

    Call before `grpc_server.start()`. Returns the servicer.
    """
    servicer = InferenceServicer(manager)
    pb2_grpc.add_GRPCInferenceServiceServicer_to_server(servicer, grpc_server)
    return servicer
