"""Pretrained weights for the zoo's backbones, read from files that ship offline.

Importing this package is cheap (numpy only); Keras work happens inside the loading functions.
"""

from zoo.weights.imagenet_classes import imagenet_class_names, imagenet_wordnet_ids
from zoo.weights.lite0_imagenet import (
    WeightsUnavailableError,
    imagenet_weights_path,
    load_imagenet_weights,
)
from zoo.weights.torch_checkpoint import read_torch_checkpoint

__all__ = [
    "WeightsUnavailableError",
    "imagenet_class_names",
    "imagenet_weights_path",
    "imagenet_wordnet_ids",
    "load_imagenet_weights",
    "read_torch_checkpoint",
]
