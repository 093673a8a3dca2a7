"""Where weights the zoo converts itself are kept: the Keras cache, written so readers never see half a file.

A family that converts weights from another framework's checkpoint does it once and writes the
result under `$KERAS_HOME/models` (default `~/.keras/models`), where keras.applications keeps its
own downloads; later builds only load that file, and need neither the source nor the conversion.
"""

from __future__ import annotations

import os
from pathlib import Path

from zoo.errors import ZooError


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


def save_weights_atomically(model, path: Path) -> None:
    """Write to a private temporary name, then rename: concurrent first loads never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name[: -len('.weights.h5')]}.{os.getpid()}.partial.weights.h5")
    try:
        model.save_weights(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
