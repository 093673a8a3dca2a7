"""HandleReloadConfigRequest, and health entries following the model list, on a server of their own.

Each test installs the whole model list it needs first, so the tests do not depend on order.
"""

import time

import grpc
import numpy as np
import pytest
from tests.support import savedmodels
from google.protobuf import text_format
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tests.support.rpc_helpers import RPC_TIMEOUT_SECONDS, call_error, predict_request
from tensorflow_serving.apis import get_model_status_pb2, model_management_pb2, model_service_pb2_grpc
from tensorflow_serving.apis import prediction_service_pb2_grpc
from tensorflow_serving.config import model_server_config_pb2

HEALTH = health_pb2.HealthCheckResponse


@pytest.fixture(scope="module")
def broken_model(tmp_path_factory):
    base_path = tmp_path_factory.mktemp("broken")
    savedmodels.export_broken_version(base_path, 1)
    return base_path


@pytest.fixture(scope="module")
def reload_server(model_root, start_model_server, tmp_path_factory):
    return start_model_server(
        f"--model_base_path={model_root / 'half_plus_two'}", "--model_name=half_plus_two",
        "--file_system_poll_wait_seconds=0", "--max_num_load_retries=0",
    )


@pytest.fixture(scope="module")
def stubs(reload_server):
    with grpc.insecure_channel(reload_server.target) as channel:
        yield (model_service_pb2_grpc.ModelServiceStub(channel),
               prediction_service_pb2_grpc.PredictionServiceStub(channel),
               health_pb2_grpc.HealthStub(channel))


def _config(**models) -> model_server_config_pb2.ModelServerConfig:
    config = model_server_config_pb2.ModelServerConfig()
    for name, base_path in models.items():
        config.model_config_list.config.add(name=name, base_path=str(base_path), model_platform="tensorflow")
    return config


def _reload(model_stub, config, metric_names=()):
    request = model_management_pb2.ReloadConfigRequest(config=config, metric_names=list(metric_names))
    return model_stub.HandleReloadConfigRequest(request, timeout=RPC_TIMEOUT_SECONDS)


def _wait_for_health(health_stub, service: str, status: int, timeout_seconds: float = 10.0) -> int | None:
    """Polls Check until `service` reports `status` (health follows the manager every 0.25 s)."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            current = health_stub.Check(health_pb2.HealthCheckRequest(service=service),
                                        timeout=RPC_TIMEOUT_SECONDS).status
        except grpc.RpcError as error:  # NOT_FOUND: the health thread has not seen the model yet
            assert error.code() == grpc.StatusCode.NOT_FOUND
            current = None
        if current == status or time.monotonic() > deadline:
            return current
        time.sleep(0.05)


def test_reload_adds_a_model_that_then_serves(stubs, model_root):
    model_stub, prediction_stub, _ = stubs
    response = _reload(model_stub, _config(half_plus_two=model_root / "half_plus_two", multi_io=model_root / "multi_io"))
    assert (response.status.error_code, response.status.error_message) == (0, "")
    request = predict_request("multi_io", {"features": np.ones((1, 3), np.float32)}, signature="sum_only")
    assert prediction_stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS).model_spec.version.value == 1


def test_reload_removes_the_models_it_does_not_list(stubs, model_root):
    model_stub, prediction_stub, _ = stubs
    _reload(model_stub, _config(half_plus_two=model_root / "half_plus_two", multi_io=model_root / "multi_io"))
    _reload(model_stub, _config(half_plus_two=model_root / "half_plus_two"))
    error = call_error(prediction_stub.Predict, predict_request("multi_io", {"features": np.ones((1, 3), np.float32)}))
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(multi_io)")


def test_failed_load_is_reported_in_model_status_with_its_error(stubs, model_root, broken_model):
    model_stub, _, _ = stubs
    _reload(model_stub, _config(half_plus_two=model_root / "half_plus_two", broken=broken_model))
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "broken"
    (status,) = model_stub.GetModelStatus(request, timeout=RPC_TIMEOUT_SECONDS).model_version_status
    assert status.version == 1 and status.state == get_model_status_pb2.ModelVersionStatus.END
    assert status.status.error_code != 0 and str(broken_model) in status.status.error_message


def test_reload_of_custom_model_config_is_invalid_argument_in_status_and_call(stubs, model_root):
    model_stub, prediction_stub, _ = stubs
    _reload(model_stub, _config(half_plus_two=model_root / "half_plus_two"))
    config = model_server_config_pb2.ModelServerConfig()
    config.custom_model_config.Pack(model_server_config_pb2.ModelConfig(name="x"))
    error = call_error(model_stub.HandleReloadConfigRequest, model_management_pb2.ReloadConfigRequest(config=config))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == ("ServerModelConfig type not supported by HandleReloadConfigRequest. "
                               "Only ModelConfigList is currently supported")
    request = predict_request("half_plus_two", {"x": np.ones(1, np.float32)})
    assert prediction_stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS).outputs  # old models still served


def test_reload_of_invalid_model_list_keeps_the_old_one(stubs, model_root):
    model_stub, prediction_stub, _ = stubs
    _reload(model_stub, _config(half_plus_two=model_root / "half_plus_two"))
    config = text_format.Parse(
        f'model_config_list {{ config {{ name: "m" base_path: "{model_root}" }} config {{ name: "m" base_path: "/x" }} }}',
        model_server_config_pb2.ModelServerConfig())
    error = call_error(model_stub.HandleReloadConfigRequest, model_management_pb2.ReloadConfigRequest(config=config))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "duplicate model name 'm'" in error.details()
    request = predict_request("half_plus_two", {"x": np.ones(1, np.float32)})
    assert prediction_stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS).outputs


def test_reload_reports_each_requested_metric(stubs, model_root):
    model_stub, _, _ = stubs
    response = _reload(model_stub, _config(half_plus_two=model_root / "half_plus_two"),
                       metric_names=["/tensorflow/serving/model_load_count"])
    assert [(m.name, m.int64_value_increase) for m in response.metric] == [("/tensorflow/serving/model_load_count", 0)]


def test_health_follows_models_as_they_are_added_fail_and_are_removed(stubs, model_root, broken_model):
    model_stub, _, health_stub = stubs
    _reload(model_stub, _config(half_plus_two=model_root / "half_plus_two", multi_io=model_root / "multi_io"))
    assert _wait_for_health(health_stub, "multi_io", HEALTH.SERVING) == HEALTH.SERVING
    assert _wait_for_health(health_stub, "", HEALTH.SERVING) == HEALTH.SERVING

    _reload(model_stub, _config(half_plus_two=model_root / "half_plus_two", broken=broken_model))
    assert _wait_for_health(health_stub, "multi_io", HEALTH.SERVICE_UNKNOWN) == HEALTH.SERVICE_UNKNOWN
    assert _wait_for_health(health_stub, "broken", HEALTH.NOT_SERVING) == HEALTH.NOT_SERVING
    assert _wait_for_health(health_stub, "", HEALTH.NOT_SERVING) == HEALTH.NOT_SERVING
    assert _wait_for_health(health_stub, "half_plus_two", HEALTH.SERVING) == HEALTH.SERVING


def test_model_config_file_is_reread_and_applied_when_polling_is_on(model_root, start_model_server, tmp_path):
    def write_config(*names):
        entries = "".join(f'config {{ name: "{name}" base_path: "{model_root / name}" }} ' for name in names)
        config_path.write_text(f"model_config_list {{ {entries}}}")

    config_path = tmp_path / "models.config"
    write_config("half_plus_two")
    running = start_model_server(f"--model_config_file={config_path}", "--model_config_file_poll_wait_seconds=0.2",
                                 "--file_system_poll_wait_seconds=0")
    try:
        assert running.manager.model_names() == ["half_plus_two"]
        write_config("half_plus_two", "multi_io")
        deadline = time.monotonic() + 20
        while not running.manager.is_ready("multi_io") and time.monotonic() < deadline:
            time.sleep(0.05)
        with grpc.insecure_channel(running.target) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            request = predict_request("multi_io", {"features": np.ones((1, 3), np.float32)}, signature="sum_only")
            assert stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS).model_spec.name == "multi_io"
    finally:
        running.server.stop(grace=0)
