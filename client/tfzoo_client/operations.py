"""What each client method does, written once for the blocking and the asyncio client.

An operation is a generator: it yields a `Call` (an RPC to make) or a `Pause` (a wait), gets the
response (or the typed error, thrown into it) back, and finally returns the method's result.
`Client` runs operations with blocking gRPC calls and `time.sleep`, `AsyncClient` with grpc.aio
and `asyncio.sleep`: deadlines, retries and the metadata cache behave the same in both.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Generator, Iterable, Sequence

from google.protobuf import message as protobuf_message

from tfzoo_client import errors
from tfzoo_client import messages, oip
from tfzoo_client._proto import grpc_predict_v2_pb2 as v2
from tfzoo_client.conversion import signature_inputs
from tfzoo_client.examples import Example
from tfzoo_client.metadata import (
    CLASSIFY_METHOD,
    EXTRA_FIELDS,
    REGRESS_METHOD,
    ModelMetadata,
    ModelVersionStatus,
    metadata_from_response,
    statuses_from_response,
)
from tfzoo_client.metadata_cache import MetadataCache
from tfzoo_client.messages import ModelRef


@dataclasses.dataclass(frozen=True)
class Call:
    """One RPC: `method` is its name on PredictionService or ModelService. `retry` allows
    retries on UNAVAILABLE; `timeout` caps this call below the operation's deadline."""

    method: str
    request: protobuf_message.Message
    retry: bool = True
    timeout: float | None = None


@dataclasses.dataclass(frozen=True)
class Pause:
    seconds: float


Operation = Generator["Call | Pause", Any, Any]


@dataclasses.dataclass
class ClientState:
    """What a client remembers between calls."""

    cache: MetadataCache
    # Whether to ask for the `labels` and `model_card` metadata fields; turned off for good once
    # the server shows it does not know them (TF Serving accepts only signature_def).
    ask_extra_metadata: bool = True


def metadata(state: ClientState, ref: ModelRef, *, cached: bool) -> Operation:
    """The model's metadata, from the cache when `cached` and fresh enough."""
    if cached:
        hit = state.cache.get(ref)
        if hit is not None:
            return hit
    response = None
    if state.ask_extra_metadata:
        try:
            response = yield Call("GetModelMetadata", messages.metadata_request(ref, EXTRA_FIELDS))
        except errors.InvalidArgument:
            pass  # maybe only the extra fields were refused: ask again without them
    if response is None:
        response = yield Call("GetModelMetadata", messages.metadata_request(ref))
        if state.ask_extra_metadata:
            state.ask_extra_metadata = False
    result: ModelMetadata = metadata_from_response(response)
    state.cache.put(ref, result)
    return result


def predict(state: ClientState, ref: ModelRef, inputs: Any, signature: str,
            output_filter: Sequence[str] | None) -> Operation:
    model = yield from metadata(state, ref, cached=True)
    arrays = signature_inputs(inputs, model.signature(signature))
    request = messages.predict_request(ref, signature, arrays, output_filter)
    response = yield from _checked_by_server(state, ref, Call("Predict", request))
    return messages.predict_outputs(response)


def classify(state: ClientState, ref: ModelRef, examples: Iterable[Example], signature: str | None,
             context: Example | None) -> Operation:
    if signature is None:
        model = yield from metadata(state, ref, cached=True)
        signature = model.signature_for_method(CLASSIFY_METHOD).name
    request = messages.classification_request(ref, signature, examples, context)
    response = yield from _checked_by_server(state, ref, Call("Classify", request))
    return messages.classification_results(response)


def regress(state: ClientState, ref: ModelRef, examples: Iterable[Example], signature: str | None,
            context: Example | None) -> Operation:
    if signature is None:
        model = yield from metadata(state, ref, cached=True)
        signature = model.signature_for_method(REGRESS_METHOD).name
    request = messages.regression_request(ref, signature, examples, context)
    response = yield from _checked_by_server(state, ref, Call("Regress", request))
    return messages.regression_values(response)


def infer(ref: ModelRef, inputs: Any, outputs: Sequence[str] | None) -> Operation:
    response = yield Call("ModelInfer", oip.infer_request(ref.name, ref.version, inputs, outputs))
    return oip.infer_outputs(response)


def model_ready(ref: ModelRef) -> Operation:
    request = v2.ModelReadyRequest(name=ref.name, version="" if ref.version is None else str(ref.version))
    response = yield Call("ModelReady", request)
    return response.ready


def server_ready() -> Operation:
    response = yield Call("ServerReady", v2.ServerReadyRequest())
    return response.ready


def server_live() -> Operation:
    response = yield Call("ServerLive", v2.ServerLiveRequest())
    return response.live


def send(method: str, request: protobuf_message.Message) -> Operation:
    response = yield Call(method, request)
    return response


def status(ref: ModelRef) -> Operation:
    response = yield Call("GetModelStatus", messages.status_request(ref))
    return statuses_from_response(response)


def wait_until_ready(ref: ModelRef, timeout: float, poll_interval: float) -> Operation:
    """Polls GetModelStatus until the model (or `ref.version`) is AVAILABLE and returns that
    version's status. A server that is not up yet and a model it does not know yet are waited
    for; errors.DeadlineExceeded after `timeout` says what was seen last."""
    deadline = time.monotonic() + timeout
    request = messages.status_request(ref)
    last_seen = "no answer from the server"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            response = yield Call("GetModelStatus", request, retry=False, timeout=remaining)
        except (errors.Unavailable, errors.NotFound, errors.DeadlineExceeded) as error:
            last_seen = f"{error.code.name}: {error.message}"
        else:
            statuses = statuses_from_response(response)
            available = [s for s in statuses if s.is_available]
            if available:
                return available[0]
            last_seen = "; ".join(_describe_status(s) for s in statuses) or "no versions"
        pause = min(poll_interval, deadline - time.monotonic())
        if pause > 0:
            yield Pause(pause)
    which = f'Model "{ref.name}"' + (f" version {ref.version}" if ref.version is not None else "")
    raise errors.DeadlineExceeded(f"{which} was not ready after {timeout:g} s. Last seen: {last_seen}")


def _checked_by_server(state: ClientState, ref: ModelRef, call: Call) -> Operation:
    """Makes `call`, keeping the metadata cache honest: a refusal of the request may come from a
    signature that changed since it was cached, and an answer from another version means the
    cached one is outdated."""
    try:
        response = yield call
    except (errors.InvalidArgument, errors.FailedPrecondition):
        state.cache.discard(ref)
        raise
    state.cache.check_version(ref, messages.served_version(response))
    return response


def _describe_status(status: ModelVersionStatus) -> str:
    text = f"version {status.version} is {status.state}"
    if status.error_code is not None:
        text += f" ({status.error_code.name}: {status.error_message})"
    return text
