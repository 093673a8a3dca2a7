"""Training throughput: `zoo train` against a plain `model.fit` on in-memory tensors.

    python benchmarks/training.py            # the zoo CNN on Fashion-MNIST, 3 epochs of 100 steps
    python benchmarks/training.py --quick    # a smoke run: default strategy, 2 epochs of 10 steps

Both train the same zoo CNN (28x28x1, 10 classes) at the same global batch size, with the same
10% validation pass each epoch, under each of: the default strategy and MirroredStrategy over 2
logical CPU devices, each without and with XLA (jit_compile). `zoo train` runs as the CLI does
(tf.data pipeline from the real dataset, checkpoints, TensorBoard, backup); the plain run calls
`model.fit` on tensors already in memory (random values: the cost does not depend on them).
Throughput is training examples per second over the epochs after the first (which pays for
tracing). Every configuration runs in a fresh process, since logical devices must be set up before
TensorFlow starts; one that fails (TensorFlow's mirrored + XLA on CPU does) is reported with its
error instead of a number. One table is printed and the results go to a JSON file.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
DATASET = "fashion_mnist"
INPUT_SHAPE = (28, 28, 1)
VALIDATION_FRACTION = 0.1
RUN_TIMEOUT = 900.0


def plain_fit(strategy_name: str, xla: bool, examples: int, batch_size: int, epochs: int,
              devices: int) -> dict:
    """`model.fit` on in-memory tensors in this (fresh) process; examples/s after epoch 1."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    from zoo.models import build_model
    from zoo.spec import DataSpec

    if strategy_name == "mirrored":
        [cpu] = tf.config.list_physical_devices("CPU")
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
        strategy = tf.distribute.MirroredStrategy([f"/cpu:{index}" for index in range(devices)])
    else:
        strategy = tf.distribute.get_strategy()
    rng = np.random.default_rng(0)
    validation = max(1, int(examples * VALIDATION_FRACTION))
    x = tf.constant(rng.random((examples + validation, *INPUT_SHAPE), dtype=np.float32))
    y = tf.constant(rng.integers(0, 10, examples + validation))
    spec = DataSpec(name="bench", kind="image", task="classification", input_shape=INPUT_SHAPE,
                    num_outputs=10)
    with strategy.scope():
        model = build_model("cnn", spec, adapt_data=x[:1000].numpy())
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=xla)
    timer = epoch_timer(keras)
    model.fit(x[:examples], y[:examples], batch_size=batch_size, epochs=epochs, verbose=0,
              validation_data=(x[examples:], y[examples:]), callbacks=[timer])
    steady = timer.seconds[1:] or timer.seconds
    return {"examples_per_second": examples * len(steady) / sum(steady),
            "epoch_seconds": timer.seconds}


def epoch_timer(keras):
    """A Keras callback recording each epoch's wall time (built here: keras is imported late)."""

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []
            self._started = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._started)

    return EpochTimer()


def run_plain(strategy_name: str, xla: bool, options) -> dict:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        future = pool.submit(plain_fit, strategy_name, xla, options.examples, options.batch_size,
                             options.epochs, options.devices)
        try:
            return future.result(timeout=RUN_TIMEOUT)
        except Exception as error:  # TensorFlow refusing a configuration is a result, not a crash
            return {"error": _cause(f"{type(error).__name__}: {error}")}


def run_zoo_train(strategy_name: str, xla: bool, options, workdir: Path) -> dict:
    """`zoo train` as a user runs it; examples/s from the metrics.json it writes."""
    argv = [sys.executable, "-m", "zoo.cli.main", "train", "cnn", "--dataset", DATASET,
            "--epochs", str(options.epochs), "--batch-size", str(options.batch_size),
            "--train-examples", str(options.examples), "--strategy", strategy_name,
            "--num-devices", str(options.devices), "--workdir", str(workdir), "--verbose", "0",
            "--validation-fraction", str(VALIDATION_FRACTION)]
    if xla:
        argv.append("--jit-compile")
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO_ROOT))
    try:
        finished = subprocess.run(argv, capture_output=True, text=True, env=environment,
                                  cwd=REPO_ROOT, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {RUN_TIMEOUT:.0f} s"}
    metrics_file = workdir / "metrics.json"
    if finished.returncode != 0 or not metrics_file.exists():
        return {"error": _cause(finished.stderr) or f"exit status {finished.returncode}"}
    metrics = json.loads(metrics_file.read_text())
    return {"examples_per_second": metrics["examples_per_second"],
            "epoch_seconds": metrics["history"].get("epoch_seconds")}


def _cause(text: str, limit: int = 240) -> str:
    """What went wrong, in one line: the error's type and the last line of its message.

    TensorFlow's graph errors print the Python stack where the graph was built first, the cause
    ("Trying to access resource ... located in device CPU:1 from device CPU:0") last, then the
    failing node and a documentation link; the log lines, node annotations and links are skipped.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()
             and not line.startswith(("I0000", "W0000", "E0000", "WARNING: All log"))
             and not line.strip().startswith(("[[{{node", "[Op:", "Cf. http"))]
    if not lines:
        return ""
    error_type = re.search(r"\b(\w+(?:Error|Exception))\b", text)
    line = lines[-1]
    if error_type and error_type.group(1) not in line:
        line = f"{error_type.group(1)}: {line}"
    return line if len(line) <= limit else line[:limit] + "..."


def format_table(rows: list[dict]) -> str:
    header = ("run", "strategy", "XLA", "examples/s", "zoo/plain", "note")
    plain = {(row["strategy"], row["xla"]): row for row in rows if row["run"] == "model.fit"}
    lines = [header]
    for row in rows:
        rate = row.get("examples_per_second")
        other = plain.get((row["strategy"], row["xla"]), {}).get("examples_per_second")
        ratio = f"{rate / other:.2f}" if row["run"] == "zoo train" and rate and other else ""
        lines.append((row["run"], row["strategy"], "on" if row["xla"] else "off",
                      f"{rate:,.0f}" if rate else "-", ratio,
                      f"failed: {row['error']}" if "error" in row else ""))
    widths = [max(len(line[index]) for line in lines) for index in range(len(header))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
            for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text)


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=12800, help="training examples per epoch")
    parser.add_argument("--batch-size", type=int, default=128, help="global batch size")
    parser.add_argument("--epochs", type=int, default=3, help="epochs (the first is not timed)")
    parser.add_argument("--devices", type=int, default=2, help="logical CPU devices for mirrored")
    parser.add_argument("--output", help="where the JSON results go",
                        default=str(REPO_ROOT / "runs" / "benchmarks" / "training.json"))
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: default strategy without XLA only, 2 epochs of 10 steps")
    options = parser.parse_args(argv)
    options.configurations = list(itertools.product(("default", "mirrored"), (False, True)))
    if options.quick:
        options.examples, options.batch_size, options.epochs = 640, 64, 2
        options.configurations = [("default", False)]
    for name in ("examples", "batch_size", "epochs", "devices"):
        if getattr(options, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return options


def main(argv=None) -> int:
    options = parse_arguments(argv)
    load_before = os.getloadavg()
    started = time.time()
    rows = []
    with tempfile.TemporaryDirectory(prefix="training-bench-") as scratch:
        for index, (strategy_name, xla) in enumerate(options.configurations):
            for run in ("model.fit", "zoo train"):
                if run == "model.fit":
                    result = run_plain(strategy_name, xla, options)
                else:
                    result = run_zoo_train(strategy_name, xla, options,
                                           Path(scratch) / f"workdir-{index}")
                row = {"run": run, "strategy": strategy_name, "xla": xla, **result}
                rows.append(row)
                outcome = (f"{row['examples_per_second']:,.0f} examples/s"
                           if "examples_per_second" in row else f"failed: {row['error']}")
                print(f"  {run} strategy={strategy_name} xla={'on' if xla else 'off'}: {outcome}",
                      flush=True)
    print()
    print(format_table(rows))
    report = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "seconds": time.time() - started,
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "dataset": DATASET,
        "examples": options.examples,
        "batch_size": options.batch_size,
        "epochs": options.epochs,
        "devices": options.devices,
        "rows": rows,
    }
    output = Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    print(f"results written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
