"""Tiny specs and random data for the model-family tests: every model is built on a few examples
and trained for one step, so a test costs about a second."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from zoo.spec import DataSpec

TEXTS = np.array(
    [
        "the cat sat on the mat",
        "a dog ran across the park",
        "cats and dogs play all day",
        "stocks fell as markets closed",
        "the match ended in a draw",
        "new phones ship next week",
    ],
    dtype=object,
)

SPECS = {
    "tabular_classification": DataSpec(
        name="tiny_tabular", kind="tabular", task="classification", input_shape=(5,), num_outputs=3
    ),
    "tabular_regression": DataSpec(
        name="tiny_tabular", kind="tabular", task="regression", input_shape=(4,), num_outputs=1
    ),
    "digits": DataSpec(
        name="tiny_digits", kind="image", task="classification", input_shape=(8, 8, 1), num_outputs=4
    ),
    "grayscale": DataSpec(
        name="tiny_grayscale", kind="image", task="classification", input_shape=(28, 28, 1), num_outputs=3
    ),
    "rgb": DataSpec(name="tiny_rgb", kind="image", task="classification", input_shape=(32, 32, 3), num_outputs=3),
    "sequence": DataSpec(
        name="tiny_sequence", kind="sequence", task="classification", input_shape=(10, 3), num_outputs=3
    ),
    "timeseries": DataSpec(
        name="tiny_series", kind="timeseries", task="regression", input_shape=(12, 1), num_outputs=2
    ),
    "text": DataSpec(
        name="tiny_text", kind="text", task="classification", input_shape=(), num_outputs=2, input_dtype="string"
    ),
}


def random_examples(spec: DataSpec, count: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Raw inputs in the dataset's own range (pixels 0..255) and targets matching the task."""
    rng = np.random.default_rng(seed)
    if spec.kind == "text":
        x = TEXTS[rng.integers(0, len(TEXTS), count)]
    elif spec.kind == "image":
        x = rng.uniform(0, 255, size=(count, *spec.input_shape)).astype("float32")
    else:
        x = rng.normal(5.0, 3.0, size=(count, *spec.input_shape)).astype("float32")
    if spec.is_classification:
        y = rng.integers(0, spec.num_outputs, count)
    else:
        y = rng.normal(size=(count, spec.num_outputs)).astype("float32")
    return x, y


def train_one_step(model: keras.Model, spec: DataSpec, x: np.ndarray, y: np.ndarray, eager: bool = False) -> float:
    """Compiles like the trainer would and fits one batch; returns the loss.

    `eager` skips graph tracing, which costs far more than one step for the big backbones.
    """
    loss = "sparse_categorical_crossentropy" if spec.is_classification else "mse"
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, run_eagerly=eager)
    history = model.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
    return history.history["loss"][-1]


@pytest.fixture
def specs() -> dict[str, DataSpec]:
    return SPECS


@pytest.fixture
def examples():
    return random_examples


@pytest.fixture
def fit_one_step():
    return train_one_step


@pytest.fixture
def global_policy():
    """Sets Keras' global dtype policy for one test (`global_policy("mixed_float16")`), then restores it."""
    previous = keras.mixed_precision.global_policy().name
    yield keras.mixed_precision.set_global_policy
    keras.mixed_precision.set_global_policy(previous)
