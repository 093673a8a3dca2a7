"""zoo-serve side by side with KServe: the same SavedModel behind each, the same OIP gRPC client.

    python benchmarks/peers.py --install      # once: KServe + TensorFlow in a venv of their own
    python benchmarks/peers.py                # the CNN at c = 1, 8, 32, 3 rounds (about 6 minutes)
    python benchmarks/peers.py --quick        # smoke run: c = 1, 4, 1 s levels

The peer is KServe's Python model server (`kserve` KSERVE_VERSION from PyPI) with the SavedModel
wrapped in a custom `kserve.Model` (benchmarks/kserve_peer_server.py: `tf.saved_model.load`,
then the `serving_default` signature), what a KServe user writes to serve a TensorFlow model from
Python. KServe needs protobuf < 7 and zoo-serve protobuf 7, so the peer lives in a virtualenv of
its own, with the same TensorFlow version as ours: PEERS_DIR/kserve-KSERVE_VERSION, where
PEERS_DIR is `--peers-dir`, else $TFZOO_PEERS_DIR, else ~/.cache/tfzoo/peers. `--install` makes
it (about 2.5 GB, a few minutes); without it, an absent peer is one line saying how to install it
(exit status 2).

The run exports the reference model fresh (benchmarks/serving.py's export: the zoo CNN on
28x28x1, 10 classes, untrained) and serves it on 127.0.0.1 and free ports with KServe, zoo-serve
without batching and zoo-serve with benchmarks/serving.py's batching parameters, all up at once
and taking turns at each level (see run_servers). Every server runs TensorFlow with the model's
flags from benchmarks/serving.py (the CNN: one intra-op and one inter-op thread). Each is driven
by `zoo bench --protocol oip-grpc` (worker processes of their own, ModelInfer with
raw_input_contents, batch-1 requests) at each concurrency, and the whole grid runs `--rounds`
times (3): on a shared machine one level's QPS moves by 30% from one run to the next. The table
gives each level's median QPS, p50, p99 and server CPU per request over the rounds, its errors and
the server's peak RSS; the ratios zoo-serve / KServe come last. Everything, each round's levels
included, goes to a JSON file too.

The peer for other benchmarks (benchmarks/rest.py drives its REST side): load this file as a
module (it is a script, not a package: `import peers` from a sibling script run as
`python benchmarks/X.py`, or by path as tests.support.benchmark_scripts does; importing it takes
benchmarks/ off sys.path, as serving.py does, so that `import serving` finds the server) and

    status = peers.kserve_status()              # PeerStatus: .installed, .reason, .install_command
    if not status.installed:
        print(status.message())                 # the reason, and the command that installs it
    with peers.kserve_peer(saved_model_dir, "m",
                           server_flags=("--tensorflow_intra_op_parallelism=1",)) as peer:
        peer.rest_url        # "http://127.0.0.1:PORT": POST {rest_url}/v1/models/m:predict with
                             # {"instances": [...]} and Content-Type: application/json (KServe
                             # hands any other content type to the model as bytes);
                             # GET {rest_url}/v2/models/m/ready
        peer.grpc_target     # "127.0.0.1:PORT": the Open Inference Protocol over gRPC
        peer.cpu_seconds(), peer.peak_rss_mb(), peer.process.pid
    peers.install_kserve()                      # what --install does

`saved_model_dir` is the SavedModel directory (holding saved_model.pb) or a base path of numbered
versions (the highest is served). `kserve_peer` raises PeerNotInstalled when the peer is absent,
and RuntimeError (with the end of the peer's log) when it does not come up within
START_TIMEOUT seconds; the peer is stopped when the block ends, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

BENCHMARKS = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS.parent
# As in serving.py: run as a script, this directory comes first on sys.path, where
# `import serving` would find benchmarks/serving.py instead of the server package.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCHMARKS]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from zoo.launch.cluster import free_ports  # noqa: E402

from benchmarks import rounds  # noqa: E402


def _load_serving_benchmark():
    """benchmarks/serving.py (the reference model's export, the zoo-serve process and its flags),
    imported by path: its file name is taken by the server package."""
    name = "serving_benchmark"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / "serving.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return sys.modules[name]


serving_benchmark = _load_serving_benchmark()

KSERVE_VERSION = "0.21.0"
PEER_SERVER_SCRIPT = BENCHMARKS / "kserve_peer_server.py"
PEERS_DIR_ENV = "TFZOO_PEERS_DIR"
DEFAULT_PEERS_DIR = Path.home() / ".cache" / "tfzoo" / "peers"
# Written last by install_kserve: the requirements installed, one a line. A folder without it
# (an interrupted install) or with other requirements is not an installed peer.
INSTALLED_MARKER = "tfzoo-peer-requirements.txt"
START_TIMEOUT = 180.0
PEER_NAME = f"KServe {KSERVE_VERSION}"


def peer_requirements() -> tuple[str, ...]:
    """KServe pinned, and the TensorFlow zoo-serve runs on, so that both run the same runtime."""
    return (f"kserve=={KSERVE_VERSION}", f"tensorflow=={importlib.metadata.version('tensorflow')}")


def peers_dir(override: str | os.PathLike | None = None) -> Path:
    """Where peers are installed: `override`, else $TFZOO_PEERS_DIR, else ~/.cache/tfzoo/peers."""
    return Path(override or os.environ.get(PEERS_DIR_ENV) or DEFAULT_PEERS_DIR).expanduser()


class PeerNotInstalled(RuntimeError):
    """The KServe peer is not installed; the message says why and how to install it."""


@dataclasses.dataclass(frozen=True)
class PeerStatus:
    installed: bool
    reason: str                      # why not installed ("" when installed)
    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def install_command(self) -> str:
        command = f"{_display_path(Path(sys.executable))} benchmarks/peers.py --install"
        if self.venv.parent != DEFAULT_PEERS_DIR:
            command += f" --peers-dir {self.venv.parent}"
        return command

    def message(self) -> str:
        """One line: why the peer cannot run and the command that installs it."""
        return f"{self.reason}; install it with: {self.install_command}"


def kserve_status(peers: str | os.PathLike | None = None) -> PeerStatus:
    """Whether the KServe peer is installed under `peers` (see peers_dir), and if not, why."""
    venv = peers_dir(peers) / f"kserve-{KSERVE_VERSION}"
    marker = venv / INSTALLED_MARKER
    if not venv.exists():
        return PeerStatus(False, f"{PEER_NAME} is not installed (no {venv})", venv)
    if not marker.exists() or not (venv / "bin" / "python").exists():
        return PeerStatus(False, f"the {PEER_NAME} install in {venv} is incomplete", venv)
    installed = tuple(marker.read_text().split())
    if installed != peer_requirements():
        return PeerStatus(False, f"{venv} holds {' '.join(installed)}, not "
                                 f"{' '.join(peer_requirements())}", venv)
    return PeerStatus(True, "", venv)


def install_kserve(peers: str | os.PathLike | None = None) -> PeerStatus:
    """Installs the peer's requirements into a fresh virtualenv (replacing an incomplete or
    outdated one); pip's errors raise CalledProcessError. Returns the new status."""
    status = kserve_status(peers)
    if status.installed:
        print(f"{PEER_NAME} is already installed in {status.venv}", flush=True)
        return status
    if status.venv.exists():
        shutil.rmtree(status.venv)
    requirements = peer_requirements()
    print(f"installing {' '.join(requirements)} into {status.venv} (about 2.5 GB, a few minutes)",
          flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(status.venv)], check=True)
    subprocess.run([str(status.python), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", *requirements], check=True)
    (status.venv / INSTALLED_MARKER).write_text("\n".join(requirements) + "\n")
    return kserve_status(peers)


# === The peer's process ===


class KServeProcess(serving_benchmark.ServerProcess):
    """kserve_peer_server.py in the peer's virtualenv, on 127.0.0.1 and two free ports.

    It shares ServerProcess's CPU and RSS readings and its stop(); it is up once its REST port
    says the model is ready and its gRPC port accepts a connection. Its output goes to its log
    only (nothing reads its stdout)."""

    def __init__(self, python: Path, saved_model_dir: Path, model_name: str, log_path: Path,
                 server_flags: tuple[str, ...] = (), start_timeout: float = START_TIMEOUT):
        self.port, self.http_port = free_ports(2)
        self.rest_port = None  # ServerProcess.batches() reads zoo-serve's metrics page, not ours
        self.model_name = model_name
        self._log = open(log_path, "w")
        argv = [str(python), str(PEER_SERVER_SCRIPT), f"--model_name={model_name}",
                f"--saved_model_dir={saved_model_dir}", f"--http_port={self.http_port}",
                f"--grpc_port={self.port}", "--bind_address=127.0.0.1",
                "--enable_latency_logging=false", "--configure_logging=false", *server_flags]
        environment = {key: value for key, value in os.environ.items()
                       if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        environment["TF_CPP_MIN_LOG_LEVEL"] = "2"
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=subprocess.STDOUT, env=environment,
                                        cwd=log_path.parent)
        self._wait_until_ready(start_timeout)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        return self.target

    def _wait_until_ready(self, timeout: float) -> None:
        import grpc

        deadline = time.monotonic() + timeout
        ready_url = f"{self.rest_url}/v2/models/{self.model_name}/ready"
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(ready_url, timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        else:
            self._fail("did not start")
        with grpc.insecure_channel(self.grpc_target) as channel:
            try:
                grpc.channel_ready_future(channel).result(max(deadline - time.monotonic(), 1.0))
            except grpc.FutureTimeoutError:
                self._fail("answers REST but not gRPC")

    def _fail(self, what: str) -> None:
        self.stop()
        lines = Path(self._log.name).read_text(errors="replace").strip().splitlines()
        raise RuntimeError(f"the KServe peer {what}; the end of {self._log.name}:\n"
                           + "\n".join(lines[-15:]))


@contextlib.contextmanager
def kserve_peer(saved_model_dir: str | os.PathLike, model_name: str, *,
                server_flags: tuple[str, ...] = (), peers: str | os.PathLike | None = None,
                log_path: str | os.PathLike | None = None,
                start_timeout: float = START_TIMEOUT) -> Iterator[KServeProcess]:
    """The KServe peer serving `saved_model_dir` as `model_name` for the block; see the module's
    docstring. `server_flags` go to kserve_peer_server.py (KServe's own flags, and
    --tensorflow_intra_op_parallelism / --tensorflow_inter_op_parallelism); the peer's output goes
    to `log_path` (default: a temporary file removed with the block)."""
    status = kserve_status(peers)
    if not status.installed:
        raise PeerNotInstalled(status.message())
    version_dir = saved_model_version(Path(saved_model_dir))
    with contextlib.ExitStack() as stack:
        if log_path is None:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kserve-peer-")))
            log_path = scratch / "kserve.log"
        peer = KServeProcess(status.python, version_dir, model_name, Path(log_path),
                             tuple(server_flags), start_timeout)
        try:
            yield peer
        finally:
            peer.stop()


def saved_model_version(path: Path) -> Path:
    """`path` if it holds saved_model.pb, else its highest numbered version that does."""
    if (path / "saved_model.pb").exists():
        return path
    versions = [child for child in path.iterdir() if child.name.isdigit()
                and (child / "saved_model.pb").exists()] if path.is_dir() else []
    if not versions:
        raise ValueError(f"{path} is neither a SavedModel directory nor a base path of numbered "
                         f"SavedModel versions")
    return max(versions, key=lambda child: int(child.name))


# === The benchmark ===


def export_reference_model(name: str, root: str) -> str:
    """benchmarks/serving.py's export of MODELS[name], for a fresh process."""
    return serving_benchmark.export_model(name, root)


def run_level(server, label: str, model: str, concurrency: int, duration: float,
              warmup: float) -> dict:
    """One `zoo bench --protocol oip-grpc` level against a running server."""
    from zoo.bench import BenchOptions, run_benchmark

    cpu_before = server.cpu_seconds()
    [level] = run_benchmark(BenchOptions(
        server=server.target, model=model, concurrency=(concurrency,), duration=duration,
        warmup=warmup, protocol="oip-grpc", timeout=10.0)).levels
    answered = level.requests * (duration + warmup) / duration  # warmup requests used CPU too
    return {
        "server": label, "concurrency": concurrency, "qps": level.requests_per_second,
        "p50_ms": level.p50_ms, "p99_ms": level.p99_ms, "errors": level.errors,
        "errors_by_code": level.errors_by_code, "error_samples": level.error_samples,
        "server_cpu_us_per_request": (1e6 * (server.cpu_seconds() - cpu_before) / answered
                                      if answered else None),
        "peak_rss_mb": server.peak_rss_mb(),
    }


def run_servers(options, status: PeerStatus, workdir: Path) -> list[dict]:
    """Every level on every server, `options.rounds` times; one row per level run.

    The servers are all up at once (an idle one costs memory, no CPU) and take turns at each
    concurrency, so that the load of a shared machine, which drifts over minutes, falls on all
    of them alike rather than on whichever ran last."""
    model = serving_benchmark.MODELS[options.model]
    version_dir = serving_benchmark.in_fresh_process(export_reference_model, options.model,
                                                     str(workdir / "models"))
    with contextlib.ExitStack() as stack:
        print(f"starting {PEER_NAME}", flush=True)
        servers = {PEER_NAME: stack.enter_context(kserve_peer(
            version_dir, options.model, server_flags=model.server_flags,
            peers=status.venv.parent, log_path=workdir / "kserve.log"))}
        for batching, label in ((None, "zoo-serve"),
                                (options.batching_parameters, "zoo-serve batching")):
            print(f"starting {label}", flush=True)
            server = serving_benchmark.ServerProcess.model_server(
                options.model, str(Path(version_dir).parent), workdir, batching,
                model.server_flags)
            stack.callback(server.stop)
            servers[label] = server
        rows = []
        for round_number in range(1, options.rounds + 1):
            for concurrency in options.concurrency:
                for label, server in servers.items():
                    row = run_level(server, label, options.model, concurrency, options.duration,
                                    options.warmup)
                    rows.append({"round": round_number, **row})
                    print(f"  round {round_number} {label} c={concurrency}: {row['qps']:.0f} QPS, "
                          f"p50 {_ms(row['p50_ms'])} ms, errors {row['errors']}", flush=True)
    return rows


def median_rows(runs: list[dict]) -> list[dict]:
    """One row per server and concurrency, in the order they first ran: the median of its
    rounds for QPS, latencies and CPU, the sum of errors, the highest peak RSS."""
    return rounds.median_rows(
        runs, ("server", "concurrency"),
        medians=("qps", "p50_ms", "p99_ms", "server_cpu_us_per_request"), sums=("errors",),
        highest=("peak_rss_mb",), merged_counts=("errors_by_code",))


def ratios(rows: list[dict]) -> list[dict]:
    """Each zoo-serve configuration over the peer: QPS at each concurrency, p99 at the highest,
    CPU per request at the highest, peak RSS."""
    peer = {row["concurrency"]: row for row in rows if row["server"] == PEER_NAME}
    result = []
    for label in dict.fromkeys(row["server"] for row in rows if row["server"] != PEER_NAME):
        ours = {row["concurrency"]: row for row in rows if row["server"] == label}
        top = max(ours)
        entry = {"server": label,
                 "qps": {c: _ratio(ours[c]["qps"], peer[c]["qps"]) for c in ours if c in peer},
                 "p99_at_top": _ratio(ours[top]["p99_ms"], peer.get(top, {}).get("p99_ms")),
                 "cpu_at_top": _ratio(ours[top]["server_cpu_us_per_request"],
                                      peer.get(top, {}).get("server_cpu_us_per_request")),
                 "peak_rss": _ratio(max(row["peak_rss_mb"] for row in ours.values()),
                                    max((row["peak_rss_mb"] for row in peer.values()),
                                        default=None)),
                 "top_concurrency": top}
        result.append(entry)
    return result


def format_table(rows: list[dict]) -> str:
    header = ("server", "c", "QPS", "p50 ms", "p99 ms", "errors", "CPU us/req", "peak RSS MB")
    lines = [header] + [
        (row["server"], str(row["concurrency"]), f"{row['qps']:.0f}", _ms(row["p50_ms"]),
         _ms(row["p99_ms"]), str(row["errors"]),
         "-" if row["server_cpu_us_per_request"] is None
         else f"{row['server_cpu_us_per_request']:.0f}",
         f"{row['peak_rss_mb']:.0f}")
        for row in rows]
    return _aligned(lines, left=1)


def format_ratios(entries: list[dict]) -> str:
    if not entries:
        return ""
    concurrencies = list(entries[0]["qps"])
    top = entries[0]["top_concurrency"]
    header = ("zoo-serve / KServe", *(f"QPS c={c}" for c in concurrencies), f"p99 c={top}",
              f"CPU/req c={top}", "peak RSS")
    lines = [header] + [
        (entry["server"], *(_times(entry["qps"][c]) for c in concurrencies),
         _times(entry["p99_at_top"]), _times(entry["cpu_at_top"]), _times(entry["peak_rss"]))
        for entry in entries]
    return _aligned(lines, left=1)


def _aligned(lines: list[tuple[str, ...]], left: int) -> str:
    widths = [max(len(line[index]) for line in lines) for index in range(len(lines[0]))]
    text = ["  ".join(cell.ljust(width) if index < left else cell.rjust(width)
                      for index, (cell, width) in enumerate(zip(line, widths))) for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text)


def _ratio(ours, theirs) -> float | None:
    return ours / theirs if ours is not None and theirs else None


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _ms(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true",
                        help=f"install {PEER_NAME} (and TensorFlow) into its virtualenv first")
    parser.add_argument("--peers-dir", default=None,
                        help=f"where peers are installed (default: ${PEERS_DIR_ENV}, else "
                             f"{DEFAULT_PEERS_DIR})")
    parser.add_argument("--model", default="cnn", choices=sorted(serving_benchmark.MODELS),
                        help="the zoo model exported and served (default: %(default)s)")
    parser.add_argument("--concurrency", default="1,8,32", help="levels, comma-separated")
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per level")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per level")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times every level runs on every server; the table shows medians")
    parser.add_argument("--batching-parameters", default=serving_benchmark.DEFAULT_BATCHING,
                        help="BatchingParameters text for the zoo-serve batching run")
    parser.add_argument("--output", default=str(REPO_ROOT / "runs" / "benchmarks" / "peers.json"),
                        help="where the JSON results go")
    parser.add_argument("--quick", action="store_true", help="smoke run: c=1,4, 1 s levels")
    options = parser.parse_args(argv)
    if options.quick:
        options.concurrency, options.duration, options.warmup = "1,4", 1.0, 0.5
        options.rounds = 1
    try:
        options.concurrency = [int(value) for value in options.concurrency.split(",")]
    except ValueError:
        parser.error(f"--concurrency must be integers. Received: {options.concurrency!r}")
    if any(value < 1 for value in options.concurrency) or options.duration <= 0:
        parser.error("concurrency levels and --duration must be positive")
    if options.rounds < 1:
        parser.error(f"--rounds must be at least 1. Received: {options.rounds}")
    if options.warmup < 0:
        parser.error(f"--warmup must be >= 0. Received: {options.warmup}")
    return options


def main(argv=None) -> int:
    options = parse_arguments(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    install_or_check = install_kserve if options.install else kserve_status
    status = install_or_check(options.peers_dir)
    if not status.installed:
        print(f"peers.py: {status.message()}", file=sys.stderr)
        return 2
    load_before, started = os.getloadavg(), time.time()
    with tempfile.TemporaryDirectory(prefix="peers-bench-") as scratch:
        runs = run_servers(options, status, Path(scratch))
    rows = median_rows(runs)
    entries = ratios(rows)
    print()
    if options.rounds > 1:
        print(f"median of {options.rounds} rounds")
    print(format_table(rows))
    print()
    print(format_ratios(entries))
    report = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "seconds": time.time() - started,
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "peer": {"name": PEER_NAME, "requirements": list(peer_requirements()),
                 "venv": str(status.venv)},
        "model": options.model,
        "server_flags": list(serving_benchmark.MODELS[options.model].server_flags),
        "batching_parameters": options.batching_parameters,
        "duration": options.duration,
        "warmup": options.warmup,
        "rounds": options.rounds,
        "rows": rows,
        "ratios": entries,
        "runs": runs,
    }
    output = Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    print(f"results written to {output}")
    return 1 if any(row["errors"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
