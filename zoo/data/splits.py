"""Seeded train/validation/test splits, stratified by class for classification.

The test split is drawn with a fixed seed, independent of the training seed, so every run
(whatever its `seed`) is scored on the same examples; the validation split follows `seed`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from zoo.errors import ConfigError

# Seed of the test split for sources that have no test split of their own.
TEST_SPLIT_SEED = 20240607
DEFAULT_TEST_FRACTION = 0.2


class Splits(NamedTuple):
    """The six arrays of a dataset, in `zoo.spec.Dataset`'s field order: `Dataset(spec, *splits)`."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def check_fraction(name: str, value: float) -> float:
    """Validates a split fraction: a split is always held out, and something must remain."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise ConfigError(f"{name} must be between 0 and 1 (exclusive). Received: {name}={value!r}")
    return float(value)


def holdout_indices(
    y: np.ndarray, fraction: float, seed: int, *, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Splits example indices into (kept, held out), each in a seeded random order.

    With `stratify`, every class keeps its share: the held-out count per class is its proportional
    quota, rounded so that the total is `round(len(y) * fraction)` (largest remainders first).
    At least one example is held out and at least one is kept.
    """
    count = len(y)
    if count < 2:
        raise ValueError(f"need at least 2 examples to hold some out. Received: {count} examples")
    rng = np.random.default_rng(seed)
    total = min(max(1, round(count * fraction)), count - 1)
    if not stratify:
        order = rng.permutation(count)
        return order[total:], order[:total]
    classes, labels = np.unique(y, return_inverse=True)
    quotas = np.bincount(labels, minlength=len(classes)) * (total / count)
    held_per_class = np.floor(quotas).astype(np.int64)
    by_remainder = np.argsort(-(quotas - held_per_class), kind="stable")
    held_per_class[by_remainder[: total - held_per_class.sum()]] += 1
    kept, held = [], []
    for label, quota in enumerate(held_per_class):
        members = rng.permutation(np.flatnonzero(labels == label))
        held.append(members[:quota])
        kept.append(members[quota:])
    return rng.permutation(np.concatenate(kept)), rng.permutation(np.concatenate(held))


def hold_out_validation(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    seed: int,
    validation_fraction: float,
    stratify: bool,
) -> Splits:
    """Splits a source's training data into train and validation; its test split is kept as is."""
    kept, held = holdout_indices(y_train, validation_fraction, seed, stratify=stratify)
    return Splits(x_train[kept], y_train[kept], x_train[held], y_train[held], x_test, y_test)


def split_three_ways(
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    validation_fraction: float,
    test_fraction: float,
    stratify: bool,
) -> Splits:
    """Splits a source with no splits: a fixed test split first, then validation out of the rest."""
    check_fraction("test_fraction", test_fraction)
    rest, test = holdout_indices(y, test_fraction, TEST_SPLIT_SEED, stratify=stratify)
    return hold_out_validation(
        x[rest],
        y[rest],
        x[test],
        y[test],
        seed=seed,
        validation_fraction=validation_fraction,
        stratify=stratify,
    )
