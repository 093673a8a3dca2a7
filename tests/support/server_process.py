"""zoo-serve in a process of its own, for tests that must do to the server what cannot be done to
one inside the test's own process: stop it with SIGSTOP, or signal it."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Callable, Iterator

from tests.support.server_harness import free_port

START_SECONDS = 120.0  # a fresh process imports TensorFlow and loads its models


@dataclasses.dataclass
class ServerProcess:
    """A started `python -m serving` and the ports its gRPC and REST APIs listen on (127.0.0.1)."""

    process: subprocess.Popen
    port: int
    rest_port: int

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextlib.contextmanager
def serving_process(*flags: str) -> Iterator[ServerProcess]:
    """Runs `python -m serving` with `flags` on a free loopback port until the block ends, then
    kills it. Fails the test, with the end of the server's stderr, if it has not said
    "serving on" within START_SECONDS."""
    port, rest_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "serving", f"--port={port}", f"--rest_api_port={rest_port}",
         "--grpc_bind_address=127.0.0.1", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    timer = threading.Timer(START_SECONDS, process.kill)
    timer.start()
    try:
        first_line = process.stdout.readline()
        timer.cancel()
        if not first_line.startswith("serving on"):
            process.kill()
            _, stderr = process.communicate(timeout=30)
            raise AssertionError(f"zoo-serve did not start (its first line: {first_line!r}); "
                                 f"the end of its stderr:\n{stderr[-2000:]}")
        yield ServerProcess(process, port, rest_port)
    finally:
        timer.cancel()
        if process.returncode is None:
            process.kill()
            process.communicate(timeout=30)


class Stall(threading.Thread):
    """Once `ready()` is true, freezes the server process with SIGSTOP for `seconds`, then lets it
    go on (SIGCONT): a stand-in for a server that stops answering for a while (a long garbage
    collection, a machine busy elsewhere). `stalled_at` is when it did (time.monotonic()), or
    None if `abandon()` came first."""

    def __init__(self, server: ServerProcess, seconds: float, ready: Callable[[], bool]):
        super().__init__(daemon=True)
        self.server, self.seconds, self.ready = server, seconds, ready
        self.stalled_at: float | None = None
        self._abandoned = threading.Event()

    def abandon(self) -> None:
        """No stall if it has not begun; one under way still lasts its `seconds`."""
        self._abandoned.set()

    def run(self) -> None:
        while not self.ready():
            if self._abandoned.wait(0.01):
                return
        self.server.process.send_signal(signal.SIGSTOP)
        self.stalled_at = time.monotonic()
        try:
            time.sleep(self.seconds)
        finally:
            self.server.process.send_signal(signal.SIGCONT)
