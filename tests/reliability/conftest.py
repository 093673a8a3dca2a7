"""Fixtures for the reliability and security tests: tiny SavedModels, real ModelServers on
127.0.0.1, and a good client that keeps sending requests while a test misbehaves.

The SavedModel exporters are tests/serving/savedmodels.py, put on sys.path here as pytest does
for the tests under tests/serving.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import sys
import threading
import time
from pathlib import Path

import grpc
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serving"))

from serving import flags  # noqa: E402
from serving.server import ModelServer, ServerStartError  # noqa: E402


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def model_config_text(models: dict[str, str], *, extra: dict[str, str] | None = None) -> str:
    """A ModelServerConfig text listing `models` (name -> base path), with optional extra fields."""
    entries = [
        f'config {{ name: "{name}" base_path: "{base_path}" model_platform: "tensorflow" '
        f'{(extra or {}).get(name, "")} }}'
        for name, base_path in models.items()
    ]
    return "model_config_list {\n  " + "\n  ".join(entries) + "\n}\n"


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.05,
               message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for: {message}")


@dataclasses.dataclass
class RunningServer:
    server: ModelServer
    port: int

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def manager(self):
        return self.server.manager


@pytest.fixture(scope="session")
def start_server():
    """start_server(*flags) -> RunningServer on 127.0.0.1 and a free port; stopped at the end."""
    started: list[ModelServer] = []

    def start(*argv: str) -> RunningServer:
        common = ["--grpc_bind_address=127.0.0.1", "--shutdown_grace_seconds=1"]
        for _ in range(5):  # another process may take the free port before we bind it
            server = ModelServer(flags.parse_flags([*argv, *common, f"--port={free_port()}"]))
            try:
                port = server.start()
            except ServerStartError:
                continue
            started.append(server)
            return RunningServer(server, port)
        raise RuntimeError("no free port found for the test server after 5 tries")

    yield start
    for server in started:
        server.stop(grace=0)


@pytest.fixture(scope="session")
def reliability_models(tmp_path_factory) -> Path:
    """Read-only exports: half_plus_two v1 (0.5x+2) and v2 (2x+1), multi_io v1, tf1 v1."""
    import savedmodels

    root = tmp_path_factory.mktemp("reliability-models")
    savedmodels.export_half_plus_two(root / "half_plus_two", 1)
    savedmodels.export_half_plus_two(root / "half_plus_two", 2, slope=2.0, offset=1.0)
    savedmodels.export_multi_io(root / "multi_io", 1)
    savedmodels.export_tf1_classify_regress(root / "tf1", 1)
    return root


@pytest.fixture(scope="session")
def shared_config_file(reliability_models, tmp_path_factory) -> Path:
    """Every read-only model; half_plus_two serves both versions, labels stable=1, canary=2."""
    path = tmp_path_factory.mktemp("reliability-config") / "models.config"
    path.write_text(model_config_text(
        {name: str(reliability_models / name) for name in ("half_plus_two", "multi_io", "tf1")},
        extra={"half_plus_two": 'model_version_policy { all {} } '
                                'version_labels { key: "stable" value: 1 } '
                                'version_labels { key: "canary" value: 2 }'},
    ))
    return path


class GoodTraffic:
    """A client thread sending good Predict requests to half_plus_two until stopped.

    Records every failure and the slowest answer, so a test can show that what it did to the
    server (bad requests, reloads...) neither failed nor stalled anybody else.
    """

    def __init__(self, target: str, *, credentials=None, metadata=(), timeout: float = 10.0):
        from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

        from serving.tfs.tensor_codec import ndarray_to_tensor_proto

        self._channel = (grpc.secure_channel(target, credentials) if credentials is not None
                         else grpc.insecure_channel(target))
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._request = predict_pb2.PredictRequest()
        self._request.model_spec.name = "half_plus_two"
        self._request.model_spec.version.value = 1
        self._request.inputs["x"].CopyFrom(ndarray_to_tensor_proto(np.array([1.0, 2.0], np.float32)))
        self._metadata = tuple(metadata)
        self._timeout = timeout
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="good-traffic", daemon=True)
        self.answered = 0
        self.failures: list[str] = []
        self.slowest_seconds = 0.0

    def _run(self) -> None:
        from serving.tfs.tensor_codec import tensor_proto_to_ndarray

        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                response = self._stub.Predict(self._request, timeout=self._timeout,
                                              metadata=self._metadata)
                values = tensor_proto_to_ndarray(response.outputs["y"]).tolist()
                if values != [2.5, 3.0]:
                    self.failures.append(f"wrong answer {values}")
            except grpc.RpcError as error:
                self.failures.append(f"{error.code().name}: {error.details()}")
            self.slowest_seconds = max(self.slowest_seconds, time.monotonic() - started)
            self.answered += 1

    def __enter__(self) -> "GoodTraffic":
        self._thread.start()
        wait_until(lambda: self.answered >= 1 or self.failures, timeout=30.0,
                   message="the good client's first answer")
        return self

    def __exit__(self, *exc_info) -> None:
        # At least a few good requests ran alongside whatever the test did.
        target = self.answered + 3
        with contextlib.suppress(AssertionError):
            wait_until(lambda: self.answered >= target, timeout=10.0)
        self._stopping.set()
        self._thread.join(timeout=self._timeout + 5)
        self._channel.close()

    def assert_unharmed(self, *, slowest_allowed: float = 5.0) -> None:
        assert not self.failures, f"good requests failed: {self.failures[:3]}"
        assert self.answered >= 2, f"only {self.answered} good requests were answered"
        assert self.slowest_seconds < slowest_allowed, (
            f"a good request took {self.slowest_seconds:.2f}s while bad ones were sent")


@pytest.fixture
def good_traffic():
    """good_traffic(target, ...) -> a GoodTraffic context manager (see its docstring)."""
    return GoodTraffic
