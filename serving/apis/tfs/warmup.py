"""Model warmup: replay the requests a SavedModel ships in assets.extra before serving it.

The first call of a TensorFlow function traces and optimizes it, which can take seconds; TF
Serving hides that from clients by replaying recorded requests before a version becomes
AVAILABLE (g3doc/saved_model_warmup.md). The file is a TFRecord of PredictionLog with at most
1000 records; each is replayed `iterations` times. A record that fails fails the load, so a
version that cannot answer its own sample requests never takes traffic.
"""

from __future__ import annotations

import logging
import os
import time

import grpc

from serving import contract, errors
from serving.core.servable import Servable, ServableLoadError

logger = logging.getLogger("serving.core")

WARMUP_FILE = os.path.join(*contract.WARMUP_FILE)
MAX_WARMUP_RECORDS = 1000


def warm_up(servable: Servable, iterations: int = 1) -> int:
    """Replays the servable's warmup records `iterations` times each; returns the records read.

    A version without a warmup file needs no warmup and returns 0.

    Raises:
        ServableLoadError: the file is not a TFRecord of PredictionLog, holds more than 1000
            records or a kind of log that cannot be replayed, or a request fails (its code kept).
    """
    if iterations < 0:
        raise ValueError(f"iterations must be non-negative. Received: iterations={iterations}")
    path = os.path.join(servable.path, WARMUP_FILE)
    if not os.path.exists(path):
        return 0
    started = time.monotonic()
    count = 0
    for count, log in enumerate(_read_prediction_logs(path), start=1):
        for _ in range(iterations):
            try:
                _replay(servable, log)
            except errors.ServingError as error:
                raise ServableLoadError(
                    f"Warmup record {count} ({log.WhichOneof('log_type')}) from {path} failed: "
                    f"{error.message}", error.code) from error
    logger.info("event=warmup_done model=%s version=%d records=%d iterations=%d seconds=%.3f",
                servable.name, servable.version, count, iterations, time.monotonic() - started)
    return count


def _read_prediction_logs(path: str):
    import tensorflow as tf
    from google.protobuf import message
    from tensorflow_serving.apis import prediction_log_pb2

    records = iter(tf.data.TFRecordDataset(path))
    for index in range(1, MAX_WARMUP_RECORDS + 2):
        try:
            record = next(records)
        except StopIteration:
            return
        except tf.errors.OpError as error:
            raise ServableLoadError(
                f"Cannot read warmup file {path}: {error.message}. Please verify your warmup data "
                "is in TFRecord format.", grpc.StatusCode.DATA_LOSS) from None
        if index > MAX_WARMUP_RECORDS:
            raise ServableLoadError(
                f"Number of warmup records exceeds the maximum ({MAX_WARMUP_RECORDS}) at {path}",
                grpc.StatusCode.INVALID_ARGUMENT)
        log = prediction_log_pb2.PredictionLog()
        try:
            log.ParseFromString(record.numpy())
        except message.DecodeError:
            raise ServableLoadError(
                f"Failed to parse warmup record {index} from {path}: not a PredictionLog",
                grpc.StatusCode.INVALID_ARGUMENT) from None
        yield log


def _replay(servable: Servable, log) -> None:
    from serving.tfs.examples import serialized_examples
    from serving.tfs.tensor_codec import tensor_proto_to_ndarray

    kind = log.WhichOneof("log_type")
    if kind == "predict_log":
        request = log.predict_log.request
        inputs = {alias: tensor_proto_to_ndarray(proto, alias)
                  for alias, proto in request.inputs.items()}
        servable.run(request.model_spec.signature_name, inputs, list(request.output_filter))
    elif kind in ("classify_log", "regress_log"):
        request = getattr(log, kind).request
        _run_on_examples(servable, request.model_spec.signature_name,
                         serialized_examples(request.input))
    elif kind == "multi_inference_log":
        request = log.multi_inference_log.request
        examples = serialized_examples(request.input)
        for task in request.tasks:
            _run_on_examples(servable, task.model_spec.signature_name, examples)
    elif kind is not None:
        raise errors.Unimplemented(f"Unsupported log_type for warmup: {kind}")


def _run_on_examples(servable: Servable, signature_name: str, examples) -> None:
    """Runs a classify or regress signature on serialized tf.Examples, fed to its one input."""
    signature_def = servable.signature_defs.get(signature_name or contract.DEFAULT_SIGNATURE)
    alias = contract.EXAMPLES_INPUT
    if signature_def is not None and contract.EXAMPLES_INPUT not in signature_def.inputs \
            and len(signature_def.inputs) == 1:
        alias = next(iter(signature_def.inputs))
    servable.run(signature_name, {alias: examples})
