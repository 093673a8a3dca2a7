"""Optimizer, learning-rate schedule, loss and metrics that follow the task."""

from __future__ import annotations

import keras

from zoo.spec import DataSpec
from zoo.train.config import TrainConfig


def make_schedule(schedule: str, learning_rate: float, total_steps: int):
    """The rate over one phase of `total_steps` steps."""
    total_steps = max(1, total_steps)
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps, alpha=0.01)
    if schedule == "exponential":
        # Reach a tenth of the initial rate at the end of the phase.
        return keras.optimizers.schedules.ExponentialDecay(learning_rate, decay_steps=total_steps, decay_rate=0.1)
    return learning_rate


def make_optimizer(config: TrainConfig, learning_rate: float, total_steps: int) -> keras.optimizers.Optimizer:
    """`config` chooses the optimizer and schedule; the phase gives the rate and its length."""
    learning_rate = make_schedule(config.schedule, learning_rate, total_steps)
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
