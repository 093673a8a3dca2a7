"""Optimizer, learning-rate schedule, loss and metrics that follow the task."""

from __future__ import annotations

import keras

from zoo.spec import DataSpec
from zoo.train.config import TrainConfig


def make_schedule(config: TrainConfig, steps_per_epoch: int):
    total_steps = max(1, config.epochs * steps_per_epoch)
    if config.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=total_steps, alpha=0.01)
    if config.schedule == "exponential":
        # Reach a tenth of the initial rate at the end of the run.
        return keras.optimizers.schedules.ExponentialDecay(
            config.learning_rate, decay_steps=total_steps, decay_rate=0.1
        )
    return config.learning_rate


def make_optimizer(config: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    learning_rate = make_schedule(config, steps_per_epoch)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=config.momentum, nesterov=True)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(learning_rate, weight_decay=config.weight_decay)
    return keras.optimizers.Adam(learning_rate)


def loss_and_metrics(spec: DataSpec) -> tuple[keras.losses.Loss, list, str]:
    """(loss, metrics, the validation quantity early stopping watches)."""
    if spec.is_classification:
        return keras.losses.SparseCategoricalCrossentropy(), ["accuracy"], "val_accuracy"
    return keras.losses.MeanSquaredError(), ["mae"], "val_loss"
