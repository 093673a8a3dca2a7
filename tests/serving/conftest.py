"""Shared fixtures for the server tests: exported models and a real ModelServer on loopback.

One session-scoped server (per xdist worker) serves every model the read-only tests need; tests
that change the model list start their own with `start_model_server`. Every server listens on
127.0.0.1 only, on a port picked free at start.
"""

from __future__ import annotations

import functools
import pathlib
from pathlib import Path

import grpc
import pytest
from tests.support.managers import ManagerFactory
from tests.support.server_harness import RunningServer, ServerStarter, free_port, model_config_text
from tests.support.server_harness import wait_until as harness_wait_until


@pytest.fixture(scope="session")
def start_model_server():
    """Starts a ModelServer on 127.0.0.1 with the given extra flags; stops it at session end."""
    starter = ServerStarter()
    yield starter
    starter.stop_all()


@pytest.fixture(scope="session")
def model_root(tmp_path_factory) -> Path:
    """Exported models: half_plus_two v1 (0.5x+2) and v2 (2x+1), multi_io v1, tf1 v1."""
    from tests.support import savedmodels  # imports TensorFlow: only for the tests that use these models

    root = tmp_path_factory.mktemp("models")
    savedmodels.export_half_plus_two(root / "half_plus_two", 1)
    savedmodels.export_half_plus_two(root / "half_plus_two", 2, slope=2.0, offset=1.0)
    savedmodels.export_multi_io(root / "multi_io", 1)
    savedmodels.export_tf1_classify_regress(root / "tf1", 1)
    return root


@pytest.fixture(scope="session")
def tfs_server(model_root, start_model_server, tmp_path_factory) -> RunningServer:
    """The shared server: every model in `model_root`, half_plus_two with all versions and labels
    stable -> 1, canary -> 2; also on a UNIX socket."""
    config_path = tmp_path_factory.mktemp("config") / "models.config"
    config_path.write_text(model_config_text(
        {name: str(model_root / name) for name in ("half_plus_two", "multi_io", "tf1")},
        extra={"half_plus_two": 'model_version_policy { all {} } '
                                'version_labels { key: "stable" value: 1 } '
                                'version_labels { key: "canary" value: 2 }'},
    ))
    socket_path = str(tmp_path_factory.mktemp("socket") / "grpc.sock")
    return start_model_server(
        f"--model_config_file={config_path}", "--file_system_poll_wait_seconds=0",
        socket_path=socket_path,
    )


@pytest.fixture(scope="session")
def channel(tfs_server):
    with grpc.insecure_channel(tfs_server.target) as channel:
        yield channel


@pytest.fixture(scope="session")
def prediction_stub(channel):
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


@pytest.fixture(scope="session")
def model_stub(channel):
    from tensorflow_serving.apis import model_service_pb2_grpc

    return model_service_pb2_grpc.ModelServiceStub(channel)


@pytest.fixture
def free_tcp_port() -> int:
    return free_port()


@pytest.fixture
def wait_until():
    """wait_until(predicate, timeout=30, message=...): polls every 20 ms until true, fails on
    timeout."""
    return functools.partial(harness_wait_until, interval=0.02)


@pytest.fixture
def make_manager():
    """make_manager(config, start=True, warmup_iterations=1, **options): a ModelManager loading
    real SavedModels, stopped after the test; `config` is a validated ModelServerConfig."""
    from serving.apis.tfs.model_config import model_configs
    from serving.version_loader import VersionLoader

    managers = ManagerFactory()

    def make(config, start: bool = True, warmup_iterations: int | None = 1, **options):
        loader = VersionLoader(warmup_iterations=warmup_iterations)
        return managers.make(model_configs(config), loader.load, start=start, **options)

    yield make
    managers.stop_all()


@pytest.fixture(scope="session")
def shared_models(tmp_path_factory) -> pathlib.Path:
    """Base paths no test modifies: half_plus_two (versions 1 and 2), multi_io (1), tf1 (1)."""
    from tests.support import savedmodels

    root = tmp_path_factory.mktemp("shared_models")
    savedmodels.export_half_plus_two(root / "half_plus_two", 1)
    savedmodels.export_half_plus_two(root / "half_plus_two", 2, slope=1.0)
    savedmodels.export_multi_io(root / "multi_io", 1)
    savedmodels.export_tf1_classify_regress(root / "tf1", 1)
    return root
