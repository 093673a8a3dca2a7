"""The model runtimes a version can be served with, each a serving.core Backend.

`savedmodel` (TensorFlow, the default) and `tflite` (tf.lite.Interpreter pools, with
--prefer_tflite_model). `open_backend` picks one for a version directory as TF Serving does.
"""

from __future__ import annotations

import os
from typing import Sequence

from serving.backends.savedmodel import load_saved_model
from serving.backends.tflite import TFLITE_MODEL_FILE, TfliteBackend, TfliteOptions


def open_backend(name: str, version: int, path: str, tags: Sequence[str],
                 tflite_options: TfliteOptions | None = None):
    """The version at `path`: from its model.tflite when `tflite_options` is given
    (--prefer_tflite_model) and the file exists, else from its SavedModel, as TF Serving falls
    back when a version has no TF Lite model (load_saved_model picks the TensorFlow runtime).

    Raises:
        serving.core.ServableLoadError: the model cannot be loaded (its status code says why).
    """
    if tflite_options is not None and os.path.isfile(os.path.join(path, TFLITE_MODEL_FILE)):
        return TfliteBackend.load(name, version, path, tflite_options)
    return load_saved_model(path, tags)
