"""The recurrent family (registered as `lstm`, `gru`, `bilstm`): one config, three presets.

What feeds the recurrent stack depends on the data's kind:
- image (H, W, C): read row by row, reshaped to (H, W*C) -> Normalization -> RNN;
- sequence (T, F) and timeseries (window, F): Normalization -> RNN (timeseries datasets are
  regression: the head forecasts `num_outputs` values). With `forecast_from_last`, a univariate
  window is first made relative to its last value and the head forecasts the change from it:
  the model then sees the series' shape, not its level, so a trending series (co2) is forecast
  at levels it never saw in training;
- text (scalar string): TextVectorization adapted on the training strings -> Embedding with
  mask_zero -> RNN, so padding never reaches the cells.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from zoo.errors import ConfigError
from zoo.models.layers import LastValueShift, model_input, normalization_layer, output_head
from zoo.models.config import ModelConfig, check_bool, check_choice, check_float, check_positive_int
from zoo.spec import DataSpec

CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
# Numeric kinds and the rank of their examples: (H, W, C) images, (steps, features) otherwise.
_NUMERIC_RANKS = {"image": 3, "sequence": 2, "timeseries": 2}


@dataclasses.dataclass(frozen=True)
class RNNConfig(ModelConfig):
    cell: str = "lstm"  # lstm or gru
    units: int = 64  # per direction, per layer
    num_layers: int = 1  # stacked recurrent layers; all but the last return sequences
    bidirectional: bool = False  # wrap each layer in Bidirectional (2 * units outputs)
    dropout: float = 0.1  # dropout on each recurrent layer's inputs; 0 disables
    # Text only:
    max_tokens: int = 20000  # vocabulary cap (including padding and out-of-vocabulary tokens)
    sequence_length: int = 200  # tokens kept per text (padded or truncated)
    embedding_dim: int = 64
    # Univariate time series only: see the window relative to its last value, forecast the change.
    forecast_from_last: bool = False

    def __post_init__(self) -> None:
        check_choice("cell", self.cell, tuple(CELLS))
        self._set("units", check_positive_int("units", self.units))
        self._set("num_layers", check_positive_int("num_layers", self.num_layers))
        self._set("bidirectional", check_bool("bidirectional", self.bidirectional))
        self._set("dropout", check_float("dropout", self.dropout, 0.0, 1.0))
        self._set("max_tokens", check_positive_int("max_tokens", self.max_tokens))
        self._set("sequence_length", check_positive_int("sequence_length", self.sequence_length))
        self._set("embedding_dim", check_positive_int("embedding_dim", self.embedding_dim))
        self._set("forecast_from_last", check_bool("forecast_from_last", self.forecast_from_last))
        if self.max_tokens < 3:
            raise ConfigError(
                "max_tokens must be at least 3 (padding, out-of-vocabulary and one word). "
                f"Received: max_tokens={self.max_tokens}"
            )


def build_rnn(name: str, spec: DataSpec, config: RNNConfig, adapt_data: np.ndarray | None) -> keras.Model:
    if config.forecast_from_last and (spec.kind != "timeseries" or spec.input_shape[-1:] != (1,)):
        raise ConfigError(
            "forecast_from_last needs a univariate time series (windows of shape (steps, 1)). "
            f"Received: dataset {spec.name!r} of kind={spec.kind!r}, input_shape={spec.input_shape}"
        )
    inputs = model_input(spec)
    if spec.kind == "text":
        x = _text_features(inputs, config, adapt_data)
    elif len(spec.input_shape) == _NUMERIC_RANKS.get(spec.kind):
        x = _numeric_features(inputs, spec, adapt_data, relative=config.forecast_from_last)
    else:
        raise ConfigError(
            f"Model {name!r} reads images, sequences, time-series windows or text. "
            f"Received: dataset {spec.name!r} of kind={spec.kind!r}, input_shape={spec.input_shape}"
        )
    for index in range(1, config.num_layers + 1):
        layer = CELLS[config.cell](
            config.units,
            dropout=config.dropout,
            return_sequences=index < config.num_layers,
            name=f"{config.cell}_{index}",
        )
        if config.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{index}")
        x = layer(x)
    outputs = output_head(x, spec)
    if config.forecast_from_last:
        outputs = LastValueShift("add", dtype="float32", name="forecast")([outputs, inputs])
    return keras.Model(inputs, outputs, name=name)


def _numeric_features(
    inputs: keras.KerasTensor, spec: DataSpec, adapt_data: np.ndarray | None, relative: bool = False
):
    """Steps x features, normalised per feature. Images become rows of W*C pixels; with
    `relative`, a window is taken relative to its last value first (statistics likewise)."""
    if spec.kind == "image":
        height, width, channels = spec.input_shape
        steps, features = height, width * channels
        x = keras.layers.Reshape((steps, features), name="image_rows")(inputs)
    else:
        steps, features = spec.input_shape
        x = inputs
    step_data = None if adapt_data is None else adapt_data.reshape(len(adapt_data), steps, features)
    if relative:
        x = LastValueShift("subtract", name="relative_to_last")([x, x])
        if step_data is not None:
            step_data = step_data - step_data[:, -1:, :]
    return normalization_layer(step_data, features)(x)


def _text_features(inputs: keras.KerasTensor, config: RNNConfig, adapt_data: np.ndarray | None):
    """Token ids from a vocabulary learnt on the training strings, then masked embeddings.

    `TextVectorization` is a lookup table, not trainable state, and adapting it works inside a
    `tf.distribute` scope too, so it is the one layer here that learns from data by `adapt()`.
    """
    if adapt_data is None:
        raise ValueError(
            "Text models need adapt_data (the training strings) to learn their vocabulary. "
            "Received: adapt_data=None"
        )
    vectorizer = keras.layers.TextVectorization(
        max_tokens=config.max_tokens, output_sequence_length=config.sequence_length, name="text_vectorization"
    )
    vectorizer.adapt(np.asarray(adapt_data, dtype=object))
    x = vectorizer(inputs)
    return keras.layers.Embedding(
        vectorizer.vocabulary_size(), config.embedding_dim, mask_zero=True, name="embedding"
    )(x)
