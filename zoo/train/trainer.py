"""`zoo train`: data, strategy, model built and compiled in the strategy's scope, fit, evaluate,
export. Reads top to bottom like a training script, because that is what it is."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

import zoo
from zoo.data import load_dataset, make_pipelines
from zoo.export import export_saved_model
from zoo.models import build_model, get_model_entry
from zoo.spec import Dataset
from zoo.tables import format_table
from zoo.train.callbacks import ThroughputMeter, make_callbacks
from zoo.train.config import TrainConfig
from zoo.train.optim import loss_and_metrics, make_optimizer
from zoo.train.strategy import is_chief, make_strategy

MODEL_FILE = "model.keras"
METRICS_FILE = "metrics.json"
WARMUP_EXAMPLES = 8


@dataclasses.dataclass
class TrainResult:
    config: TrainConfig
    workdir: Path
    model: keras.Model
    dataset: Dataset
    history: dict[str, list[float]]
    test_metrics: dict[str, float]
    epochs_run: int
    wall_seconds: float
    examples_per_second: float
    num_replicas: int
    export_dir: Path | None

    def summary_table(self) -> str:
        rows = [
            [epoch + 1, seconds, rate, *(self.history[key][epoch] for key in self._metric_keys())]
            for epoch, (seconds, rate) in enumerate(
                zip(self.history["epoch_seconds"], self.history["examples_per_second"])
            )
        ]
        table = format_table(["epoch", "seconds", "examples/s", *self._metric_keys()], rows)
        test = ", ".join(f"test {k} {v:.4f}" for k, v in self.test_metrics.items())
        return (
            f"{table}\n\n{self.config.model} on {self.config.dataset}: {self.epochs_run} epochs in "
            f"{self.wall_seconds:.1f} s, {self.examples_per_second:,.0f} examples/s "
            f"({self.num_replicas} replica{'s' if self.num_replicas > 1 else ''}); {test}"
        )

    def _metric_keys(self) -> list[str]:
        skip = {"epoch_seconds", "examples_per_second", "learning_rate"}
        return [key for key in self.history if key not in skip]


def train(config: TrainConfig, *, strategy: tf.distribute.Strategy | None = None) -> TrainResult:
    # The strategy first: splitting the CPU into logical devices must precede any TF work.
    strategy = strategy or make_strategy(config.strategy, num_devices=config.num_devices, tpu=config.tpu)
    keras.utils.set_random_seed(config.seed)
    previous_policy = keras.mixed_precision.global_policy()
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy(_mixed_policy())
    try:
        return _train(config, strategy)
    finally:
        # Models keep the policy they were built with; later builds in this process should not.
        keras.mixed_precision.set_global_policy(previous_policy)


def _train(config: TrainConfig, strategy: tf.distribute.Strategy) -> TrainResult:
    get_model_entry(config.model)  # an unknown model fails before any data is loaded
    dataset = load_dataset(
        config.dataset,
        data_dir=config.data_dir,
        target=config.target,
        seed=config.seed,
        validation_fraction=config.validation_fraction,
        **config.dataset_options,
    ).subset(config.train_examples, seed=config.seed)
    train_ds, val_ds, test_ds = make_pipelines(dataset, config.batch_size, seed=config.seed)
    steps_per_epoch = math.ceil(len(dataset.x_train) / config.batch_size)

    chief = is_chief(strategy)
    workdir = config.resolved_workdir
    workdir.mkdir(parents=True, exist_ok=True)
    loss, metrics, monitor = loss_and_metrics(dataset.spec)
    with strategy.scope():
        model = build_model(config.model, dataset.spec, config.model_config, adapt_data=dataset.x_train)
        model.compile(
            optimizer=make_optimizer(config, steps_per_epoch),
            loss=loss,
            metrics=metrics,
            jit_compile=config.jit_compile,
        )

    meter = ThroughputMeter(len(dataset.x_train))
    callbacks = make_callbacks(
        workdir,
        monitor=monitor,
        early_stopping_patience=config.early_stopping_patience,
        meter=meter,
        is_chief=chief,
        backup_dir=_backup_dir(workdir, strategy, chief),
    )
    started = time.perf_counter()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        callbacks=callbacks,
        verbose=_verbosity(config),
    ).history
    wall_seconds = time.perf_counter() - started
    test_metrics = {
        key: float(value) for key, value in model.evaluate(test_ds, return_dict=True, verbose=0).items()
    }

    result = TrainResult(
        config=config,
        workdir=workdir,
        model=model,
        dataset=dataset,
        history={key: [float(v) for v in values] for key, values in history.items()},
        test_metrics=test_metrics,
        epochs_run=len(history.get("loss", [])),
        wall_seconds=wall_seconds,
        examples_per_second=meter.examples_per_second,
        num_replicas=strategy.num_replicas_in_sync,
        export_dir=None,
    )
    if chief:
        model.save(workdir / MODEL_FILE)
        if config.export_base:
            result.export_dir = export_saved_model(
                model,
                dataset.spec,
                config.export_base,
                config.export_name or config.model,
                model_card=model_card(result),
                warmup_examples=dataset.x_test[:WARMUP_EXAMPLES],
            )
        (workdir / METRICS_FILE).write_text(json.dumps(metrics_record(result), indent=2, default=str))
    return result


def model_card(result: TrainResult) -> dict[str, Any]:
    entry = get_model_entry(result.config.model)
    return {
        "model": result.config.model,
        "family": entry.family,
        "description": entry.description,
        "dataset": result.config.dataset,
        "dataset_source": result.dataset.source,
        "parameters": int(result.model.count_params()),
        "model_config": result.config.model_config,
        "preprocessing": "inside the model: send raw values as described by data_spec",
        "metrics": {"test": result.test_metrics, "final_epoch": {k: v[-1] for k, v in result.history.items()}},
        "training": result.config.to_dict(),
        "tfzoo_version": zoo.__version__,
    }


def metrics_record(result: TrainResult) -> dict[str, Any]:
    return {
        "model": result.config.model,
        "dataset": result.config.dataset,
        "test": result.test_metrics,
        "epochs": result.epochs_run,
        "wall_seconds": result.wall_seconds,
        "examples_per_second": result.examples_per_second,
        "num_replicas": result.num_replicas,
        "history": result.history,
        "export_dir": str(result.export_dir) if result.export_dir else None,
        "config": result.config.to_dict(),
    }


def _backup_dir(workdir: Path, strategy: tf.distribute.Strategy, chief: bool) -> Path:
    if chief:
        return workdir / "backup"
    resolver = strategy.cluster_resolver
    return workdir / "backup-workers" / f"{resolver.task_type}-{resolver.task_id}"


def _mixed_policy() -> str:
    # float16 needs a GPU to be fast; CPUs and TPUs compute in bfloat16.
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def _verbosity(config: TrainConfig) -> int:
    if config.verbose is not None:
        return config.verbose
    return 1 if sys.stdout.isatty() else 2


def evaluate_saved_model(version_dir: str | Path, dataset: Dataset, batch_size: int = 256) -> dict[str, float]:
    """Score an exported SavedModel's serving_default signature on a dataset's test split."""
    serving = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    spec = dataset.spec
    outputs = []
    for start in range(0, len(dataset.x_test), batch_size):
        batch = dataset.x_test[start : start + batch_size]
        result = serving(**{spec.input_name: tf.constant(batch)})
        outputs.append(result["probabilities" if spec.is_classification else "values"].numpy())
    predictions = np.concatenate(outputs)
    return score_predictions(spec.is_classification, predictions, dataset.y_test)


def score_predictions(is_classification: bool, predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    if is_classification:
        return {"accuracy": float(np.mean(np.argmax(predictions, axis=-1) == targets.reshape(-1)))}
    errors = predictions.reshape(targets.shape) - targets
    return {"mae": float(np.mean(np.abs(errors))), "mse": float(np.mean(errors**2))}
