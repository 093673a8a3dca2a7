"""The typed serving errors, shared by the server and the client, and gRPC statuses back onto them.

A server raises `errors.NotFound`, `errors.InvalidArgument`... and its one mapping point turns
them into gRPC and HTTP statuses (zoo-serve's serving/apis/guard.py); `error_from_rpc` is the
inverse, so a client catches the same classes the server raised, with the server's message. The
classes live in the client's distribution because the client needs them without the server;
the server imports them from here (serving/errors.py).
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


def _error_classes() -> dict[grpc.StatusCode, type[ServingError]]:
    """The class of each status code, read from the subclasses of ServingError, so a class added
    later (here or by the server) is picked up without a change here."""
    classes: dict[grpc.StatusCode, type[ServingError]] = {}
    pending = list(ServingError.__subclasses__())
    while pending:
        cls = pending.pop(0)
        # The first class found for a code wins: direct subclasses before their own subclasses.
        classes.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return classes


def error_for_status(code: grpc.StatusCode, message: str) -> ServingError:
    """The typed error for a gRPC status; codes without a class of their own (CANCELLED,
    PERMISSION_DENIED...) become a plain `ServingError` whose `code` is that status."""
    cls = _error_classes().get(code)
    if cls is not None:
        return cls(message)
    error = ServingError(message)
    error.code = code
    return error


def error_from_rpc(rpc_error: grpc.RpcError) -> ServingError:
    """Converts a failed call (sync or grpc.aio) into the typed error; raise it `from rpc_error`."""
    code = rpc_error.code() if callable(getattr(rpc_error, "code", None)) else grpc.StatusCode.UNKNOWN
    details = rpc_error.details() if callable(getattr(rpc_error, "details", None)) else None
    return error_for_status(code, details or code.name)
