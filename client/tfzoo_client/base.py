"""The client's public methods, shared by `Client` (blocking) and `AsyncClient` (asyncio).

Each method validates its arguments, builds an operation (tfzoo_client/operations.py) and hands
it to `_run`, which the subclass implements: `Client._run` returns the result, `AsyncClient._run`
returns an awaitable of it.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from tfzoo_client import operations
from tfzoo_client._proto import grpc_predict_v2_pb2_grpc
from tfzoo_client._proto.tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc
from tfzoo_client.channel import (
    DEFAULT_MAX_MESSAGE_BYTES,
    RetryPolicy,
    TlsConfig,
    call_metadata,
    channel_options as build_channel_options,
    check_target,
    check_timeout,
    resolve_tls,
)
from tfzoo_client.contract import DEFAULT_SIGNATURE
from tfzoo_client.examples import Example
from tfzoo_client.messages import ModelRef
from tfzoo_client.metadata_cache import MetadataCache

# The services a client calls, their stubs (which work on sync and grpc.aio channels alike), and
# the service of each method the operations call: TF Serving's two, then KServe v2's.
STUBS = {
    "tensorflow.serving.PredictionService": prediction_service_pb2_grpc.PredictionServiceStub,
    "tensorflow.serving.ModelService": model_service_pb2_grpc.ModelServiceStub,
    "inference.GRPCInferenceService": grpc_predict_v2_pb2_grpc.GRPCInferenceServiceStub,
}
SERVICE_OF_METHOD = {
    **dict.fromkeys(("Predict", "Classify", "Regress", "MultiInference", "GetModelMetadata"), "tensorflow.serving.PredictionService"),
    "GetModelStatus": "tensorflow.serving.ModelService",
    **dict.fromkeys(("ModelInfer", "ModelReady", "ServerReady", "ServerLive"), "inference.GRPCInferenceService"),
}


class BaseClient:
    """Connection settings shared by both clients; see `Client` for the arguments."""

    def __init__(
        self,
        target: str,
        *,
        tls: bool | TlsConfig | None = None,
        token: str | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        metadata_ttl: float = 60.0,
        channel_options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self.target = check_target(target)
        self.timeout = check_timeout(timeout)
        self.retry = RetryPolicy() if retry is None else retry
        self._tls = resolve_tls(tls)
        self._call_metadata = call_metadata(token)
        self._channel_options = build_channel_options(max_message_bytes, self.retry, self._tls, channel_options)
        self._state = operations.ClientState(cache=MetadataCache(metadata_ttl))
        self._connect()

    def predict(self, model: str, inputs: Any, *, version: int | None = None, label: str | None = None,
                signature: str = DEFAULT_SIGNATURE, output_filter: Sequence[str] | None = None,
                timeout: float | None = None):
        """Runs `signature` on `inputs` and returns its outputs as {alias: numpy array}.

        `inputs` is {alias: value}, or one value for a single-input signature; values are numpy
        arrays, (nested) lists or tf.Tensors, converted to the signature's dtypes where no value
        changes (errors.InvalidArgument before anything is sent otherwise). `output_filter`
        names the outputs to compute (all by default). String outputs come back as object
        arrays of bytes.
        """
        ref = ModelRef(model, version, label)
        return self._run(operations.predict(self._state, ref, inputs, signature, output_filter), timeout)

    def classify(self, model: str, examples: Iterable[Example], *, version: int | None = None,
                 label: str | None = None, signature: str | None = None, context: Example | None = None,
                 timeout: float | None = None):
        """Classifies tf.Examples (dicts of feature -> values, or tf.train.Example) and returns,
        per example, a list of ClassScore(label, score). Without `signature`, the model's
        classify signature is found from its metadata."""
        ref = ModelRef(model, version, label)
        return self._run(operations.classify(self._state, ref, examples, signature, context), timeout)

    def regress(self, model: str, examples: Iterable[Example], *, version: int | None = None,
                label: str | None = None, signature: str | None = None, context: Example | None = None,
                timeout: float | None = None):
        """Regresses tf.Examples (as for `classify`) and returns a float32 array, one value each."""
        ref = ModelRef(model, version, label)
        return self._run(operations.regress(self._state, ref, examples, signature, context), timeout)

    def metadata(self, model: str, *, version: int | None = None, label: str | None = None,
                 timeout: float | None = None):
        """The model's ModelMetadata (signatures with their inputs and outputs; labels and model
        card when the server provides them), always fetched anew."""
        ref = ModelRef(model, version, label)
        return self._run(operations.metadata(self._state, ref, cached=False), timeout)

    def send(self, method: str, request, *, timeout: float | None = None):
        """Sends a TF Serving request message as it is and returns the response message:
        `method` is "Predict", "Classify", "Regress" or "MultiInference" (replaying recorded
        requests, `zoo replay`). Retries and errors as for the other methods."""
        if method not in ("Predict", "Classify", "Regress", "MultiInference"):
            raise ValueError("method must be Predict, Classify, Regress or MultiInference. "
                             f"Received: method={method!r}")
        return self._run(operations.send(method, request), timeout)

    def status(self, model: str, *, version: int | None = None, timeout: float | None = None):
        """The state of each version of the model (newest first), as ModelVersionStatus."""
        return self._run(operations.status(ModelRef(model, version)), timeout)

    def wait_until_ready(self, model: str, timeout: float = 30.0, *, version: int | None = None,
                         poll_interval: float = 0.1):
        """Waits until the model (or `version`) is AVAILABLE, while the server starts or loads
        it, and returns that version's ModelVersionStatus; errors.DeadlineExceeded after
        `timeout` seconds, saying what the server reported last."""
        timeout = check_timeout(timeout)
        if not poll_interval > 0:
            raise ValueError(f"poll_interval must be positive. Received: poll_interval={poll_interval}")
        operation = operations.wait_until_ready(ModelRef(model, version), timeout, poll_interval)
        return self._run(operation, timeout)

    def infer(self, model: str, inputs: Mapping[str, Any], *, version: int | None = None,
              outputs: Sequence[str] | None = None, timeout: float | None = None):
        """KServe v2 (Open Inference Protocol) ModelInfer: runs the model on `inputs` ({input name:
        numpy array, list or str/bytes}) and returns {output name: numpy array}; `outputs` names
        the outputs to return (all by default). Arrays are sent with their own dtype."""
        ref = ModelRef(model, version)
        return self._run(operations.infer(ref, inputs, outputs), timeout)

    def model_ready(self, model: str, *, version: int | None = None, timeout: float | None = None):
        """KServe v2 ModelReady: whether the model (or `version`) can answer inferences now."""
        return self._run(operations.model_ready(ModelRef(model, version)), timeout)

    def server_ready(self, *, timeout: float | None = None):
        """KServe v2 ServerReady: whether every model the server was given is ready."""
        return self._run(operations.server_ready(), timeout)

    def server_live(self, *, timeout: float | None = None):
        """KServe v2 ServerLive: whether the server answers at all."""
        return self._run(operations.server_live(), timeout)

    def _connect(self) -> None:
        """Opens the channel (plaintext or TLS, with `self._channel_options`) and its stubs."""
        raise NotImplementedError

    def _run(self, operation: operations.Operation, timeout: float | None):
        """Runs `operation` to its end, making its calls before the deadline `timeout` sets."""
        raise NotImplementedError

    def _deadline_seconds(self, timeout: float | None) -> float:
        return self.timeout if timeout is None else check_timeout(timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.target!r}, tls={self._tls is not None}, timeout={self.timeout})"

