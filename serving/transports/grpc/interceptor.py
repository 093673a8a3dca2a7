"""The bearer-token check for the gRPC services that are not ours: health, reflection, and
methods the server does not have.

Our own services run every call under the guard (handlers.py), so this interceptor passes them
through. The others are grpc's own servicers: the guard's `authorize` decides for each of their
calls here, since grpcio's asyncio server asks its interceptors on every call, with the call's
metadata. A refused call gets a handler that answers UNAUTHENTICATED. A call to a method the
server does not have is refused too when it lacks the token, so unauthenticated callers do not
learn which methods exist.
"""

from __future__ import annotations

from typing import Iterable

import grpc

from serving import errors
from serving.apis import endpoints
from serving.apis.guard import GRPC, Call, Guard
from serving.transports.grpc.handlers import AUTHORIZATION, metadata_value

HEALTH_PREFIX = "/grpc.health.v1.Health/"
REFLECTION_PREFIXES = ("/grpc.reflection.v1alpha.ServerReflection/",
                       "/grpc.reflection.v1.ServerReflection/")


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Checks the token on calls to services outside `guarded_services` (their full names);
    for a guard that requires a token."""

    def __init__(self, guard: Guard, guarded_services: Iterable[str]):
        self._guard = guard
        self._guarded_prefixes = tuple(f"/{name}/" for name in guarded_services)

    async def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        handler = await continuation(handler_call_details)
        if handler is not None and method.startswith(self._guarded_prefixes):
            return handler  # the guard checks it inside the handler
        endpoint = _endpoint_of(method)
        if endpoint.public:
            return handler
        call = Call(endpoint, GRPC, method=method, authorization=metadata_value(
            handler_call_details.invocation_metadata, AUTHORIZATION))
        try:
            self._guard.authorize(call)
        except errors.Unauthenticated as error:
            return _refusing_handler(handler, error.message)
        return handler


def _endpoint_of(method: str) -> endpoints.Endpoint:
    if method.startswith(HEALTH_PREFIX):
        return endpoints.HEALTH
    if method.startswith(REFLECTION_PREFIXES):
        return endpoints.REFLECTION
    return endpoints.UNROUTED


# (request streaming, response streaming) -> the grpc factory for a handler of that kind.
_HANDLER_OF_KIND = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


def _refusing_handler(handler: grpc.RpcMethodHandler | None, message: str
                      ) -> grpc.RpcMethodHandler:
    """A handler of `handler`'s kind (unary for an unknown method) that answers UNAUTHENTICATED.
    Its coroutine suits every kind: the asyncio server lets a streaming handler write (here:
    abort) through its context instead of yielding."""
    async def refuse(request_or_iterator, context):
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    if handler is None:
        return grpc.unary_unary_rpc_method_handler(refuse)
    make = _HANDLER_OF_KIND[handler.request_streaming, handler.response_streaming]
    return make(refuse, request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
