"""Model warmup: replay the requests a SavedModel ships in assets.extra before serving it.

The first call of a TensorFlow function traces and optimizes it, which can take seconds; TF
Serving hides that from clients by replaying recorded requests before a version becomes
AVAILABLE (g3doc/saved_model_warmup.md). The file is a TFRecord of PredictionLog with at most
1000 records; each is replayed `iterations` times through the same API functions clients reach
(Predict, Classify, Regress, MultiInference), responses encoded as they would be sent. A record
that fails fails the load, so a version that cannot answer its own sample requests never takes
traffic.
"""

from __future__ import annotations

import logging
import os
import time

import grpc

from serving import contract, errors
from serving.apis.tfs.classify_regress import classify_on, regress_on
from serving.apis.tfs.multi_inference import multi_inference_on
from serving.apis.tfs.predict import predict_on
from serving.apis.tfs.settings import TfsSettings
from serving.core.servable import Servable, ServableLoadError

logger = logging.getLogger("serving.core")

WARMUP_FILE = os.path.join(*contract.WARMUP_FILE)
MAX_WARMUP_RECORDS = contract.MAX_WARMUP_RECORDS


def warm_up(servable: Servable, iterations: int = 1, settings: TfsSettings = TfsSettings()) -> int:
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
                _replay(servable, log, settings)
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


_REPLAYS = {
    "predict_log": predict_on,
    "classify_log": classify_on,
    "regress_log": regress_on,
    "multi_inference_log": multi_inference_on,
}


def _replay(servable: Servable, log, settings: TfsSettings) -> None:
    kind = log.WhichOneof("log_type")
    if kind is None:
        return
    replay = _REPLAYS.get(kind)
    if replay is None:
        raise errors.Unimplemented(f"Unsupported log_type for warmup: {kind}")
    replay(servable, getattr(log, kind).request, None, settings)
