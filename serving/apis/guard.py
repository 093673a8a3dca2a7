"""The guard every request passes, whichever transport carried it: authentication, the deadline,
error mapping and request metrics, written once.

A transport describes its request as a `Call` (which endpoint, the authorization it carried, when
its caller stops waiting) and runs the API under `Guard.guarding`. The API reports, on the same
Call, which model and version the request named and which version answered, so the metrics carry
them whatever the transport. What comes out is either the API's answer or a `serving.errors`
ServingError: anything else that escaped is a bug, logged with its traceback and turned into
INTERNAL with a generic message, so no internal detail reaches a client.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import grpc

from serving import errors
from serving.apis.endpoints import Endpoint
from serving.metrics import record_request
from serving.security.auth import BearerToken

logger = logging.getLogger("serving.guard")

INTERNAL_ERROR_MESSAGE = "Internal server error; the server log has the details."
GRPC, REST = "GRPC", "REST"

@dataclasses.dataclass
class Call:
    """One request as the guard and the APIs see it.

    `method` names it in logs ("/tensorflow.serving.PredictionService/Predict", "POST /v1/...").
    `deadline` (time.monotonic() seconds, None: none) is when the caller stops waiting: model work
    not started by then is skipped. `model` and `version` are filled in by the API as soon as it
    knows them (the version that answered replaces the one asked for), `signature_name` once the
    version is known to have the signature it runs; `status` lets an API that answers normally
    still report a failure, as HandleReloadConfigRequest does.
    """

    endpoint: Endpoint
    entrypoint: str
    method: str = ""
    authorization: str | None = None
    deadline: float | None = None
    model: str = ""
    version: int | str | None = None
    signature_name: str = ""
    status: grpc.StatusCode = grpc.StatusCode.OK

    def target(self, model: str, version: int | None = None, label: str | None = None) -> None:
        """The model the request names, and its version, or else its version label."""
        self.model = model
        self.version = version if version is not None else (label or None)

    def served_by(self, version: int) -> None:
        """The version that answered the request."""
        self.version = version


class Guard:
    """Runs API calls for the transports; `token` (None: no authentication) is
    --auth_token_file's bearer token, required by every endpoint that is not public."""

    def __init__(self, token: BearerToken | None = None):
        self._token = token

    @property
    def requires_token(self) -> bool:
        return self._token is not None

    def authorize(self, call: Call) -> None:
        """Raises errors.Unauthenticated unless `call` may reach its endpoint.

        A refusal is logged with the method and whether the token was missing or wrong, never
        with what was sent (a near-miss is usually the real token with a typo).
        """
        if self._token is None or call.endpoint.public:
            return
        try:
            self._token.check(call.authorization)
        except errors.Unauthenticated:
            logger.warning("event=request_unauthenticated method=%s token=%s", call.method,
                           "missing" if not call.authorization else "wrong")
            raise

    def guarding(self, call: Call) -> "Guarded":
        """The API call in the block (`with guard.guarding(call): answer = ...`, awaited or
        not) under authentication, error mapping and metrics. Authentication happens on entry.

        Raises (from the block):
            errors.ServingError: the request failed; an unexpected exception is INTERNAL.
        """
        return Guarded(self, call)


class Guarded:
    """One call under its guard (see Guard.guarding): a class rather than a generator-based
    context manager because it wraps every request of every transport."""

    __slots__ = ("_guard", "_call", "_started")

    def __init__(self, guard: Guard, call: Call):
        self._guard = guard
        self._call = call

    def __enter__(self) -> Call:
        self._started = time.monotonic()
        try:
            self._guard.authorize(self._call)
        except errors.ServingError as error:
            self.__exit__(type(error), error, error.__traceback__)
            raise
        return self._call

    def __exit__(self, exc_type, error, traceback) -> bool:
        call = self._call
        if exc_type is None:
            self._finish(call.status)
            return False
        if isinstance(error, errors.ServingError):
            logger.warning("event=request_failed method=%s code=%s error=%r", call.method,
                           error.code.name, error.message)
            self._finish(error.code)
            return False
        if not isinstance(error, Exception):  # cancellation, KeyboardInterrupt: not a request failure
            self._finish(grpc.StatusCode.CANCELLED)
            return False
        logger.error("event=request_crashed method=%s", call.method,
                     exc_info=(exc_type, error, traceback))
        self._finish(grpc.StatusCode.INTERNAL)
        raise errors.Internal(INTERNAL_ERROR_MESSAGE) from None

    def _finish(self, code: grpc.StatusCode) -> None:
        call = self._call
        if call.endpoint.counted:
            record_request(call.model, call.version, call.endpoint.name, call.entrypoint, code,
                           time.monotonic() - self._started, call.signature_name)
