"""Shared fixtures for the server tests: exported models and a real ModelServer on loopback.

One session-scoped server (per xdist worker) serves every model the read-only tests need; tests
that change the model list start their own with `start_model_server`. Every server listens on
127.0.0.1 only, on a port picked free at start.
"""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

import grpc
import pytest

from serving import flags
from serving.server import ModelServer, ServerStartError


def free_port() -> int:
    """A TCP port nothing listens on right now (the server binds it without SO_REUSEPORT)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def model_config_text(models: dict[str, str], *, extra: dict[str, str] | None = None) -> str:
    """A ModelServerConfig text listing `models` (name -> base path) with optional extra fields."""
    entries = []
    for name, base_path in models.items():
        more = (extra or {}).get(name, "")
        entries.append(f'config {{ name: "{name}" base_path: "{base_path}" model_platform: "tensorflow" {more} }}')
    return "model_config_list {\n  " + "\n  ".join(entries) + "\n}\n"


@dataclasses.dataclass
class RunningServer:
    """A started ModelServer and how to reach it."""

    server: ModelServer
    port: int
    socket_path: str

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def manager(self):
        return self.server.manager


@pytest.fixture(scope="session")
def start_model_server(tmp_path_factory):
    """Starts a ModelServer on 127.0.0.1 with the given extra flags; stops it at session end."""
    started: list[ModelServer] = []

    def start(*argv: str, socket_path: str = "") -> RunningServer:
        common = ["--grpc_bind_address=127.0.0.1", "--shutdown_grace_seconds=1"]
        if socket_path:
            common.append(f"--grpc_socket_path={socket_path}")
        for _ in range(5):  # another process may grab the free port before we bind it
            server = ModelServer(flags.parse_flags([*argv, *common, f"--port={free_port()}"]))
            try:
                port = server.start()
            except ServerStartError:
                continue
            started.append(server)
            return RunningServer(server, port, socket_path)
        raise RuntimeError("no free port found for the test server after 5 tries")

    yield start
    for server in started:
        server.stop(grace=0)


@pytest.fixture(scope="session")
def model_root(tmp_path_factory) -> Path:
    """Exported models: half_plus_two v1 (0.5x+2) and v2 (2x+1), multi_io v1, tf1 v1."""
    import savedmodels  # imports TensorFlow: only for the tests that use these models

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
