"""REST throughput with a C load generator: zoo-serve's REST port against its own gRPC port and,
where installed, KServe's REST server, side by side in one run.

    python benchmarks/rest.py                        # c=1,8,32,128, 10 s a level, 3 rounds
    python benchmarks/rest.py --quick                # a smoke run: c=1,8, 1 s levels, 1 round
    python benchmarks/rest.py --concurrency 32 --duration 20 --rounds 5

The reference CNN (28x28x1, benchmarks/serving.py's export) is served by `zoo-serve` (batching
off). `wrk` (Debian's package: `apt-get install wrk`) posts the same 7 KB
`{"instances": [[28x28x1 floats]]}` body to `/v1/models/cnn:predict` with that many connections
for a fixed time, and reports req/s, p50, p99 and non-2xx answers; wrk is written in C, so the
client takes little of the machine from the server. The same server is then driven over gRPC by
`zoo bench` at each level (batch-1 Predict), and the REST request's own price is measured apart,
in process: decoding the JSON body against decoding the same tensor from a PredictRequest.
Where benchmarks/peers.py's KServe is installed, its REST v1 server gets the same wrk runs.

All servers are up at once and take turns at each concurrency, `--rounds` times: the load of a
shared machine drifts over minutes (on the 2-core machine one level's req/s moved 30% between
runs), and taking turns puts that drift on every server alike. One table of each level's median
over the rounds is printed, the ratios last, and every round's figures go to a JSON file. Without wrk the
benchmark says how to install it and exits.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# Run as `python benchmarks/rest.py`, this file's directory comes first on sys.path, where
# `import serving` would find benchmarks/serving.py instead of the server package.
sys.path[:] = [entry for entry in sys.path
               if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks import peers, rounds  # noqa: E402
from benchmarks import serving as serving_benchmark  # noqa: E402

MODEL = "cnn"
PREDICT_PATH = f"/v1/models/{MODEL}:predict"
# wrk's Lua hooks: the request is posted as is; `done` prints one JSON line the benchmark reads.
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = io.open("{body_path}", "rb")
wrk.body = file:read("*a")
file:close()

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{{"requests": %d, "seconds": %f, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %f, "p99_us": %f}}\\n',
    summary.requests, summary.duration / 1e6, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def request_body(seed: int = 0) -> bytes:
    """One 28x28x1 image with 4-decimal pixel values, as a client would write it (about 7 KB)."""
    import numpy as np

    image = np.random.default_rng(seed).random((28, 28, 1)).round(4)
    return json.dumps({"instances": [image.tolist()]}).encode()


def wrk_level(url: str, script: Path, concurrency: int, duration: float, warmup: float) -> dict:
    """One wrk run at `concurrency` connections (after an unmeasured warm-up run)."""
    def run(seconds: float) -> dict:
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s",
                   "--timeout", "10s", "-s", str(script), url]
        finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                                  check=True)
        return json.loads(finished.stdout.strip().splitlines()[-1])

    if warmup > 0:
        run(warmup)
    result = run(duration)
    return {"concurrency": concurrency,
            "rps": result["requests"] / result["seconds"] if result["seconds"] else 0.0,
            "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
            "non_2xx": result["non_2xx"], "socket_errors": result["socket_errors"],
            "requests": result["requests"]}


def rest_level(label: str, url: str, script: Path, concurrency: int, options,
               server=None) -> dict:
    """wrk at one level against `url`; with `server` (anything with cpu_seconds() and
    peak_rss_mb(): a ServerProcess, the KServe peer), its CPU per request and peak RSS."""
    cpu_before = server.cpu_seconds() if server else None
    row = wrk_level(url, script, concurrency, options.duration, options.warmup)
    if server:
        answered = row["requests"] * (options.duration + options.warmup) / options.duration
        row["server_cpu_us_per_request"] = (
            1e6 * (server.cpu_seconds() - cpu_before) / answered if answered else None)
        row["peak_rss_mb"] = server.peak_rss_mb()
    print(f"  {label} REST c={concurrency}: {row['rps']:.0f} req/s, p50 {row['p50_ms']:.2f} ms, "
          f"p99 {row['p99_ms']:.2f} ms, non-2xx {row['non_2xx']}", flush=True)
    return {"server": label, "protocol": "REST", **row}


def grpc_level(server, concurrency: int, options) -> dict:
    """`zoo bench` (batch-1 TF Serving Predicts) at one level against zoo-serve's gRPC port."""
    [row] = serving_benchmark.run_levels(server, MODEL, [concurrency], options.duration,
                                         options.warmup, label="zoo-serve gRPC")
    return {"server": "zoo-serve", "protocol": "gRPC", "concurrency": row["concurrency"],
            "rps": row["qps"], "p50_ms": row["p50_ms"], "p99_ms": row["p99_ms"],
            "non_2xx": row["errors"], "socket_errors": 0,
            "server_cpu_us_per_request": row["server_cpu_us_per_request"],
            "peak_rss_mb": row["peak_rss_mb"]}


def run_rounds(version_dir: str, script: Path, workdir: Path, options
               ) -> tuple[list[dict], str]:
    """Every level on every server, `options.rounds` times, the servers taking turns at each
    concurrency; one row per level run, and what became of the peer ("measured" or why not)."""
    with contextlib.ExitStack() as stack:
        server = serving_benchmark.ServerProcess.model_server(
            MODEL, str(Path(version_dir).parent), workdir, None,
            serving_benchmark.MODELS[MODEL].server_flags)
        stack.callback(server.stop)
        targets = [("zoo-serve", f"http://127.0.0.1:{server.rest_port}{PREDICT_PATH}", server)]
        peer_note = "left out (--no-peer)"
        if not options.no_peer:
            status = peers.kserve_status()
            peer_note = status.message() if not status.installed else "measured"
            if status.installed:
                print("starting KServe", flush=True)
                kserve = stack.enter_context(peers.kserve_peer(
                    version_dir, MODEL, server_flags=serving_benchmark.MODELS[MODEL].server_flags))
                targets.append(("KServe", f"{kserve.rest_url}{PREDICT_PATH}", kserve))
        rows = []
        for round_number in range(1, options.rounds + 1):
            print(f"== round {round_number} of {options.rounds}", flush=True)
            for concurrency in options.concurrency:
                for label, url, target in targets:
                    rows.append({"round": round_number,
                                 **rest_level(label, url, script, concurrency, options, target)})
                rows.append({"round": round_number, **grpc_level(server, concurrency, options)})
    return rows, peer_note


def median_rows(runs: list[dict]) -> list[dict]:
    """One row per server, protocol and concurrency, in the order they first ran: the median of
    its rounds for req/s, latencies and CPU; non-2xx and socket errors summed; the highest RSS."""
    return rounds.median_rows(
        runs, ("server", "protocol", "concurrency"),
        medians=("rps", "p50_ms", "p99_ms", "server_cpu_us_per_request"),
        sums=("non_2xx", "socket_errors"), highest=("peak_rss_mb",))


def decode_costs(body: bytes, seconds: float) -> dict:
    """Microseconds to turn the request into the model's input array, in process: the JSON body
    (dense path, and the general parser for comparison) against a PredictRequest's bytes."""
    import numpy as np
    from tensorflow.core.framework import types_pb2
    from tensorflow.core.protobuf import meta_graph_pb2
    from tensorflow_serving.apis import predict_pb2

    from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto, tensor_proto_to_ndarray
    from serving.transports.rest import dense_json, json_io, tfs_tensors

    infos = {"image": meta_graph_pb2.TensorInfo(dtype=types_pb2.DT_FLOAT)}
    image = np.asarray(json.loads(body)["instances"], dtype=np.float32)
    request = predict_pb2.PredictRequest()
    request.inputs["image"].CopyFrom(ndarray_to_tensor_proto(image))
    wire = request.SerializeToString()

    def protobuf():
        parsed = predict_pb2.PredictRequest.FromString(wire)
        return tensor_proto_to_ndarray(parsed.inputs["image"])

    candidates = {
        "json_dense_us": lambda: tfs_tensors.decode_predict_inputs(
            dense_json.parse_predict_body(body), infos),
        "json_general_us": lambda: tfs_tensors.decode_predict_inputs(
            json_io.parse_json_object(body), infos),
        "protobuf_us": protobuf,
    }
    costs = {}
    for name, decode in candidates.items():
        calls, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            decode()
            calls += 1
        costs[name] = 1e6 * (time.perf_counter() - started) / calls
    return costs


def ratios(rows: list[dict], costs: dict) -> list[str]:
    """Issue 21's targets, each as one line saying met or not."""
    def level(server, protocol, concurrency) -> dict | None:
        return next((row for row in rows if (row["server"], row["protocol"], row["concurrency"])
                     == (server, protocol, concurrency)), None)

    lines = []
    ours = [row for row in rows if (row["server"], row["protocol"]) == ("zoo-serve", "REST")]
    up_to_32 = [row["rps"] for row in ours if row["concurrency"] <= 32]
    if len(up_to_32) > 1:
        rising = all(later >= earlier * 0.95 for earlier, later in zip(up_to_32, up_to_32[1:]))
        lines.append(f"REST req/s from c=1 to c=32: {' -> '.join(f'{value:.0f}' for value in up_to_32)} "
                     f"(target non-decreasing, 5% noise allowed): {'met' if rising else 'NOT met'}")
    rest32, grpc32, peer32 = (level("zoo-serve", "REST", 32), level("zoo-serve", "gRPC", 32),
                              level("KServe", "REST", 32))
    if rest32 and grpc32 and grpc32["rps"]:
        share = rest32["rps"] / grpc32["rps"]
        lines.append(f"c=32: REST reaches {share:.0%} of our gRPC QPS (target >= 80%): "
                     f"{'met' if share >= 0.8 else 'NOT met'}")
    if rest32 and peer32 and peer32["rps"]:
        gain = rest32["rps"] / peer32["rps"]
        lines.append(f"c=32: REST req/s {gain:.2f}x KServe's (target >= 2x): "
                     f"{'met' if gain >= 2 else 'NOT met'}")
        lines.append(f"c=32: REST p99 {rest32['p99_ms']:.2f} ms vs KServe's {peer32['p99_ms']:.2f} ms "
                     f"(target no higher): {'met' if rest32['p99_ms'] <= peer32['p99_ms'] else 'NOT met'}")
    failures = sum(row["non_2xx"] + row["socket_errors"] for row in ours)
    lines.append(f"zoo-serve REST non-2xx and socket errors under load: {failures} (target 0): "
                 f"{'met' if failures == 0 else 'NOT met'}")
    lines.append(f"decoding the request, in process: JSON {costs['json_dense_us']:.0f} us "
                 f"(general parser {costs['json_general_us']:.0f} us), protobuf "
                 f"{costs['protobuf_us']:.0f} us")
    return lines


def format_table(rows: list[dict]) -> str:
    header = ("server", "protocol", "c", "req/s", "p50 ms", "p99 ms", "non-2xx", "CPU us/req")
    lines = [header]
    for row in rows:
        cpu = row.get("server_cpu_us_per_request")
        lines.append((row["server"], row["protocol"], str(row["concurrency"]), f"{row['rps']:.0f}",
                      f"{row['p50_ms']:.2f}", f"{row['p99_ms']:.2f}",
                      str(row["non_2xx"] + row["socket_errors"]), f"{cpu:.0f}" if cpu else "-"))
    widths = [max(len(line[index]) for line in lines) for index in range(len(header))]
    text = ["  ".join(cell.rjust(width) for cell, width in zip(line, widths)) for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text)


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="1,8,32,128", help="levels, comma-separated")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per level")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per level")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times every level runs on every server; the table shows medians")
    parser.add_argument("--no-peer", action="store_true", help="leave KServe out even if installed")
    parser.add_argument("--output", default=str(REPO_ROOT / "runs" / "benchmarks" / "rest.json"),
                        help="where the JSON results go")
    parser.add_argument("--quick", action="store_true", help="smoke run: c=1,8, 1 s levels, one round, no peer")
    options = parser.parse_args(argv)
    if options.quick:
        options.concurrency, options.duration, options.warmup = "1,8", 1.0, 0.5
        options.no_peer, options.rounds = True, 1
    try:
        options.concurrency = [int(value) for value in options.concurrency.split(",")]
    except ValueError:
        parser.error(f"--concurrency must be integers. Received: {options.concurrency!r}")
    if any(value < 1 for value in options.concurrency) or options.duration <= 0:
        parser.error("concurrency levels and --duration must be positive")
    if options.rounds < 1:
        parser.error(f"--rounds must be at least 1. Received: {options.rounds}")
    return options


def main(argv=None) -> int:
    options = parse_arguments(argv)
    if shutil.which("wrk") is None:
        print("benchmarks/rest.py needs wrk, the HTTP load generator: install Debian's package "
              "with `apt-get install wrk` (or build it from github.com/wg/wrk). Nothing measured.")
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    load_before, started = os.getloadavg(), time.time()
    with tempfile.TemporaryDirectory(prefix="rest-bench-") as scratch:
        workdir = Path(scratch)
        version_dir = serving_benchmark.in_fresh_process(serving_benchmark.export_model, MODEL,
                                                         str(workdir / "models"))
        body = request_body()
        (workdir / "body.json").write_bytes(body)
        script = workdir / "predict.lua"
        script.write_text(WRK_SCRIPT.format(body_path=workdir / "body.json"))
        runs, peer_note = run_rounds(version_dir, script, workdir, options)
        costs = decode_costs(body, seconds=0.5 if options.quick else 3.0)
    rows = median_rows(runs)
    targets = ratios(rows, costs)
    print()
    print(format_table(rows))
    print(f"median of {options.rounds} round{'s' if options.rounds > 1 else ''}; KServe: {peer_note}")
    for line in targets:
        print(line)
    report = {"started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
              "seconds": time.time() - started, "cpu_count": os.cpu_count(),
              "load_average_before": load_before, "load_average_after": os.getloadavg(),
              "body_bytes": len(body), "duration": options.duration, "warmup": options.warmup,
              "peer": peer_note, "rounds": options.rounds, "rows": rows, "runs": runs,
              "decode_costs_us": costs, "targets": targets}
    output = Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    print(f"results written to {output}")
    return 1 if any(row["non_2xx"] + row["socket_errors"] for row in rows
                    if row["server"] == "zoo-serve") else 0


if __name__ == "__main__":
    sys.exit(main())
