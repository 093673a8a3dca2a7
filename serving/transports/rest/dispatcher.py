"""The REST dispatcher: path -> route, then the route's endpoint under the guard.

Every REST request goes through `RestDispatcher.dispatch`, a coroutine run on the HTTP server's
event loop, so what every endpoint needs happens once, here and in the guard:
- an unknown path is a 404 and a known path with the wrong method a 405 (with `Allow`);
- the guard checks the bearer token (the health endpoints are public so probes work without
  credentials), maps errors and records the request metrics (entrypoint REST);
- model routes run on a pool of `num_threads` workers (--rest_api_num_threads), never on the
  event loop, so a slow model does not stall other connections; they are answered with 504 once
  `timeout_seconds` (--rest_api_timeout_in_ms) pass; TensorFlow cannot be interrupted, so the
  computation finishes in the background and its result is dropped; the other routes (a fixed
  answer, the metrics page) run on the loop;
- a `serving.errors.ServingError` becomes `{"error": message}` with its HTTP status.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import re
import time
import urllib.parse
from typing import Callable, Sequence

from serving import errors
from serving.apis.endpoints import Endpoint
from serving.apis.guard import REST, Call, Guard
from serving.transports.rest.messages import RestRequest, RestResponse, error_response, plain_error

# The paths TF Serving's REST handler owns (http_rest_api_handler.cc's kPathRegex).
_TF_SERVING_PREFIX = re.compile(r"/v1/", re.IGNORECASE)
CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "POST, GET"),
    ("Access-Control-Allow-Headers", "Content-Type, Authorization"),
)

# handler(request, params, call) -> response; params are the route's named groups, URL-decoded.
Handler = Callable[[RestRequest, dict, Call], RestResponse]


@dataclasses.dataclass(frozen=True)
class Route:
    """One endpoint: `pattern` must match the whole path; its named groups become the handler's
    parameters. A `model_call` runs on the worker pool under the timeout. `doc` (an
    openapi_operation.OperationDoc) is what the OpenAPI document says of the route."""

    method: str
    pattern: re.Pattern
    handler: Handler
    endpoint: Endpoint
    model_call: bool = True
    doc: object = None


class RestDispatcher:
    """Routes RestRequests to handlers under `guard` (see the module docstring)."""

    def __init__(self, routes: Sequence[Route], guard: Guard, *, num_threads: int,
                 timeout_seconds: float | None = None, cors: bool = False):
        if num_threads < 1:
            raise ValueError(f"num_threads must be positive. Received: num_threads={num_threads}")
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive or None. "
                             f"Received: timeout_seconds={timeout_seconds}")
        self._routes = tuple(routes)
        self._guard = guard
        self._timeout_seconds = timeout_seconds
        self._cors = cors
        self._workers = concurrent.futures.ThreadPoolExecutor(num_threads,
                                                              thread_name_prefix="rest-call")

    @property
    def routes(self) -> tuple[Route, ...]:
        return self._routes

    async def dispatch(self, request: RestRequest) -> RestResponse:
        """Answers one request; never raises."""
        if request.method == "OPTIONS":
            return self._with_cors(_preflight(request))
        matches = [(route, match) for route in self._routes
                   if (match := route.pattern.fullmatch(request.path))]
        chosen = next(((route, match) for route, match in matches
                       if route.method == request.method), None)
        if chosen is None:
            allowed = sorted({route.method for route, _ in matches})
            return self._with_cors(_unrouted(request, allowed))
        route, match = chosen
        params = {key: urllib.parse.unquote(value) for key, value in match.groupdict().items()
                  if value is not None}
        call = Call(route.endpoint, REST, method=f"{request.method} {request.path}",
                    authorization=request.headers.get("Authorization"))
        try:
            with self._guard.guarding(call):
                if route.model_call:
                    response = await self._call_model(route, request, params, call)
                else:
                    response = route.handler(request, params, call)
        except errors.ServingError as error:
            response = error_response(error)
        return self._with_cors(response)

    def close(self) -> None:
        """Drops queued model calls; running ones finish in the background."""
        self._workers.shutdown(wait=False, cancel_futures=True)

    async def _call_model(self, route: Route, request: RestRequest, params: dict,
                          call: Call) -> RestResponse:
        if self._timeout_seconds is not None:
            call.deadline = time.monotonic() + self._timeout_seconds
        try:
            future = self._workers.submit(route.handler, request, params, call)
        except RuntimeError:  # the pool was shut down: the server is stopping
            raise errors.Unavailable("The server is shutting down") from None
        try:
            async with asyncio.timeout(self._timeout_seconds):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            future.cancel()
            raise errors.DeadlineExceeded(
                f"The request did not finish within {self._timeout_seconds * 1000:g} ms "
                "(--rest_api_timeout_in_ms)") from None
        except asyncio.CancelledError:
            if not future.cancelled() or asyncio.current_task().cancelling():
                raise  # this request's task was cancelled, not its model call
            raise errors.Unavailable("The server is shutting down") from None

    def _with_cors(self, response: RestResponse) -> RestResponse:
        if not self._cors:
            return response
        return dataclasses.replace(response, headers=response.headers + CORS_HEADERS)


def _preflight(request: RestRequest) -> RestResponse:
    """TF Serving answers OPTIONS as a CORS preflight: OK when the Origin is an http(s) URL."""
    if re.match(r"https?://", request.headers.get("Origin") or ""):
        return RestResponse(status=200)
    return error_response(errors.FailedPrecondition("Origin header is missing in CORS preflight"))


def _unrouted(request: RestRequest, allowed: list[str]) -> RestResponse:
    """TF Serving answers every /v1/ request it cannot route with 400 "Malformed request" (its
    handler owns that prefix); elsewhere an unknown path is a 404 and a wrong method a 405."""
    malformed = (f"Malformed request: {request.method} {request.path}. Paths: "
                 "/v1/models/NAME[/versions/N|/labels/L][/metadata|:predict|:classify|:regress], "
                 "/v2, /v2/health/(live|ready), /v2/models/NAME[/versions/V][/ready|/infer]")
    if _TF_SERVING_PREFIX.match(request.path):
        return error_response(errors.InvalidArgument(malformed))
    if allowed:
        return plain_error(
            405, f"Method {request.method} is not allowed for {request.path}; use "
                 f"{' or '.join(allowed)}", headers=(("Allow", ", ".join(allowed)),))
    return plain_error(404, malformed)
