"""TF Lite models in the server: `--prefer_tflite_model` serves a version's `model.tflite`.

A version directory holding `model.tflite` is served through pools of tf.lite.Interpreter
instead of its SavedModel (a version without one still loads its SavedModel). The resulting
`TfliteServable` has serving.core.Servable's interface, so every front end serves it unchanged.
Importing this package does not import TensorFlow.
"""

from serving.tflite.options import TfliteOptions, options_from_flags
from serving.tflite.servable import TFLITE_MODEL_FILE, TfliteServable, load_preferring_tflite

__all__ = [
    "TFLITE_MODEL_FILE",
    "TfliteOptions",
    "TfliteServable",
    "load_preferring_tflite",
    "options_from_flags",
]
