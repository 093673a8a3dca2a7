"""Runs a benchmark: prepares the requests once, then loads the server at each concurrency from
fresh worker processes, and collects what they measured.

Always bounded: each level ends after warmup + duration + one request timeout, plus fixed
allowances for starting the processes and connecting; a worker that has not reported by then is
killed and counted as an error.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from zoo.bench.options import BenchOptions
from zoo.bench.protocols import LoadProtocol, get_protocol
from zoo.bench.results import BenchResult, LevelResult, summarize
from zoo.bench.worker import READY, START, WorkerReport, WorkerTask

logger = logging.getLogger("zoo.bench")

# Seconds a worker may take to start (a fresh interpreter importing grpc), and to connect.
STARTUP_ALLOWANCE = 30.0
CONNECT_TIMEOUT = 10.0


def run_benchmark(options: BenchOptions, on_level: Callable[[LevelResult], None] | None = None) -> BenchResult:
    """Benchmarks `options.model`; calls `on_level` as each concurrency level finishes.

    Raises the client's typed errors (tfzoo_client.errors) when the model's metadata cannot be read,
    and UnknownNameError for an unknown protocol.
    """
    protocol = get_protocol(options.protocol)
    plan = protocol().prepare(options)
    levels = []
    for concurrency in options.concurrency:
        level = run_level(protocol, plan, concurrency, options)
        levels.append(level)
        if on_level is not None:
            on_level(level)
    return BenchResult(options.server, options.model, options.protocol, options.batch, tuple(levels))


def run_level(protocol: type[LoadProtocol], plan: Any, concurrency: int, options: BenchOptions) -> LevelResult:
    """`concurrency` callers, spread as evenly as possible over min(processes, concurrency)
    worker processes that start measuring together."""
    processes = min(options.processes, concurrency)
    callers = [concurrency // processes + (1 if i < concurrency % processes else 0) for i in range(processes)]
    workers = [
        _Worker(WorkerTask(protocol, plan, count, options.warmup, options.duration, options.timeout,
                           CONNECT_TIMEOUT), name=f"c{concurrency}-w{index}")
        for index, count in enumerate(callers)
    ]
    try:
        start_by = time.monotonic() + STARTUP_ALLOWANCE + CONNECT_TIMEOUT
        for worker in workers:
            worker.wait_ready(start_by - time.monotonic())
        for worker in workers:
            worker.start()
        end_by = time.monotonic() + options.warmup + options.duration + options.timeout + 5.0
        reports = [worker.report(end_by - time.monotonic()) for worker in workers]
    finally:
        for worker in workers:
            worker.stop()
    return summarize(concurrency, options.duration, options.batch, reports)


class _Worker:
    """One `python -m zoo.bench` process and the thread reading what it writes."""

    def __init__(self, task: WorkerTask, name: str) -> None:
        self.name = name
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "zoo.bench"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=_worker_environment(),
        )
        self._ready = threading.Event()
        self._done = threading.Event()
        self._report: WorkerReport | None = None
        self._reader = threading.Thread(target=self._read, name=f"zoo-bench-{name}", daemon=True)
        self._reader.start()
        self._process.stdin.write(pickle.dumps(task))
        self._process.stdin.flush()

    def wait_ready(self, timeout: float) -> None:
        self._ready.wait(max(timeout, 0.0))

    def start(self) -> None:
        try:
            self._process.stdin.write(START)
            self._process.stdin.close()
        except (BrokenPipeError, ValueError):
            pass  # the worker already exited; its report (or its absence) says why

    def report(self, timeout: float) -> WorkerReport:
        if self._done.wait(max(timeout, 0.0)) and self._report is not None:
            return self._report
        lost = WorkerReport()
        lost.add_error("WORKER_LOST", f"worker {self.name} did not report back: {self._stderr_tail()}")
        return lost

    def stop(self) -> None:
        if self._process.poll() is None:
            try:
                self._process.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                logger.warning("event=bench_worker_killed worker=%s", self.name)
                self._process.kill()
                self._process.wait()
        self._reader.join(timeout=2.0)
        self._stderr.close()

    def _read(self) -> None:
        stdout = self._process.stdout
        try:
            first = stdout.read(1)
            self._ready.set()
            if first == READY:
                first = b""
            data = first + stdout.read()
            if data:
                self._report = pickle.loads(data)
        except Exception:  # noqa: BLE001 - a garbled report counts as no report
            self._report = None
        finally:
            self._ready.set()
            self._done.set()

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {self._process.poll()}"


def _worker_environment() -> dict[str, str]:
    """The parent's environment, with this checkout of `zoo` first on the worker's path."""
    root = str(Path(__file__).resolve().parents[2])
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [root, environment.get("PYTHONPATH")]))
    return environment
