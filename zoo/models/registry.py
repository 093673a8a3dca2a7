"""The model registry: which names exist, which family builds each, and what it is shown with.

Every registered name is a `ModelEntry`: a family (mlp, cnn, rnn, transfer) plus the config
values that make the entry what it is (`lstm` is the rnn family with `cell="lstm"`). A family
module holds a config dataclass (a `ModelConfig`, from zoo/models/config.py) and a builder.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any, Callable

import numpy as np

from zoo.errors import ConfigError, UnknownNameError
from zoo.models.cnn import CNNConfig, build_cnn
from zoo.models.config import ModelConfig, received
from zoo.models.mlp import MLPConfig, build_mlp
from zoo.models.rnn import RNNConfig, build_rnn
from zoo.models.transfer import TransferConfig, build_transfer
from zoo.spec import DataSpec

# family -> (config class, builder function). Builders take (name, spec, config, adapt_data) and
# return an uncompiled functional keras.Model named `name`.
_FAMILIES: Mapping[str, tuple[type[ModelConfig], Callable[..., Any]]] = {
    "mlp": (MLPConfig, build_mlp),
    "cnn": (CNNConfig, build_cnn),
    "rnn": (RNNConfig, build_rnn),
    "transfer": (TransferConfig, build_transfer),
}

# The input each family is shown with by `zoo models` (to count its parameters).
_DEFAULT_SPECS = {
    "mlp": DataSpec(
        name="example_features", kind="tabular", task="classification", input_shape=(784,), num_outputs=10
    ),
    "cnn": DataSpec(
        name="example_images", kind="image", task="classification", input_shape=(28, 28, 1), num_outputs=10
    ),
    "rnn": DataSpec(
        name="example_images", kind="image", task="classification", input_shape=(28, 28, 1), num_outputs=10
    ),
    "transfer": DataSpec(
        name="example_images", kind="image", task="classification", input_shape=(96, 96, 3), num_outputs=10
    ),
}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One registered model name.

    `fixed` holds the config values that define this entry (the backbone of `vgg16`, the cell of
    `gru`); overriding one of them with another value is refused, since the name would then lie.
    `defaults` are this entry's own defaults, which overrides may change.
    """

    name: str
    family: str
    description: str
    fixed: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.family not in _FAMILIES:
            raise ValueError(
                f"family must be one of {', '.join(_FAMILIES)}. Received: family={self.family!r}"
            )

    @property
    def config_class(self) -> type[ModelConfig]:
        return _FAMILIES[self.family][0]

    @property
    def builder(self) -> Callable[..., Any]:
        return _FAMILIES[self.family][1]

    def default_spec(self) -> DataSpec:
        return _DEFAULT_SPECS[self.family]

    def make_config(self, overrides: Mapping[str, Any] | None = None) -> ModelConfig:
        """This entry's config with `overrides` applied; unknown keys and bad values raise ConfigError."""
        overrides = dict(overrides or {})
        self.config_class.refuse_unknown_keys(overrides, owner=f"model {self.name!r}")
        for key, value in overrides.items():
            if key in self.fixed and value != self.fixed[key]:
                raise ConfigError(self._fixed_key_message(key, value))
        return self.config_class(**{**self.defaults, **overrides, **self.fixed})

    def _fixed_key_message(self, key: str, value: Any) -> str:
        alternatives = [entry.name for entry in MODELS.values() if entry.fixed.get(key, object()) == value]
        hint = f"use model {' or '.join(alternatives)} instead" if alternatives else "no model has that value"
        return f"Model {self.name!r} always has {key}={self.fixed[key]!r}; {hint}. {received(key, value)}"


def _entries(*entries: ModelEntry) -> Mapping[str, ModelEntry]:
    return types.MappingProxyType({entry.name: entry for entry in entries})


_TRANSFER_TASK = "images of any size, gray or RGB: {} backbone + new head"

MODELS: Mapping[str, ModelEntry] = _entries(
    ModelEntry("mlp", "mlp", "multilayer perceptron: tabular features or flattened images"),
    ModelEntry("cnn", "cnn", "small convnet: 8x8 to 32x32 images, any channel count"),
    ModelEntry("lstm", "rnn", "LSTM: image rows, sequences, time-series windows or text",
               fixed={"cell": "lstm", "bidirectional": False}),
    ModelEntry("gru", "rnn", "GRU: image rows, sequences, time-series windows or text",
               fixed={"cell": "gru"}),
    ModelEntry("bilstm", "rnn", "bidirectional LSTM: image rows, sequences, windows or text",
               fixed={"cell": "lstm", "bidirectional": True}),
    ModelEntry("vgg16", "transfer", _TRANSFER_TASK.format("VGG16"), fixed={"backbone": "vgg16"}),
    ModelEntry("resnet50", "transfer", _TRANSFER_TASK.format("ResNet50"), fixed={"backbone": "resnet50"}),
    ModelEntry("inception_v3", "transfer", _TRANSFER_TASK.format("InceptionV3"),
               fixed={"backbone": "inception_v3"}),
    ModelEntry("mobilenet_v2", "transfer", _TRANSFER_TASK.format("MobileNetV2"),
               fixed={"backbone": "mobilenet_v2"}),
    ModelEntry("mobilenet_v3_small", "transfer", _TRANSFER_TASK.format("MobileNetV3-Small"),
               fixed={"backbone": "mobilenet_v3_small"}),
    ModelEntry("efficientnet_b0", "transfer", _TRANSFER_TASK.format("EfficientNetB0"),
               fixed={"backbone": "efficientnet_b0"}),
    ModelEntry("densenet121", "transfer", _TRANSFER_TASK.format("DenseNet121"),
               fixed={"backbone": "densenet121"}),
    # Lite0's ImageNet weights ship in a pip package, so they are the default: no download needed.
    ModelEntry("efficientnet_lite0", "transfer",
               _TRANSFER_TASK.format("EfficientNet-Lite0 (offline ImageNet)"),
               fixed={"backbone": "efficientnet_lite0"}, defaults={"weights": "imagenet"}),
)


def model_names() -> tuple[str, ...]:
    """The registered model names, grouped by family."""
    return tuple(MODELS)


def get_model_entry(name: str) -> ModelEntry:
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise UnknownNameError(f"Unknown model {name!r}. Valid models: {', '.join(MODELS)}") from None


def build_model(
    name: str,
    spec: DataSpec,
    config: Mapping[str, Any] | None = None,
    adapt_data: np.ndarray | None = None,
):
    """Builds the registered model `name` for data described by `spec` (not compiled).

    Args:
        name: a registered model name (see `model_names()`).
        spec: the dataset's `DataSpec`; the model takes its raw inputs.
        config: overrides of the family config's defaults, e.g. `{"dropout": 0.3}`.
        adapt_data: the raw training inputs, shape (N, *spec.input_shape). Normalisation
            statistics are computed from it with numpy (so building works under any
            `tf.distribute` scope); text models adapt their vocabulary on it. Without it,
            numeric inputs pass through unscaled.

    Returns:
        A functional `keras.Model` named `name`. `model.zoo_config` records
        `{"model", "family", "config"}` so the exact config can be stored with a checkpoint.
    """
    entry = get_model_entry(name)
    if not isinstance(spec, DataSpec):
        raise TypeError(f"spec must be a zoo.spec.DataSpec. Received: spec={type(spec).__name__}")
    model_config = entry.make_config(config)
    if adapt_data is not None:
        adapt_data = np.asarray(adapt_data)
        if adapt_data.shape[1:] != tuple(spec.input_shape) or len(adapt_data) == 0:
            raise ValueError(
                f"adapt_data must hold at least one example of shape {tuple(spec.input_shape)}. "
                f"Received: adapt_data.shape={adapt_data.shape}"
            )
    model = entry.builder(name, spec, model_config, adapt_data)
    model.zoo_config = {"model": name, "family": entry.family, "config": model_config.get_config()}
    return model
