"""Typed serving errors, and the one place that maps them onto gRPC and HTTP status codes.

Code that validates a request raises one of these; the protocol front ends (gRPC, REST, KServe
v2) turn it into their own status. Anything else that escapes is a bug: it becomes INTERNAL with a
generic message, and the traceback is logged.
"""

from __future__ import annotations

import grpc

# TF Serving cuts long messages to this many characters (util/grpc_status_util.cc).
MAX_MESSAGE_CHARS = 1024


class ServingError(Exception):
    """Base class: an error whose message is safe and useful to send to the client."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    http_status: int = 500
    # Headers an HTTP answer to this error must carry (RFC 9110 requires one for 401).
    http_headers: tuple[tuple[str, str], ...] = ()

    @property
    def full_message(self) -> str:
        """The whole message, as TF Serving's REST API sends it."""
        return str(self.args[0]) if self.args else self.__class__.__name__

    @property
    def message(self) -> str:
        """The message cut to MAX_MESSAGE_CHARS, as TF Serving's gRPC status carries it."""
        text = self.full_message
        if len(text) > MAX_MESSAGE_CHARS:
            text = text[:MAX_MESSAGE_CHARS] + "...TRUNCATED"
        return text


class InvalidArgument(ServingError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    http_status = 400


class NotFound(ServingError):
    code = grpc.StatusCode.NOT_FOUND
    http_status = 404


class FailedPrecondition(ServingError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    http_status = 400


class ResourceExhausted(ServingError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    http_status = 429


class Unavailable(ServingError):
    code = grpc.StatusCode.UNAVAILABLE
    http_status = 503


class DeadlineExceeded(ServingError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
    http_status = 504


class Unauthenticated(ServingError):
    """`challenge` is the WWW-Authenticate value a 401 answer carries (RFC 9110 section 11.6.1):
    the scheme the client should use, and for bearer tokens RFC 6750's error code."""

    code = grpc.StatusCode.UNAUTHENTICATED
    http_status = 401

    def __init__(self, message: str, *, challenge: str = "Bearer"):
        super().__init__(message)
        self.http_headers = (("WWW-Authenticate", challenge),)


class Unimplemented(ServingError):
    code = grpc.StatusCode.UNIMPLEMENTED
    http_status = 501


class Internal(ServingError):
    code = grpc.StatusCode.INTERNAL
    http_status = 500


class ServerStartError(Exception):
    """The server cannot start (port taken, TensorFlow already configured...); the message says
    how to fix it. Not a ServingError: no client ever sees it."""
