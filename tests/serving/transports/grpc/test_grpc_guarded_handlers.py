"""Our gRPC services under the guard: ServingError -> its status, anything else -> a generic
INTERNAL, undecodable bodies -> INVALID_ARGUMENT, and a failure an API reports in its answer.

A real gRPC server with one guarded method whose request says what to do (health messages are
handy request and response types).
"""

import concurrent.futures
import logging

import grpc
import pytest
from grpc_health.v1 import health_pb2
from tests.support.rpc_helpers import RPC_TIMEOUT_SECONDS, call_error

from serving import errors
from serving.apis import endpoints
from serving.apis.guard import INTERNAL_ERROR_MESSAGE, Guard
from serving.transports.grpc.handlers import GrpcMethod, guarded_service

SERVICE = "test.Guarded"
METHOD = f"/{SERVICE}/Check"
SERVING = health_pb2.HealthCheckResponse.SERVING


def _check(request, call):
    if request.service == "missing":
        raise errors.NotFound("Servable not found for request: Latest(missing)")
    if request.service == "long":
        raise errors.InvalidArgument("x" * 2000)
    if request.service == "bug":
        raise KeyError("internal detail the client must not see")
    if request.service == "reported":
        call.status = grpc.StatusCode.FAILED_PRECONDITION
    return health_pb2.HealthCheckResponse(status=SERVING)


@pytest.fixture(scope="module")
def channel():
    methods = {"Check": GrpcMethod(endpoints.UNROUTED, health_pb2.HealthCheckRequest, _check)}
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(2),
                         handlers=[guarded_service(SERVICE, methods, Guard())])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel
    server.stop(0)


@pytest.fixture(scope="module")
def check(channel):
    return channel.unary_unary(METHOD, request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                               response_deserializer=health_pb2.HealthCheckResponse.FromString)


def _request(service):
    return health_pb2.HealthCheckRequest(service=service)


def test_handler_that_returns_is_untouched(check):
    assert check(_request("fine"), timeout=RPC_TIMEOUT_SECONDS).status == SERVING


def test_serving_error_becomes_its_code_and_message_logged_at_warning(check, caplog):
    with caplog.at_level(logging.WARNING, logger="serving.guard"):
        error = call_error(check, _request("missing"))
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND,
                                               "Servable not found for request: Latest(missing)")
    (record,) = [r for r in caplog.records if r.name == "serving.guard"]
    assert record.levelno == logging.WARNING and "NOT_FOUND" in record.getMessage()
    assert METHOD in record.getMessage()


def test_long_message_is_cut_to_1024_characters_as_tf_serving(check):
    error = call_error(check, _request("long"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "x" * 1024 + "...TRUNCATED"


def test_unexpected_exception_is_internal_with_generic_message_and_logged_traceback(check, caplog):
    with caplog.at_level(logging.ERROR, logger="serving.guard"):
        error = call_error(check, _request("bug"))
    assert (error.code(), error.details()) == (grpc.StatusCode.INTERNAL, INTERNAL_ERROR_MESSAGE)
    assert "internal detail" not in error.details()
    (record,) = [r for r in caplog.records if r.name == "serving.guard"]
    assert record.levelno == logging.ERROR and record.exc_info[0] is KeyError


def test_a_body_that_is_not_the_request_message_is_invalid_argument(channel):
    raw = channel.unary_unary(METHOD, request_serializer=None,
                              response_deserializer=health_pb2.HealthCheckResponse.FromString)
    error = call_error(raw, b"\xff\xff\xff")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid grpc.health.v1.HealthCheckRequest protocol buffer" in error.details()


def test_a_failure_the_api_reports_in_its_answer_is_the_calls_status(check):
    assert call_error(check, _request("reported")).code() == grpc.StatusCode.FAILED_PRECONDITION
