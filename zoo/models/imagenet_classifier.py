"""ImageNet classifiers as published: a transfer model's backbone with its own 1000-class top and
ImageNet weights, ready to serve without training (`zoo export MODEL --weights imagenet`).

raw RGB image (image_size x image_size x 3, values 0..255) -> the backbone's own
`preprocess_input` (in the graph, as in the transfer family) -> the keras.applications model (or
EfficientNet-Lite0) with `include_top=True` -> probabilities over the 1000 ImageNet classes, in the
order of zoo.weights.imagenet_class_names().

Weights: EfficientNet-Lite0's come from a pip package and work offline. The keras.applications
backbones' are Keras' own download, cached under `<keras home>/models/`; without the file and
without a network, building fails at once with one line naming the file, where it was looked for,
and the URL to fetch it from.
"""

from __future__ import annotations

import importlib

import keras

from zoo.errors import ConfigError, UnknownNameError
from zoo.models import transfer  # transfer.WEIGHTS_HOST is read when used, as transfer.py does
from zoo.models.efficientnet_lite.efficientnet_lite_imagenet import (imagenet_weights_path, imagenet_weights_source,
                                                                    torch_checkpoint_path)
from zoo.models.layers import BackbonePreprocessing, model_input
from zoo.models.registry import MODELS, get_model_entry
from zoo.models.transfer import BACKBONES, Backbone, keras_weights_cache, one_line_reason, weights_host_reachable
from zoo.spec import DataSpec
from zoo.weights import WeightsUnavailableError, imagenet_class_names

IMAGENET_DATASET = "imagenet"


def imagenet_model_names() -> tuple[str, ...]:
    """The registered models that have an ImageNet classifier: the transfer family's."""
    return tuple(name for name, entry in MODELS.items() if entry.family == "transfer")


def imagenet_spec(image_size: int) -> DataSpec:
    """What the classifiers take and give: square RGB images of `image_size`, 1000 named classes."""
    return DataSpec(
        name=IMAGENET_DATASET,
        kind="image",
        task="classification",
        input_shape=(image_size, image_size, 3),
        num_outputs=len(imagenet_class_names()),
        class_names=tuple(imagenet_class_names()),
        description="RGB pixel values 0..255 (ImageNet ILSVRC-2012 classes)",
    )


def imagenet_backbone(model_name: str) -> tuple[str, Backbone]:
    """(backbone name, Backbone) of a model with an ImageNet classifier; UnknownNameError listing
    those models otherwise."""
    get_model_entry(model_name)  # an unregistered name: the registry's own message
    if model_name not in imagenet_model_names():
        raise UnknownNameError(
            f"Model {model_name!r} has no pretrained ImageNet classifier. Models that have one: "
            f"{', '.join(imagenet_model_names())}")
    name = MODELS[model_name].fixed["backbone"]
    return name, BACKBONES[name]


def build_imagenet_classifier(model_name: str, image_size: int | None = None) -> keras.Model:
    """The published ImageNet classifier of `model_name`, taking raw pixels of side `image_size`
    (default: the side it was trained on), named `model_name`.

    Raises UnknownNameError for a model without one, WeightsUnavailableError when its weights are
    neither cached nor obtainable here, ConfigError for an image size its weights do not fit.
    """
    _, info = imagenet_backbone(model_name)
    size = info.imagenet_size if image_size is None else image_size
    _check_size(model_name, info, size)
    spec = imagenet_spec(size)
    module, _, function = info.constructor.rpartition(".")
    constructor = getattr(importlib.import_module(module), function)
    if info.imagenet_top_file is None:  # built here; raises zoo errors of its own
        classifier = constructor(include_top=True, weights="imagenet", input_shape=spec.input_shape)
    else:
        weights = _keras_weights(model_name, info, size)
        try:
            classifier = constructor(include_top=True, weights=weights, input_shape=spec.input_shape)
        except Exception as error:  # Keras reports a failed download as a bare Exception
            raise WeightsUnavailableError(
                f"Could not get ImageNet weights for {model_name} ({one_line_reason(error)}): "
                f"{_how_to_get(info, size)}") from error
    inputs = model_input(spec)
    x = BackbonePreprocessing(info.preprocessing, name="backbone_preprocessing")(inputs)
    return keras.Model(inputs, classifier(x), name=model_name)


def weights_card(model_name: str, image_size: int) -> dict:
    """Where the classifier's weights come from and their licence: the model card's `weights`."""
    backbone_name, info = imagenet_backbone(model_name)
    if info.imagenet_top_file is None:
        source, url = imagenet_weights_source(), info.weights_url
    else:
        source = f"Keras Applications: {info.constructor}(include_top=True, weights='imagenet')"
        url = info.weights_url + info.imagenet_top_file(image_size)
    return {"dataset": "ImageNet ILSVRC-2012 (1000 classes)", "backbone": backbone_name,
            "source": source, "url": url, "licence": info.weights_licence}


def offline_availability(model_name: str) -> str:
    """Which ImageNet weights of a registered model load here without a network right now:
    "classifier, backbone" (zoo export and fine-tuning), "backbone" (fine-tuning only), "none",
    or "-" for a model that has no ImageNet weights."""
    if model_name not in imagenet_model_names():
        return "-"
    _, info = imagenet_backbone(model_name)
    if info.imagenet_top_file is None:  # converted from a pip package, both at once
        if torch_checkpoint_path() is not None:
            return "classifier, backbone"
        files = {"classifier": imagenet_weights_path(include_top=True),
                 "backbone": imagenet_weights_path(include_top=False)}
    else:
        cache = keras_weights_cache()
        finetune_size = MODELS[model_name].make_config().image_size
        files = {"classifier": cache / info.imagenet_top_file(info.imagenet_size),
                 "backbone": cache / info.imagenet_file(finetune_size)}
    return ", ".join(what for what, path in files.items() if path.is_file()) or "none"


def _check_size(model_name: str, info: Backbone, size: int) -> None:
    if info.imagenet_other_sizes is None:
        if size < info.min_size:
            raise ConfigError(
                f"image_size must be at least {info.min_size} for {model_name}. Received: image_size={size}")
    elif size != info.imagenet_size and size not in info.imagenet_other_sizes:
        sizes = ", ".join(str(side) for side in sorted({info.imagenet_size, *info.imagenet_other_sizes}))
        raise ConfigError(
            f"{model_name}'s ImageNet classifier takes images of side {sizes} (Keras has weights for "
            f"those only). Received: image_size={size}")


def _keras_weights(model_name: str, info: Backbone, size: int) -> str:
    """The constructor's `weights`: the cached file itself (exactly the file the message below asks
    for), or "imagenet" to have Keras download it, after checking that it can."""
    cached = keras_weights_cache() / info.imagenet_top_file(size)
    if cached.is_file():
        return str(cached)
    if not weights_host_reachable():
        raise WeightsUnavailableError(
            f"ImageNet weights for {model_name}'s classifier are not in the Keras cache and "
            f"{transfer.WEIGHTS_HOST} is unreachable (offline?): {_how_to_get(info, size)}")
    return "imagenet"  # Keras downloads (checking the file's hash) into the same cache


def _how_to_get(info: Backbone, size: int) -> str:
    file_name = info.imagenet_top_file(size)
    cached = keras_weights_cache() / file_name
    return f"looked for {cached}; download {info.weights_url}{file_name} and copy it there"
