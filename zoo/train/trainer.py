"""`zoo train`: data, strategy, model built and compiled in the strategy's scope, fit, evaluate,
export. Reads top to bottom like a training script, because that is what it is; `zoo finetune`
(zoo/train/finetune.py) reuses the same steps around its two phases."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

import zoo
from serving.contract import DEFAULT_SIGNATURE
from serving.tensorflow_startup import find_devices
from zoo.data import load_dataset, make_pipelines
from zoo.data.pipelines import keras_targets
from zoo.export import export_saved_model
from zoo.models import build_model, get_model_entry
from zoo.spec import PIXELS, Dataset
from zoo.tables import format_table
from zoo.train.callbacks import ThroughputMeter, make_callbacks
from zoo.train.config import TrainConfig
from zoo.train.optim import loss_and_metrics, make_optimizer
from zoo.train.parameter_server import CoordinatedTraining, local_copy
from zoo.train.strategy import check_jit_compile, is_chief, is_parameter_server, make_strategy, resolve_strategy_name

log = logging.getLogger(__name__)

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
    export_dir: Path | None = None
    extra_card: dict[str, Any] = dataclasses.field(default_factory=dict)

    def summary_table(self) -> str:
        keys = [key for key in self.history if key not in {"epoch_seconds", "examples_per_second", "learning_rate"}]
        rows = [
            [epoch + 1, seconds, rate, *(self.history[key][epoch] for key in keys)]
            for epoch, (seconds, rate) in enumerate(
                zip(self.history["epoch_seconds"], self.history["examples_per_second"])
            )
        ]
        table = format_table(["epoch", "seconds", "examples/s", *keys], rows)
        test = ", ".join(f"test {k} {v:.4f}" for k, v in self.test_metrics.items())
        return (
            f"{table}\n\n{self.config.model} on {self.config.dataset}: {self.epochs_run} epochs in "
            f"{self.wall_seconds:.1f} s, {self.examples_per_second:,.0f} examples/s "
            f"({self.num_replicas} replica{'s' if self.num_replicas > 1 else ''}); {test}"
        )


@dataclasses.dataclass
class Run:
    """What every phase of a run shares: strategy, data, pipelines, workdir, task's loss."""

    config: TrainConfig
    strategy: tf.distribute.Strategy
    dataset: Dataset
    pipelines: tuple[tf.data.Dataset, tf.data.Dataset, tf.data.Dataset]
    workdir: Path
    chief: bool
    loss: keras.losses.Loss
    metrics: list
    monitor: str
    meter: ThroughputMeter

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.dataset.x_train) / self.config.batch_size)

    def build_model(self) -> keras.Model:
        with self.strategy.scope():
            return build_model(self.config.model, self.dataset.spec, self.config.model_config,
                               adapt_data=self.dataset.x_train)

    def fit(self, model: keras.Model, *, learning_rate: float, epochs: int, initial_epoch: int = 0,
            backup_name: str = "backup") -> dict[str, list[float]]:
        """Compile (in scope) at `learning_rate` and fit epochs [initial_epoch, epochs)."""
        total_steps = (epochs - initial_epoch) * self.steps_per_epoch
        with self.strategy.scope():
            model.compile(
                optimizer=make_optimizer(self.config, learning_rate, total_steps),
                loss=self.loss,
                metrics=self.metrics,
                jit_compile=self.config.jit_compile,
            )
        callbacks = make_callbacks(
            self.workdir,
            monitor=self.monitor,
            early_stopping_patience=self.config.early_stopping_patience,
            meter=self.meter,
            is_chief=self.chief,
            backup_dir=self.workdir / backup_name,
            task_name=_task_name(self.strategy),
        )
        if is_parameter_server(self.strategy):  # Keras' fit cannot drive this strategy
            dataset = self.dataset
            training = CoordinatedTraining(model, self.strategy, loss=self.loss, metrics=self.metrics,
                                           spec=dataset.spec)
            return training.fit(
                (dataset.x_train, keras_targets(dataset, dataset.y_train)),
                (dataset.x_val, keras_targets(dataset, dataset.y_val)),
                batch_size=self.config.batch_size, steps_per_epoch=self.steps_per_epoch, seed=self.config.seed,
                epochs=epochs, initial_epoch=initial_epoch, callbacks=callbacks, verbose=_verbosity(self.config),
            )
        train_ds, val_ds, _ = self.pipelines
        history = model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=_verbosity(self.config),
            shuffle=False,  # the pipeline reshuffles every epoch; Keras cannot shuffle a tf.data.Dataset
        ).history
        return {key: [float(v) for v in values] for key, values in history.items()}

    def finish(self, model: keras.Model, history: dict[str, list[float]], wall_seconds: float,
               extra_card: dict[str, Any] | None = None) -> TrainResult:
        """Evaluate on the test split; the chief saves, exports and writes metrics.json."""
        if is_parameter_server(self.strategy):
            # Its variables leave the ps tasks for evaluation and export.
            model = local_copy(model, loss=self.loss, metrics=self.metrics)
        test_metrics = {
            key: float(value)
            for key, value in model.evaluate(self.pipelines[2], return_dict=True, verbose=0).items()
        }
        result = TrainResult(
            config=self.config,
            workdir=self.workdir,
            model=model,
            dataset=self.dataset,
            history=history,
            test_metrics=test_metrics,
            epochs_run=len(history.get("loss", [])),
            wall_seconds=wall_seconds,
            examples_per_second=self.meter.examples_per_second,
            num_replicas=self.strategy.num_replicas_in_sync,
            extra_card=extra_card or {},
        )
        if self.chief:
            model.save(self.workdir / MODEL_FILE)
            if self.config.export_base:
                result.export_dir = export_saved_model(
                    model,
                    self.dataset.spec,
                    self.config.export_base,
                    self.config.export_name or self.config.model,
                    model_card=model_card(result),
                    warmup_examples=self.dataset.x_test[:WARMUP_EXAMPLES],
                    tflite=self.config.export_tflite,
                    input_form=self.config.export_input,
                )
            (self.workdir / METRICS_FILE).write_text(json.dumps(metrics_record(result), indent=2, default=str))
        return result


def train(config: TrainConfig, *, strategy: tf.distribute.Strategy | None = None) -> TrainResult:
    """Train, evaluate and (with export_base) export one model."""

    def single_phase(run: Run) -> TrainResult:
        model = run.build_model()
        started = time.perf_counter()
        history = run.fit(model, learning_rate=config.learning_rate, epochs=config.epochs)
        return run.finish(model, history, time.perf_counter() - started)

    return run_training(config, single_phase, strategy=strategy)


def run_training(config: TrainConfig, body, *, strategy: tf.distribute.Strategy | None = None) -> TrainResult:
    """Set up strategy, seed, precision and data, then hand a `Run` to `body`."""
    check_jit_compile(config.jit_compile, config.strategy, config.tpu)
    # The strategy first: splitting the CPU into logical devices must precede any TF work.
    strategy = strategy or make_strategy(config.strategy, num_devices=config.num_devices, tpu=config.tpu)
    replicas = strategy.num_replicas_in_sync
    log.info("devices: %s; strategy %s, %d replica%s", find_devices().describe(),
             resolve_strategy_name(config.strategy, config.tpu), replicas, "s" if replicas > 1 else "")
    keras.utils.set_random_seed(config.seed)
    previous_policy = keras.mixed_precision.global_policy()
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy(_mixed_policy())
    try:
        return body(prepare_run(config, strategy))
    finally:
        # Models keep the policy they were built with; later builds in this process should not.
        keras.mixed_precision.set_global_policy(previous_policy)


def prepare_run(config: TrainConfig, strategy: tf.distribute.Strategy) -> Run:
    get_model_entry(config.model)  # an unknown model fails before any data is loaded
    dataset = load_dataset(
        config.dataset,
        data_dir=config.data_dir,
        target=config.target,
        seed=config.seed,
        validation_fraction=config.validation_fraction,
        **config.dataset_options,
    )
    train_examples = config.train_examples
    if config.train_fraction is not None:
        train_examples = max(1, round(config.train_fraction * len(dataset.x_train)))
    dataset = dataset.subset(train_examples, seed=config.seed)
    if config.export_base:
        dataset.spec.check_input_form(config.export_input)  # before training, not after
    workdir = config.resolved_workdir
    workdir.mkdir(parents=True, exist_ok=True)
    loss, metrics, monitor = loss_and_metrics(dataset.spec)
    return Run(
        config=config,
        strategy=strategy,
        dataset=dataset,
        pipelines=make_pipelines(dataset, config.batch_size, seed=config.seed),
        workdir=workdir,
        chief=is_chief(),
        loss=loss,
        metrics=metrics,
        monitor=monitor,
        meter=ThroughputMeter(len(dataset.x_train)),
    )


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
        **result.extra_card,
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
        **result.extra_card,
    }


def _task_name(strategy: tf.distribute.Strategy) -> str:
    resolver = getattr(strategy, "cluster_resolver", None)
    return f"{resolver.task_type}-{resolver.task_id}" if resolver is not None and resolver.task_type else "local"


def _mixed_policy() -> str:
    # float16 needs a GPU to be fast; CPUs and TPUs compute in bfloat16.
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def _verbosity(config: TrainConfig) -> int:
    if config.verbose is not None:
        return config.verbose
    return 1 if sys.stdout.isatty() else 2


def evaluate_saved_model(version_dir: str | Path, dataset: Dataset, batch_size: int = 256) -> dict[str, float]:
    """Score an exported SavedModel on a dataset's test split: its serving_default signature, or
    its pixels one when serving_default takes image files."""
    signatures = tf.saved_model.load(str(version_dir)).signatures
    serving = signatures.get(PIXELS, signatures[DEFAULT_SIGNATURE])
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
