"""Soak test: a zoo-serve process under steady load for a long time, watched window by window.

    python benchmarks/soak.py                              # 10 minutes at concurrency 64
    python benchmarks/soak.py --duration 60 --window 10    # a shorter run
    python benchmarks/soak.py --server-flag=--enable_batching --json soak.json

It starts `zoo-serve` (python -m serving) on 127.0.0.1 and a free port, serving the zoo's CNN
(exported untrained: the weights do not matter for a soak) or `--model-base-path`, then keeps
`--concurrency` batch-1 Predict requests in flight for `--duration` seconds after a `--warmup`.
Requests are built and sent by zoo bench's load generator (its tfs-grpc protocol), from this
process, so the load does not share the server's GIL.

Every `--window` seconds it prints the window's requests, errors, p50 and p99 latency and the
server's resident memory (RSS). At the end it prints the totals and the RSS at the start of the
measurement (after the warmup, once TensorFlow has allocated what it keeps) and at the end.

Exit status 0 when there was no unexpected error (every error is unexpected, unless its status
is listed in `--expected-errors`, e.g. RESOURCE_EXHAUSTED when soaking load shedding) and the
RSS grew by less than `--max-rss-growth` (5%); 1 otherwise; 2 for a command-line mistake.
Everything is bounded: each request has a deadline, the run ends after warmup + duration, and
the server gets `--shutdown-grace` seconds to stop before it is killed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this directory comes first on sys.path, and benchmarks/serving.py would shadow
# the `serving` package: put the repository first.
sys.path.insert(0, str(REPO_ROOT))

from zoo.launch.cluster import free_ports  # noqa: E402

SERVER_START_TIMEOUT = 180.0
CONNECT_TIMEOUT = 10.0
DEFAULT_MODEL_NAME = "soak"


@dataclasses.dataclass
class Window:
    """What happened to the requests that started in one window of the measurement."""

    index: int
    seconds: float
    requests: int = 0
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    latencies: list[float] = dataclasses.field(default_factory=list)  # seconds, answered only
    rss_bytes: int = 0

    def summary(self) -> dict:
        latencies = np.array(self.latencies) * 1000
        p50, p99 = (float(np.percentile(latencies, q)) if latencies.size else None for q in (50, 99))
        return {"window": self.index, "seconds": round(self.seconds, 3), "requests": self.requests,
                "qps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
                "errors": dict(self.errors), "p50_ms": p50, "p99_ms": p99,
                "rss_mib": round(self.rss_bytes / 2**20, 1)}


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/soak.py",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--duration", type=float, default=600.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=10.0, help="unmeasured seconds of load first")
    parser.add_argument("--window", type=float, default=30.0, help="seconds per reported window")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight at all times")
    parser.add_argument("--timeout", type=float, default=10.0, help="deadline of each request, seconds")
    parser.add_argument("--model-base-path", help="serve this model's base path instead of the zoo CNN")
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    parser.add_argument("--server-flag", action="append", default=[], metavar="--FLAG=VALUE",
                        help="extra zoo-serve flag (repeatable), e.g. --server-flag=--enable_batching")
    parser.add_argument("--expected-errors", default="", metavar="CODE,...",
                        help="status codes that do not count as failures (e.g. RESOURCE_EXHAUSTED)")
    parser.add_argument("--max-rss-growth", type=float, default=0.05,
                        help="largest accepted RSS growth from start to end (0.05 = 5%%)")
    parser.add_argument("--shutdown-grace", type=float, default=30.0,
                        help="seconds the server may take to stop")
    parser.add_argument("--json", dest="json_path", help="also write the results to this JSON file")
    arguments = parser.parse_args(argv)
    for name in ("duration", "window", "timeout", "shutdown_grace"):
        if not getattr(arguments, name) > 0:
            parser.error(f"--{name.replace('_', '-')} must be positive. "
                         f"Received: {getattr(arguments, name)}")
    if arguments.warmup < 0 or arguments.concurrency < 1 or arguments.max_rss_growth < 0:
        parser.error("--warmup and --max-rss-growth must be >= 0 and --concurrency >= 1. Received: "
                     f"warmup={arguments.warmup}, concurrency={arguments.concurrency}, "
                     f"max_rss_growth={arguments.max_rss_growth}")
    arguments.expected_errors = {code.strip().upper()
                                 for code in arguments.expected_errors.split(",") if code.strip()}
    return arguments


def export_zoo_cnn(export_base: Path, model_name: str) -> Path:
    """The zoo's CNN for 28x28x1 images in 10 classes, exported untrained; returns its base path."""
    from zoo.export import export_saved_model
    from zoo.models import build_model
    from zoo.spec import DataSpec

    spec = DataSpec(name="soak", kind="image", task="classification", input_shape=(28, 28, 1),
                    num_outputs=10)
    sample = np.random.default_rng(0).random((64, 28, 28, 1)).astype(np.float32)
    export_saved_model(build_model("cnn", spec, adapt_data=sample), spec, export_base, model_name)
    return export_base / model_name


@dataclasses.dataclass
class ServerProcess:
    """A zoo-serve child process, the address it serves on, and the file its log goes to."""

    process: subprocess.Popen
    target: str
    log: object  # a temporary file

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 5) -> str:
        self.log.seek(0)
        return " | ".join(self.log.read().decode("utf-8", "replace").strip().splitlines()[-lines:])

    def stop(self, grace: float) -> int:
        """SIGTERM (a graceful stop), then SIGKILL after `grace` + 10 s; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace + 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


def start_server(base_path: Path, model_name: str, extra_flags: list[str], grace: float
                 ) -> ServerProcess:
    """Starts zoo-serve and returns it once it prints "serving on"; raises RuntimeError if not."""
    [port] = free_ports(1)
    command = [sys.executable, "-m", "serving", f"--model_base_path={base_path}",
               f"--model_name={model_name}", f"--port={port}", "--grpc_bind_address=127.0.0.1",
               "--file_system_poll_wait_seconds=0", f"--shutdown_grace_seconds={grace}", *extra_flags]
    python_path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": python_path}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=environment,
                               cwd=REPO_ROOT)
    server = ServerProcess(process, f"127.0.0.1:{port}", log)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()  # the server prints one line once it serves
        if "serving on" in line:
            return server
        if not line and process.poll() is not None:
            break
    tail = server.log_tail()
    server.stop(grace=1.0)
    raise RuntimeError(f"zoo-serve did not start: {tail}")


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


async def run_load(target: str, model: str, arguments: argparse.Namespace, server_pid: int) -> dict:
    """Keeps `concurrency` requests in flight for warmup + duration; returns the measurements.

    A request belongs to the window it started in. Each window is printed a moment after it ends
    (so the answers still in flight at its end are counted), with the server's RSS at its end.
    """
    from zoo.bench import BenchOptions
    from zoo.bench.protocols import RequestFailed, get_protocol

    protocol = get_protocol("tfs-grpc")
    options = BenchOptions(server=target, model=model, concurrency=(arguments.concurrency,),
                           timeout=arguments.timeout)
    plan = await asyncio.to_thread(protocol().prepare, options)
    sender = await protocol.open_sender(plan, CONNECT_TIMEOUT)
    clock = time.monotonic
    measure_from = clock() + arguments.warmup
    measure_to = measure_from + arguments.duration
    count = math.ceil(arguments.duration / arguments.window)
    windows = [Window(index, min(arguments.window, arguments.duration - index * arguments.window))
               for index in range(count)]
    rss = {}

    async def caller() -> None:
        while (begin := clock()) < measure_to:
            try:
                await sender.send(arguments.timeout)
                code = None
            except RequestFailed as error:
                code = error.code
            if begin < measure_from:
                continue
            window = windows[min(int((begin - measure_from) // arguments.window), count - 1)]
            window.requests += 1
            if code is None:
                window.latencies.append(clock() - begin)
            else:
                window.errors[code] = window.errors.get(code, 0) + 1

    async def watch() -> None:
        print_lag = min(1.0, arguments.timeout)
        await asyncio.sleep(max(0.0, measure_from - clock()))
        rss["start"] = rss_bytes(server_pid)
        for window in windows:
            window_end = measure_from + window.index * arguments.window + window.seconds
            await asyncio.sleep(max(0.0, window_end - clock()))
            window.rss_bytes = rss_bytes(server_pid)
            asyncio.get_running_loop().call_later(print_lag, print_window, window)
        await asyncio.sleep(print_lag)

    try:
        await asyncio.gather(watch(), *(caller() for _ in range(arguments.concurrency)))
        rss["end"] = rss_bytes(server_pid)
    finally:
        await sender.close()
    return {"windows": windows, "rss_start": rss["start"], "rss_end": rss["end"]}


def print_window(window: Window) -> None:
    row = window.summary()
    errors = ",".join(f"{code}:{count}" for code, count in sorted(row["errors"].items())) or "0"
    p50 = f"{row['p50_ms']:.2f}" if row["p50_ms"] is not None else "-"
    p99 = f"{row['p99_ms']:.2f}" if row["p99_ms"] is not None else "-"
    print(f"{row['window']:>6} {row['seconds']:>7.1f} {row['requests']:>9} {row['qps']:>8.1f} "
          f"{errors:>10} {p50:>8} {p99:>8} {row['rss_mib']:>8.1f}", flush=True)


def report(arguments: argparse.Namespace, measured: dict, exit_code_of_server: int) -> dict:
    windows = [window.summary() for window in measured["windows"]]
    errors: dict[str, int] = {}
    for window in measured["windows"]:
        for code, count in window.errors.items():
            errors[code] = errors.get(code, 0) + count
    latencies = np.array([value for window in measured["windows"] for value in window.latencies]) * 1000
    unexpected = sum(count for code, count in errors.items() if code not in arguments.expected_errors)
    growth = (measured["rss_end"] - measured["rss_start"]) / measured["rss_start"]
    return {
        "concurrency": arguments.concurrency,
        "duration": arguments.duration,
        "window": arguments.window,
        "server_flags": arguments.server_flag,
        "requests": sum(window["requests"] for window in windows),
        "errors": errors,
        "unexpected_errors": unexpected,
        "p50_ms": float(np.percentile(latencies, 50)) if latencies.size else None,
        "p99_ms": float(np.percentile(latencies, 99)) if latencies.size else None,
        "worst_window_p99_ms": max((window["p99_ms"] for window in windows
                                    if window["p99_ms"] is not None), default=None),
        "rss_start_mib": round(measured["rss_start"] / 2**20, 1),
        "rss_end_mib": round(measured["rss_end"] / 2**20, 1),
        "rss_growth": growth,
        "server_exit_code": exit_code_of_server,
        "passed": unexpected == 0 and growth < arguments.max_rss_growth and exit_code_of_server == 0,
        "windows": windows,
    }


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix="tfzoo-soak-") as scratch:
        if arguments.model_base_path:
            base_path = Path(arguments.model_base_path).resolve()
        else:
            print("exporting the zoo CNN (untrained) to serve...", flush=True)
            base_path = export_zoo_cnn(Path(scratch), arguments.model_name)
        server = start_server(base_path, arguments.model_name, arguments.server_flag,
                              arguments.shutdown_grace)
        print(f"soak: zoo-serve pid {server.pid} on {server.target}, concurrency "
              f"{arguments.concurrency}, {arguments.warmup:g} s warmup, {arguments.duration:g} s measured", flush=True)
        print(f"{'window':>6} {'seconds':>7} {'requests':>9} {'qps':>8} {'errors':>10} "
              f"{'p50 ms':>8} {'p99 ms':>8} {'rss MiB':>8}", flush=True)
        try:
            measured = asyncio.run(run_load(server.target, arguments.model_name, arguments, server.pid))
        finally:
            server_exit_code = server.stop(arguments.shutdown_grace)
    result = report(arguments, measured, server_exit_code)
    print(f"\nrequests {result['requests']}, errors {result['errors'] or 0} "
          f"(unexpected {result['unexpected_errors']}), p50 {result['p50_ms'] or 0:.2f} ms, "
          f"p99 {result['p99_ms'] or 0:.2f} ms (worst window "
          f"{result['worst_window_p99_ms'] or 0:.2f} ms)")
    print(f"server RSS {result['rss_start_mib']} MiB at the start, {result['rss_end_mib']} MiB at "
          f"the end: {result['rss_growth']:+.2%} (limit {arguments.max_rss_growth:.0%}); server "
          f"exit code {server_exit_code}")
    print("PASSED" if result["passed"] else "FAILED")
    if arguments.json_path:
        Path(arguments.json_path).write_text(json.dumps(result, indent=2))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
