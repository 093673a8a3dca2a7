"""The bearer-token check for the gRPC services that are not ours: health, reflection, and
methods the server does not have.

Our own services run every call under the guard (handlers.py), so this interceptor passes them
through. The others are grpc's own servicers: it applies the guard's `authorize` to each of their
calls, per call and inside the handler (the handler is cached per method, so a decision taken in
`intercept_service` would be cached with it). A call to a method the server does not have is
refused too when it lacks the token, so unauthenticated callers do not learn which methods exist.
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


class AuthInterceptor(grpc.ServerInterceptor):
    """Checks the token on calls to services outside `guarded_services` (their full names)."""

    def __init__(self, guard: Guard, guarded_services: Iterable[str]):
        self._guard = guard
        self._guarded_prefixes = tuple(f"/{name}/" for name in guarded_services)
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        handler = continuation(handler_call_details)
        if not self._guard.requires_token:
            return handler
        if handler is not None and method.startswith(self._guarded_prefixes):
            return handler  # the guard checks it inside the handler
        endpoint = _endpoint_of(method)
        if endpoint.public:
            return handler
        if handler is None:  # unknown method: decided per call, nothing is cached
            call = Call(endpoint, GRPC, method=method, authorization=metadata_value(
                handler_call_details.invocation_metadata, AUTHORIZATION))
            try:
                self._guard.authorize(call)
            except errors.Unauthenticated as error:
                return _refusing_handler(error.message)
            return None
        cached = self._wrapped.get(method)
        if cached is None or cached[0] is not handler:
            cached = (handler, _checked_handler(handler, self._check(method, endpoint)))
            self._wrapped[method] = cached
        return cached[1]

    def _check(self, method: str, endpoint: endpoints.Endpoint):
        def check(context: grpc.ServicerContext) -> None:
            call = Call(endpoint, GRPC, method=method, authorization=metadata_value(
                context.invocation_metadata(), AUTHORIZATION))
            try:
                self._guard.authorize(call)
            except errors.Unauthenticated as error:
                context.abort(error.code, error.message)

        return check


def _endpoint_of(method: str) -> endpoints.Endpoint:
    if method.startswith(HEALTH_PREFIX):
        return endpoints.HEALTH
    if method.startswith(REFLECTION_PREFIXES):
        return endpoints.REFLECTION
    return endpoints.UNROUTED


def _checked_handler(handler: grpc.RpcMethodHandler, check) -> grpc.RpcMethodHandler:
    """`handler` with `check(context)` run before its behavior, for every kind of RPC."""
    kinds = (
        ("unary_unary", grpc.unary_unary_rpc_method_handler),
        ("unary_stream", grpc.unary_stream_rpc_method_handler),
        ("stream_unary", grpc.stream_unary_rpc_method_handler),
        ("stream_stream", grpc.stream_stream_rpc_method_handler),
    )
    for attribute, make in kinds:
        behavior = getattr(handler, attribute)
        if behavior is not None:
            return make(_checked(behavior, check),
                        request_deserializer=handler.request_deserializer,
                        response_serializer=handler.response_serializer)
    raise ValueError(f"handler has no behavior. Received: handler={handler!r}")


def _checked(behavior, check):
    def checked(request_or_iterator, context):
        check(context)
        return behavior(request_or_iterator, context)

    return checked


def _refusing_handler(message: str) -> grpc.RpcMethodHandler:
    def refuse(request, context):
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    return grpc.unary_unary_rpc_method_handler(refuse)
