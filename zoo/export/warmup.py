"""Warmup requests: a TFRecord of PredictionLog that TF Serving (and our server) replays at load.

Without warmup the first real requests pay for graph tracing and kernel initialisation, one of
TF Serving users' most common complaints.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

from serving import contract
from zoo.export.image_inputs import encode_images
from zoo.spec import IMAGE_BYTES, PIXELS, DataSpec

WARMUP_BATCH_SIZES = (1, 8)


def write_warmup_requests(version_dir: Path, model_name: str, spec: DataSpec,
                          examples: np.ndarray, input_form: str = PIXELS) -> Path:
    """One predict request per batch size in WARMUP_BATCH_SIZES, built from real examples, in
    the warmup file of the version directory `version_dir` (its assets.extra must exist).

    The requests are serving_default's, in its input form (IMAGE_BYTES: the examples as PNG
    files). Only serving_default is warmed: an image export's other input form runs the same
    model, and a TF Lite version, which replays the same file, has no image_bytes signature.
    """
    if len(examples) == 0:
        raise ValueError("warmup needs at least one example. Received: 0 examples")
    alias = spec.input_name
    if input_form == IMAGE_BYTES:
        alias, examples = IMAGE_BYTES, encode_images(examples)
    path = Path(version_dir, *contract.WARMUP_FILE)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for batch_size in WARMUP_BATCH_SIZES:
            batch = np.resize(examples, (batch_size, *examples.shape[1:]))
            if spec.input_dtype != "string" and input_form != IMAGE_BYTES:
                batch = batch.astype(np.float32)
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name=contract.DEFAULT_SIGNATURE)
            )
            request.inputs[alias].CopyFrom(tf.make_tensor_proto(batch))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path
