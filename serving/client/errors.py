"""gRPC status codes back onto the project's typed errors (serving/errors.py).

The server raises `errors.NotFound`, `errors.InvalidArgument`... and its one mapping point turns
them into status codes; this module is the inverse, so a client catches the same classes the
server raised, with the server's message. The table is read from the subclasses of
`ServingError`, so a class added to serving/errors.py later is picked up without a change here.
"""

from __future__ import annotations

import grpc

from serving import errors


def _error_classes() -> dict[grpc.StatusCode, type[errors.ServingError]]:
    classes: dict[grpc.StatusCode, type[errors.ServingError]] = {}
    pending = list(errors.ServingError.__subclasses__())
    while pending:
        cls = pending.pop(0)
        # The first class found for a code wins: direct subclasses before their own subclasses.
        classes.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return classes


def error_for_status(code: grpc.StatusCode, message: str) -> errors.ServingError:
    """The typed error for a gRPC status; codes without a class of their own (CANCELLED,
    PERMISSION_DENIED...) become a plain `ServingError` whose `code` is that status."""
    cls = _error_classes().get(code)
    if cls is not None:
        return cls(message)
    error = errors.ServingError(message)
    error.code = code
    return error


def error_from_rpc(rpc_error: grpc.RpcError) -> errors.ServingError:
    """Converts a failed call (sync or grpc.aio) into the typed error; raise it `from rpc_error`."""
    code = rpc_error.code() if callable(getattr(rpc_error, "code", None)) else grpc.StatusCode.UNKNOWN
    details = rpc_error.details() if callable(getattr(rpc_error, "details", None)) else None
    return error_for_status(code, details or code.name)
