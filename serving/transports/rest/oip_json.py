"""Open Inference Protocol REST bodies <-> the data plane's dataclasses (serving.apis.oip.inference).

JSON tensors carry `data` as a flat or nested list in row-major order. The binary tensor data
extension (Triton's, which tritonclient.http uses by default) is supported both ways:
- a request whose `Inference-Header-Content-Length` header says how long the JSON part is may
  append raw tensors after it; an input with `parameters.binary_data_size` takes that many bytes,
  in input order, in the protocol's raw layout (little-endian values; BYTES as 4-byte-length
  prefixed elements);
- an output is returned raw when its `parameters.binary_data` is true or, if it does not say, when
  the request's `parameters.binary_data_output` is; FP16/BF16 outputs and BYTES outputs that are
  not UTF-8 are always returned raw, since JSON cannot carry them.
The request parameter `signature_name` picks a signature other than serving_default, as over gRPC.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from serving import errors
from serving.apis.oip import datatypes, inference
from serving.transports.rest.dense_json import DenseArray, parse_infer_body
from serving.transports.rest.json_io import debug_string, dump_json, float32_values

HEADER_LENGTH_HEADER = "Inference-Header-Content-Length"
BINARY_SIZE_PARAMETER = "binary_data_size"
BINARY_OUTPUT_PARAMETER = "binary_data"
BINARY_OUTPUTS_PARAMETER = "binary_data_output"


@dataclasses.dataclass(frozen=True)
class DecodedInfer:
    """A decoded infer body: the data-plane request and which outputs go back raw.

    `raw_outputs` names outputs asked for raw; `all_raw` is the request-wide default.
    """

    request: inference.InferRequest
    raw_outputs: frozenset[str]
    json_outputs: frozenset[str]
    all_raw: bool


def split_body(body: bytes, headers: Mapping[str, str]) -> tuple[bytes, bytes]:
    """(JSON part, binary part) of an infer body, per Inference-Header-Content-Length."""
    header = headers.get(HEADER_LENGTH_HEADER)
    if header is None:
        return body, b""
    try:
        length = int(header)
    except ValueError:
        length = -1
    if not 0 <= length <= len(body):
        raise errors.InvalidArgument(
            f"{HEADER_LENGTH_HEADER} is {header!r}, but the body has {len(body)} bytes")
    return body[:length], body[length:]


def decode_infer(body: bytes, headers: Mapping[str, str], model_name: str, model_version: str
                 ) -> DecodedInfer:
    """Parses an infer body (JSON and optional binary tensors) for the model in the path."""
    json_part, binary = split_body(body, headers)
    document = parse_infer_body(json_part)
    request_id = document.get("id", "")
    if not isinstance(request_id, str):
        raise errors.InvalidArgument(f'"id" must be a string. Received: {debug_string(request_id)}')
    parameters = _parameters(document.get("parameters"), "the request")
    signature_name = parameters.get(inference.SIGNATURE_PARAMETER, inference.DEFAULT_SIGNATURE)
    if not isinstance(signature_name, str):
        raise errors.InvalidArgument(
            f'The "{inference.SIGNATURE_PARAMETER}" parameter must be a string. Received: '
            f"{debug_string(signature_name)}")
    all_raw = parameters.get(BINARY_OUTPUTS_PARAMETER, False)
    if not isinstance(all_raw, bool):
        raise errors.InvalidArgument(f'The "{BINARY_OUTPUTS_PARAMETER}" parameter must be true or false')
    inputs = _decode_inputs(document.get("inputs"), binary)
    outputs, raw_outputs, json_outputs = _decode_outputs(document.get("outputs", []))
    request = inference.InferRequest(
        model_name=model_name, model_version=model_version, id=request_id, inputs=inputs,
        outputs=outputs, signature_name=signature_name or inference.DEFAULT_SIGNATURE)
    return DecodedInfer(request, frozenset(raw_outputs), frozenset(json_outputs), all_raw)


def encode_infer(response: inference.InferResponse, decoded: DecodedInfer) -> tuple[bytes, bytes]:
    """(JSON part, binary part) of the infer response; the binary part is b"" when all is JSON."""
    outputs, binary_parts = [], []
    for output in response.outputs:
        entry = {"name": output.name, "datatype": output.datatype, "shape": list(output.array.shape)}
        data = None if _wants_raw(output, decoded) else _json_data(output)
        if data is None:
            raw = datatypes.encode_raw(output.array)
            entry["parameters"] = {BINARY_SIZE_PARAMETER: len(raw)}
            binary_parts.append(raw)
        else:
            entry["data"] = data
        outputs.append(entry)
    document = {"model_name": response.model_name, "model_version": response.model_version}
    if response.id:
        document["id"] = response.id
    document["outputs"] = outputs
    return dump_json(document), b"".join(binary_parts)


def _decode_inputs(inputs, binary: bytes) -> list[inference.InferInput]:
    if not isinstance(inputs, list):
        raise errors.InvalidArgument(
            f'"inputs" must be a list of tensors. Received: {debug_string(inputs)}')
    decoded, offset = [], 0
    for index, tensor in enumerate(inputs):
        if not isinstance(tensor, dict):
            raise errors.InvalidArgument(
                f"inputs[{index}] must be an object. Received: {debug_string(tensor)}")
        name = tensor.get("name")
        if not isinstance(name, str) or not name:
            raise errors.InvalidArgument(f'inputs[{index}] needs a "name" string')
        datatype_name = tensor.get("datatype")
        if not isinstance(datatype_name, str):
            raise errors.InvalidArgument(f'input "{name}" needs a "datatype" string')
        datatype = datatypes.datatype(datatype_name, input_name=name)
        shape = tensor.get("shape")
        if not isinstance(shape, list) or not all(type(dim) is int for dim in shape):
            raise errors.InvalidArgument(
                f'input "{name}" needs a "shape" list of integers. Received: {debug_string(shape)}')
        shape = datatypes.checked_shape(name, datatype, shape)
        size = _parameters(tensor.get("parameters"), f'input "{name}"').get(BINARY_SIZE_PARAMETER)
        if size is not None:
            if type(size) is not int or size < 0 or offset + size > len(binary):
                raise errors.InvalidArgument(
                    f'input "{name}": {BINARY_SIZE_PARAMETER} {debug_string(size)} does not fit the '
                    f"{len(binary) - offset} binary bytes left after the JSON header")
            array = datatypes.decode_raw(name, datatype, shape, binary[offset:offset + size])
            offset += size
        elif "data" in tensor:
            array = _decode_data(name, datatype, shape, tensor["data"])
        else:
            raise errors.InvalidArgument(
                f'input "{name}" has neither "data" nor a {BINARY_SIZE_PARAMETER} parameter')
        decoded.append(inference.InferInput(name, datatype.name, array))
    if offset != len(binary):
        raise errors.InvalidArgument(
            f"The body has {len(binary) - offset} binary bytes after the JSON header that no "
            f"input claims with {BINARY_SIZE_PARAMETER}")
    return decoded


def _decode_data(name: str, datatype: datatypes.Datatype, shape: tuple[int, ...], data):
    """A JSON `data` list (flat or nested, row-major) or DenseArray as the input's array."""
    if isinstance(data, DenseArray):
        values = data.values.ravel()
        if datatype.numpy_dtype.kind == "f" or (
                datatype.numpy_dtype.kind == "i" and values.dtype.kind == "i"):
            return datatypes.decode_values(name, datatype, shape, values, '"data"')
        data = data.as_python()  # the general path's checks name the offending value
    if not isinstance(data, list):
        data = [data]
    try:
        flat = np.array(data, dtype=object).ravel()
    except ValueError as error:
        raise errors.InvalidArgument(
            f"{datatypes.describe(name, datatype, shape)}: \"data\" is not a dense list: "
            f"{str(error).splitlines()[0]}") from None
    for value in flat:
        if not _is_json_value_of(datatype, value):
            raise errors.InvalidArgument(
                f"{datatypes.describe(name, datatype, shape)}: \"data\" holds "
                f"{debug_string(value)}, which is not a {datatype.name} value")
    return datatypes.decode_values(name, datatype, shape, flat.tolist(), '"data"')


def _is_json_value_of(datatype: datatypes.Datatype, value) -> bool:
    """Strings for BYTES, true/false for BOOL, numbers (not true/false) for the rest."""
    if datatype.is_bytes:
        return isinstance(value, str)
    if datatype.name == "BOOL":
        return isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _decode_outputs(outputs) -> tuple[list[str], set[str], set[str]]:
    if not isinstance(outputs, list):
        raise errors.InvalidArgument(f'"outputs" must be a list. Received: {debug_string(outputs)}')
    names, raw, json_only = [], set(), set()
    for index, output in enumerate(outputs):
        name = output.get("name") if isinstance(output, dict) else None
        if not isinstance(name, str) or not name:
            raise errors.InvalidArgument(f'outputs[{index}] needs a "name" string')
        parameters = _parameters(output.get("parameters"), f'output "{name}"')
        if "classification" in parameters:
            raise errors.Unimplemented(
                f'output "{name}": the classification extension is not supported; request the '
                "scores and rank them on the client")
        binary = parameters.get(BINARY_OUTPUT_PARAMETER)
        if binary is not None and not isinstance(binary, bool):
            raise errors.InvalidArgument(
                f'output "{name}": the "{BINARY_OUTPUT_PARAMETER}" parameter must be true or false')
        if binary is True:
            raw.add(name)
        elif binary is False:
            json_only.add(name)
        names.append(name)
    return names, raw, json_only


def _parameters(parameters, where: str) -> dict:
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise errors.InvalidArgument(
            f'"parameters" of {where} must be an object. Received: {debug_string(parameters)}')
    return parameters


def _wants_raw(output: inference.InferOutput, decoded: DecodedInfer) -> bool:
    if output.name in decoded.raw_outputs:
        return True
    if output.name in decoded.json_outputs:
        return False
    return decoded.all_raw


def _json_data(output: inference.InferOutput) -> list | np.ndarray | None:
    """The output's flat JSON values, or None when JSON cannot carry it (FP16, BF16, non-UTF-8)."""
    datatype = datatypes.datatype(output.datatype)
    if datatype.contents_field is None:
        return None
    if datatype.is_bytes:
        try:
            return [value.decode("utf-8") for value in datatypes.encode_values(output.array)]
        except UnicodeDecodeError:
            return None
    if datatype.name == "FP32":
        return float32_values(output.array).ravel()
    return datatypes.encode_values(output.array)
