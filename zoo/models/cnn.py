"""The `cnn` family: a small convnet for small images (8x8 digits, 28x28, 32x32; any channels).

Normalization (per channel) -> one block per entry of `filters` (conv, batch norm, relu,
2x2 max-pooling while the feature map is at least 4 pixels on a side, dropout) -> flatten ->
dense -> head. The pooling rule lets the same config serve 8x8 and 32x32 inputs.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

from zoo.errors import ConfigError
from zoo.models.layers import BATCH_NORM_MOMENTUM, model_input, normalization_layer, output_head
from zoo.models.config import ModelConfig, check_bool, check_float, check_positive_int, check_positive_ints
from zoo.spec import DataSpec

# Pool only while the map stays at least 2x2 afterwards: the last blocks of an 8x8 input then
# convolve a 2x2 map instead of collapsing it to a single pixel.
_MIN_SIDE_TO_POOL = 4


@dataclasses.dataclass(frozen=True)
class CNNConfig(ModelConfig):
    filters: tuple[int, ...] = (32, 64)  # one conv block per entry
    kernel_size: int = 3  # square kernels, "same" padding
    dense_units: int = 128  # the dense layer between the conv blocks and the head
    dropout: float = 0.1  # after each conv block and after the dense layer; 0 disables
    batch_norm: bool = True  # BatchNormalization after each conv
    l2: float = 0.0  # kernel L2 penalty of the conv and dense layers

    def __post_init__(self) -> None:
        self._set("filters", check_positive_ints("filters", self.filters))
        self._set("kernel_size", check_positive_int("kernel_size", self.kernel_size))
        self._set("dense_units", check_positive_int("dense_units", self.dense_units))
        self._set("dropout", check_float("dropout", self.dropout, 0.0, 1.0))
        self._set("batch_norm", check_bool("batch_norm", self.batch_norm))
        self._set("l2", check_float("l2", self.l2, 0.0, math.inf))


def build_cnn(name: str, spec: DataSpec, config: CNNConfig, adapt_data: np.ndarray | None) -> keras.Model:
    if spec.kind != "image" or len(spec.input_shape) != 3:
        raise ConfigError(
            f"Model {name!r} needs images of shape (height, width, channels). "
            f"Received: dataset {spec.name!r} of kind={spec.kind!r}, input_shape={spec.input_shape}"
        )
    height, width, channels = spec.input_shape
    regularizer = keras.regularizers.L2(config.l2) if config.l2 else None

    inputs = model_input(spec)
    x = normalization_layer(adapt_data, channels)(inputs)
    for index, filters in enumerate(config.filters, start=1):
        x = keras.layers.Conv2D(
            filters,
            config.kernel_size,
            padding="same",
            use_bias=not config.batch_norm,
            kernel_regularizer=regularizer,
            name=f"conv_{index}",
        )(x)
        if config.batch_norm:
            x = keras.layers.BatchNormalization(
                momentum=BATCH_NORM_MOMENTUM, name=f"batch_norm_{index}"
            )(x)
        x = keras.layers.ReLU(name=f"relu_{index}")(x)
        if min(height, width) >= _MIN_SIDE_TO_POOL:
            x = keras.layers.MaxPooling2D(2, name=f"pool_{index}")(x)
            height, width = height // 2, width // 2
        if config.dropout:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(
        config.dense_units, activation="relu", kernel_regularizer=regularizer, name="dense"
    )(x)
    if config.dropout:
        x = keras.layers.Dropout(config.dropout, name="dropout_dense")(x)
    return keras.Model(inputs, output_head(x, spec), name=name)
