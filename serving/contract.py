"""Names an export and the server must agree on, defined once: signature keys, method names,
tensor aliases of TF Serving's classify and regress signatures, and the files a version carries.

`zoo.export` writes versions with these names and the server reads them; both import them from
here, so a rename cannot leave one side behind. The values are TensorFlow Serving's own
(signature_constants.py, tensorflow_serving/servables/tensorflow/*), so SavedModels exported by
any other tool are served the same way.
"""

from __future__ import annotations

# The signature a request means when it names none.
DEFAULT_SIGNATURE = "serving_default"

# SignatureDef.method_name of each kind of signature (signature_constants.*_METHOD_NAME).
PREDICT_METHOD = "tensorflow/serving/predict"
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"

# Classify and regress signatures take one input, the serialized tf.Examples...
EXAMPLES_INPUT = "inputs"
# ...and answer with class labels and/or scores (classify) or one value per example (regress).
CLASSES_OUTPUT = "classes"
SCORES_OUTPUT = "scores"
REGRESSION_OUTPUT = "outputs"

# Files inside a version directory, relative to it.
WARMUP_FILE = ("assets.extra", "tf_serving_warmup_requests")  # TFRecord of PredictionLog
MAX_WARMUP_RECORDS = 1000  # TF Serving refuses a warmup file with more (saved_model_warmup_util)
LABELS_FILE = ("assets", "labels.txt")  # one class name per line, in output order
MODEL_CARD_FILE = ("assets.extra", "model_card.json")  # what the model is and how it was made
TFLITE_MODEL_FILE = ("model.tflite",)  # served with --prefer_tflite_model
BATCHING_PARAMETERS_FILE = ("batching_params.pbtxt",)  # --enable_per_model_batching_parameters

# GetModelMetadata's metadata_field names: TF Serving's one, then the files a zoo export carries.
SIGNATURE_DEF_FIELD = "signature_def"
LABELS_FIELD = "labels"  # assets/labels.txt as a StringValue
MODEL_CARD_FIELD = "model_card"  # assets.extra/model_card.json as a StringValue
