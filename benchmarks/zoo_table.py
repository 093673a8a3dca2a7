"""The zoo's results table: run the recipes, measure what each costs, write docs/results.{md,json}.

    python benchmarks/zoo_table.py                           # every recipe (about an hour on 2 cores)
    python benchmarks/zoo_table.py --only cnn_digits,gru_co2
    python benchmarks/zoo_table.py --quick --only mlp_digits  # 1 epoch on 512 examples: a dry run

For each recipe, in order:
1. train: the recipe's own command (`zoo train --recipe NAME`, or `zoo finetune`) runs in a child
   process with an export, bounded by --timeout-minutes; its metrics.json gives the test metric,
   the training wall time and examples/s;
2. in-process latency: the exported SavedModel's serving_default at batch 1 and 32 (median);
3. served latency: the real `zoo-serve` on the export, loaded by `zoo bench`'s runner at
   concurrency 1 for --bench-seconds; its p50.
Published figures (Xiao et al. 2017) sit in a column of their own, next to what we measured.
The machine (CPU, cores, TensorFlow version, load average) is recorded with the table: figures
from a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from zoo.errors import ZooError  # noqa: E402
from zoo.launch.cluster import free_ports  # noqa: E402
from zoo.recipes import Recipe, get_recipe, recipe_names  # noqa: E402

TIME_BUDGET_MINUTES = 15  # each recipe must finish within this on 2 CPU cores
QUALITY_BARS = {"cnn_fashion_mnist": 0.92, "mlp_fashion_mnist": 0.88}  # test accuracy
QUICK_TRAIN_EXAMPLES = 512
LATENCY_CALLS = {1: 200, 32: 50}  # calls per batch size, each measurement also capped in time
LATENCY_SECONDS = 5.0
SERVER_READY_SECONDS = 180.0

XIAO_2017 = "Xiao, Rasul, Vollgraf (2017), Fashion-MNIST, arXiv:1708.07747, Table 3"


@dataclasses.dataclass(frozen=True)
class Published:
    """A figure someone else published for a comparable classifier on the same test set."""

    accuracy: float
    classifier: str
    source: str = XIAO_2017


def published_figure(recipe: Recipe) -> Published | None:
    """Xiao et al. benchmark scikit-learn classifiers only (mean test accuracy of 5 runs): the MLP
    is compared with their best MLPClassifier, every other Fashion-MNIST model with the best
    classifier of their table."""
    if recipe.dataset != "fashion_mnist":
        return None
    if recipe.model == "mlp":
        return Published(0.871, "MLPClassifier, relu, hidden_layer_sizes=[100]")
    return Published(0.897, "SVC, C=10, rbf kernel (best in the table)")


# --- one recipe -----------------------------------------------------------------------------------


def public_command(recipe: Recipe, quick: bool) -> list[str]:
    """The command a reader runs to reproduce a row (paths for the run are added separately)."""
    command = recipe.command_line.split()
    if quick:
        epochs = ["--head-epochs", "1", "--finetune-epochs", "1"] if recipe.command == "finetune" else ["--epochs", "1"]
        command += [*epochs, "--train-examples", str(QUICK_TRAIN_EXAMPLES)]
    return command


def train_recipe(recipe: Recipe, run_dir: Path, quick: bool, timeout_minutes: float) -> dict[str, Any]:
    """Runs the recipe's command in a child process; returns its metrics.json plus the command's
    wall time and CPU time (user + system, all threads): on a shared machine the CPU time is the
    steadier figure of what the recipe costs."""
    workdir, export_base = run_dir / "run", run_dir / "export"
    argv = public_command(recipe, quick) + ["--workdir", str(workdir), "--export-base", str(export_base),
                                            "--export-name", recipe.name, "--verbose", "2"]
    log_path = run_dir / "train.log"
    started, cpu_before = time.perf_counter(), _children_cpu_seconds()
    with log_path.open("w") as log:
        child = subprocess.Popen([sys.executable, "-m", "zoo.cli.main", *argv[1:]], stdout=log,
                                 stderr=subprocess.STDOUT, env=_child_environment(), start_new_session=True)
        try:
            code = child.wait(timeout=timeout_minutes * 60)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            raise RecipeFailed(f"did not finish within {timeout_minutes:g} minutes (see {log_path})") from None
    seconds, cpu_seconds = time.perf_counter() - started, _children_cpu_seconds() - cpu_before
    if code != 0:
        raise RecipeFailed(f"exit code {code}: {_last_line(log_path)} (see {log_path})")
    metrics = json.loads((workdir / "metrics.json").read_text())
    return {**metrics, "command_seconds": seconds, "command_cpu_seconds": cpu_seconds}


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class RecipeFailed(Exception):
    """A recipe's training command failed or ran out of time; its row says so."""


def measure_recipe(recipe: Recipe, run_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    run_dir.mkdir(parents=True, exist_ok=True)
    command = public_command(recipe, args.quick)
    row: dict[str, Any] = {"recipe": recipe.name, "model": recipe.model, "dataset": recipe.dataset,
                           "command": " ".join(command)}
    published = published_figure(recipe)
    row["published"] = dataclasses.asdict(published) if published else None
    print(f"== {recipe.name}: {row['command']}", flush=True)
    try:
        metrics = train_recipe(recipe, run_dir, args.quick, args.timeout_minutes)
    except RecipeFailed as error:
        print(f"   FAILED: {error}", flush=True)
        return {**row, "status": "failed", "error": str(error)}
    export_dir = Path(metrics["export_dir"])
    card = json.loads((export_dir / "assets.extra" / "model_card.json").read_text())
    dataset = _load_test_split(metrics["config"])
    row.update(
        status="ok",
        test_metrics=metrics["test"],
        metric=_headline_metric(metrics["test"]),
        baseline=_baseline(dataset),
        parameters=card["parameters"],
        epochs=metrics["epochs"],
        train_seconds=metrics["wall_seconds"],
        command_seconds=metrics["command_seconds"],
        command_cpu_seconds=metrics["command_cpu_seconds"],
        examples_per_second=metrics["examples_per_second"],
        latency_ms=in_process_latency(export_dir, dataset.spec.input_name, dataset.x_test),
        served=_served_or_error(export_dir.parent, recipe.name, run_dir, args.bench_seconds),
        export_dir=str(export_dir),
    )
    bar = QUALITY_BARS.get(recipe.name)
    row["quality_bar"] = None if bar is None else {"accuracy": bar, "met": row["metric"]["value"] >= bar}
    row["within_time_budget"] = row["command_seconds"] <= TIME_BUDGET_MINUTES * 60
    print(f"   {row['metric']['name']} {row['metric']['value']:.4f}, {row['command_seconds']:.0f} s, "
          f"served {_served_cell(row['served'])}", flush=True)
    return row


def _headline_metric(test: dict[str, float]) -> dict[str, Any]:
    if "accuracy" in test:
        return {"name": "accuracy", "value": test["accuracy"]}
    return {"name": "MAE", "value": test["mae"]}


def _load_test_split(config: dict[str, Any]):
    from zoo.data import load_dataset

    return load_dataset(config["dataset"], data_dir=config.get("data_dir"), target=config.get("target"),
                        seed=config["seed"], validation_fraction=config["validation_fraction"],
                        **config.get("dataset_options", {}))


def _baseline(dataset) -> dict[str, Any] | None:
    """Time series are scored against the seasonal-naive forecast on the same test windows."""
    from zoo.data import TimeseriesDataset, seasonal_naive_forecast

    if not isinstance(dataset, TimeseriesDataset):
        return None
    forecast = seasonal_naive_forecast(dataset)
    mae = float(abs(forecast - dataset.y_test.reshape(forecast.shape)).mean())
    return {"name": f"seasonal-naive MAE (season {dataset.season_length})", "value": mae}


# --- latency --------------------------------------------------------------------------------------


def in_process_latency(export_dir: Path, input_name: str, x_test) -> dict[str, float]:
    """Median milliseconds of one serving_default call at batch 1 and 32, in this process."""
    import numpy as np
    import tensorflow as tf

    serving = tf.saved_model.load(str(export_dir)).signatures["serving_default"]
    result = {}
    for batch, calls in LATENCY_CALLS.items():
        examples = np.resize(x_test, (batch, *x_test.shape[1:])).astype(np.float32)
        inputs = {input_name: tf.constant(examples)}
        for _ in range(3):  # the first calls pay for tracing and allocation
            serving(**inputs)
        timings, stop = [], time.perf_counter() + LATENCY_SECONDS
        while len(timings) < calls and time.perf_counter() < stop:
            started = time.perf_counter()
            serving(**inputs)
            timings.append((time.perf_counter() - started) * 1000)
        result[f"batch_{batch}"] = statistics.median(timings)
    return result


def served_latency(model_base: Path, model_name: str, run_dir: Path, seconds: float) -> dict[str, Any]:
    """p50 at concurrency 1 against a real zoo-serve on the export, measured by zoo bench."""
    from tfzoo_client import Client
    from zoo.bench import BenchOptions, run_benchmark

    [port] = free_ports(1)
    with (run_dir / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "serving", f"--port={port}", "--grpc_bind_address=127.0.0.1",
             f"--model_name={model_name}", f"--model_base_path={model_base}"],
            stdout=log, stderr=subprocess.STDOUT, env=_child_environment(),
        )
        try:
            with Client(f"127.0.0.1:{port}") as client:
                client.wait_until_ready(model_name, timeout=SERVER_READY_SECONDS)
            result = run_benchmark(BenchOptions(server=f"127.0.0.1:{port}", model=model_name, concurrency=(1,),
                                                duration=seconds, warmup=1.0))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    level = result.levels[0]
    return {"p50_ms": level.p50_ms, "p99_ms": level.p99_ms, "requests": level.requests, "errors": level.errors}


def _served_or_error(model_base: Path, model_name: str, run_dir: Path, seconds: float) -> dict[str, Any]:
    """The served measurement, or why it could not be taken: the row keeps its training figures."""
    from serving.errors import ServingError

    try:
        return served_latency(model_base, model_name, run_dir, seconds)
    except (ServingError, OSError, subprocess.SubprocessError) as error:
        return {"p50_ms": None, "error": f"{type(error).__name__}: {error} (see {run_dir / 'serve.log'})"}


def _served_cell(served: dict[str, Any]) -> str:
    if served.get("p50_ms") is None:
        return f"not measured: {served.get('error', 'no request succeeded')}"
    return f"{served['p50_ms']:.2f} ms"


def _child_environment() -> dict[str, str]:
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    return environment


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


# --- the machine and the report -------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return {"cpu": cpu, "cores": os.cpu_count(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def markdown_report(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        "# tfzoo results",
        "",
        f"Generated by `python benchmarks/zoo_table.py{' --quick' if report['quick'] else ''}` on "
        f"{report['finished'][:10]}. Machine: {machine['cpu']}, {machine['cores']} cores, no GPU; "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}, Python {machine['python']}. "
        f"Load average (1/5/15 min) at start {_triple(report['load_average_start'])}, at the end "
        f"{_triple(report['load_average_end'])}: {_load_verdict(report)}.",
        "",
    ]
    if report["quick"]:
        lines += [f"**Quick mode**: 1 epoch on {QUICK_TRAIN_EXAMPLES} training examples. These rows check "
                  "the pipeline; they are not results.", ""]
    lines += [
        "| Recipe | Model | Dataset | Test metric | Published | Parameters | Train time (CPU time) | Examples/s "
        "| Latency b=1 / b=32 | Served p50 (c=1) | Command |",
        "|---|---|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    lines += [_markdown_row(row) for row in report["results"]]
    lines += ["", "Train time is the wall time of the whole command (data loading, training, evaluation, "
              "export), with the CPU time it used across both cores in brackets; examples/s "
              "is training throughput after the first epoch. Latencies are medians in milliseconds: "
              "in-process calls of the exported SavedModel's `serving_default`, and gRPC Predict "
              "round trips to `zoo-serve` measured by `zoo bench` at concurrency 1.", ""]
    lines += _quality_section(report["results"]) + _published_section(report["results"])
    return "\n".join(lines) + "\n"


def _load_verdict(report: dict[str, Any]) -> str:
    """Whether other work shared the machine when the table started (the table's own runs load
    it afterwards): a 1-minute load of half the cores or more means it did."""
    if report["load_average_start"][0] >= report["machine"]["cores"] / 2:
        return "other work shared the machine, so times are noisy"
    return "nothing else was running when it started"


def _markdown_row(row: dict[str, Any]) -> str:
    published = row.get("published")
    published_cell = f"{published['accuracy']:.3f} ({published['classifier']})" if published else "—"
    if row["status"] != "ok":
        cells = [row["recipe"], row["model"], row["dataset"], f"FAILED: {row['error'].replace('|', '/')}", published_cell,
                 "", "", "", "", "", f"`{row['command']}`"]
        return "| " + " | ".join(cells) + " |"
    metric = row["metric"]
    metric_cell = f"{metric['name']} {metric['value']:.4f}"
    if row.get("baseline"):
        metric_cell += f" ({row['baseline']['name']} {row['baseline']['value']:.4f})"
    latency = row["latency_ms"]
    cells = [
        row["recipe"], row["model"], row["dataset"], metric_cell, published_cell, f"{row['parameters']:,}",
        f"{_duration(row['command_seconds'])} ({_duration(row['command_cpu_seconds'])})",
        f"{row['examples_per_second']:,.0f}",
        f"{latency['batch_1']:.2f} / {latency['batch_32']:.2f} ms", _served_cell(row["served"]),
        f"`{row['command']}`",
    ]
    return "| " + " | ".join(cells) + " |"


def _quality_section(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["## Quality bar", "",
             f"CNN on Fashion-MNIST >= {QUALITY_BARS['cnn_fashion_mnist']:.0%} test accuracy, MLP >= "
             f"{QUALITY_BARS['mlp_fashion_mnist']:.0%}, every recipe within {TIME_BUDGET_MINUTES} minutes "
             "on 2 CPU cores.", ""]
    for row in rows:
        if row["status"] != "ok":
            lines.append(f"- {row['recipe']}: MISSED, the run failed ({row['error']})")
            continue
        notes = []
        if row["quality_bar"] is not None:
            bar = row["quality_bar"]
            verdict = "met" if bar["met"] else "MISSED"
            notes.append(f"accuracy {row['metric']['value']:.4f} vs bar {bar['accuracy']:.2f}: {verdict}")
        time_verdict = "within" if row["within_time_budget"] else "OVER"
        notes.append(f"{_duration(row['command_seconds'])} wall: {time_verdict} the {TIME_BUDGET_MINUTES}-minute "
                     f"budget (CPU time {_duration(row['command_cpu_seconds'])}, so at least "
                     f"{_duration(row['command_cpu_seconds'] / 2)} on 2 idle cores)")
        lines.append(f"- {row['recipe']}: " + "; ".join(notes))
    return lines + [""]


def _published_section(rows: list[dict[str, Any]]) -> list[str]:
    if not any(row.get("published") for row in rows):
        return []
    return ["## Published figures", "",
            f"The Published column quotes {XIAO_2017}: scikit-learn classifiers on the same 10,000 test "
            "images, mean test accuracy over 5 runs. The paper has no neural network beyond "
            "MLPClassifier, so CNN, RNN and transfer rows are compared with the best classifier in the "
            "table (SVC). Digits, breast_cancer and co2 have no comparable published benchmark (—).", ""]


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def _triple(values: list[float]) -> str:
    return " / ".join(f"{value:.1f}" for value in values)


# --- main -----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", type=lambda text: [name for name in text.split(",") if name],
                        help="comma-separated recipe names (default: every recipe)")
    parser.add_argument("--quick", action="store_true",
                        help=f"1 epoch on {QUICK_TRAIN_EXAMPLES} training examples: checks the pipeline")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "docs",
                        help="where results.md and results.json go (default: docs/)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "runs" / "zoo_table",
                        help="runs, exports and logs (default: runs/zoo_table/)")
    parser.add_argument("--timeout-minutes", type=float, default=2 * TIME_BUDGET_MINUTES,
                        help="stop a recipe's training after this long (default: %(default)s)")
    parser.add_argument("--bench-seconds", type=float, default=5.0,
                        help="measured seconds of the served-latency run (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.timeout_minutes <= 0 or args.bench_seconds <= 0:
        parser.error("--timeout-minutes and --bench-seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        recipes = [get_recipe(name) for name in (args.only or recipe_names())]
    except ZooError as error:
        print(f"zoo_table: error: {error}", file=sys.stderr)
        return 2
    started = datetime.datetime.now(datetime.timezone.utc)
    report: dict[str, Any] = {"quick": args.quick, "started": started.isoformat(timespec="seconds"),
                              "machine": machine_info(), "load_average_start": load_average()}
    stamp = started.strftime("%Y%m%d-%H%M%S")
    report["results"] = [measure_recipe(recipe, args.workdir / stamp / recipe.name, args) for recipe in recipes]
    report["load_average_end"] = load_average()
    report["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.output_dir / "results.md").write_text(markdown_report(report))
    print(f"wrote {args.output_dir / 'results.md'} and {args.output_dir / 'results.json'}")
    return 0 if all(row["status"] == "ok" for row in report["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
