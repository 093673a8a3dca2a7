"""The bad-input catalogue's files: model config files that do not parse or do not exist, and
SavedModel directories that are empty, truncated or not SavedModels at all.

A config the server cannot read stops it at start with one line naming the file (and the line
and column of a syntax error). A broken version directory does not stop anything: the server
serves the models that loaded, GetModelStatus reports the broken version with its status code
and a message naming the directory, and a good client is answered throughout.
"""

from __future__ import annotations

import os
from pathlib import Path

import grpc
import pytest
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

from serving import errors, flags
from serving.server import ModelServer

from tests.support.server_harness import model_config_text


def start_error(tmp_path: Path, config_path: Path) -> errors.ServingError:
    server = ModelServer(flags.parse_flags([f"--model_config_file={config_path}", "--port=0",
                                            f"--grpc_socket_path={tmp_path / 'unused.sock'}"]))
    with pytest.raises(errors.ServingError) as refused:
        server.start()
    assert "\n" not in refused.value.message
    return refused.value


def test_config_file_with_a_syntax_error_stops_the_server_naming_file_line_and_column(tmp_path):
    config = tmp_path / "models.config"
    config.write_text('model_config_list {\n  config { name: "m" base_pth: "/models/m" }\n}\n')
    error = start_error(tmp_path, config)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.message.startswith(
        "Error parsing text-format tensorflow.serving.ModelServerConfig: 2:22: ")
    assert str(config) in error.message and "base_pth" in error.message


def test_config_file_that_does_not_exist_stops_the_server_naming_it(tmp_path):
    error = start_error(tmp_path, tmp_path / "missing.config")
    assert error.code == grpc.StatusCode.NOT_FOUND
    assert f"Model config file not found: {tmp_path / 'missing.config'}" in error.message


# === Broken SavedModel directories ===


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.fixture(scope="module")
def broken_models(tmp_path_factory) -> Path:
    """Base paths whose version 1 is: empty, a truncated saved_model.pb, a truncated variables
    file, not a SavedModel, and a file where the directory should be."""
    from tests.support import savedmodels

    root = tmp_path_factory.mktemp("broken-models")
    (root / "empty" / "1").mkdir(parents=True)
    truncate(Path(savedmodels.export_half_plus_two(root / "truncated_graph", 1)) / "saved_model.pb")
    variables = Path(savedmodels.export_half_plus_two(root / "truncated_variables", 1)) / "variables"
    truncate(next(variables.glob("variables.data-*")))
    savedmodels.export_broken_version(root / "not_a_savedmodel", 1)
    (root / "file_not_directory").mkdir()
    (root / "file_not_directory" / "1").write_text("a file named like a version")
    return root


@pytest.fixture(scope="module")
def server(start_server, reliability_models, broken_models, tmp_path_factory):
    names = ["empty", "truncated_graph", "truncated_variables", "not_a_savedmodel", "file_not_directory"]
    models = {name: str(broken_models / name) for name in names}
    models["half_plus_two"] = str(reliability_models / "half_plus_two")
    config = tmp_path_factory.mktemp("broken-config") / "models.config"
    config.write_text(model_config_text(models, extra={"half_plus_two": "model_version_policy { all {} }"}))
    return start_server(f"--model_config_file={config}", "--file_system_poll_wait_seconds=0",
                        "--max_num_load_retries=0")


def model_status(target: str, model: str):
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = model
    with grpc.insecure_channel(target) as channel:
        return model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(request, timeout=10)


@pytest.mark.parametrize("model, code, fragments", [
    ("empty", grpc.StatusCode.NOT_FOUND,
     ("SavedModel file does not exist at: ", "{saved_model.pbtxt|saved_model.pb}")),
    ("truncated_graph", grpc.StatusCode.DATA_LOSS, ("Cannot parse the SavedModel in ",)),
    ("truncated_variables", grpc.StatusCode.DATA_LOSS, ("variables is truncated or corrupt",)),
    ("not_a_savedmodel", grpc.StatusCode.DATA_LOSS, ("Cannot parse the SavedModel in ",)),
])
def test_broken_savedmodel_is_reported_in_model_status_naming_its_directory(
        server, broken_models, good_traffic, model, code, fragments):
    with good_traffic(server.target) as traffic:
        [status] = model_status(server.target, model).model_version_status
    assert status.version == 1
    assert get_model_status_pb2.ModelVersionStatus.State.Name(status.state) == "END"
    assert status.status.error_code == code.value[0], status.status.error_message
    assert os.fspath(broken_models / model / "1") in status.status.error_message
    for fragment in fragments:
        assert fragment in status.status.error_message
    traffic.assert_unharmed()


def test_a_file_named_like_a_version_is_not_a_version(server, broken_models):
    with pytest.raises(grpc.RpcError) as not_found:
        model_status(server.target, "file_not_directory")
    assert not_found.value.code() == grpc.StatusCode.NOT_FOUND
    base_path = broken_models / "file_not_directory"
    assert f"No versions of servable file_not_directory found under base path {base_path}" \
        in not_found.value.details()


def test_the_server_is_not_ready_while_configured_models_are_broken_but_serves_the_good_one(server):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        overall = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10).status
        good = health.Check(health_pb2.HealthCheckRequest(service="half_plus_two"), timeout=10).status
    statuses = health_pb2.HealthCheckResponse
    assert (overall, good) == (statuses.NOT_SERVING, statuses.SERVING)
    assert [entry.state for entry in model_status(server.target, "half_plus_two").model_version_status] == [
        get_model_status_pb2.ModelVersionStatus.AVAILABLE] * 2
