"""The EfficientNet-Lite architecture as a Keras 3 functional model, without pretrained weights.

EfficientNet-Lite is EfficientNet-B0 made friendly to mobile accelerators and quantisation
(tensorflow/tpu `models/official/efficientnet/lite`): no squeeze-and-excitation, ReLU6 instead of
swish, and a stem (32 channels) and head (1280 channels) that are never scaled. What differs
between variants (the MBConv stages, already scaled by the variant's width and depth multipliers,
the default input size, the dropout before the classifier) is a preset's config, passed in
(efficientnet_lite_presets.py); Lite0's multipliers are 1.0, so its stages are the reference's.

Layer names follow keras.applications' EfficientNet (`stem_conv`, `block2a_expand_conv`,
`top_bn`, `predictions`, ...), and `mbconv_blocks(stages)` lists the blocks in the same order as the
reference PyTorch model's `_blocks.<i>`, so converting its weights is a fixed name mapping.

Every convolution uses TensorFlow's "same" padding (extra row/column at the bottom/right), which is
what the reference implementation (`efficientnet_lite_pytorch`, Conv2dStaticSamePadding) computes.

Only the architecture lives here. Pretrained weights are put in by the modules above it in this
folder (see its `__init__`), which import this one; this one imports none of them, so weights
flow one way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import keras
import numpy as np

from zoo.errors import ConfigError

# The model's input scaling, from efficientnet_lite_builder.py: inception-style, (x - 127) / 128,
# chosen upstream because it quantises well. Equivalent to Rescaling(1/128, offset=-127/128).
PREPROCESS_MEAN = 127.0
PREPROCESS_STDDEV = 128.0

STEM_FILTERS = 32
HEAD_FILTERS = 1280
# Keras momentum means the same as TensorFlow's (the reference stores 1 - 0.99 for PyTorch).
BATCH_NORM_MOMENTUM = 0.99
BATCH_NORM_EPSILON = 1e-3
DROP_CONNECT_RATE = 0.2  # stochastic depth, scaled up linearly over the blocks
# Five stride-2 stages take 32 pixels down to 1; anything smaller would vanish.
MIN_INPUT_SIZE = 32

# He-style initialisers, as keras.applications' EfficientNet and the TF reference use. Configs, not
# instances, so every layer gets its own initializer.
_CONV_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}
_DENSE_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}


@dataclasses.dataclass(frozen=True)
class MBConvStage:
    """One stage of mobile inverted bottleneck blocks (a row of a preset's `stages`); only its
    first block strides."""

    kernel_size: int
    repeats: int
    filters_in: int
    filters_out: int
    expand_ratio: int
    strides: int


def mbconv_blocks(stages: Sequence[Mapping[str, int]]) -> list[tuple[str, MBConvStage, bool]]:
    """The MBConv blocks of `stages` in network order: (name, its stage, whether it is the stage's
    first block). Lite0 has 16.

    Names run 'block1a', 'block2a', 'block2b', ...; the i-th block is the one the reference
    PyTorch model calls `_blocks.<i>`.
    """
    return [
        (f"block{stage_number}{chr(ord('a') + repeat)}", stage, repeat == 0)
        for stage_number, stage in enumerate((MBConvStage(**row) for row in stages), start=1)
        for repeat in range(stage.repeats)
    ]


def preprocess_input(x):
    """Scale raw RGB pixel values in [0, 255] the way the ImageNet weights expect: (x - 127) / 128.

    Kept out of the model, as keras.applications' ResNet does, so a caller decides where it runs
    (the zoo's transfer builder puts it in the graph as a layer). Accepts numpy arrays (returns
    float32 numpy) and backend or symbolic Keras tensors (returns a float32 tensor).
    """
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float)):
        return (np.asarray(x, dtype=np.float32) - np.float32(PREPROCESS_MEAN)) / np.float32(PREPROCESS_STDDEV)
    x = keras.ops.cast(x, "float32")
    return (x - PREPROCESS_MEAN) / PREPROCESS_STDDEV


def efficientnet_lite_backbone(
    *,
    stages: Sequence[Mapping[str, int]],
    default_input_size: int,
    dropout_rate: float,
    include_top: bool,
    input_shape: tuple[int | None, int | None, int] | None,
    pooling: str | None,
    classes: int,
    classifier_activation: str | None,
    name: str,
) -> keras.Model:
    """An EfficientNet-Lite with freshly initialised weights.

    `stages`, `default_input_size` and `dropout_rate` are a preset's config; the other arguments
    are `EfficientNetLite0`'s. Raises ConfigError, naming the value, for a pooling, class count or
    input shape it cannot build.
    """
    input_shape = checked_arguments(include_top, input_shape, pooling, classes, default_input_size)
    batch_norm = dict(momentum=BATCH_NORM_MOMENTUM, epsilon=BATCH_NORM_EPSILON)

    inputs = keras.Input(shape=input_shape, name="input_layer")
    x = keras.layers.Conv2D(
        STEM_FILTERS, 3, strides=2, padding="same", use_bias=False,
        kernel_initializer=_CONV_INITIALIZER, name="stem_conv",
    )(inputs)
    x = keras.layers.BatchNormalization(**batch_norm, name="stem_bn")(x)
    x = keras.layers.ReLU(6.0, name="stem_activation")(x)

    blocks = mbconv_blocks(stages)
    for index, (block_name, stage, first_in_stage) in enumerate(blocks):
        x = _mbconv_block(
            x,
            filters_in=stage.filters_in if first_in_stage else stage.filters_out,
            filters_out=stage.filters_out,
            kernel_size=stage.kernel_size,
            strides=stage.strides if first_in_stage else 1,
            expand_ratio=stage.expand_ratio,
            drop_rate=DROP_CONNECT_RATE * index / len(blocks),
            batch_norm=batch_norm,
            name=block_name,
        )

    x = keras.layers.Conv2D(
        HEAD_FILTERS, 1, padding="same", use_bias=False, kernel_initializer=_CONV_INITIALIZER, name="top_conv"
    )(x)
    x = keras.layers.BatchNormalization(**batch_norm, name="top_bn")(x)
    x = keras.layers.ReLU(6.0, name="top_activation")(x)

    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = keras.layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = keras.layers.Dense(
            classes, activation=classifier_activation, kernel_initializer=_DENSE_INITIALIZER, name="predictions"
        )(x)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)

    return keras.Model(inputs, x, name=name)


def _mbconv_block(
    inputs, *, filters_in, filters_out, kernel_size, strides, expand_ratio, drop_rate, batch_norm, name
):
    """Mobile inverted bottleneck without squeeze-and-excitation: expand, depthwise, project.

    The residual (with per-example stochastic depth while training) is added only where the
    block keeps the shape, as in the reference.
    """
    x = inputs
    if expand_ratio != 1:
        x = keras.layers.Conv2D(
            filters_in * expand_ratio, 1, padding="same", use_bias=False,
            kernel_initializer=_CONV_INITIALIZER, name=f"{name}_expand_conv",
        )(x)
        x = keras.layers.BatchNormalization(**batch_norm, name=f"{name}_expand_bn")(x)
        x = keras.layers.ReLU(6.0, name=f"{name}_expand_activation")(x)
    x = keras.layers.DepthwiseConv2D(
        kernel_size, strides=strides, padding="same", use_bias=False,
        depthwise_initializer=_CONV_INITIALIZER, name=f"{name}_dwconv",
    )(x)
    x = keras.layers.BatchNormalization(**batch_norm, name=f"{name}_bn")(x)
    x = keras.layers.ReLU(6.0, name=f"{name}_activation")(x)
    x = keras.layers.Conv2D(
        filters_out, 1, padding="same", use_bias=False,
        kernel_initializer=_CONV_INITIALIZER, name=f"{name}_project_conv",
    )(x)
    x = keras.layers.BatchNormalization(**batch_norm, name=f"{name}_project_bn")(x)
    if strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = keras.layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(x)
        x = keras.layers.Add(name=f"{name}_add")([x, inputs])
    return x


def checked_arguments(
    include_top, input_shape, pooling, classes, default_input_size
) -> tuple[int | None, int | None, int]:
    """Validate the architecture's arguments; return the input shape to build with.

    Public so that the constructor can check what pretrained weights need of the same arguments
    before anything is built.
    """
    if pooling not in (None, "avg", "max"):
        raise ConfigError(f'pooling must be None, "avg" or "max". Received: pooling={pooling!r}')
    if not isinstance(classes, int) or classes < 1:
        raise ConfigError(f"classes must be a positive integer. Received: classes={classes!r}")

    if input_shape is None:
        side = default_input_size if include_top else None
        return (side, side, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ConfigError(f"input_shape must be (height, width, channels). Received: input_shape={input_shape}")
    height, width, channels = input_shape
    for side in (height, width):
        if side is not None and (not isinstance(side, int) or side < MIN_INPUT_SIZE):
            raise ConfigError(
                f"input height and width must be None or at least {MIN_INPUT_SIZE}. "
                f"Received: input_shape={input_shape}"
            )
    if not isinstance(channels, int) or channels < 1:
        raise ConfigError(f"input channels must be a positive integer. Received: input_shape={input_shape}")
    return input_shape
