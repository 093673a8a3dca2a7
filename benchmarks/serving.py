"""How close does the server get to the model's own speed? Batch-1 load vs the in-process limit.

    python benchmarks/serving.py                      # cnn, mlp, mobilenet_v2; c=1,8,32,128
    python benchmarks/serving.py --quick              # a smoke run: mlp, c=1,8, about a minute
    python benchmarks/serving.py --models cnn --concurrency 1,32 --duration 10
    python benchmarks/serving.py --request-logging 0,0.01,1 --models cnn   # the cost of logging

For each model (exported fresh with the zoo: the CNN and MLP on 28x28x1 / 784 inputs,
MobileNetV2 at 96x96x3 without pretrained weights), and with batching off then on, it starts
`zoo-serve` in a process of its own and drives it with `zoo bench` (worker processes of their own)
at each concurrency: that many batch-1 requests in flight for a fixed time. Per level it reports
QPS, p50, p99, errors, the server's CPU per request, and the mean batch the server actually ran
(from its Prometheus batch-size histogram). Then, in a fresh process, it measures the SavedModel
called in-process (numpy in, numpy out) at each batch size the server reached: that is the limit,
and `ratio` is the server's QPS over it. Last, it drives grpc_floor_server.py (the same gRPC
server with no model behind it) at each concurrency: `floor QPS` is what Python gRPC alone can
answer here, and `of floor` the server's share of it. One table is printed and everything goes to
a JSON file.

With --request-logging RATES it measures request logging instead: batching off, one server per
rate (the model's logging_config writing every sampled request to a temporary directory) and one
without logging_config, each driven at every concurrency in turn, side by side; `vs off` is each
server's QPS (and CPU per request) over the unlogged server's at the same concurrency. Then, in a
fresh process, it times the logging itself in CPU time (which other load on the machine hardly
changes): `log us on req` on the request thread, `log us all` with the writer thread building and
writing the record, and `log/CPU off` that over the unlogged server's CPU per request.

Everything is bounded: each level lasts warmup + duration (+ one request timeout), a server that
does not come up within START_TIMEOUT seconds is killed and reported.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# Run as `python benchmarks/serving.py`, this file's directory comes first on sys.path, where
# `import serving` would find this script instead of the server package.
sys.path[:] = [entry for entry in sys.path
               if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO_ROOT))

from zoo.launch.cluster import free_ports  # noqa: E402

START_TIMEOUT = 180.0
# Batching as benchmarked: batches of up to 32, no added wait (a batch forms from whatever queued
# while the model was busy), one batch thread (a second one mostly splits batches in two on two
# cores), and room for every client of c=128 to queue.
DEFAULT_BATCHING = ("max_batch_size { value: 32 } batch_timeout_micros { value: 0 } "
                    "max_enqueued_batches { value: 64 } num_batch_threads { value: 1 }")
METRICS_PATH = "/monitoring/prometheus/metrics"
# Runs of the in-process request-logging measurement, of which the median counts.
REPEATS = 5
BATCH_SIZE_METRIC = ":tensorflow:serving:batching_session:processed_batch_size"


@dataclasses.dataclass(frozen=True)
class BenchModel:
    """A zoo model as the benchmark exports it (registry name, data kind, input shape, config),
    and the server flags it is served with, batching on and off alike."""

    zoo_model: str
    kind: str
    input_shape: tuple[int, ...]
    config: tuple[tuple[str, object], ...] = ()
    server_flags: tuple[str, ...] = ()


# Small models run their ops on the calling thread: TensorFlow's intra-op pool costs more in
# thread wake-ups (about 30 context switches per batch-1 request) than it saves on ops this small.
# MobileNetV2's convolutions are big enough to use both cores, so it keeps TensorFlow's defaults.
_ONE_THREAD_PER_CALL = ("--tensorflow_intra_op_parallelism=1",
                        "--tensorflow_inter_op_parallelism=1")
MODELS = {
    "cnn": BenchModel("cnn", "image", (28, 28, 1), server_flags=_ONE_THREAD_PER_CALL),
    "mlp": BenchModel("mlp", "tabular", (784,), server_flags=_ONE_THREAD_PER_CALL),
    "mobilenet_v2": BenchModel("mobilenet_v2", "image", (96, 96, 3),
                               (("image_size", 96), ("weights", "none"))),
}


# === Work done in fresh processes (spawned: TensorFlow never shares a process with the server) ===


def export_model(name: str, root: str) -> str:
    """Exports MODELS[name] under `root/name/1`; returns the version directory."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from zoo.export.saved_model import export_saved_model
    from zoo.models import build_model
    from zoo.spec import DataSpec

    model = MODELS[name]
    spec = DataSpec(name=f"bench_{name}", kind=model.kind, task="classification",
                    input_shape=model.input_shape, num_outputs=10)
    keras_model = build_model(model.zoo_model, spec, dict(model.config))
    return str(export_saved_model(keras_model, spec, root, name, version=1))


def measure_in_process(version_dir: str, batch_sizes: list[int], seconds: float,
                       server_flags: tuple[str, ...] = ()) -> dict[int, dict]:
    """Calls/s and examples/s of the SavedModel's serving_default, loaded in this process, at each
    batch size: numpy in (tf.constant), numpy out, as the server's own model call does. Each size
    is measured from one calling thread and from one per core, and the faster is the limit: small
    models need a caller per core to fill the machine, big ones fill it from one caller and only
    contend with a second. TensorFlow's thread pools are set as `server_flags` set the server's.
    `cpu_us_per_example` is the process CPU time per example from one caller: what the model
    itself costs the server for each example of a batch that size."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    for flag in server_flags:
        name, _, value = flag.lstrip("-").partition("=")
        if name == "tensorflow_intra_op_parallelism":
            tf.config.threading.set_intra_op_parallelism_threads(int(value))
        elif name == "tensorflow_inter_op_parallelism":
            tf.config.threading.set_inter_op_parallelism_threads(int(value))

    function = tf.saved_model.load(version_dir).signatures["serving_default"]
    [(alias, spec)] = function.structured_input_signature[1].items()
    rng = np.random.default_rng(0)
    caller_counts = sorted({1, os.cpu_count() or 1})
    results = {}
    for batch in batch_sizes:
        inputs = rng.random((batch, *spec.shape[1:]), dtype=np.float32)

        def call_until(deadline: float) -> int:
            calls = 0
            while time.perf_counter() < deadline:
                for tensor in function(**{alias: tf.constant(inputs)}).values():
                    np.asarray(tensor)
                calls += 1
            return calls

        call_until(time.perf_counter() + min(seconds, 0.5))  # warm up
        best = None
        for callers in caller_counts:
            started, cpu_started = time.perf_counter(), time.process_time()
            with concurrent.futures.ThreadPoolExecutor(callers) as pool:
                calls = sum(pool.map(call_until, [started + seconds] * callers))
            rate = calls / (time.perf_counter() - started)
            cpu_us_per_example = 1e6 * (time.process_time() - cpu_started) / (calls * batch)
            if callers == 1:
                one_caller_cpu = cpu_us_per_example
            if best is None or rate > best["calls_per_second"]:
                best = {"calls_per_second": rate, "examples_per_second": rate * batch,
                        "callers": callers}
        results[batch] = {**best, "cpu_us_per_example": one_caller_cpu}
    return results


def measure_logging_in_process(input_shape: tuple[int, ...], rates: list[float], calls: int,
                               directory: str) -> dict:
    """CPU microseconds request logging costs per Predict at each rate, for a batch-1 request of
    `input_shape` float32 and 10 float outputs: on the request thread (ServerRequestLogger.log)
    and in all (with the writer's thread building and writing the records). CPU time, not wall
    time, so other load on the machine hardly changes it; the median of REPEATS runs of `calls`,
    since a run that happens to trigger a full garbage collection of TensorFlow's objects (a
    few hundred milliseconds, whoever allocates) says nothing about logging."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    from tensorflow_serving.apis import predict_pb2

    from serving.apis.tfs.request_logger import PREDICT_LOG, RequestLogConfig, ServerRequestLogger
    from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "bench"
    ndarray_to_tensor_proto(np.random.rand(1, *input_shape).astype(np.float32),
                            out=request.inputs["image"])
    response = predict_pb2.PredictResponse()
    response.model_spec.name = "bench"
    response.model_spec.version.value = 1
    ndarray_to_tensor_proto(np.random.rand(1, 10).astype(np.float32),
                            out=response.outputs["probabilities"])
    results = {}
    for rate in rates:
        runs = []
        for repeat in range(REPEATS):
            logger = ServerRequestLogger(queue_size=calls + 1)
            logger.update({"bench": RequestLogConfig(
                os.path.join(directory, f"bench-{rate:g}-{repeat}"), rate)})
            thread_before, process_before = time.thread_time(), time.process_time()
            for _ in range(calls):
                logger.log(PREDICT_LOG, request, response)
            request_thread = time.thread_time() - thread_before
            logger.close(timeout=600)
            runs.append((1e6 * request_thread / calls,
                         1e6 * (time.process_time() - process_before) / calls))
        results[rate] = {"request_thread_us": statistics.median(run[0] for run in runs),
                         "total_us": statistics.median(run[1] for run in runs)}
    return results


def in_fresh_process(function, *args):
    """Runs function(*args) in a new interpreter and returns its result."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


# === The server under test ===


class ServerProcess:
    """A gRPC server under test in a process of its own on loopback: zoo-serve (`model_server`)
    or the bare-gRPC floor (`grpc_floor`). It is up once it prints a line "serving on ..."."""

    def __init__(self, argv: list[str], port: int, log_path: Path, rest_port: int | None = None):
        self.port, self.rest_port = port, rest_port
        self._log = open(log_path, "w")
        environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO_ROOT))
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._log, text=True,
                                        env=environment, cwd=REPO_ROOT)
        self._wait_until_serving()

    @classmethod
    def model_server(cls, model: str, base_path: str, workdir: Path, batching: str | None,
                     extra_flags: tuple[str, ...] = (), logging_rate: float | None = None
                     ) -> "ServerProcess":
        """`python -m serving` with the Prometheus page on a REST port; with `logging_rate`, the
        model's logging_config samples requests at that rate into workdir/request-logs."""
        port, rest_port = free_ports(2)
        monitoring = workdir / "monitoring.config"
        monitoring.write_text(f'prometheus_config {{ enable: true path: "{METRICS_PATH}" }}\n')
        models = [f"--model_name={model}", f"--model_base_path={base_path}"]
        if logging_rate is not None:
            config = workdir / f"models-logging-{logging_rate:g}.config"
            prefix = workdir / "request-logs" / f"{model}-{logging_rate:g}"
            config.write_text(
                f'model_config_list {{ config {{ name: "{model}" base_path: "{base_path}" '
                f'logging_config {{ log_collector_config {{ filename_prefix: "{prefix}" }} '
                f"sampling_config {{ sampling_rate: {logging_rate} }} }} }} }}\n")
            models = [f"--model_config_file={config}"]
        argv = [sys.executable, "-m", "serving", *models, f"--port={port}",
                "--grpc_bind_address=127.0.0.1", f"--rest_api_port={rest_port}",
                f"--monitoring_config_file={monitoring}", "--file_system_poll_wait_seconds=0",
                *extra_flags]
        if batching is not None:
            parameters = workdir / "batching.config"
            parameters.write_text(batching + "\n")
            argv += ["--enable_batching", f"--batching_parameters_file={parameters}"]
        log_path = workdir / (f"server-{model}-{'on' if batching else 'off'}"
                              f"{'' if logging_rate is None else f'-logging-{logging_rate:g}'}.log")
        return cls(argv, port, log_path, rest_port)

    @classmethod
    def grpc_floor(cls, model: str, version_dir: str, workdir: Path) -> "ServerProcess":
        """benchmarks/grpc_floor_server.py: the same gRPC server with no model behind it."""
        [port] = free_ports(1)
        argv = [sys.executable, str(Path(__file__).resolve().parent / "grpc_floor_server.py"),
                f"--port={port}", f"--saved-model={version_dir}", f"--model-name={model}"]
        return cls(argv, port, workdir / f"floor-{model}.log")

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("serving on"):
                return
            if not line and self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"the server did not start; see {self._log.name}")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        """The most resident memory the process has used so far (VmHWM), in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def batches(self) -> tuple[float, float]:
        """(batches run, rows run) so far, from the batch-size histogram on the Prometheus page;
        (0, 0) for a server without one."""
        if self.rest_port is None:
            return 0.0, 0.0
        url = f"http://127.0.0.1:{self.rest_port}{METRICS_PATH}"
        with urllib.request.urlopen(url, timeout=10) as response:
            page = response.read().decode()
        totals = {}
        for suffix in ("count", "sum"):
            pattern = rf"^{re.escape(BATCH_SIZE_METRIC)}_{suffix}\{{[^}}]*\}} ([0-9.e+-]+)$"
            totals[suffix] = sum(float(value) for value in re.findall(pattern, page, re.MULTILINE))
        return totals["count"], totals["sum"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


# === Running the grid ===


def run_levels(server: ServerProcess, model: str, concurrencies: list[int], duration: float,
               warmup: float, label: str | None = None) -> list[dict]:
    """One zoo bench level per concurrency against a running server; `label` names the server in
    progress lines (default: the model and whether the server batched)."""
    from zoo.bench import BenchOptions, run_benchmark

    rows = []
    for concurrency in concurrencies:
        batches_before, cpu_before = server.batches(), server.cpu_seconds()
        result = run_benchmark(BenchOptions(server=server.target, model=model,
                                            concurrency=(concurrency,), duration=duration,
                                            warmup=warmup, timeout=10.0))
        [level] = result.levels
        (count_before, rows_before), (count_after, rows_after) = batches_before, server.batches()
        batched = count_after - count_before
        mean_batch = (rows_after - rows_before) / batched if batched else 1.0
        answered = level.requests * (duration + warmup) / duration  # warmup requests used CPU too
        rows.append({
            "concurrency": concurrency,
            "qps": level.requests_per_second,
            "p50_ms": level.p50_ms,
            "p99_ms": level.p99_ms,
            "errors": level.errors,
            "errors_by_code": level.errors_by_code,
            "mean_batch": mean_batch,
            "server_cpu_us_per_request": (1e6 * (server.cpu_seconds() - cpu_before) / answered
                                          if answered else None),
            "peak_rss_mb": server.peak_rss_mb(),
        })
        print(f"  {label or model + (' batching=on' if batched else ' batching=off')} c={concurrency}: "
              f"{level.requests_per_second:.0f} QPS, p50 {_ms(level.p50_ms)} ms, errors {level.errors}, "
              f"mean batch {mean_batch:.1f}", flush=True)
    return rows


def benchmark_model(name: str, options, workdir: Path) -> list[dict]:
    """Every level of one model, batching off then on, with the in-process limit for each."""
    version_dir = in_fresh_process(export_model, name, str(workdir / "models"))
    base_path = str(Path(version_dir).parent)
    rows = []
    for batching in (None, options.batching_parameters):
        server = ServerProcess.model_server(name, base_path, workdir, batching,
                                            MODELS[name].server_flags)
        try:
            for row in run_levels(server, name, options.concurrency, options.duration,
                                  options.warmup):
                rows.append({"model": name, "batching": batching is not None,
                             "server_flags": list(MODELS[name].server_flags), **row})
        finally:
            server.stop()
    floor = ServerProcess.grpc_floor(name, version_dir, workdir)
    try:
        floor_rows = {row["concurrency"]: row for row in
                      run_levels(floor, name, options.concurrency, options.duration,
                                 options.warmup, label=f"{name} gRPC floor")}
    finally:
        floor.stop()
    for row in rows:
        row["floor_qps"] = floor_rows[row["concurrency"]]["qps"]
        row["floor_cpu_us_per_request"] = floor_rows[row["concurrency"]]["server_cpu_us_per_request"]
        row["of_floor"] = row["qps"] / row["floor_qps"] if row["floor_qps"] else None
    reached = sorted({max(1, round(row["mean_batch"])) for row in rows})
    limits = in_fresh_process(measure_in_process, version_dir, reached, options.in_process_seconds,
                              MODELS[name].server_flags)
    for row in rows:
        batch = max(1, round(row["mean_batch"]))
        row["in_process_batch"] = batch
        row["in_process_examples_per_second"] = limits[batch]["examples_per_second"]
        row["in_process_callers"] = limits[batch]["callers"]
        row["model_cpu_us_per_example"] = limits[batch]["cpu_us_per_example"]
        row["ratio"] = row["qps"] / limits[batch]["examples_per_second"]
        row["overhead_us_per_request"] = server_overhead(row)
    return rows


def benchmark_request_logging(name: str, options, workdir: Path) -> list[dict]:
    """Every level of one model without logging_config and at each sampling rate, batching off.
    All the servers are up at once and take turns at each level (the others idle meanwhile), so a
    change in the machine's load falls on all of them alike."""
    version_dir = in_fresh_process(export_model, name, str(workdir / "models"))
    base_path = str(Path(version_dir).parent)
    rates = [None, *options.request_logging]
    servers = {}
    rows = []
    try:
        for rate in rates:
            servers[rate] = ServerProcess.model_server(name, base_path, workdir, None,
                                                       MODELS[name].server_flags,
                                                       logging_rate=rate)
        for concurrency in options.concurrency:
            for rate in rates:
                label = f"{name} logging={'off' if rate is None else f'{rate:g}'}"
                for row in run_levels(servers[rate], name, [concurrency], options.duration,
                                      options.warmup, label=label):
                    rows.append({"model": name, "sampling_rate": rate, **row})
    finally:
        for server in servers.values():
            server.stop()
    costs = in_fresh_process(measure_logging_in_process, MODELS[name].input_shape,
                             options.request_logging, 2000, str(workdir / "in-process-logs"))
    baseline = {row["concurrency"]: row for row in rows if row["sampling_rate"] is None}
    for row in rows:
        base = baseline[row["concurrency"]]
        row["qps_vs_off"] = row["qps"] / base["qps"] if base["qps"] else None
        row["cpu_vs_off"] = (row["server_cpu_us_per_request"] / base["server_cpu_us_per_request"]
                             if row["server_cpu_us_per_request"]
                             and base["server_cpu_us_per_request"] else None)
        cost = costs.get(row["sampling_rate"], {})
        row["logging_request_thread_us"] = cost.get("request_thread_us")
        row["logging_total_us"] = cost.get("total_us")
        server_cpu = base["server_cpu_us_per_request"]
        row["logging_share_of_server_cpu"] = (cost["total_us"] / server_cpu
                                              if cost and server_cpu else None)
    return rows


def format_logging_table(rows: list[dict]) -> str:
    header = ("model", "sampling", "c", "QPS", "QPS vs off", "p50 ms", "p99 ms", "CPU us/req",
              "CPU vs off", "log us on req", "log us all", "log/CPU off", "errors")
    lines = [header]
    for row in rows:
        rate = row["sampling_rate"]
        lines.append((row["model"], "off" if rate is None else f"{rate:g}",
                      str(row["concurrency"]), f"{row['qps']:.0f}",
                      _ratio(row["qps_vs_off"]), _ms(row["p50_ms"]), _ms(row["p99_ms"]),
                      f"{row['server_cpu_us_per_request']:.0f}"
                      if row["server_cpu_us_per_request"] else "-",
                      _ratio(row["cpu_vs_off"]), _us(row.get("logging_request_thread_us")),
                      _us(row.get("logging_total_us")),
                      _ratio(row.get("logging_share_of_server_cpu")), str(row["errors"])))
    widths = [max(len(line[index]) for line in lines) for index in range(len(header))]
    text = ["  ".join(cell.rjust(width) for cell, width in zip(line, widths)) for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text)


def _ratio(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _us(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def server_overhead(row: dict) -> float | None:
    """The server's own CPU per request: its CPU per request minus what the bare gRPC server
    spends on one (the RPC floor) and what the model costs per example at the batch reached."""
    if row["server_cpu_us_per_request"] is None or row["floor_cpu_us_per_request"] is None:
        return None
    return (row["server_cpu_us_per_request"] - row["floor_cpu_us_per_request"]
            - row["model_cpu_us_per_example"])


def check_targets(rows: list[dict]) -> list[str]:
    """The issue's targets for the small CNN, each as one line saying met or not and by how much."""
    by_key = {(row["model"], row["batching"], row["concurrency"]): row for row in rows}
    lines = []
    on, off = by_key.get(("cnn", True, 32)), by_key.get(("cnn", False, 32))
    if on and off:
        gain = on["qps"] / off["qps"] if off["qps"] else float("inf")
        lines.append(f"cnn c=32: batching gives {gain:.2f}x the QPS without batching "
                     f"(target >= 2x): {'met' if gain >= 2 else 'NOT met'}")
        lines.append(f"cnn c=32: batching reaches {on['ratio']:.0%} of in-process throughput at "
                     f"batch {on['in_process_batch']} (target >= 70%): "
                     f"{'met' if on['ratio'] >= 0.7 else 'NOT met'}")
    if on and on["overhead_us_per_request"] is not None:
        overhead = on["overhead_us_per_request"]
        lines.append(f"cnn c=32 with batching: the server's own CPU is {overhead:.0f} us a request "
                     f"(target <= 200 us): {'met' if overhead <= 200 else 'NOT met'}")
    on, off = by_key.get(("cnn", True, 1)), by_key.get(("cnn", False, 1))
    if on and off and on["p50_ms"] is not None and off["p50_ms"] is not None:
        slower = on["p50_ms"] / off["p50_ms"] - 1
        lines.append(f"cnn c=1: p50 {on['p50_ms']:.2f} ms with batching vs {off['p50_ms']:.2f} ms "
                     f"without ({slower:+.0%}; target within 10%): "
                     f"{'met' if slower <= 0.10 else 'NOT met'}")
    cnn_rss = [row["peak_rss_mb"] for row in rows if row["model"] == "cnn"]
    if cnn_rss:
        lines.append(f"cnn: peak RSS {max(cnn_rss):.0f} MB (target <= 700 MB): "
                     f"{'met' if max(cnn_rss) <= 700 else 'NOT met'}")
    errors = sum(row["errors"] for row in rows)
    lines.append(f"errors in every run: {errors} (target 0): {'met' if errors == 0 else 'NOT met'}")
    return lines


def format_table(rows: list[dict]) -> str:
    header = ("model", "batching", "c", "QPS", "p50 ms", "p99 ms", "errors", "CPU us/req",
              "overhead us", "batch", "in-proc ex/s", "ratio", "floor QPS", "of floor", "RSS MB")
    lines = [header]
    for row in rows:
        lines.append((row["model"], "on" if row["batching"] else "off", str(row["concurrency"]),
                      f"{row['qps']:.0f}", _ms(row["p50_ms"]), _ms(row["p99_ms"]),
                      str(row["errors"]),
                      f"{row['server_cpu_us_per_request']:.0f}"
                      if row["server_cpu_us_per_request"] else "-",
                      f"{row['overhead_us_per_request']:.0f}"
                      if row["overhead_us_per_request"] is not None else "-",
                      f"{row['mean_batch']:.1f}", f"{row['in_process_examples_per_second']:.0f}",
                      f"{row['ratio']:.2f}", f"{row['floor_qps']:.0f}", f"{row['of_floor']:.2f}",
                      f"{row['peak_rss_mb']:.0f}"))
    widths = [max(len(line[index]) for line in lines) for index in range(len(header))]
    text = ["  ".join(cell.rjust(width) for cell, width in zip(line, widths)) for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text)


def _ms(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="cnn,mlp,mobilenet_v2",
                        help=f"comma-separated, from {', '.join(MODELS)}")
    parser.add_argument("--concurrency", default="1,8,32,128", help="levels, comma-separated")
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per level")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per level")
    parser.add_argument("--in-process-seconds", type=float, default=3.0,
                        help="seconds of in-process calls per batch size")
    parser.add_argument("--batching-parameters", default=DEFAULT_BATCHING,
                        help="BatchingParameters text for the batching-on servers")
    parser.add_argument("--output", default=str(REPO_ROOT / "runs" / "benchmarks" / "serving.json"),
                        help="where the JSON results go")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: mlp only, c=1,8, 1 s levels")
    parser.add_argument("--request-logging", metavar="RATES",
                        help="measure request logging instead: sampling rates, comma-separated "
                             "(e.g. 0,0.01,1), against a server without logging_config")
    options = parser.parse_args(argv)
    if options.quick:
        options.models, options.concurrency = "mlp", "1,8"
        options.duration, options.warmup, options.in_process_seconds = 1.0, 0.5, 0.3
    options.models = [name.strip() for name in options.models.split(",") if name.strip()]
    unknown = [name for name in options.models if name not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    try:
        options.concurrency = [int(value) for value in options.concurrency.split(",")]
    except ValueError:
        parser.error(f"--concurrency must be integers. Received: {options.concurrency!r}")
    if any(value < 1 for value in options.concurrency) or options.duration <= 0:
        parser.error("concurrency levels and --duration must be positive")
    if options.request_logging is not None:
        try:
            options.request_logging = [float(value) for value in options.request_logging.split(",")]
        except ValueError:
            parser.error(f"--request-logging must be numbers. Received: {options.request_logging!r}")
        if not all(0 <= rate <= 1 for rate in options.request_logging):
            parser.error("--request-logging rates must be in [0, 1]")
    return options


def main(argv=None) -> int:
    options = parse_arguments(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    load_before = os.getloadavg()
    started = time.time()
    rows = []
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as scratch:
        for name in options.models:
            print(f"== {name} (server flags: {' '.join(MODELS[name].server_flags) or 'defaults'})",
                  flush=True)
            if options.request_logging is not None:
                rows += benchmark_request_logging(name, options, Path(scratch))
            else:
                rows += benchmark_model(name, options, Path(scratch))
    targets = [] if options.request_logging is not None else check_targets(rows)
    print()
    print(format_logging_table(rows) if options.request_logging is not None
          else format_table(rows))
    for line in targets:
        print(line)
    report = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "seconds": time.time() - started,
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "batching_parameters": options.batching_parameters,
        "duration": options.duration,
        "warmup": options.warmup,
        "rows": rows,
        "targets": targets,
    }
    output = Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    print(f"results written to {output}")
    return 1 if any(row["errors"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
