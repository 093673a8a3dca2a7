"""Triton's perf_analyzer as a second, independent load generator beside `zoo bench`.

perf_analyzer is NVIDIA's C++ load generator; the tritonclient wheel (the dev extra) ships it as
`perf_analyzer` next to the interpreter. Measuring a server with a load generator written
independently of it, in another language, checks `zoo bench`'s figures, and exercises the server
the way Triton's users do: the Triton service kind (Open Inference Protocol, gRPC or HTTP, with
Triton's model configuration and statistics extensions) and the TF Serving one (gRPC Predict).

The binary links libb64 (Debian's libb64-0d) and the CUDA runtime (libcudart.so.12, from PyPI's
nvidia-cuda-runtime-cu12) even when no GPU is used; `find_perf_analyzer` puts that package's
library folder on LD_LIBRARY_PATH and says in one line why the binary cannot start when it
cannot.

A measurement is three back-to-back windows at one concurrency, after an unmeasured warmup run.
perf_analyzer's own stability search is switched off (any three windows are "stable"). A window
is either a time window of `window_seconds`, so every run lasts a known time whatever the machine
is doing, like `zoo bench` (for figures); or a count window that lasts until `requests_per_window`
requests have completed inside it, so a server that stalls for longer than a time window makes the
run longer instead of failing it with "No valid requests recorded" (for checks that requests
succeed, on a busy machine).
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

BINARY = "perf_analyzer"
# --service-kind and -i for each way of loading a server; perf_analyzer speaks TF Serving's API
# over gRPC only.
SERVICES = {
    "triton-grpc": ("triton", "grpc"),
    "triton-http": ("triton", "http"),
    "tfserving-grpc": ("tfserving", "grpc"),
}
INSTALL_HINT = ("perf_analyzer needs Debian's libb64-0d (apt-get install libb64-0d) and PyPI's "
                "nvidia-cuda-runtime-cu12 (pip install -e '.[dev]')")
# perf_analyzer judges a measurement stable from its last 3 windows; a threshold this large
# accepts the first 3, so a level lasts exactly 3 windows.
_WINDOWS = 3
_ANY_VARIATION_PERCENT = 100_000
# A count window lasts at least this long whatever -p says, and grows until it holds its requests.
_COUNT_WINDOW_START_SECONDS = 1.0
# Time allowed beyond the windows themselves: start, metadata, connections, shutdown.
_OVERHEAD_SECONDS = 60.0


class PerfAnalyzerUnavailable(RuntimeError):
    """The binary is missing or cannot start here; the message says why in one line."""


class PerfAnalyzerFailed(RuntimeError):
    """A run ended in an error (the server refused, a request failed, a timeout)."""


@dataclasses.dataclass(frozen=True)
class PerfAnalyzerResult:
    """One concurrency level as perf_analyzer measured it; latencies are client-side, per
    request, in milliseconds. `server_*_ms` are the per-request averages of the server's
    statistics (Triton service kind only; None otherwise)."""

    service: str
    concurrency: int
    batch_size: int
    infer_per_second: float
    requests: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    server_queue_ms: float | None = None
    server_compute_ms: float | None = None

    @property
    def requests_per_second(self) -> float:
        return self.infer_per_second / self.batch_size


class PerfAnalyzer:
    """A perf_analyzer binary that starts here, and the environment it starts in."""

    def __init__(self, path: str, environment: dict[str, str]):
        self.path = path
        self.environment = environment

    def run(self, arguments: Sequence[str], timeout: float) -> subprocess.CompletedProcess:
        """Runs perf_analyzer with `arguments`; stdout and stderr are captured as text.

        Raises PerfAnalyzerFailed if it does not finish within `timeout` seconds.
        """
        try:
            return subprocess.run([self.path, *arguments], capture_output=True, text=True,
                                  env=self.environment, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise PerfAnalyzerFailed(
                f"perf_analyzer did not finish within {timeout:g} s: {' '.join(arguments)}"
            ) from None

    def measure(self, target: str, model: str, service: str, concurrency: int, *,
                batch_size: int = 1, window_seconds: float = 2.0, warmup_seconds: float = 0.0,
                requests_per_window: int | None = None,
                extra_arguments: Sequence[str] = ()) -> PerfAnalyzerResult:
        """Loads `model` on `target` (host:port of the gRPC or HTTP port, as `service` needs)
        with `concurrency` requests of `batch_size` examples in flight, for three windows, after
        `warmup_seconds` of unmeasured load.

        A window lasts `window_seconds`; or, given `requests_per_window`, until that many
        requests have completed in it (perf_analyzer's count windows, which start at a second
        each whatever `window_seconds` says).
        Only requests sent and answered inside a window count, so a count window needs more
        requests than `concurrency`.

        Raises:
            ValueError: an unknown `service`, or too few `requests_per_window`.
            PerfAnalyzerFailed: perf_analyzer stopped with an error; the message is its own.
        """
        if service not in SERVICES:
            raise ValueError(f"service must be one of {', '.join(SERVICES)}. "
                             f"Received: service={service!r}")
        if requests_per_window is not None and requests_per_window <= concurrency:
            raise ValueError(
                "requests_per_window must exceed concurrency: the requests already in flight "
                "when a window opens do not count in it. "
                f"Received: requests_per_window={requests_per_window}, concurrency={concurrency}")
        kind, protocol = SERVICES[service]
        common = ["-m", model, "-u", target, "-i", protocol, "--service-kind", kind,
                  "-b", str(batch_size), "--concurrency-range", f"{concurrency}:{concurrency}",
                  "-s", str(_ANY_VARIATION_PERCENT), "-r", str(_WINDOWS), *extra_arguments]
        if warmup_seconds > 0:
            self._checked(common + _window_arguments(warmup_seconds / _WINDOWS), warmup_seconds)
        with tempfile.TemporaryDirectory(prefix="perf-analyzer-") as scratch:
            report = Path(scratch) / "report.csv"
            windows, measured_seconds = _measurement_windows(window_seconds, requests_per_window)
            output = self._checked(common + windows + ["-f", str(report)], measured_seconds)
            return parse_report(report.read_text(), output, service, concurrency, batch_size)

    def _checked(self, arguments: list[str], measured_seconds: float) -> str:
        completed = self.run(arguments, timeout=measured_seconds + _OVERHEAD_SECONDS)
        if completed.returncode != 0:
            how = (f"was killed by signal {-completed.returncode}" if completed.returncode < 0
                   else f"exited with status {completed.returncode}")
            output = completed.stdout + "\n" + completed.stderr
            raise PerfAnalyzerFailed(f"perf_analyzer {how}: {error_line(output)}")
        return completed.stdout


def find_perf_analyzer() -> PerfAnalyzer:
    """The perf_analyzer next to this interpreter (or on PATH), checked to start.

    Raises PerfAnalyzerUnavailable saying in one line what is missing.
    """
    folders = [os.path.dirname(sys.executable), os.environ.get("PATH", "")]
    path = shutil.which(BINARY, path=os.pathsep.join(folders))
    if path is None:
        raise PerfAnalyzerUnavailable(
            f"no {BINARY} binary next to {sys.executable} or on PATH: it comes with the "
            "tritonclient wheel (pip install -e '.[dev]')")
    environment = dict(os.environ)
    library_folders = [folder for folder in (cuda_runtime_library_folder(),
                                             environment.get("LD_LIBRARY_PATH")) if folder]
    if library_folders:
        environment["LD_LIBRARY_PATH"] = os.pathsep.join(library_folders)
    analyzer = PerfAnalyzer(path, environment)
    try:
        completed = analyzer.run(["--version"], timeout=30)
    except (OSError, PerfAnalyzerFailed) as error:
        raise PerfAnalyzerUnavailable(f"{path} cannot start: {error}") from None
    if completed.returncode != 0:
        reason = error_line(completed.stderr + "\n" + completed.stdout)
        raise PerfAnalyzerUnavailable(f"{path} cannot start ({reason}); {INSTALL_HINT}")
    return analyzer


def cuda_runtime_library_folder() -> str | None:
    """The lib folder of PyPI's nvidia-cuda-runtime-cu12 (libcudart.so.12), if installed."""
    try:
        spec = importlib.util.find_spec("nvidia.cuda_runtime")
    except ModuleNotFoundError:
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = os.path.join(location, "lib")
        if os.path.isdir(folder):
            return folder
    return None


def parse_report(report_csv: str, output: str, service: str, concurrency: int,
                 batch_size: int) -> PerfAnalyzerResult:
    """A PerfAnalyzerResult from perf_analyzer's -f CSV (one row per concurrency; latencies in
    microseconds; the server columns only in the Triton service kind) and its printed report
    (which alone gives the request count)."""
    rows = list(csv.DictReader(io.StringIO(report_csv)))
    if len(rows) != 1:
        raise PerfAnalyzerFailed(f"perf_analyzer's report has {len(rows)} rows, expected 1")
    [row] = rows
    server_queue = server_compute = None
    if "Server Queue" in row:
        server_queue = float(row["Server Queue"]) / 1000
        server_compute = sum(float(row[column]) for column in (
            "Server Compute Input", "Server Compute Infer", "Server Compute Output")) / 1000
    return PerfAnalyzerResult(
        service=service, concurrency=concurrency, batch_size=batch_size,
        infer_per_second=float(row["Inferences/Second"]), requests=request_count(output),
        p50_ms=float(row["p50 latency"]) / 1000, p90_ms=float(row["p90 latency"]) / 1000,
        p95_ms=float(row["p95 latency"]) / 1000, p99_ms=float(row["p99 latency"]) / 1000,
        server_queue_ms=server_queue, server_compute_ms=server_compute)


def request_count(output: str) -> int:
    """The requests the client counted in the measured windows ("Request count: N")."""
    for line in output.splitlines():
        label, _, value = line.strip().partition(":")
        if label == "Request count" and value.strip().isdigit():
            return int(value)
    raise PerfAnalyzerFailed("perf_analyzer's report has no 'Request count' line")


def error_line(output: str) -> str:
    """The line of perf_analyzer's output that says what went wrong: its first error line, else
    its last line (where it stopped)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        lowered = line.lower()
        if "error" in lowered or "failed" in lowered or "unable" in lowered:
            return line
    return lines[-1] if lines else "no output"


def _window_arguments(seconds: float) -> list[str]:
    return ["--measurement-mode", "time_windows", "-p", str(max(1, round(seconds * 1000)))]


def _measurement_windows(window_seconds: float,
                         requests_per_window: int | None) -> tuple[list[str], float]:
    """perf_analyzer's arguments for the measured windows, and how long they last at least."""
    if requests_per_window is None:
        return _window_arguments(window_seconds), _WINDOWS * window_seconds
    return (["--measurement-mode", "count_windows",
             "--measurement-request-count", str(requests_per_window)],
            _WINDOWS * _COUNT_WINDOW_START_SECONDS)
