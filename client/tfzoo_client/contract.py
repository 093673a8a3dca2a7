"""Names of TF Serving's API that a client and a server must agree on, defined once: the default
signature key, the method names of signatures, and GetModelMetadata's metadata fields.

The server and the zoo import them through serving/contract.py, which adds the names only an
export and the server share (the files a version carries).
"""

from __future__ import annotations

# The signature a request means when it names none.
DEFAULT_SIGNATURE = "serving_default"

# SignatureDef.method_name of each kind of signature (signature_constants.*_METHOD_NAME).
PREDICT_METHOD = "tensorflow/serving/predict"
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"

# GetModelMetadata's metadata_field names: TF Serving's one, then the files a zoo export carries.
SIGNATURE_DEF_FIELD = "signature_def"
LABELS_FIELD = "labels"  # assets/labels.txt as a StringValue
MODEL_CARD_FIELD = "model_card"  # assets.extra/model_card.json as a StringValue
