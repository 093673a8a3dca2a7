"""Names an export and the server must agree on, defined once: signature keys, method names,
tensor aliases of TF Serving's classify and regress signatures, and the files a version carries.

`zoo.export` writes versions with these names and the server reads them; both import them from
here, so a rename cannot leave one side behind. The values are TensorFlow Serving's own
(signature_constants.py, tensorflow_serving/servables/tensorflow/*), so SavedModels exported by
any other tool are served the same way.
"""

from __future__ import annotations

# The words of TF Serving's API a client needs too, defined in the client's distribution and
# re-exported here for the server and the zoo.
from tfzoo_client.contract import (CLASSIFY_METHOD, DEFAULT_SIGNATURE, LABELS_FIELD, MODEL_CARD_FIELD,
                                   PREDICT_METHOD, REGRESS_METHOD, SIGNATURE_DEF_FIELD)

# Classify and regress signatures take one input, the serialized tf.Examples...
EXAMPLES_INPUT = "inputs"
# ...and answer with class labels and/or scores (classify) or one value per example (regress).
CLASSES_OUTPUT = "classes"
SCORES_OUTPUT = "scores"
REGRESSION_OUTPUT = "outputs"

# A version directory is a SavedModel: it holds one of these (binary or text MetaGraphs).
SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
# Files inside a version directory, relative to it.
WARMUP_FILE = ("assets.extra", "tf_serving_warmup_requests")  # TFRecord of PredictionLog
MAX_WARMUP_RECORDS = 1000  # TF Serving refuses a warmup file with more (saved_model_warmup_util)
LABELS_FILE = ("assets", "labels.txt")  # one class name per line, in output order
MODEL_CARD_FILE = ("assets.extra", "model_card.json")  # what the model is and how it was made
TFLITE_MODEL_FILE = ("model.tflite",)  # served with --prefer_tflite_model
BATCHING_PARAMETERS_FILE = ("batching_params.pbtxt",)  # --enable_per_model_batching_parameters

