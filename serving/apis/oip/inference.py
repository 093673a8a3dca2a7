"""The Open Inference Protocol's data plane over the ModelManager, shared by gRPC and REST.

The front ends turn their wire format into the plain dataclasses here (inputs already decoded
to numpy by `serving.apis.oip.datatypes`) and call `model_ready`, `model_metadata` or `infer`; what
comes back is turned into their own messages. Everything the protocol means by a model version,
a signature or an output selection is decided here, once.

Versions: the protocol's version is a string. "" means the latest available version; an integer
names a version; anything else is read as a TF Serving version label ("stable", "canary"), so
labels configured for TF Serving clients work over OIP too.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Iterator, Mapping, Sequence

import numpy as np

import serving
from serving import contract, errors
from serving.apis.oip import datatypes
from serving.core import SAVED_MODEL, TFLITE
from serving.core.model_versions import AVAILABLE

SERVER_NAME = "tfzoo"
# Triton's platform names for the files a version can be loaded from.
PLATFORMS = {SAVED_MODEL: "tensorflow_savedmodel", TFLITE: "tensorflow_lite"}
DEFAULT_SIGNATURE = contract.DEFAULT_SIGNATURE
# The request parameter that picks a signature other than serving_default.
SIGNATURE_PARAMETER = "signature_name"


@dataclasses.dataclass(frozen=True)
class ServerMetadata:
    name: str
    version: str
    extensions: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class TensorMetadata:
    name: str
    datatype: str
    shape: tuple[int, ...]  # -1 for a dimension of any size


@dataclasses.dataclass(frozen=True)
class ModelMetadata:
    name: str
    versions: tuple[str, ...]
    platform: str
    inputs: tuple[TensorMetadata, ...]
    outputs: tuple[TensorMetadata, ...]


@dataclasses.dataclass(frozen=True)
class InferInput:
    """A decoded input: `array` has the dtype of `datatype` and the shape the client sent."""

    name: str
    datatype: str
    array: np.ndarray


@dataclasses.dataclass(frozen=True)
class InferRequest:
    model_name: str
    model_version: str = ""
    id: str = ""
    inputs: Sequence[InferInput] = ()
    # Names of the outputs to return, in this order; empty returns every output.
    outputs: Sequence[str] = ()
    signature_name: str = DEFAULT_SIGNATURE


@dataclasses.dataclass(frozen=True)
class InferOutput:
    name: str
    datatype: str
    array: np.ndarray


@dataclasses.dataclass(frozen=True)
class InferResponse:
    model_name: str
    model_version: str
    id: str
    outputs: tuple[InferOutput, ...]


def parse_version(model_name: str, version: str) -> tuple[int | None, str | None]:
    """(version number, label) for the protocol's version string; (None, None) for latest."""
    version = version.strip()
    if not version:
        return None, None
    if version.isascii() and version.lstrip("-").isdigit():
        number = int(version)
        if number < 0:
            raise errors.InvalidArgument(
                f"Model {model_name!r}: a version must be a non-negative integer or a version "
                f"label. Received: version={version!r}")
        return number, None
    return None, version


def server_ready(manager) -> bool:
    """Whether every configured model can serve (the server is live if it answers at all)."""
    return manager.is_ready()


def server_metadata(extensions: Sequence[str]) -> ServerMetadata:
    """This server's name and version, with the protocol `extensions` its transport serves."""
    return ServerMetadata(SERVER_NAME, serving.__version__, tuple(extensions))


def model_ready(manager, name: str, version: str, call) -> bool:
    """Whether the model (or the given version or label of it) can serve a request now.

    Raises errors.NotFound for a model or version the manager does not know at all: only a
    known one can be "not ready" (still loading, failed, or being unloaded).
    """
    call.target(name, label=version or None)
    number, label = parse_version(name, version)
    if name not in manager.model_names():
        raise errors.NotFound(
            f"Model {name!r} is not served. Served models: {manager.model_names()}")
    if label is not None:
        with manager.servable(name, label=label):
            return True
    if number is None:
        return manager.is_ready(name)
    return any(status.state == AVAILABLE for status in manager.status(name, number))


def model_metadata(manager, name: str, version: str, call) -> ModelMetadata:
    """Name, versions, platform ("tensorflow_savedmodel", or "tensorflow_lite" for a version
    served from its model.tflite), and the inputs and outputs of the serving_default signature.

    `versions` lists every AVAILABLE version, or only the one asked for. The tensors are
    described from the version that would serve a request with the same `version`.

    Raises:
        errors.NotFound: unknown model, or no such available version.
        errors.FailedPrecondition: the SavedModel has no serving_default signature.
        errors.Unimplemented: a signature tensor has a dtype with no OIP datatype.
    """
    call.target(name, label=version or None)
    number, label = parse_version(name, version)
    with manager.servable(name, number, label) as servable:
        signature_def = default_signature(servable, "ModelMetadata")
        served_version = servable.version
        platform = PLATFORMS[servable.model_format]
    if version:
        versions = (str(served_version),)
    else:
        versions = tuple(str(number) for number in manager.available_versions(name))
    return ModelMetadata(
        name=name,
        versions=versions,
        platform=platform,
        inputs=_tensor_metadata(signature_def.inputs),
        outputs=_tensor_metadata(signature_def.outputs),
    )


def default_signature(servable, api: str):
    """The serving_default SignatureDef `api` ("ModelMetadata") describes the model by.

    Raises errors.FailedPrecondition, naming the model's signatures, when it has none.
    """
    signature_def = servable.signature_defs.get(DEFAULT_SIGNATURE)
    if signature_def is None:
        signature_names = sorted(name for name in servable.signature_defs
                                 if not name.startswith("__"))
        raise errors.FailedPrecondition(
            f'Serving signature key "{DEFAULT_SIGNATURE}" not found. {api} describes '
            f"{DEFAULT_SIGNATURE}; model {servable.name!r} has {signature_names}, which "
            f'ModelInfer can use through the "{SIGNATURE_PARAMETER}" parameter.')
    return signature_def


def infer(manager, request: InferRequest, call, request_logger=None) -> InferResponse:
    """Runs one request on the version it names and returns the selected outputs.

    `call.deadline` (time.monotonic() seconds) is when the caller stops waiting: a request not
    run by then is skipped with DeadlineExceeded (see Servable.run). `request_logger` (a
    serving.apis.tfs.request_logger.ServerRequestLogger) logs the answered request as the
    PredictRequest it amounts to, when the model's config asks for request logging.

    Input names and datatypes are checked against the signature in the protocol's terms first
    ("expects FP32, received INT64"); aliases, shapes and the output selection are then checked
    by Servable.run, which names the signature and the expected vs received values.
    """
    with _named_version(manager, request, call) as (servable, arrays):
        results = servable.run(request.signature_name, arrays, output_filter=list(request.outputs),
                               deadline=call.deadline)
    return _answer(servable, request, arrays, results, call, request_logger)


async def infer_async(manager, request: InferRequest, call, request_logger=None
                      ) -> InferResponse:
    """`infer` for a caller on an asyncio event loop (the gRPC transport): the same checks and
    answer, with only the model call awaited (see Servable.run_async)."""
    with _named_version(manager, request, call) as (servable, arrays):
        results = await servable.run_async(request.signature_name, arrays,
                                           output_filter=list(request.outputs),
                                           deadline=call.deadline)
    return _answer(servable, request, arrays, results, call, request_logger)


@contextlib.contextmanager
def _named_version(manager, request: InferRequest, call
                   ) -> Iterator[tuple[object, dict[str, np.ndarray]]]:
    """The version `request` names, held while the block runs it, and the request's inputs
    checked in the protocol's terms; tells the guard's `call` what was asked."""
    call.target(request.model_name, label=request.model_version or None)
    if not request.model_name:
        raise errors.InvalidArgument("model_name is required. Received: model_name=''")
    arrays = _unique_inputs(request.inputs)
    number, label = parse_version(request.model_name, request.model_version)
    with manager.servable(request.model_name, number, label) as servable:
        signature_def = servable.signature_defs.get(request.signature_name)
        if signature_def is not None:
            call.signature_name = request.signature_name
            _check_datatypes(request, signature_def)
        yield servable, arrays


def _answer(servable, request: InferRequest, arrays: Mapping[str, np.ndarray],
            results: Mapping[str, np.ndarray], call, request_logger) -> InferResponse:
    """The response naming the version that answered, with the selected outputs; the request
    is logged first when its model asks for it."""
    call.served_by(servable.version)
    if request_logger is not None:
        request_logger.log_infer(servable.name, servable.version, request.signature_name, arrays,
                                 request.outputs, results)
    names = list(request.outputs) or sorted(results)
    return InferResponse(
        model_name=servable.name,
        model_version=str(servable.version),
        id=request.id,
        outputs=tuple(InferOutput(name, datatypes.from_numpy_dtype(results[name].dtype).name,
                                  results[name]) for name in names),
    )


def _unique_inputs(inputs: Sequence[InferInput]) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for tensor in inputs:
        if tensor.name in arrays:
            raise errors.InvalidArgument(
                f'input "{tensor.name}" is given more than once; send each input once')
        arrays[tensor.name] = tensor.array
    return arrays


def _check_datatypes(request: InferRequest, signature_def) -> None:
    for tensor in request.inputs:
        tensor_info = signature_def.inputs.get(tensor.name)
        if tensor_info is None:
            continue  # Servable.run reports unknown and missing inputs together
        expected = datatypes.from_tf_dtype(tensor_info.dtype).name
        if tensor.datatype != expected:
            raise errors.InvalidArgument(
                f"{datatypes.describe(tensor.name, tensor.datatype, tensor.array.shape)}: "
                f'signature "{request.signature_name}" of model {request.model_name!r} expects '
                f"datatype {expected}, received {tensor.datatype}")


def _tensor_metadata(tensor_infos) -> tuple[TensorMetadata, ...]:
    return tuple(TensorMetadata(name, datatypes.from_tf_dtype(tensor_infos[name].dtype).name,
                                tensor_shape(tensor_infos[name]))
                 for name in sorted(tensor_infos))


def tensor_shape(tensor_info) -> tuple[int, ...]:
    """A signature tensor's shape in the protocol's terms: -1 for a dimension of any size."""
    shape_proto = tensor_info.tensor_shape
    # OIP cannot say "any rank"; one dimension of any size is the closest it has.
    return (-1,) if shape_proto.unknown_rank else tuple(dim.size for dim in shape_proto.dim)
