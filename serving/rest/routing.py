"""The REST dispatcher: path -> route, the per-request checks, timeouts, errors and metrics.

Every REST request goes through `RestDispatcher.dispatch`, so the things every endpoint needs
happen once, here:
- an unknown path is a 404 and a known path with the wrong method a 405 (with `Allow`);
- `request_checks` (for example bearer-token auth) run before every route that is not public;
  the health endpoints are public so probes work without credentials;
- model routes run on a pool of `num_threads` workers (--rest_api_num_threads) and are answered
  with 504 once `timeout_seconds` (--rest_api_timeout_in_ms) pass; TensorFlow cannot be
  interrupted, so the computation finishes in the background and its result is dropped;
- a `serving.errors.ServingError` becomes `{"error": message}` with its HTTP status; anything else
  is a 500 with a generic message and the traceback in the log;
- each request to a route with an `api` is counted in the Prometheus metrics (entrypoint REST).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import re
import time
import urllib.parse
from typing import Callable, Sequence

import grpc

from serving import errors, metrics
from serving.rest.messages import RestRequest, RestResponse, error_response, plain_error

logger = logging.getLogger("serving.rest")

INTERNAL_ERROR_MESSAGE = "Internal server error; the server log has the details."
CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "POST, GET"),
    ("Access-Control-Allow-Headers", "Content-Type, Authorization"),
)

Handler = Callable[[RestRequest, dict], RestResponse]
RequestCheck = Callable[[RestRequest], None]


@dataclasses.dataclass(frozen=True)
class Route:
    """One endpoint: `pattern` must match the whole path; its named groups become the handler's
    parameters, URL-decoded. `api` labels the request metrics ("" = not counted). A `public`
    route skips the request checks; a `model_call` runs on the worker pool under the timeout.
    """

    method: str
    pattern: re.Pattern
    handler: Handler
    api: str = ""
    public: bool = False
    model_call: bool = True


class RestDispatcher:
    """Routes RestRequests to handlers (see the module docstring for what it adds to each)."""

    def __init__(self, routes: Sequence[Route], *, num_threads: int,
                 timeout_seconds: float | None = None, cors: bool = False,
                 request_checks: Sequence[RequestCheck] = ()):
        if num_threads < 1:
            raise ValueError(f"num_threads must be positive. Received: num_threads={num_threads}")
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive or None. "
                             f"Received: timeout_seconds={timeout_seconds}")
        self._routes = tuple(routes)
        self._timeout_seconds = timeout_seconds
        self._cors = cors
        self._request_checks: list[RequestCheck] = list(request_checks)
        self._workers = concurrent.futures.ThreadPoolExecutor(num_threads,
                                                              thread_name_prefix="rest-call")

    def add_request_check(self, check: RequestCheck) -> None:
        """Runs `check(request)` before every non-public route; it raises a ServingError
        (errors.Unauthenticated...) to refuse the request. Add checks before the server starts."""
        self._request_checks.append(check)

    def dispatch(self, request: RestRequest) -> RestResponse:
        """Answers one request; never raises."""
        started = time.monotonic()
        if request.method == "OPTIONS":
            return self._with_cors(_preflight(request))
        matches = [(route, match) for route in self._routes
                   if (match := route.pattern.fullmatch(request.path))]
        allowed = sorted({route.method for route, _ in matches})
        chosen = next(((route, match) for route, match in matches if route.method == request.method),
                      None)
        if chosen is None:
            return self._with_cors(_unrouted(request, allowed))
        route, match = chosen
        params = {key: urllib.parse.unquote(value) for key, value in match.groupdict().items()
                  if value is not None}
        try:
            if not route.public:
                for check in self._request_checks:
                    check(request)
            response = self._run(route, request, params)
            code = grpc.StatusCode.OK
        except errors.ServingError as error:
            logger.warning("event=request_failed method=%s path=%s code=%s error=%r",
                           request.method, request.path, error.code.name, error.message)
            response, code = error_response(error), error.code
        except Exception:
            logger.exception("event=request_crashed method=%s path=%s", request.method,
                             request.path)
            response = plain_error(500, INTERNAL_ERROR_MESSAGE)
            code = grpc.StatusCode.INTERNAL
        if route.api:
            version = response.model_version
            metrics.record_request(params.get("model", ""),
                                   version if version is not None else params.get("version"),
                                   route.api, "REST", code, time.monotonic() - started)
        return self._with_cors(response)

    def close(self) -> None:
        """Drops queued model calls; running ones finish in the background."""
        self._workers.shutdown(wait=False, cancel_futures=True)

    def _run(self, route: Route, request: RestRequest, params: dict) -> RestResponse:
        if not route.model_call:
            return route.handler(request, params)
        if self._timeout_seconds is not None:
            request = dataclasses.replace(request, deadline=time.monotonic() + self._timeout_seconds)
        try:
            future = self._workers.submit(route.handler, request, params)
        except RuntimeError:  # the pool was shut down: the server is stopping
            raise errors.Unavailable("The server is shutting down") from None
        try:
            return future.result(timeout=self._timeout_seconds)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise errors.DeadlineExceeded(
                f"The request did not finish within {self._timeout_seconds * 1000:g} ms "
                "(--rest_api_timeout_in_ms)") from None
        except concurrent.futures.CancelledError:
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
    if allowed:
        return plain_error(
            405, f"Method {request.method} is not allowed for {request.path}; use "
                 f"{' or '.join(allowed)}", headers=(("Allow", ", ".join(allowed)),))
    return plain_error(
        404, f"Malformed request: {request.method} {request.path}. Paths: "
             "/v1/models/NAME[/versions/N|/labels/L][/metadata|:predict|:classify|:regress], "
             "/v2, /v2/health/(live|ready), /v2/models/NAME[/versions/V][/ready|/infer]")
