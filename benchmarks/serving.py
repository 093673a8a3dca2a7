"""How close does the server get to the model's own speed? Batch-1 load vs the in-process limit.

    python benchmarks/serving.py                      # cnn, mlp, mobilenet_v2; c=1,8,32,128
    python benchmarks/serving.py --quick              # a smoke run: mlp, c=1,8, about a minute
    python benchmarks/serving.py --models cnn --concurrency 1,32 --duration 10
    python benchmarks/serving.py --models cnn --concurrency 1,8,32 --rounds 3   # medians of 3
    python benchmarks/serving.py --image-inputs       # encoded images vs pixels, batch 1 and 32
    python benchmarks/serving.py --models cnn --load-generator zoo-bench,perf_analyzer
    python benchmarks/serving.py --request-logging 0,0.01,1 --models cnn   # the cost of logging

For each model (exported fresh with the zoo: the CNN and MLP on 28x28x1 / 784 inputs,
MobileNetV2 at 96x96x3 without pretrained weights) it starts three servers, each in a process of
its own: `zoo-serve` with batching off, `zoo-serve` with batching on, and grpc_floor_server.py
(the same gRPC server with no model behind it). At each concurrency they take turns, driven by
`zoo bench` (worker processes of their own): that many batch-1 requests in flight for a fixed
time. Taking turns level by level keeps the machine's drift out of the comparison, and with
`--rounds N` the whole grid runs N times and each level is its median. Per level it
reports QPS, p50, p99, errors, the server's CPU per request, and the mean batch the server
actually ran (from its Prometheus batch-size histogram). Then, in a fresh process, it measures
the SavedModel called in-process through the server's own model call (numpy in, numpy out) at
batch 1, at each batch size the server reached and at full batches: that is the limit, and
`ratio` is the server's QPS over it. `floor QPS` is what Python gRPC alone can answer here, and
`of floor` the server's share of it. One table is printed and everything goes to a JSON file.

With --image-inputs it measures instead what taking encoded images costs: the pretrained
EfficientNet-Lite0 export (`zoo export`, 224x224) is called on scikit-learn's two photos at batch
1 and 32, through its `image_bytes` signature (the JPEG files) and its `pixels` one (the photos
decoded and resized by Pillow, as a client would), in-process and through the server (one client,
one request at a time); the difference per image is the graph's decode + resize.

`--load-generator perf_analyzer` measures with Triton's perf_analyzer instead, a load generator
written in C++ independently of this project, in each of `--perf-analyzer-services` (TF Serving
gRPC Predict, the Open Inference Protocol over gRPC or HTTP); `zoo-bench,perf_analyzer` measures
with both, one after the other on the same servers, and the table says which generator measured
each row. Where perf_analyzer cannot start, the benchmark says why in one line and uses zoo bench.

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

from zoo.bench.perf_analyzer import (SERVICES, PerfAnalyzerFailed,  # noqa: E402
                                     PerfAnalyzerUnavailable, find_perf_analyzer)
from zoo.launch.cluster import free_ports  # noqa: E402

from benchmarks import rounds  # noqa: E402
from serving.contract import DEFAULT_SIGNATURE  # noqa: E402

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
ZOO_BENCH, PERF_ANALYZER = "zoo-bench", "perf_analyzer"
LOAD_GENERATORS = (ZOO_BENCH, PERF_ANALYZER)
# The perf_analyzer services the floor server (TF Serving's PredictionService only) answers.
FLOOR_SERVICES = ("tfserving-grpc",)
FLOOR = "floor"  # benchmark_model's key for the floor server, beside batching False and True


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
    batch size: numpy in, numpy out, through the server's own model call (SavedModelBackend, whose
    SignatureRunner skips the public call's keyword binding), so the limit is the model's cost as
    the server pays it, with no server around it. Each size is measured from one calling thread
    and from one per core, and the faster is the limit: small models need a caller per core to
    fill the machine, big ones fill it from one caller and only contend with a second.
    TensorFlow's thread pools are set as `server_flags` set the server's. `cpu_us_per_example` is
    the process CPU time per example from one caller: what the model itself costs the server for
    each example of a batch that size."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    from serving.backends.savedmodel.backend import SavedModelBackend

    for flag in server_flags:
        name, _, value = flag.lstrip("-").partition("=")
        if name == "tensorflow_intra_op_parallelism":
            tf.config.threading.set_intra_op_parallelism_threads(int(value))
        elif name == "tensorflow_inter_op_parallelism":
            tf.config.threading.set_inter_op_parallelism_threads(int(value))

    backend = SavedModelBackend.load(version_dir)
    signature = backend.signature_defs[DEFAULT_SIGNATURE]
    [(alias, tensor_info)] = signature.inputs.items()
    example_shape = [dim.size for dim in tensor_info.tensor_shape.dim][1:]
    output_aliases = list(signature.outputs)
    rng = np.random.default_rng(0)
    caller_counts = sorted({1, os.cpu_count() or 1})
    results = {}
    for batch in batch_sizes:
        feeds = {alias: rng.random((batch, *example_shape), dtype=np.float32)}

        def call_until(deadline: float) -> int:
            calls = 0
            while time.perf_counter() < deadline:
                backend.run(DEFAULT_SIGNATURE, feeds, output_aliases)
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


# === Encoded images against decoded pixels (--image-inputs), in fresh processes too ===

IMAGE_MODEL = "efficientnet_lite0"
IMAGE_BATCHES = (1, 32)
IMAGE_SIDE = 224
IMAGE_MIN_CALLS = 5


def export_image_model(root: str) -> str:
    """The pretrained classifier as `zoo export` writes it (offline weights); its version dir."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from zoo.export.pretrained import export_imagenet_classifier

    return str(export_imagenet_classifier(IMAGE_MODEL, root, image_size=IMAGE_SIDE))


def image_requests(batch: int) -> dict:
    """signature -> (input, values) for a batch of scikit-learn's two photos, alternating: the
    JPEG files for image_bytes, and for pixels what a client with Pillow would send instead."""
    import io

    import numpy as np
    import sklearn.datasets
    from PIL import Image

    folder = Path(sklearn.datasets.__file__).parent / "images"
    files = [(folder / name).read_bytes() for name in ("flower.jpg", "china.jpg")]
    pixels = [np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize(
        (IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.BILINEAR), np.float32) for data in files]
    order = [index % 2 for index in range(batch)]
    return {"pixels": ("image", np.stack([pixels[index] for index in order])),
            "image_bytes": ("image_bytes", np.array([files[index] for index in order], dtype=object))}


def _payload_bytes(values) -> int:
    return int(values.nbytes) if values.dtype != object else sum(len(value) for value in values)


def _timed_calls(call, seconds: float) -> list[float]:
    """Seconds each call took, calling one at a time after one unmeasured call, for `seconds` and
    at least IMAGE_MIN_CALLS times (a batch of 32 takes seconds)."""
    call()
    durations, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(durations) < IMAGE_MIN_CALLS:
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


def measure_image_inputs_in_process(version_dir: str, seconds: float) -> list[dict]:
    """ms per call of each signature at each batch size, the SavedModel loaded in this process."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    signatures = tf.saved_model.load(version_dir).signatures
    rows = []
    for batch in IMAGE_BATCHES:
        for signature, (alias, values) in image_requests(batch).items():
            tensor = tf.constant(values)
            durations = _timed_calls(lambda: signatures[signature](**{alias: tensor}), seconds)
            rows.append({"batch": batch, "signature": signature, "payload_bytes": _payload_bytes(values),
                         "in_process_ms": 1000 * float(np.median(durations))})
    return rows


def measure_image_inputs_served(target: str, seconds: float) -> list[dict]:
    """Median ms per Predict of each signature at each batch size from one client (tfzoo_client)."""
    import numpy as np

    from tfzoo_client import Client

    rows = []
    with Client(target, timeout=60.0) as client:
        client.wait_until_ready(IMAGE_MODEL, timeout=START_TIMEOUT)
        for batch in IMAGE_BATCHES:
            for signature, (alias, values) in image_requests(batch).items():
                durations = _timed_calls(lambda: client.predict(IMAGE_MODEL, {alias: values}, signature=signature),
                                         seconds)
                rows.append({"batch": batch, "signature": signature, "served_ms": 1000 * float(np.median(durations))})
    return rows


def benchmark_image_inputs(options, workdir: Path) -> list[dict]:
    """The --image-inputs rows: batch, signature, request payload, in-process and served ms."""
    version_dir = in_fresh_process(export_image_model, str(workdir / "models"))
    rows = in_fresh_process(measure_image_inputs_in_process, version_dir, options.in_process_seconds)
    server = ServerProcess.model_server(IMAGE_MODEL, str(Path(version_dir).parent), workdir, None)
    try:
        served = in_fresh_process(measure_image_inputs_served, server.target, options.duration)
    finally:
        server.stop()
    for row, served_row in zip(rows, served):
        assert (row["batch"], row["signature"]) == (served_row["batch"], served_row["signature"])
        row["served_ms"] = served_row["served_ms"]
    return rows


def format_image_table(rows: list[dict]) -> str:
    """One line per (batch, signature); image_bytes lines add what decoding and resizing cost per
    image over the pixels line of the same batch (in-process and served)."""
    pixels = {row["batch"]: row for row in rows if row["signature"] == "pixels"}
    header = ("batch", "input", "request KB", "in-process ms", "ms/image", "served ms", "ms/image",
              "decode+resize ms/image (in-process, served)")
    lines = [header]
    for row in rows:
        batch, reference = row["batch"], pixels.get(row["batch"])
        cost = "-"
        if row["signature"] != "pixels" and reference is not None:
            cost = (f"{(row['in_process_ms'] - reference['in_process_ms']) / batch:+.2f}, "
                    f"{(row['served_ms'] - reference['served_ms']) / batch:+.2f}")
        lines.append((str(batch), row["signature"], f"{row['payload_bytes'] / 1024:.0f}",
                      f"{row['in_process_ms']:.1f}", f"{row['in_process_ms'] / batch:.2f}",
                      f"{row['served_ms']:.1f}", f"{row['served_ms'] / batch:.2f}", cost))
    widths = [max(len(line[index]) for line in lines) for index in range(len(header))]
    text = ["  ".join(cell.rjust(width) for cell, width in zip(line, widths)) for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text)


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


def zoo_bench_level(server: ServerProcess, model: str, concurrency: int, duration: float,
                    warmup: float) -> dict:
    """One `zoo bench` level: batch-1 TF Serving Predicts, `warmup` then `duration` seconds."""
    from zoo.bench import BenchOptions, run_benchmark

    [level] = run_benchmark(BenchOptions(server=server.target, model=model,
                                         concurrency=(concurrency,), duration=duration,
                                         warmup=warmup, timeout=10.0)).levels
    return {"qps": level.requests_per_second, "p50_ms": level.p50_ms, "p99_ms": level.p99_ms,
            "errors": level.errors, "errors_by_code": level.errors_by_code,
            "requests": level.requests}


def perf_analyzer_level(analyzer, service: str):
    """A level function like zoo_bench_level measuring with perf_analyzer in `service`:
    batch-1 requests, `warmup` seconds unmeasured, then three windows lasting `duration` in all.
    A level perf_analyzer cannot complete has its error and no figures."""

    def level(server: ServerProcess, model: str, concurrency: int, duration: float,
              warmup: float) -> dict:
        target = (f"127.0.0.1:{server.rest_port}" if service.endswith("http")
                  else server.target)
        try:
            result = analyzer.measure(target, model, service, concurrency,
                                      window_seconds=duration / 3, warmup_seconds=warmup)
        except PerfAnalyzerFailed as error:
            return {"qps": None, "p50_ms": None, "p99_ms": None, "errors": 1,
                    "error": str(error), "requests": 0}
        return {"qps": result.requests_per_second, "p50_ms": result.p50_ms,
                "p99_ms": result.p99_ms, "errors": 0, "requests": result.requests}

    return level


def run_levels(server: ServerProcess, model: str, concurrencies: list[int], duration: float,
               warmup: float, generator: str = ZOO_BENCH, measure=zoo_bench_level,
               label: str | None = None) -> list[dict]:
    """One level per concurrency against a running server, measured by `measure` (a level
    function) and labelled `generator`; `label` names the server in progress lines (default:
    the model and whether the server batched)."""
    rows = []
    for concurrency in concurrencies:
        batches_before, cpu_before = server.batches(), server.cpu_seconds()
        figures = measure(server, model, concurrency, duration, warmup)
        (count_before, rows_before), (count_after, rows_after) = batches_before, server.batches()
        batched = count_after - count_before
        mean_batch = (rows_after - rows_before) / batched if batched else 1.0
        # Warmup requests used CPU too.
        answered = figures.pop("requests") * (duration + warmup) / duration
        rows.append({
            "generator": generator,
            "concurrency": concurrency,
            **figures,
            "mean_batch": mean_batch,
            "server_cpu_us_per_request": (1e6 * (server.cpu_seconds() - cpu_before) / answered
                                          if answered else None),
            "peak_rss_mb": server.peak_rss_mb(),
        })
        outcome = (f"failed: {figures['error']}" if "error" in figures else
                   f"{figures['qps']:.0f} QPS, p50 {_ms(figures['p50_ms'])} ms, "
                   f"errors {figures['errors']}, mean batch {mean_batch:.1f}")
        print(f"  {label or model + (' batching=on' if batched else ' batching=off')} "
              f"{generator} c={concurrency}: {outcome}", flush=True)
    return rows


def median_rows(runs: list[dict]) -> list[dict]:
    """One row per model, load generator, batching and concurrency: the median of its rounds
    for QPS, latencies, CPU per request and mean batch; errors summed; the highest RSS; the
    first error message of a level that failed."""
    return rounds.median_rows(
        runs, ("model", "generator", "batching", "concurrency"),
        medians=("qps", "p50_ms", "p99_ms", "server_cpu_us_per_request", "mean_batch"),
        sums=("errors",), highest=("peak_rss_mb",), merged_counts=("errors_by_code",),
        firsts=("error",))


def load_generators(options, analyzer, services) -> list[tuple[str, object]]:
    """(label, level function) of every load generator asked for: zoo bench, then perf_analyzer
    in each of `services` (when `analyzer`, a zoo.bench.perf_analyzer.PerfAnalyzer, is given)."""
    generators = [(ZOO_BENCH, zoo_bench_level)] if ZOO_BENCH in options.load_generator else []
    if analyzer is not None:
        generators += [(f"{PERF_ANALYZER} {service}", perf_analyzer_level(analyzer, service))
                       for service in services]
    return generators


def _floor_answers(generator: str) -> bool:
    """Whether the floor server speaks what `generator` sends (it serves TF Serving's gRPC
    Predict only)."""
    return generator == ZOO_BENCH or generator.split(" ", 1)[-1] in FLOOR_SERVICES


def benchmark_model(name: str, options, workdir: Path, analyzer=None) -> list[dict]:
    """Every level of one model, batching off and on and on the gRPC floor, with the in-process
    limit for each; `analyzer` (a zoo.bench.perf_analyzer.PerfAnalyzer) measures beside or
    instead of zoo bench. The three servers are up at once and take turns at each level (the
    others idle meanwhile), `options.rounds` times, and each level is the median of its rounds:
    a change in the machine's load falls on all of them alike, where servers measured one after
    another would show the machine's drift between them as a difference between servers."""
    version_dir = in_fresh_process(export_model, name, str(workdir / "models"))
    base_path = str(Path(version_dir).parent)
    flags = MODELS[name].server_flags
    servers = {}
    runs, floor_runs = [], []
    try:
        for batching in (None, options.batching_parameters):
            servers[batching is not None] = ServerProcess.model_server(name, base_path, workdir,
                                                                       batching, flags)
        servers[FLOOR] = ServerProcess.grpc_floor(name, version_dir, workdir)
        for round_number in range(1, options.rounds + 1):
            if options.rounds > 1:
                print(f"  round {round_number} of {options.rounds}", flush=True)
            for generator, measure in load_generators(options, analyzer,
                                                      options.perf_analyzer_services):
                for concurrency in options.concurrency:
                    for key, server in servers.items():
                        if key == FLOOR and not _floor_answers(generator):
                            continue
                        label = f"{name} gRPC floor" if key == FLOOR else None
                        [row] = run_levels(server, name, [concurrency], options.duration,
                                           options.warmup, generator, measure, label)
                        if key == FLOOR:
                            floor_runs.append(row)
                        else:
                            runs.append({"model": name, "batching": key, **row})
    finally:
        for server in servers.values():
            server.stop()
    rows = median_rows(runs)
    for row in rows:
        row["server_flags"] = list(flags)
    rows.sort(key=lambda row: row["batching"])  # the table: batching off first
    floor_rows = {(row["generator"], row["concurrency"]): row
                  for row in rounds.median_rows(floor_runs, ("generator", "concurrency"),
                                                medians=("qps", "server_cpu_us_per_request"))}
    for row in rows:
        floor_row = floor_rows.get((row["generator"], row["concurrency"]), {})
        row["floor_qps"] = floor_row.get("qps")
        row["floor_cpu_us_per_request"] = floor_row.get("server_cpu_us_per_request")
        row["of_floor"] = (row["qps"] / row["floor_qps"]
                           if row["qps"] is not None and row["floor_qps"] else None)
    full_batch = max_batch_size(options.batching_parameters)
    reached = sorted({max(1, round(row["mean_batch"])) for row in rows} | {1, full_batch})
    limits = in_fresh_process(measure_in_process, version_dir, reached, options.in_process_seconds,
                              MODELS[name].server_flags)
    for row in rows:
        row["batch_one_model_cpu_us"] = limits[1]["cpu_us_per_example"]
        row["full_batch"] = full_batch
        row["full_batch_model_cpu_us_per_example"] = limits[full_batch]["cpu_us_per_example"]
        batch = max(1, round(row["mean_batch"]))
        row["in_process_batch"] = batch
        row["in_process_examples_per_second"] = limits[batch]["examples_per_second"]
        row["in_process_callers"] = limits[batch]["callers"]
        row["model_cpu_us_per_example"] = limits[batch]["cpu_us_per_example"]
        row["ratio"] = (row["qps"] / limits[batch]["examples_per_second"]
                        if row["qps"] is not None else None)
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
    spends on one (the RPC floor, under the same load generator) and what the model costs per
    example at the batch reached. None where there is no floor to compare with."""
    if row["server_cpu_us_per_request"] is None or row["floor_cpu_us_per_request"] is None:
        return None
    return (row["server_cpu_us_per_request"] - row["floor_cpu_us_per_request"]
            - row["model_cpu_us_per_example"])


def max_batch_size(batching_parameters: str) -> int:
    """The max_batch_size a BatchingParameters text sets (TF Serving's default, 1000, if none)."""
    found = re.search(r"max_batch_size\s*\{\s*value:\s*(\d+)", batching_parameters)
    return int(found.group(1)) if found else 1000


def batching_gain_ceiling(on: dict, off: dict) -> float | None:
    """The most batching could gain at this RPC floor if the server itself cost nothing: each
    request costs the floor server's CPU plus the model's, at batch 1 without batching and at
    full batches with it. Where both servers use the whole machine, QPS goes as the inverse of
    CPU per request, and a load generator sharing the machine only lowers the ratio."""
    floor = on.get("floor_cpu_us_per_request")
    if floor is None or "full_batch_model_cpu_us_per_example" not in on:
        return None
    return ((floor + off["batch_one_model_cpu_us"])
            / (floor + on["full_batch_model_cpu_us_per_example"]))


def check_targets(rows: list[dict]) -> list[str]:
    """The issue's targets for the small CNN, each as one line saying met or not and by how much,
    judged on the rows of the first load generator that measured (zoo bench when it ran)."""
    if not rows:
        return []
    first = rows[0].get("generator", ZOO_BENCH)
    errors = sum(row["errors"] for row in rows)
    rows = [row for row in rows if row.get("generator", ZOO_BENCH) == first
            and row["qps"] is not None]
    by_key = {(row["model"], row["batching"], row["concurrency"]): row for row in rows}
    lines = []
    on, off = by_key.get(("cnn", True, 32)), by_key.get(("cnn", False, 32))
    if on and off:
        gain = on["qps"] / off["qps"] if off["qps"] else float("inf")
        ceiling = batching_gain_ceiling(on, off)
        bound = ("" if ceiling is None else
                 f"; at this floor ({on['floor_cpu_us_per_request']:.0f} us a request) a server "
                 f"costing nothing itself gains at most {ceiling:.2f}x with batches of "
                 f"{on['full_batch']}")
        lines.append(f"cnn c=32: batching gives {gain:.2f}x the QPS without batching{bound} "
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
    lines.append(f"errors in every run: {errors} (target 0): {'met' if errors == 0 else 'NOT met'}")
    return lines


def format_table(rows: list[dict]) -> str:
    """One line per row; `generator` says which load generator measured it ("-": no figure)."""
    header = ("model", "generator", "batching", "c", "QPS", "p50 ms", "p99 ms", "errors",
              "CPU us/req", "overhead us", "batch", "in-proc ex/s", "ratio", "floor QPS",
              "of floor", "RSS MB")
    lines = [header]
    for row in rows:
        lines.append((row["model"], row.get("generator", ZOO_BENCH),
                      "on" if row["batching"] else "off", str(row["concurrency"]),
                      _number(row["qps"], ".0f"), _ms(row["p50_ms"]), _ms(row["p99_ms"]),
                      str(row["errors"]), _number(row["server_cpu_us_per_request"], ".0f"),
                      _number(row["overhead_us_per_request"], ".0f"),
                      f"{row['mean_batch']:.1f}", f"{row['in_process_examples_per_second']:.0f}",
                      _number(row["ratio"], ".2f"), _number(row["floor_qps"], ".0f"),
                      _number(row["of_floor"], ".2f"), f"{row['peak_rss_mb']:.0f}"))
    widths = [max(len(line[index]) for line in lines) for index in range(len(header))]
    text = ["  ".join(cell.rjust(width) for cell, width in zip(line, widths)) for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text)


def _ms(value) -> str:
    return _number(value, ".2f")


def _number(value, form: str) -> str:
    return "-" if value is None else format(value, form)


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="cnn,mlp,mobilenet_v2",
                        help=f"comma-separated, from {', '.join(MODELS)}")
    parser.add_argument("--concurrency", default="1,8,32,128", help="levels, comma-separated")
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per level")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per level")
    parser.add_argument("--rounds", type=int, default=1,
                        help="times every level runs on every server; the table shows medians")
    parser.add_argument("--in-process-seconds", type=float, default=3.0,
                        help="seconds of in-process calls per batch size")
    parser.add_argument("--batching-parameters", default=DEFAULT_BATCHING,
                        help="BatchingParameters text for the batching-on servers")
    parser.add_argument("--output", default=str(REPO_ROOT / "runs" / "benchmarks" / "serving.json"),
                        help="where the JSON results go")
    parser.add_argument("--load-generator", default=ZOO_BENCH,
                        help="comma-separated: zoo-bench (Python, TF Serving gRPC Predict) "
                             "and/or perf_analyzer (Triton's, C++; in each of "
                             "--perf-analyzer-services)")
    parser.add_argument("--perf-analyzer-services", default="tfserving-grpc,triton-grpc",
                        help=f"comma-separated, from {', '.join(SERVICES)}")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: mlp only, c=1,8, 1 s levels")
    parser.add_argument("--image-inputs", action="store_true",
                        help="measure the pretrained EfficientNet-Lite0 export's image_bytes signature "
                        "against its pixels one at batch 1 and 32 instead (--duration and "
                        "--in-process-seconds per measurement)")
    parser.add_argument("--request-logging", metavar="RATES",
                        help="measure request logging instead: sampling rates, comma-separated "
                             "(e.g. 0,0.01,1), against a server without logging_config")
    options = parser.parse_args(argv)
    options.load_generator = _names(parser, "--load-generator", options.load_generator,
                                    LOAD_GENERATORS)
    options.perf_analyzer_services = _names(parser, "--perf-analyzer-services",
                                            options.perf_analyzer_services, tuple(SERVICES))
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
    if options.rounds < 1:
        parser.error(f"--rounds must be at least 1. Received: {options.rounds}")
    if options.request_logging is not None:
        try:
            options.request_logging = [float(value) for value in options.request_logging.split(",")]
        except ValueError:
            parser.error(f"--request-logging must be numbers. Received: {options.request_logging!r}")
        if not all(0 <= rate <= 1 for rate in options.request_logging):
            parser.error("--request-logging rates must be in [0, 1]")
    return options


def _names(parser, flag: str, text: str, known: tuple[str, ...]) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        parser.error(f"{flag}: unknown or missing name(s) {', '.join(unknown) or repr(text)}; "
                     f"choose from {', '.join(known)}")
    return names


def perf_analyzer_if_asked(options):
    """The perf_analyzer to measure with, or None: not asked for, or it cannot start here, in
    which case one line says why and zoo bench measures instead."""
    if PERF_ANALYZER not in options.load_generator:
        return None
    try:
        return find_perf_analyzer()
    except PerfAnalyzerUnavailable as error:
        print(f"perf_analyzer cannot be used: {error}; measuring with zoo bench instead",
              flush=True)
        if ZOO_BENCH not in options.load_generator:
            options.load_generator.append(ZOO_BENCH)
        return None


def main(argv=None) -> int:
    options = parse_arguments(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if options.image_inputs:
        return main_image_inputs(options)
    analyzer = perf_analyzer_if_asked(options)
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
                rows += benchmark_model(name, options, Path(scratch), analyzer)
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
        "rounds": options.rounds,
        "load_generators": options.load_generator,
        "perf_analyzer_services": options.perf_analyzer_services if analyzer else [],
        "rows": rows,
        "targets": targets,
    }
    output = Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    print(f"results written to {output}")
    return 1 if any(row["errors"] for row in rows) else 0


def main_image_inputs(options) -> int:
    load_before, started = os.getloadavg(), time.time()
    print(f"== {IMAGE_MODEL} {IMAGE_SIDE}x{IMAGE_SIDE}: image_bytes against pixels", flush=True)
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as scratch:
        rows = benchmark_image_inputs(options, Path(scratch))
    print()
    print(format_image_table(rows))
    output = Path(options.output).with_name("serving_image_inputs.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "seconds": time.time() - started, "cpu_count": os.cpu_count(),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "duration": options.duration, "in_process_seconds": options.in_process_seconds, "rows": rows,
    }, indent=2))
    print(f"results written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
