"""The one error-mapping point: ServingError -> its status, anything else -> generic INTERNAL.

A real gRPC server with the interceptor and a servicer that raises on demand (the health
service's messages carry the request: the service name says what to raise).
"""

import concurrent.futures
import logging

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tests.support.rpc_helpers import RPC_TIMEOUT_SECONDS, call_error

from serving import errors
from serving.server import INTERNAL_ERROR_MESSAGE, ErrorMappingInterceptor


class RaisingHealthServicer(health_pb2_grpc.HealthServicer):
    def Check(self, request, context):
        if request.service == "missing":
            raise errors.NotFound("Servable not found for request: Latest(missing)")
        if request.service == "long":
            raise errors.InvalidArgument("x" * 2000)
        if request.service == "bug":
            raise KeyError("internal detail the client must not see")
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)

    def Watch(self, request, context):
        yield health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


@pytest.fixture(scope="module")
def stub():
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(2), interceptors=[ErrorMappingInterceptor()])
    health_pb2_grpc.add_HealthServicer_to_server(RaisingHealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield health_pb2_grpc.HealthStub(channel)
    server.stop(0)


def _request(service):
    return health_pb2.HealthCheckRequest(service=service)


def test_handler_that_returns_is_untouched(stub):
    assert stub.Check(_request("fine"), timeout=RPC_TIMEOUT_SECONDS).status == health_pb2.HealthCheckResponse.SERVING


def test_serving_error_becomes_its_code_and_message_logged_at_warning(stub, caplog):
    with caplog.at_level(logging.WARNING, logger="serving.server"):
        error = call_error(stub.Check, _request("missing"))
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(missing)")
    (record,) = [r for r in caplog.records if r.name == "serving.server"]
    assert record.levelno == logging.WARNING and "NOT_FOUND" in record.getMessage()
    assert "/grpc.health.v1.Health/Check" in record.getMessage()


def test_long_message_is_cut_to_1024_characters_as_tf_serving(stub):
    error = call_error(stub.Check, _request("long"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "x" * 1024 + "...TRUNCATED"


def test_unexpected_exception_is_internal_with_generic_message_and_logged_traceback(stub, caplog):
    with caplog.at_level(logging.ERROR, logger="serving.server"):
        error = call_error(stub.Check, _request("bug"))
    assert (error.code(), error.details()) == (grpc.StatusCode.INTERNAL, INTERNAL_ERROR_MESSAGE)
    assert "internal detail" not in error.details()
    (record,) = [r for r in caplog.records if r.name == "serving.server"]
    assert record.levelno == logging.ERROR and record.exc_info[0] is KeyError


def test_streaming_handlers_pass_through(stub):
    stream = stub.Watch(_request(""), timeout=RPC_TIMEOUT_SECONDS)
    assert [response.status for response in stream] == [health_pb2.HealthCheckResponse.SERVING]
