"""RestDispatcher on its own: routing, the guard (token, errors, metrics), timeouts and CORS,
with plain handlers (no model, no socket)."""

import asyncio
import json
import re
import threading
import time

import pytest

from serving import errors
from serving.apis import endpoints
from serving.apis.endpoints import Endpoint
from serving.apis.guard import Guard
from serving.metrics.recorders import REGISTRY
from serving.security import BearerToken
from serving.transports.rest.dispatcher import RestDispatcher, Route
from serving.transports.rest.messages import RestRequest, json_response

PRIVATE = Endpoint("dispatcher_private", counted=False)


def _request(method: str, path: str, headers=None) -> RestRequest:
    return RestRequest(method=method, path=path, headers=headers or {})


def _body(response) -> dict:
    return json.loads(response.body)


def _dispatcher(routes, guard=None, **kwargs) -> RestDispatcher:
    return RestDispatcher(routes, guard or Guard(), num_threads=2, **kwargs)


def _dispatch(dispatcher: RestDispatcher, request: RestRequest):
    """What the HTTP server does with each request: awaits dispatch on an event loop."""
    return asyncio.run(dispatcher.dispatch(request))


def _echo(request, params, call):
    return json_response({"params": params})


def _route(method, path, handler=_echo, endpoint=PRIVATE, **kwargs) -> Route:
    return Route(method, re.compile(path), handler, endpoint, **kwargs)


def test_named_groups_reach_the_handler_url_decoded():
    dispatcher = _dispatcher([_route("GET", r"/m/(?P<model>[^/]+)")])
    assert _body(_dispatch(dispatcher, _request("GET", "/m/my%20model"))) == {"params": {"model": "my model"}}


def test_the_token_guards_every_route_but_public_ones():
    dispatcher = _dispatcher([_route("GET", "/private"),
                              _route("GET", "/health", endpoint=endpoints.OIP_SERVER_LIVE)],
                             guard=Guard(BearerToken("s3cret")))
    refused = _dispatch(dispatcher, _request("GET", "/private"))
    assert refused.status == 401 and _body(refused)["error"].startswith("Missing bearer token")
    assert ("WWW-Authenticate", 'Bearer realm="zoo-serve"') in refused.headers
    allowed = _dispatch(dispatcher, _request("GET", "/private", {"Authorization": "Bearer s3cret"}))
    assert allowed.status == 200
    assert _dispatch(dispatcher, _request("GET", "/health")).status == 200


@pytest.mark.parametrize("error, status", [
    (errors.InvalidArgument("bad"), 400), (errors.NotFound("bad"), 404),
    (errors.FailedPrecondition("bad"), 400), (errors.Unavailable("bad"), 503),
    (errors.Unimplemented("bad"), 501), (errors.ResourceExhausted("bad"), 429),
])
def test_serving_errors_become_their_http_status_and_message(error, status):
    def fail(request, params, call):
        raise error

    response = _dispatch(_dispatcher([_route("POST", "/x", fail)]), _request("POST", "/x"))
    assert (response.status, _body(response)) == (status, {"error": "bad"})


def test_unexpected_exception_is_500_with_a_generic_message(caplog):
    def crash(request, params, call):
        raise KeyError("secret detail")

    response = _dispatch(_dispatcher([_route("GET", "/x", crash)]), _request("GET", "/x"))
    assert response.status == 500
    assert _body(response) == {"error": "Internal server error; the server log has the details."}
    assert "secret detail" not in response.body.decode()
    assert any("event=request_crashed" in record.getMessage() for record in caplog.records)


def test_slow_model_call_is_504_and_carries_a_deadline():
    seen = {}
    release = threading.Event()

    def slow(request, params, call):
        seen["deadline"] = call.deadline
        release.wait(5)
        return json_response({})

    dispatcher = _dispatcher([_route("POST", "/x", slow)], timeout_seconds=0.2)
    started = time.monotonic()
    response = _dispatch(dispatcher, _request("POST", "/x"))
    release.set()
    assert response.status == 504
    assert _body(response)["error"] == "The request did not finish within 200 ms (--rest_api_timeout_in_ms)"
    assert started < seen["deadline"] <= started + 0.3
    dispatcher.close()


def test_routes_that_are_not_model_calls_run_without_the_pool_or_timeout():
    dispatcher = _dispatcher([_route("GET", "/x", model_call=False)], timeout_seconds=0.001)
    assert _dispatch(dispatcher, _request("GET", "/x")).status == 200


def test_cors_headers_are_added_when_enabled():
    dispatcher = _dispatcher([_route("GET", "/x")], cors=True)
    headers = dict(_dispatch(dispatcher, _request("GET", "/x")).headers)
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Allow-Methods"] == "POST, GET"
    assert dict(_dispatch(dispatcher, _request("GET", "/nope")).headers)["Access-Control-Allow-Origin"] == "*"


def test_unknown_path_is_404_and_wrong_method_405():
    dispatcher = _dispatcher([_route("POST", "/x")])
    missing = _dispatch(dispatcher, _request("GET", "/y"))
    assert missing.status == 404 and _body(missing)["error"].startswith("Malformed request: GET /y.")
    wrong = _dispatch(dispatcher, _request("GET", "/x"))
    assert (wrong.status, dict(wrong.headers)) == (405, {"Allow": "POST"})


def test_unrouted_v1_requests_are_400_malformed_whatever_the_method():
    dispatcher = _dispatcher([_route("POST", "/v1/x")])
    for request in (_request("GET", "/v1/x"), _request("GET", "/V1/nothing")):
        response = _dispatch(dispatcher, request)
        assert response.status == 400
        assert _body(response)["error"].startswith(f"Malformed request: GET {request.path}.")


def test_requests_to_counted_endpoints_are_counted_by_status():
    counted = Endpoint("dispatcher_test")

    def ok(request, params, call):
        call.target(params["model"])
        return json_response({})

    def fail(request, params, call):
        call.target(params["model"])
        raise errors.NotFound("no")

    dispatcher = _dispatcher([_route("GET", r"/ok/(?P<model>\w+)", ok, counted),
                              _route("GET", r"/fail/(?P<model>\w+)", fail, counted)])

    def count(status):
        labels = {"model_name": "counted", "version": "", "signature_name": "",
                  "API": "dispatcher_test",
                  "entrypoint": "REST", "status": status}
        return REGISTRY.get_sample_value(":tensorflow:serving:request_count_total", labels) or 0

    before_ok, before_failed = count("OK"), count("NOT_FOUND")
    _dispatch(dispatcher, _request("GET", "/ok/counted"))
    _dispatch(dispatcher, _request("GET", "/fail/counted"))
    _dispatch(dispatcher, _request("GET", "/fail/counted"))
    assert (count("OK") - before_ok, count("NOT_FOUND") - before_failed) == (1, 2)


def test_closed_dispatcher_answers_model_calls_unavailable():
    dispatcher = _dispatcher([_route("GET", "/x")])
    dispatcher.close()
    response = _dispatch(dispatcher, _request("GET", "/x"))
    assert (response.status, _body(response)) == (503, {"error": "The server is shutting down"})


def test_invalid_arguments_are_refused():
    with pytest.raises(ValueError, match="num_threads must be positive. Received: num_threads=0"):
        RestDispatcher([], Guard(), num_threads=0)
    with pytest.raises(ValueError, match="timeout_seconds must be positive or None"):
        RestDispatcher([], Guard(), num_threads=1, timeout_seconds=0)
