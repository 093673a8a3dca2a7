"""Layers the model families share: the input and output layers of the zoo's contract, input
normalisation from numpy statistics, and the serialisable wrapper around a backbone's own
`preprocess_input`.

Importing this module registers the custom layers with Keras (package "zoo"), which
`keras.saving.load_model` needs to read a `.keras` file; `zoo.models` imports it for that reason.
"""

from __future__ import annotations

import importlib

import keras
import numpy as np

from zoo.spec import DataSpec


def model_input(spec: DataSpec) -> keras.KerasTensor:
    """The raw input the exported model takes; its name becomes the serving signature's key."""
    dtype = "string" if spec.input_dtype == "string" else "float32"
    return keras.Input(shape=spec.input_shape, name=spec.input_name, dtype=dtype)


def output_head(x: keras.KerasTensor, spec: DataSpec) -> keras.KerasTensor:
    """Class probabilities ("probabilities") or linear values ("values").

    The head is float32 whatever the global policy, so mixed-precision models still return
    float32 outputs (and the softmax is computed in full precision).
    """
    activation, name = ("softmax", "probabilities") if spec.is_classification else ("linear", "values")
    return keras.layers.Dense(spec.num_outputs, activation=activation, dtype="float32", name=name)(x)


# Keras' default (0.99) lets BatchNormalization's moving statistics lag for the first few hundred
# steps; small datasets are trained for about that long, and their test accuracy then suffered
# (cnn on digits, batch 64, 15 epochs: 0.93-0.95 at 0.99, 0.97-0.99 at 0.9).
BATCH_NORM_MOMENTUM = 0.9

# Rows per chunk when computing statistics: bounds the float64 scratch memory on big datasets.
_STATISTICS_CHUNK_ROWS = 4096


def feature_statistics(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of each feature (last axis) over every other axis, in float64.

    Chunks are merged with Chan et al.'s pairwise update, so a large uint8 dataset is never
    copied whole into floats. A feature that is constant in the data gets variance 1 (as
    scikit-learn's StandardScaler does): dividing by ~0 would blow up any other value it
    takes later.
    """
    rows = np.asarray(data).reshape(-1, data.shape[-1])
    count, mean, sum_squares = 0, np.zeros(rows.shape[1]), np.zeros(rows.shape[1])
    for start in range(0, len(rows), _STATISTICS_CHUNK_ROWS):
        chunk = rows[start : start + _STATISTICS_CHUNK_ROWS].astype(np.float64)
        chunk_mean = chunk.mean(axis=0)
        chunk_sum_squares = ((chunk - chunk_mean) ** 2).sum(axis=0)
        total = count + len(chunk)
        delta = chunk_mean - mean
        mean = mean + delta * (len(chunk) / total)
        sum_squares = sum_squares + chunk_sum_squares + delta**2 * (count * len(chunk) / total)
        count = total
    variance = sum_squares / count
    return mean, np.where(variance > 0, variance, 1.0)


def normalization_layer(
    adapt_data: np.ndarray | None, num_features: int, name: str = "normalization"
) -> keras.layers.Normalization:
    """A `Normalization` over the last axis with statistics from `adapt_data` as constants.

    `adapt_data` must already have the layer input's layout (..., num_features). The statistics
    are numpy constants rather than `adapt()` state, so the layer builds inside any
    `tf.distribute` scope. Without data the layer is the identity (mean 0, variance 1), which
    keeps the architecture (and parameter count) the same.
    """
    if adapt_data is None:
        mean, variance = np.zeros(num_features), np.ones(num_features)
    else:
        if adapt_data.shape[-1] != num_features:
            raise ValueError(
                f"adapt_data must have {num_features} features on its last axis. "
                f"Received: adapt_data.shape={adapt_data.shape}"
            )
        mean, variance = feature_statistics(adapt_data)
        if not np.isfinite(mean).all():
            # One NaN would make every prediction NaN; say so now rather than after training.
            raise ValueError(
                "adapt_data must be finite: fill or drop missing values first. "
                f"Received: adapt_data with NaN or infinite values in {int((~np.isfinite(mean)).sum())} "
                f"of {len(mean)} features"
            )
    return keras.layers.Normalization(
        axis=-1, mean=mean.astype(np.float32), variance=variance.astype(np.float32), name=name
    )


# Where a backbone's preprocess_input may come from. Loading a .keras file must not import
# arbitrary modules named in it.
_PREPROCESSING_MODULE_PREFIXES = ("keras.applications.", "zoo.models.efficientnet_lite")


@keras.saving.register_keras_serializable(package="zoo")
class BackbonePreprocessing(keras.layers.Layer):
    """Applies `<module>.preprocess_input` (e.g. `keras.applications.vgg16`) inside the model.

    A backbone's pretrained weights expect its own input scaling (caffe BGR mean subtraction,
    [-1, 1], torch mean/std...). Keeping that function in the graph lets the exported model take
    raw 0..255 pixels. The module path is the layer's whole config, so it round-trips.
    """

    def __init__(self, module: str, **kwargs):
        if not isinstance(module, str) or not module.startswith(_PREPROCESSING_MODULE_PREFIXES):
            raise ValueError(
                "module must be a keras.applications module or zoo.models.efficientnet_lite. "
                f"Received: module={module!r}"
            )
        super().__init__(**kwargs)
        self.module = module
        self._preprocess_input = importlib.import_module(module).preprocess_input

    def call(self, inputs):
        return self._preprocess_input(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "module": self.module}


@keras.saving.register_keras_serializable(package="zoo")
class LastValueShift(keras.layers.Layer):
    """Shifts values by the last step of a (batch, steps, features) window: called on
    `[values, window]`.

    `subtract` makes a window relative to its own last value (values = the window), so a model
    sees a series' shape rather than its level; `add` turns a forecast of changes (batch,
    horizon) back into levels of a univariate series. Plain tensor arithmetic, no weights.
    """

    MODES = ("subtract", "add")

    def __init__(self, mode: str, **kwargs):
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {', '.join(self.MODES)}. Received: mode={mode!r}")
        super().__init__(**kwargs)
        self.mode = mode

    def call(self, inputs):
        values, window = inputs
        last = window[:, -1, :]  # (batch, features)
        if self.mode == "subtract":
            return values - keras.ops.expand_dims(last, axis=1)
        return values + keras.ops.cast(last, values.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
