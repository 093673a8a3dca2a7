"""KServe v2 (Open Inference Protocol) requests and responses in numpy terms.

Inputs travel in `raw_input_contents`, one little-endian buffer per input (BYTES elements each
prefixed with their 4-byte length), which every OIP server reads and which avoids a value-by-value
copy. Outputs are read from `raw_output_contents` when the server used it, else from the typed
`contents` fields.
"""

from __future__ import annotations

import math
import struct
from typing import Any, Mapping, Sequence

import numpy as np

from tfzoo_client import errors
from tfzoo_client._proto import grpc_predict_v2_pb2 as v2

# Datatype name -> (numpy dtype, the InferTensorContents field of its typed form).
_DATATYPES: dict[str, tuple[np.dtype, str | None]] = {
    "BOOL": (np.dtype(np.bool_), "bool_contents"),
    "UINT8": (np.dtype(np.uint8), "uint_contents"),
    "UINT16": (np.dtype(np.uint16), "uint_contents"),
    "UINT32": (np.dtype(np.uint32), "uint_contents"),
    "UINT64": (np.dtype(np.uint64), "uint64_contents"),
    "INT8": (np.dtype(np.int8), "int_contents"),
    "INT16": (np.dtype(np.int16), "int_contents"),
    "INT32": (np.dtype(np.int32), "int_contents"),
    "INT64": (np.dtype(np.int64), "int64_contents"),
    "FP16": (np.dtype(np.float16), None),  # raw only, as the protocol says
    "FP32": (np.dtype(np.float32), "fp32_contents"),
    "FP64": (np.dtype(np.float64), "fp64_contents"),
    "BYTES": (np.dtype(object), "bytes_contents"),
}
_DATATYPE_OF = {dtype: name for name, (dtype, _) in _DATATYPES.items() if name != "BYTES"}
_BYTES_LENGTH = struct.Struct("<I")


def datatype_of(array: np.ndarray) -> str:
    """The OIP datatype of an array; strings (object, bytes, str) are BYTES."""
    if array.dtype.kind in "OSU":
        return "BYTES"
    try:
        return _DATATYPE_OF[array.dtype.newbyteorder("=") if array.dtype.byteorder not in "=|" else array.dtype]
    except KeyError:
        raise errors.InvalidArgument(
            f"numpy dtype {array.dtype} has no Open Inference Protocol datatype; use one of "
            f"{', '.join(str(dtype) for dtype in _DATATYPE_OF)}, or strings") from None


def infer_request(model: str, version: int | None, inputs: Mapping[str, Any],
                  outputs: Sequence[str] | None) -> v2.ModelInferRequest:
    if not isinstance(inputs, Mapping) or not inputs:
        raise errors.InvalidArgument("inputs must be a non-empty dict of input name -> value")
    request = v2.ModelInferRequest(model_name=model, model_version="" if version is None else str(version))
    for name, value in inputs.items():
        array = np.asarray(value, dtype=object if isinstance(value, (str, bytes)) else None)
        datatype = datatype_of(array)
        request.inputs.add(name=name, datatype=datatype, shape=array.shape)
        request.raw_input_contents.append(_raw(array, datatype))
    for name in [outputs] if isinstance(outputs, str) else outputs or ():
        request.outputs.add(name=name)
    return request


def infer_outputs(response: v2.ModelInferResponse) -> dict[str, np.ndarray]:
    """The response's outputs by name, as numpy arrays (BYTES as object arrays of bytes)."""
    arrays = {}
    for index, output in enumerate(response.outputs):
        if output.datatype not in _DATATYPES:
            raise errors.Internal(f"Output {output.name} has datatype {output.datatype!r}, unknown to this client")
        dtype, field = _DATATYPES[output.datatype]
        shape = tuple(output.shape)
        if index < len(response.raw_output_contents):
            values = _from_raw(response.raw_output_contents[index], output.datatype, math.prod(shape))
        elif output.datatype == "BYTES":
            values = np.empty(len(output.contents.bytes_contents), dtype=object)
            values[:] = list(output.contents.bytes_contents)
        else:
            values = np.asarray(getattr(output.contents, field), dtype=dtype)
        arrays[output.name] = values.reshape(shape)
    return arrays


def _raw(array: np.ndarray, datatype: str) -> bytes:
    if datatype != "BYTES":
        return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    parts = []
    for value in array.ravel().tolist():
        if isinstance(value, str):
            value = value.encode("utf-8")
        if not isinstance(value, bytes):
            raise errors.InvalidArgument(f"A BYTES input holds a {type(value).__name__} ({value!r}); send bytes or str")
        parts += [_BYTES_LENGTH.pack(len(value)), value]
    return b"".join(parts)


def _from_raw(raw: bytes, datatype: str, count: int) -> np.ndarray:
    dtype, _ = _DATATYPES[datatype]
    if datatype != "BYTES":
        return np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype)
    values, position = np.empty(count, dtype=object), 0
    for index in range(count):
        (length,) = _BYTES_LENGTH.unpack_from(raw, position)
        values[index] = raw[position + 4:position + 4 + length]
        position += 4 + length
    return values
