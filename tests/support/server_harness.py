"""Starting real ModelServers on loopback for tests: free ports, model config text, a starter
that retries when another process takes the port first and stops every server it started, and a
bounded wait for what a server does in the background (loads, swaps, reloads).
"""

from __future__ import annotations

import dataclasses
import socket
import time

from serving import flags
from serving.server import ModelServer, ServerStartError

PORT_ATTEMPTS = 5


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


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.05,
               message: str = "condition") -> None:
    """Polls `predicate` every `interval` seconds; fails the test if it is not true in `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for: {message}")


@dataclasses.dataclass
class RunningServer:
    """A started ModelServer and how to reach it."""

    server: ModelServer
    port: int
    socket_path: str = ""

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def manager(self):
        return self.server.manager


class ServerStarter:
    """`start(*flags, socket_path="")` -> a RunningServer on 127.0.0.1 and a free port, with a
    1 s shutdown grace; `stop_all()` stops every server it started (a session fixture's teardown)."""

    def __init__(self):
        self._started: list[ModelServer] = []

    def __call__(self, *argv: str, socket_path: str = "") -> RunningServer:
        common = ["--grpc_bind_address=127.0.0.1", "--shutdown_grace_seconds=1"]
        if socket_path:
            common.append(f"--grpc_socket_path={socket_path}")
        for _ in range(PORT_ATTEMPTS):  # another process may take the free port before we bind it
            server = ModelServer(flags.parse_flags([*argv, *common, f"--port={free_port()}"]))
            try:
                port = server.start()
            except ServerStartError:
                continue
            self._started.append(server)
            return RunningServer(server, port, socket_path)
        raise RuntimeError(f"no free port found for the test server after {PORT_ATTEMPTS} tries")

    def stop_all(self) -> None:
        for server in self._started:
            server.stop(grace=0)
