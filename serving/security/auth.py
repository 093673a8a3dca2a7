"""`--auth_token_file`: an optional shared bearer token every request must carry.

Clients send `authorization: Bearer TOKEN` (gRPC metadata or the HTTP header), which is what
`serving.client.Client(token=...)` does. Requests without it, or with another token, get
UNAUTHENTICATED (HTTP 401) before any handler runs. Health checks stay open, so load balancers
and orchestrators can probe a server without holding the secret: gRPC's grpc.health.v1 service
and the Open Inference Protocol's liveness/readiness calls (`ServerLive`, `ServerReady`; on REST,
`/v2/health/*`).

The token is a secret: it is compared in constant time, never logged, and its repr is redacted.
A rejected request is logged with its method and whether a token was missing or wrong, never
with what was sent (a near-miss is usually the real token with a typo).
"""

from __future__ import annotations

import hmac
import logging

import grpc

from serving import errors

logger = logging.getLogger("serving.security")

FLAG = "--auth_token_file"
AUTHORIZATION = "authorization"
SCHEME = "Bearer"
# gRPC methods that answer without a token: health and liveness probes.
OPEN_GRPC_METHOD_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/inference.GRPCInferenceService/ServerLive",
    "/inference.GRPCInferenceService/ServerReady",
)
MISSING_MESSAGE = (f"Missing bearer token: this server requires `{AUTHORIZATION}: "
                   f"{SCHEME} <token>` with every request")
WRONG_MESSAGE = "Invalid bearer token: the token sent is not the one this server accepts"
# WWW-Authenticate on REST's 401 answers, as RFC 6750 section 3 gives them.
MISSING_CHALLENGE = f'{SCHEME} realm="zoo-serve"'
WRONG_CHALLENGE = f'{SCHEME} realm="zoo-serve", error="invalid_token"'


class BearerToken:
    """The shared secret requests must present, from --auth_token_file.

    Example:
        token = BearerToken.from_file("/etc/tfzoo/token")
        token.check(headers.get("Authorization"))  # raises errors.Unauthenticated if wrong
    """

    def __init__(self, token: str):
        if not isinstance(token, str) or not token:
            raise ValueError("token must be a non-empty string. Received: an empty token")
        if any(char.isspace() or not char.isprintable() for char in token):
            raise ValueError("token must be one word of printable characters (no spaces, tabs or "
                             "line breaks inside). Received: a token with such characters")
        self._expected = f"{SCHEME} {token}".encode("utf-8")

    @classmethod
    def from_file(cls, path: str) -> "BearerToken":
        """Reads the token from `path`; surrounding whitespace (a final newline) is ignored.

        Raises:
            errors.InvalidArgument: the file cannot be read, is empty, or holds more than one
                word. The message names the flag and the file, never the content.
        """
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            raise errors.InvalidArgument(f"{FLAG} {path}: cannot read the token file: "
                                         f"{getattr(error, 'strerror', None) or error}") from None
        if not text:
            raise errors.InvalidArgument(f"{FLAG} {path}: the file is empty; put the token in it "
                                         "(one line)")
        try:
            return cls(text)
        except ValueError:
            raise errors.InvalidArgument(
                f"{FLAG} {path}: the token must be one word of printable characters, with no "
                "spaces or line breaks inside") from None

    def __repr__(self) -> str:
        return "BearerToken(<redacted>)"

    def accepts(self, authorization: str | bytes | None) -> bool:
        """Whether an `authorization` value is `Bearer <the token>` (compared in constant time)."""
        if authorization is None:
            return False
        if isinstance(authorization, str):
            authorization = authorization.strip().encode("utf-8", errors="replace")
        return hmac.compare_digest(authorization, self._expected)

    def check(self, authorization: str | bytes | None) -> None:
        """Raises errors.Unauthenticated unless `authorization` carries the token."""
        if not self.accepts(authorization):
            if not authorization:
                raise errors.Unauthenticated(MISSING_MESSAGE, challenge=MISSING_CHALLENGE)
            raise errors.Unauthenticated(WRONG_MESSAGE, challenge=WRONG_CHALLENGE)


def is_open_grpc_method(method: str) -> bool:
    """Whether a gRPC method (`/package.Service/Method`) answers without a token."""
    return method.startswith(OPEN_GRPC_METHOD_PREFIXES)


class TokenAuthInterceptor(grpc.ServerInterceptor):
    """Refuses gRPC calls without the bearer token with UNAUTHENTICATED.

    The check runs inside the handler, once per call, and reads the call's own metadata, so it
    holds wherever the interceptor sits: other interceptors (metrics, error mapping) cache the
    handler they get per method, and a decision taken in `intercept_service` would be cached
    with it. A call to a method the server does not have is refused too when it lacks the token,
    so unauthenticated callers do not learn which methods exist.
    """

    def __init__(self, token: BearerToken):
        self._token = token
        self._guarded: dict[str, _GuardedHandler] = {}

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        handler = continuation(handler_call_details)
        if is_open_grpc_method(method):
            return handler
        if handler is None:  # unknown method: decided per call, nothing is cached
            authorization = _metadata_value(handler_call_details.invocation_metadata, AUTHORIZATION)
            if self._token.accepts(authorization):
                return None
            return _refusing_handler(self._log_refusal(method, authorization))
        guarded = self._guarded.get(method)
        if guarded is None or guarded.handler is not handler:
            guarded = _GuardedHandler(handler, lambda context: self._check(method, context))
            self._guarded[method] = guarded
        return guarded.rpc_method_handler

    def _check(self, method: str, context: grpc.ServicerContext) -> None:
        authorization = _metadata_value(context.invocation_metadata(), AUTHORIZATION)
        if not self._token.accepts(authorization):
            context.abort(grpc.StatusCode.UNAUTHENTICATED,
                          self._log_refusal(method, authorization))

    @staticmethod
    def _log_refusal(method: str, authorization: str | None) -> str:
        """Logs a refused call (never what was sent) and returns the message for the client."""
        logger.warning("event=request_unauthenticated method=%s token=%s", method,
                       "missing" if authorization is None else "wrong")
        return MISSING_MESSAGE if authorization is None else WRONG_MESSAGE


class _GuardedHandler:
    """`handler` with `check(context)` run before its behavior, for every kind of RPC."""

    def __init__(self, handler: grpc.RpcMethodHandler, check):
        self.handler = handler
        kinds = (
            ("unary_unary", grpc.unary_unary_rpc_method_handler),
            ("unary_stream", grpc.unary_stream_rpc_method_handler),
            ("stream_unary", grpc.stream_unary_rpc_method_handler),
            ("stream_stream", grpc.stream_stream_rpc_method_handler),
        )
        for attribute, make in kinds:
            behavior = getattr(handler, attribute)
            if behavior is not None:
                self.rpc_method_handler = make(
                    _checked(behavior, check),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
                return
        raise ValueError(f"handler has no behavior. Received: handler={handler!r}")


def _checked(behavior, check):
    def checked(request_or_iterator, context):
        check(context)
        return behavior(request_or_iterator, context)

    return checked


def _metadata_value(metadata, key: str) -> str | None:
    for entry_key, value in metadata or ():
        if entry_key == key:
            return value
    return None


def _refusing_handler(message: str) -> grpc.RpcMethodHandler:
    def refuse(request, context):
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    return grpc.unary_unary_rpc_method_handler(refuse)
