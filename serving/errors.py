"""Typed serving errors, each with its gRPC and HTTP status, re-exported for the server.

Code that validates a request raises one of these; the protocol front ends (gRPC, REST, KServe
v2) turn it into their own status. Anything else that escapes is a bug: it becomes INTERNAL with a
generic message, and the traceback is logged.

The classes are defined once, in the client's distribution (tfzoo_client/errors.py), so that a
client without this server catches the very classes the server raises.
"""

from __future__ import annotations

from tfzoo_client.errors import (MAX_MESSAGE_CHARS, DeadlineExceeded, FailedPrecondition, Internal,
                                 InvalidArgument, NotFound, ResourceExhausted, ServingError, Unauthenticated,
                                 Unavailable, Unimplemented)


class ServerStartError(Exception):
    """The server cannot start (port taken, TensorFlow already configured...); the message says
    how to fix it. Not a ServingError: no client ever sees it."""
