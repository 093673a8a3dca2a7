"""TF Lite models in the server: `--prefer_tflite_model` serves a version's `model.tflite`.

A version directory holding `model.tflite` is served through pools of tf.lite.Interpreter
instead of its SavedModel (a version without one still loads its SavedModel). `TfliteBackend`
is a serving.core Backend, so every front end serves it unchanged. Importing this package does
not import TensorFlow.
"""

from serving.backends.tflite.backend import TFLITE_MODEL_FILE, TfliteBackend
from serving.backends.tflite.options import TfliteOptions, options_from_flags

__all__ = [
    "TFLITE_MODEL_FILE",
    "TfliteBackend",
    "TfliteOptions",
    "options_from_flags",
]
