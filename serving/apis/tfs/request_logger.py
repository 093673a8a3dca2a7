"""Request logging, TF Serving's way: sampled requests and their responses as PredictionLog records.

A model's `logging_config` (read by model_config.py into a `RequestLogConfig`) names a file
prefix and a sampling rate. The APIs that run a model (Predict, Classify, Regress,
MultiInference, and the Open Inference Protocol's ModelInfer as the PredictRequest it amounts to)
hand every answered request to `ServerRequestLogger`; each is kept with probability
`sampling_rate` and written as a `tensorflow.serving.PredictionLog` (the message a warmup file
holds) with its LogMetadata: the model spec that answered, the sampling config, the SavedModel
tags and the time. Sampling costs one random number; a sampled record is queued for the model's
RequestLogWriter and built and serialized on the writer's thread, so no request waits for its log.

Requests that fail are not logged, as in TF Serving (core/server_request_logger.cc): only a
request with its response is a useful record. Models whose configs are equal share one logger,
as there.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from typing import Mapping, Sequence

import numpy as np
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2
from tensorflow_serving.config import logging_config_pb2

from serving import errors
from serving.apis.tfs.request_log_writer import PendingRecord, RequestLogWriter
from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto

logger = logging.getLogger("serving.request_log")

# The PredictionLog fields of the four APIs, each holding {request, response}.
PREDICT_LOG = "predict_log"
CLASSIFY_LOG = "classify_log"
REGRESS_LOG = "regress_log"
MULTI_INFERENCE_LOG = "multi_inference_log"
# log_collector_config.type values this server writes ("" means the same).
TFRECORD_COLLECTOR = "tfrecord"


@dataclasses.dataclass(frozen=True)
class RequestLogConfig:
    """One model's request logging: records go to files under `filename_prefix` (an absolute
    path prefix), each answered request is kept with probability `sampling_rate`."""

    filename_prefix: str
    sampling_rate: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.sampling_rate <= 1.0:
            raise ValueError("sampling_rate must be in [0, 1]. "
                             f"Received: sampling_rate={self.sampling_rate}")


class RequestLogger:
    """Samples and writes the records of one RequestLogConfig."""

    def __init__(self, config: RequestLogConfig, saved_model_tags: Sequence[str],
                 **writer_options):
        self.config = config
        self.writer = RequestLogWriter(config.filename_prefix, **writer_options)
        self._tags = tuple(saved_model_tags)
        self._sampling = logging_config_pb2.SamplingConfig(sampling_rate=config.sampling_rate)

    def sampled(self) -> bool:
        rate = self.config.sampling_rate
        return rate >= 1.0 or (rate > 0.0 and random.random() < rate)

    def submit(self, model_spec: model_pb2.ModelSpec, kind: str, build_request, build_response
               ) -> None:
        """Queues one record; `build_request()` and `build_response()` return the messages (or
        make them) on the writer's thread."""
        timestamp = int(time.time())

        def serialize() -> bytes:
            log = prediction_log_pb2.PredictionLog()
            metadata = log.log_metadata
            metadata.model_spec.CopyFrom(model_spec)
            metadata.sampling_config.CopyFrom(self._sampling)
            metadata.saved_model_tags.extend(self._tags)
            metadata.timestamp_secs = timestamp
            entry = getattr(log, kind)
            entry.request.CopyFrom(build_request())
            entry.response.CopyFrom(build_response())
            return log.SerializeToString()

        self.writer.submit(PendingRecord(model_spec.name, serialize))


class ServerRequestLogger:
    """The request loggers of every model, replaced as a whole when the model config changes.

    The request objects handed to `log` and `log_infer` must not change afterwards (the APIs
    hand over what they answered, which nothing changes); they are copied on the writer's thread.
    """

    def __init__(self, saved_model_tags: Sequence[str] = ("serve",), **writer_options):
        self._tags = tuple(saved_model_tags)
        self._writer_options = writer_options
        self._by_model: Mapping[str, RequestLogger] = {}
        self._update_lock = threading.Lock()

    def update(self, configs: Mapping[str, RequestLogConfig]) -> None:
        """Logs the models in `configs` (name -> config) from now on, and no others.

        A logger whose config is unchanged is kept; one no model uses any more is flushed and
        closed.

        Raises:
            errors.InvalidArgument: a prefix's directory cannot be written (nothing changes).
        """
        with self._update_lock:
            current = {logger.config: logger for logger in self._by_model.values()}
            by_config: dict[RequestLogConfig, RequestLogger] = {}
            created = []
            try:
                for model, config in sorted(configs.items()):
                    if config not in by_config:
                        by_config[config] = current.get(config) or self._new_logger(model, config)
                        if config not in current:
                            created.append(by_config[config])
            except errors.InvalidArgument:
                for request_logger in created:
                    request_logger.writer.close()
                raise
            self._by_model = {model: by_config[config] for model, config in configs.items()}
        for config, request_logger in current.items():
            if config not in by_config:
                request_logger.writer.close()
        for model, config in sorted(configs.items()):
            logger.info("event=request_logging model=%s prefix=%s sampling_rate=%g", model,
                        config.filename_prefix, config.sampling_rate)

    def log(self, kind: str, request, response) -> None:
        """Maybe logs an answered TF Serving request: `kind` is its PredictionLog field."""
        model_spec = _answered_spec(kind, response)
        request_logger = self._by_model.get(model_spec.name)
        if request_logger is None or not request_logger.sampled():
            return
        request_logger.submit(model_spec, kind, lambda: request, lambda: response)

    def log_infer(self, model: str, version: int, signature_name: str,
                  inputs: Mapping[str, np.ndarray], output_filter: Sequence[str],
                  outputs: Mapping[str, np.ndarray]) -> None:
        """Maybe logs an answered Open Inference Protocol request as the PredictRequest and
        PredictResponse it amounts to (same model, version, signature, inputs and outputs)."""
        request_logger = self._by_model.get(model)
        if request_logger is None or not request_logger.sampled():
            return
        model_spec = model_pb2.ModelSpec(name=model, signature_name=signature_name)
        model_spec.version.value = version

        def build_request() -> predict_pb2.PredictRequest:
            request = predict_pb2.PredictRequest(model_spec=model_spec,
                                                 output_filter=list(output_filter))
            for alias, array in inputs.items():
                ndarray_to_tensor_proto(array, out=request.inputs[alias])
            return request

        def build_response() -> predict_pb2.PredictResponse:
            response = predict_pb2.PredictResponse(model_spec=model_spec)
            for alias, array in outputs.items():
                ndarray_to_tensor_proto(array, out=response.outputs[alias])
            return response

        request_logger.submit(model_spec, PREDICT_LOG, build_request, build_response)

    def flush(self, timeout: float = 10.0) -> bool:
        """Waits until every record queued so far is on disk; False on timeout."""
        return all([request_logger.writer.flush(timeout)
                    for request_logger in set(self._by_model.values())])

    def close(self, timeout: float = 10.0) -> None:
        """Writes what is queued and closes every file; nothing is logged afterwards."""
        with self._update_lock:
            loggers, self._by_model = set(self._by_model.values()), {}
        for request_logger in loggers:
            request_logger.writer.close(timeout)

    def _new_logger(self, model: str, config: RequestLogConfig) -> RequestLogger:
        try:
            return RequestLogger(config, self._tags, **self._writer_options)
        except OSError as error:
            raise errors.InvalidArgument(
                f"model {model!r}: logging_config.log_collector_config.filename_prefix="
                f"{config.filename_prefix}: cannot write request logs there "
                f"({error.strerror or error}); make its directory writable or change the prefix"
            ) from None


def _answered_spec(kind: str, response) -> model_pb2.ModelSpec:
    """The model spec that answered: the response's, or MultiInference's first result's."""
    if kind == MULTI_INFERENCE_LOG:
        return response.results[0].model_spec if response.results else model_pb2.ModelSpec()
    return response.model_spec
