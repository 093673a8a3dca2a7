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
            raise errors.Unauthenticated(MISSING_MESSAGE if not authorization else WRONG_MESSAGE)


def is_open_grpc_method(method: str) -> bool:
    """Whether a gRPC method (`/package.Service/Method`) answers without a token."""
    return method.startswith(OPEN_GRPC_METHOD_PREFIXES)


class TokenAuthInterceptor(grpc.ServerInterceptor):
    """Refuses gRPC calls without the bearer token, before any handler or deserializer runs.

    Put it first among the server's interceptors. A refused call gets a handler of the same kind
    as the real one (unary or streaming) that aborts with UNAUTHENTICATED.
    """

    def __init__(self, token: BearerToken):
        self._token = token

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        if is_open_grpc_method(method):
            return continuation(handler_call_details)
        authorization = _metadata_value(handler_call_details.invocation_metadata, AUTHORIZATION)
        if self._token.accepts(authorization):
            return continuation(handler_call_details)
        reason = "missing" if authorization is None else "wrong"
        logger.warning("event=request_unauthenticated method=%s token=%s", method, reason)
        return _refusal(continuation(handler_call_details),
                        MISSING_MESSAGE if authorization is None else WRONG_MESSAGE)


def _metadata_value(metadata, key: str) -> str | None:
    for entry_key, value in metadata or ():
        if entry_key == key:
            return value
    return None


def _refusal(handler: grpc.RpcMethodHandler | None, message: str) -> grpc.RpcMethodHandler:
    """A handler shaped like `handler` that aborts with UNAUTHENTICATED (even for a method the
    server does not have: unauthenticated callers do not learn which methods exist)."""

    def refuse(request, context):
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    if handler is not None and handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(refuse)
    if handler is not None and handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(refuse)
    if handler is not None and handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(refuse)
    return grpc.unary_unary_rpc_method_handler(refuse)
