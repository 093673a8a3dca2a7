"""Tiny Keras models for a DataSpec, for the tests of what is around a model (export, the CLI)."""

from __future__ import annotations

import keras

from zoo.spec import DataSpec


def tiny_model(spec: DataSpec, seed: int = 3) -> keras.Model:
    """Raw inputs scaled by 1/255, one hidden layer, softmax (classification) or linear outputs;
    seeded, so two builds give the same answers."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(spec.input_shape, name=spec.input_name)
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Flatten()(inputs / 255.0))
    activation = "softmax" if spec.is_classification else None
    return keras.Model(inputs, keras.layers.Dense(spec.num_outputs, activation=activation)(hidden))
