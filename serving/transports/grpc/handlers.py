"""Our gRPC services as tables of methods, each run under the guard.

A service is a mapping of method name -> `GrpcMethod` (its endpoint, its request message type and
a function `(request, call) -> response` that calls the API, or a coroutine function for the
methods on the hot path). `guarded_service` turns one into a grpc handler that builds the guard's
Call from the gRPC context (token, deadline), runs the function under the guard, and turns a
ServingError into the call's status and message. The server runs a coroutine on its event loop
and a plain function in its thread pool, so only the coroutines must never block.

A request body that is not a valid protobuf of its type is the client's fault: gRPC would answer
INTERNAL ("Exception deserializing request!"); here it is INVALID_ARGUMENT naming the message
type, and it is counted like any other failed request.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping

import grpc
from google.protobuf import message as protobuf_message

from serving import errors
from serving.apis.endpoints import Endpoint
from serving.apis.guard import GRPC, Call, Guard
from serving.transports.grpc.deadlines import grpc_deadline

AUTHORIZATION = "authorization"


@dataclasses.dataclass(frozen=True)
class GrpcMethod:
    """One unary RPC: `run(request, call)` answers a `request_type` message; with `awaited`,
    `run` is a coroutine function, awaited on the server's event loop."""

    endpoint: Endpoint
    request_type: type
    run: Callable[[object, Call], protobuf_message.Message]
    awaited: bool = False


class _UndecodableRequest:
    """What a body that does not parse as its request type deserializes to."""

    def __init__(self, request_type: type, error: Exception):
        self.message = (f"The request is not a valid {request_type.DESCRIPTOR.full_name} "
                        f"protocol buffer: {error}")


def guarded_service(service_name: str, methods: Mapping[str, GrpcMethod], guard: Guard
                    ) -> grpc.GenericRpcHandler:
    """A handler serving `methods` of `service_name` ("tensorflow.serving.PredictionService")."""
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            (_guarded_async if method.awaited else _guarded)(f"/{service_name}/{name}", method,
                                                             guard),
            request_deserializer=_tolerant(method.request_type),
            response_serializer=lambda response: response.SerializeToString())
        for name, method in methods.items()}
    return grpc.method_handlers_generic_handler(service_name, handlers)


def metadata_value(metadata, key: str) -> str | None:
    """The value of `key` in gRPC invocation metadata (None when absent)."""
    for entry_key, value in metadata or ():
        if entry_key == key:
            return value
    return None


def _guarded(full_method: str, method: GrpcMethod, guard: Guard):
    reads_token = guard.requires_token

    def handle(request, context: grpc.ServicerContext):
        call = _call(full_method, method, context, reads_token)
        try:
            with guard.guarding(call):
                response = method.run(_decoded(request), call)
        except errors.ServingError as error:
            context.abort(error.code, error.message)
        return _answer(call, response, context)

    return handle


def _guarded_async(full_method: str, method: GrpcMethod, guard: Guard):
    reads_token = guard.requires_token

    async def handle(request, context: grpc.aio.ServicerContext):
        call = _call(full_method, method, context, reads_token)
        try:
            with guard.guarding(call):
                response = await method.run(_decoded(request), call)
        except errors.ServingError as error:
            await context.abort(error.code, error.message)
        return _answer(call, response, context)

    return handle


def _call(full_method: str, method: GrpcMethod, context, reads_token: bool) -> Call:
    """The guard's view of a gRPC call (the metadata is read only when a token is required)."""
    authorization = (metadata_value(context.invocation_metadata(), AUTHORIZATION)
                     if reads_token else None)
    return Call(method.endpoint, GRPC, method=full_method, authorization=authorization,
                deadline=grpc_deadline(context))


def _decoded(request):
    """The request message, or InvalidArgument for a body that did not parse."""
    if isinstance(request, _UndecodableRequest):
        raise errors.InvalidArgument(request.message)
    return request


def _answer(call: Call, response, context):
    if call.status != grpc.StatusCode.OK:
        # The API answered and reported a failure (HandleReloadConfigRequest): the client sees
        # the call fail with that status, as from TF Serving.
        context.set_code(call.status)
        context.set_details(_status_message(response))
    return response


def _status_message(response) -> str:
    status = getattr(response, "status", None)
    return status.error_message if status is not None else ""


def _tolerant(request_type: type):
    def deserialize(data: bytes):
        try:
            return request_type.FromString(data)
        except protobuf_message.DecodeError as error:
            return _UndecodableRequest(request_type, error)

    return deserialize
