"""The callbacks every zoo training run gets: checkpoints, crash recovery, TensorBoard,
early stopping, and a throughput meter for the summary table."""

from __future__ import annotations

import time
from pathlib import Path

import keras

from zoo.train.cluster_backup import backup_callback


class ThroughputMeter(keras.callbacks.Callback):
    """Wall time and training examples/s per epoch (Keras' progress bar shows only steps/s)."""

    def __init__(self, examples_per_epoch: int):
        super().__init__()
        self.examples_per_epoch = examples_per_epoch
        self.epoch_seconds: list[float] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._started
        self.epoch_seconds.append(seconds)
        if logs is not None:
            logs["epoch_seconds"] = seconds
            logs["examples_per_second"] = self.examples_per_epoch / seconds if seconds else 0.0

    @property
    def examples_per_second(self) -> float:
        """Steady-state throughput: the first epoch pays for tracing, so leave it out when we can."""
        steady = self.epoch_seconds[1:] or self.epoch_seconds
        return self.examples_per_epoch * len(steady) / sum(steady) if steady and sum(steady) else 0.0


def make_callbacks(
    workdir: Path,
    *,
    monitor: str,
    early_stopping_patience: int,
    meter: ThroughputMeter,
    is_chief: bool,
    backup_dir: Path,
    task_name: str = "worker",
) -> list[keras.callbacks.Callback]:
    """Checkpoints and logs go under `workdir` on the chief only; other workers write nothing
    durable: they restore from the chief's `backup_dir` and back up to a temporary directory, so a
    restarted cluster resumes every worker at the same epoch (see zoo/train/cluster_backup.py)."""
    callbacks: list[keras.callbacks.Callback] = [
        meter,
        backup_callback(backup_dir, is_chief=is_chief, task_name=task_name),
    ]
    if is_chief:
        checkpoints = workdir / "checkpoints"
        checkpoints.mkdir(parents=True, exist_ok=True)
        callbacks += [
            keras.callbacks.ModelCheckpoint(
                str(checkpoints / "epoch-{epoch:03d}.weights.h5"), save_weights_only=True
            ),
            keras.callbacks.TensorBoard(log_dir=str(workdir / "logs")),
        ]
    if early_stopping_patience > 0:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=early_stopping_patience, restore_best_weights=True
            )
        )
    return callbacks
