"""grpc.health.v1, server reflection, the UNIX socket and message size limits."""

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from tests.support.rpc_helpers import RPC_TIMEOUT_SECONDS, call_error, outputs_of, predict_request
from tensorflow_serving.apis import prediction_service_pb2_grpc

from serving import flags
from serving.server import ModelServer, ServerStartError

HEALTH = health_pb2.HealthCheckResponse


def _check(channel, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=RPC_TIMEOUT_SECONDS).status


@pytest.mark.parametrize("service", ["", "half_plus_two", "multi_io", "tf1", "PredictionService",
                                     "tensorflow.serving.ModelService"])
def test_health_reports_server_models_and_tf_serving_services_serving(channel, service):
    assert _check(channel, service) == HEALTH.SERVING


def test_health_of_unknown_service_is_not_found(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    error = call_error(stub.Check, health_pb2.HealthCheckRequest(service="nope"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_health_watch_sends_the_current_status_first(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    stream = stub.Watch(health_pb2.HealthCheckRequest(service="tf1"), timeout=RPC_TIMEOUT_SECONDS)
    try:
        assert next(stream).status == HEALTH.SERVING
    finally:
        stream.cancel()


def test_reflection_lists_every_service(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    (response,) = list(stub.ServerReflectionInfo(iter([request]), timeout=RPC_TIMEOUT_SECONDS))
    assert {service.name for service in response.list_services_response.service} == {
        "tensorflow.serving.PredictionService",
        "tensorflow.serving.ModelService",
        "grpc.health.v1.Health",
        "inference.GRPCInferenceService",
        "grpc.reflection.v1alpha.ServerReflection",
    }


def test_reflection_describes_the_prediction_service(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="tensorflow.serving.PredictionService")
    (response,) = list(stub.ServerReflectionInfo(iter([request]), timeout=RPC_TIMEOUT_SECONDS))
    assert response.file_descriptor_response.file_descriptor_proto


def test_predict_over_the_unix_socket(tfs_server):
    with grpc.insecure_channel(f"unix:{tfs_server.socket_path}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = predict_request("half_plus_two", {"x": np.array([4.0], np.float32)}, version=1)
        np.testing.assert_allclose(outputs_of(stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS))["y"], [4.0])


def test_messages_above_grpc_default_4mib_are_accepted_by_default(tfs_server):
    options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
    with grpc.insecure_channel(tfs_server.target, options=options) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        x = np.ones(1_500_000, np.float32)  # 6 MB each way
        request = predict_request("half_plus_two", {"x": x}, version=1)
        assert outputs_of(stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS))["y"].shape == x.shape


@pytest.fixture(scope="module")
def small_limit_server(model_root, start_model_server):
    return start_model_server(
        f"--model_base_path={model_root / 'half_plus_two'}", "--file_system_poll_wait_seconds=0",
        "--grpc_channel_arguments=grpc.max_receive_message_length=1024",
    )


def test_message_over_configured_limit_is_resource_exhausted(small_limit_server):
    with grpc.insecure_channel(small_limit_server.target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        small = predict_request("default", {"x": np.ones(4, np.float32)})
        assert stub.Predict(small, timeout=RPC_TIMEOUT_SECONDS).outputs
        error = call_error(stub.Predict, predict_request("default", {"x": np.ones(1000, np.float32)}))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in error.details() and "1024" in error.details()


def test_port_in_use_fails_at_start_naming_the_address(tfs_server, model_root):
    options = flags.parse_flags([f"--model_base_path={model_root / 'half_plus_two'}", f"--port={tfs_server.port}",
                                 "--grpc_bind_address=127.0.0.1"])
    with pytest.raises(ServerStartError, match=rf"cannot listen on 127\.0\.0\.1:{tfs_server.port} .*change --port"):
        ModelServer(options).start()
