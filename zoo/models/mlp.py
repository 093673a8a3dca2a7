"""The `mlp` family: Flatten -> per-feature Normalization -> Dense blocks -> head.

Works on anything numeric (tabular features or images, flattened) for classification or
regression.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

from zoo.errors import ConfigError
from zoo.models.layers import BATCH_NORM_MOMENTUM, model_input, normalization_layer, output_head
from zoo.models.config import ModelConfig, check_bool, check_choice, check_float, check_positive_ints
from zoo.spec import DataSpec

ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu")


@dataclasses.dataclass(frozen=True)
class MLPConfig(ModelConfig):
    hidden_units: tuple[int, ...] = (256, 128)  # one Dense block per entry
    activation: str = "relu"  # one of ACTIVATIONS
    dropout: float = 0.2  # after each block; 0 disables
    l1: float = 0.0  # kernel L1 penalty of the hidden Dense layers
    l2: float = 0.0  # kernel L2 penalty of the hidden Dense layers
    batch_norm: bool = False  # BatchNormalization between each Dense and its activation

    def __post_init__(self) -> None:
        self._set("hidden_units", check_positive_ints("hidden_units", self.hidden_units))
        check_choice("activation", self.activation, ACTIVATIONS)
        self._set("dropout", check_float("dropout", self.dropout, 0.0, 1.0))
        self._set("l1", check_float("l1", self.l1, 0.0, math.inf))
        self._set("l2", check_float("l2", self.l2, 0.0, math.inf))
        self._set("batch_norm", check_bool("batch_norm", self.batch_norm))


def build_mlp(name: str, spec: DataSpec, config: MLPConfig, adapt_data: np.ndarray | None) -> keras.Model:
    if spec.input_dtype == "string":
        raise ConfigError(
            f"Model {name!r} needs numeric inputs; use lstm, gru or bilstm for text. "
            f"Received: dataset {spec.name!r} of kind={spec.kind!r}"
        )
    num_features = math.prod(spec.input_shape)
    inputs = model_input(spec)
    x = keras.layers.Flatten(name="flatten")(inputs)
    flat_data = None if adapt_data is None else adapt_data.reshape(len(adapt_data), num_features)
    x = normalization_layer(flat_data, num_features)(x)
    regularizer = keras.regularizers.L1L2(l1=config.l1, l2=config.l2) if config.l1 or config.l2 else None
    for index, units in enumerate(config.hidden_units, start=1):
        x = keras.layers.Dense(
            units, use_bias=not config.batch_norm, kernel_regularizer=regularizer, name=f"dense_{index}"
        )(x)
        if config.batch_norm:
            x = keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"batch_norm_{index}")(x)
        x = keras.layers.Activation(config.activation, name=f"{config.activation}_{index}")(x)
        if config.dropout:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{index}")(x)
    return keras.Model(inputs, output_head(x, spec), name=name)
