"""Pretrained weights from files that ship offline: reading PyTorch checkpoints without torch,
the ImageNet class names, and the Keras cache that converted weights are kept in.

Nothing here knows a model: a family converts its own weights with these pieces (EfficientNet-Lite
in zoo/models/efficientnet_lite/), so imports go one way, from zoo.models to zoo.weights.
Importing this package is cheap (numpy only); Keras work happens in the families.
"""

from zoo.weights.imagenet_classes import imagenet_class_names, imagenet_wordnet_ids
from zoo.weights.keras_cache import WeightsUnavailableError, keras_cache_dir, save_weights_atomically
from zoo.weights.torch_checkpoint import read_torch_checkpoint

__all__ = [
    "WeightsUnavailableError",
    "imagenet_class_names",
    "imagenet_wordnet_ids",
    "keras_cache_dir",
    "read_torch_checkpoint",
    "save_weights_atomically",
]
