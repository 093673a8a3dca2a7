"""One load-generating process: a few concurrent callers on one event loop, timed.

Runs as `python -m zoo.bench`, a fresh interpreter of its own (not multiprocessing's,
which would re-run the caller's main script), so the load it generates does not compete for a
GIL with the server it measures. Every caller sends its next request as soon as the previous one
is answered. A request counts toward throughput if it is answered inside the measured window,
its latency if it started inside the window, and a failure if the failed request started inside
the window. Everything ends by the window's end plus one request timeout, and whatever happens,
the process reports back.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import pickle
import sys
import time
from typing import Any

from zoo.bench.protocols import LoadProtocol, RequestFailed


@dataclasses.dataclass(frozen=True)
class WorkerTask:
    protocol: type[LoadProtocol]
    plan: Any
    callers: int
    warmup: float
    duration: float
    timeout: float
    connect_timeout: float


@dataclasses.dataclass
class WorkerReport:
    completed: int = 0                 # answered without error inside the measured window
    latencies: list[float] = dataclasses.field(default_factory=list)   # seconds
    errors: dict[str, int] = dataclasses.field(default_factory=dict)  # by status name
    error_samples: dict[str, str] = dataclasses.field(default_factory=dict)  # one message per status

    def add_error(self, code: str, message: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1
        self.error_samples.setdefault(code, message)


READY = b"R"   # worker -> parent: connected, waiting for the start signal
START = b"G"   # parent -> worker: start the clock


def main() -> None:
    """Process entry point (`python -m zoo.bench`): reads a pickled WorkerTask on stdin,
    writes READY on stdout once connected, waits for START on stdin, and finally writes the
    pickled WorkerReport on stdout. A worker that cannot start writes its report at once."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        task = pickle.load(stdin)
        report = asyncio.run(_run(task, stdin, stdout))
    except RequestFailed as error:
        report = WorkerReport()
        report.add_error(error.code, error.message)
    except BaseException as error:  # noqa: BLE001 - the parent must always hear back
        report = WorkerReport()
        report.add_error("WORKER_ERROR", f"{type(error).__name__}: {error}")
    stdout.write(pickle.dumps(report))
    stdout.flush()


async def _run(task: WorkerTask, stdin, stdout) -> WorkerReport:
    sender = await task.protocol.open_sender(task.plan, task.connect_timeout)
    try:
        stdout.write(READY)
        stdout.flush()
        # All workers of a level start their clocks together, when the parent says so.
        signal = await asyncio.to_thread(stdin.read, 1)
        if signal != START:
            raise RequestFailed("WORKER_ERROR", "the parent process went away before the start")
        return await _load(sender, task)
    finally:
        await sender.close()


async def _load(sender, task: WorkerTask) -> WorkerReport:
    clock = time.perf_counter
    report = WorkerReport()
    window_start = clock() + task.warmup
    window_end = window_start + task.duration

    async def caller() -> None:
        while True:
            begin = clock()
            if begin >= window_end:
                return
            try:
                await sender.send(task.timeout)
            except RequestFailed as error:
                if begin >= window_start:
                    report.add_error(error.code, error.message)
                continue
            end = clock()
            if begin >= window_start:
                report.latencies.append(end - begin)
            if window_start <= end <= window_end:
                report.completed += 1

    await asyncio.gather(*(caller() for _ in range(task.callers)))
    return report


def merge_errors(reports) -> tuple[dict[str, int], dict[str, str]]:
    counts: collections.Counter = collections.Counter()
    samples: dict[str, str] = {}
    for report in reports:
        counts.update(report.errors)
        for code, message in report.error_samples.items():
            samples.setdefault(code, message)
    return dict(counts), samples
