"""Open Inference Protocol datatypes: their TensorFlow and numpy dtypes and their wire encodings.

This is the part of the protocol that gRPC and REST share: which datatype names exist, which TF
dtype each one feeds, how a flat list of typed values or a raw little-endian buffer becomes a
numpy array of the declared shape, and back. It knows nothing about protobuf messages or JSON;
callers hand it plain sequences and bytes.

Every decoding error is an `errors.InvalidArgument` that names the input, its datatype and shape,
and what was received, because the client can fix it. The counts must match the shape exactly:
unlike TensorFlow's TensorProto, the protocol has no "one value fills the tensor" rule.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from typing import Sequence

import ml_dtypes
import numpy as np
from tensorflow.core.framework import types_pb2

from serving import errors

# BYTES elements in raw form: a 4-byte little-endian length, then that many bytes.
_BYTES_LENGTH = struct.Struct("<I")
# The most elements a shape may describe: numpy must be able to index 8-byte elements of it.
MAX_ELEMENTS = 2**59


@dataclasses.dataclass(frozen=True)
class Datatype:
    """One OIP datatype and what it corresponds to.

    `contents_field` is the InferTensorContents field that carries it in typed form, and None
    for FP16 and BF16, which the protocol only carries as raw bytes. Several datatypes share a
    field (INT8, INT16 and INT32 all use int_contents), so a value can be out of range.
    """

    name: str
    numpy_dtype: np.dtype
    tf_dtype: int
    contents_field: str | None

    @property
    def is_bytes(self) -> bool:
        return self.name == "BYTES"


_ALL = (
    Datatype("BOOL", np.dtype(np.bool_), types_pb2.DT_BOOL, "bool_contents"),
    Datatype("UINT8", np.dtype(np.uint8), types_pb2.DT_UINT8, "uint_contents"),
    Datatype("UINT16", np.dtype(np.uint16), types_pb2.DT_UINT16, "uint_contents"),
    Datatype("UINT32", np.dtype(np.uint32), types_pb2.DT_UINT32, "uint_contents"),
    Datatype("UINT64", np.dtype(np.uint64), types_pb2.DT_UINT64, "uint64_contents"),
    Datatype("INT8", np.dtype(np.int8), types_pb2.DT_INT8, "int_contents"),
    Datatype("INT16", np.dtype(np.int16), types_pb2.DT_INT16, "int_contents"),
    Datatype("INT32", np.dtype(np.int32), types_pb2.DT_INT32, "int_contents"),
    Datatype("INT64", np.dtype(np.int64), types_pb2.DT_INT64, "int64_contents"),
    Datatype("FP16", np.dtype(np.float16), types_pb2.DT_HALF, None),
    # BF16 is bfloat16 (8 exponent bits), exactly TF's DT_BFLOAT16, two bytes per element.
    Datatype("BF16", np.dtype(ml_dtypes.bfloat16), types_pb2.DT_BFLOAT16, None),
    Datatype("FP32", np.dtype(np.float32), types_pb2.DT_FLOAT, "fp32_contents"),
    Datatype("FP64", np.dtype(np.float64), types_pb2.DT_DOUBLE, "fp64_contents"),
    Datatype("BYTES", np.dtype(object), types_pb2.DT_STRING, "bytes_contents"),
)
DATATYPES: dict[str, Datatype] = {datatype.name: datatype for datatype in _ALL}
_BY_TF_DTYPE = {datatype.tf_dtype: datatype for datatype in _ALL}
_BY_NUMPY_DTYPE = {datatype.numpy_dtype: datatype for datatype in _ALL if not datatype.is_bytes}
CONTENTS_FIELDS = tuple(dict.fromkeys(d.contents_field for d in _ALL if d.contents_field))


def datatype(name: str, input_name: str | None = None) -> Datatype:
    """The Datatype called `name` ("FP32"); InvalidArgument listing the valid names otherwise.

    `input_name`, when given, names the request input in the error message.
    """
    try:
        return DATATYPES[name]
    except KeyError:
        where = f'input "{input_name}": ' if input_name is not None else ""
        raise errors.InvalidArgument(
            f"{where}unknown datatype {name!r}. Valid datatypes: {', '.join(DATATYPES)}"
        ) from None


def from_tf_dtype(tf_dtype: int) -> Datatype:
    """The Datatype of a signature tensor with TF dtype `tf_dtype` (a types_pb2.DataType value).

    Raises errors.Unimplemented for dtypes the protocol has no datatype for (complex, float8,
    quantized...): such a tensor can be neither sent nor returned over OIP.
    """
    try:
        return _BY_TF_DTYPE[tf_dtype]
    except KeyError:
        raise errors.Unimplemented(
            f"TensorFlow dtype {_tf_dtype_name(tf_dtype)} has no Open Inference Protocol "
            f"datatype. Supported: {', '.join(_tf_dtype_name(d.tf_dtype) for d in _ALL)}"
        ) from None


def from_numpy_dtype(dtype: np.dtype) -> Datatype:
    """The Datatype of a numpy array; object, bytes and str arrays are BYTES.

    Raises errors.Unimplemented for numpy dtypes the protocol cannot carry (complex...).
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "OSU":
        return DATATYPES["BYTES"]
    try:
        return _BY_NUMPY_DTYPE[dtype.newbyteorder("=") if dtype.byteorder in "<>" else dtype]
    except KeyError:
        raise errors.Unimplemented(
            f"numpy dtype {dtype} has no Open Inference Protocol datatype") from None


def checked_shape(name: str, datatype_: Datatype, shape: Sequence[int]) -> tuple[int, ...]:
    """`shape` as a tuple, after checking that every dimension is known (>= 0)."""
    shape = tuple(int(dim) for dim in shape)
    if any(dim < 0 for dim in shape):
        raise errors.InvalidArgument(
            f"{describe(name, datatype_, shape)}: every dimension of a request tensor must be "
            ">= 0 (-1 is only used in model metadata)")
    # numpy refuses shapes whose non-zero dimensions multiply past what it can index, even when
    # another dimension is 0 ([0, 2**62] holds no value): refuse them here, by name.
    if math.prod(dim for dim in shape if dim) > MAX_ELEMENTS:
        raise errors.InvalidArgument(
            f"{describe(name, datatype_, shape)}: the non-zero dimensions multiply to more than "
            f"{MAX_ELEMENTS} elements, the most a tensor can have here")
    return shape


def element_count(shape: Sequence[int]) -> int:
    # Python ints: a hostile shape like [2**62, 4] must not wrap around to a small count.
    return math.prod(int(dim) for dim in shape)


def decode_values(name: str, datatype_: Datatype, shape: tuple[int, ...], values: Sequence,
                  source: str) -> np.ndarray:
    """Builds the array for one input from its flat, row-major typed values.

    `source` names where the values came from (a contents field, a JSON key) for messages.
    Integers are range-checked for the narrow datatypes that share a wider field, so INT8 300 is
    an error rather than a silent wrap to 44.
    """
    if datatype_.contents_field is None:
        raise errors.InvalidArgument(
            f"{describe(name, datatype_, shape)}: {datatype_.name} has no typed contents field; "
            "send its values as raw bytes (raw_input_contents)")
    expected = element_count(shape)
    if len(values) != expected:
        raise errors.InvalidArgument(
            f"{describe(name, datatype_, shape)} needs {expected} values in {source}, "
            f"received {len(values)}")
    if datatype_.is_bytes:
        array = np.empty(expected, dtype=object)
        array[:] = [_as_bytes(name, value) for value in values]
        return array.reshape(shape)
    dtype = datatype_.numpy_dtype
    try:
        if dtype.kind in "iu":
            wide = np.asarray(values, dtype=np.int64 if dtype.kind == "i" else np.uint64)
            _check_range(name, datatype_, shape, wide, source)
            return wide.astype(dtype).reshape(shape)
        return np.asarray(values, dtype=dtype).reshape(shape)
    except (OverflowError, TypeError, ValueError) as error:
        # Only reachable from JSON-like values (protobuf fields are already typed): "-1" for
        # UINT64, a string for FP32...
        raise errors.InvalidArgument(
            f"{describe(name, datatype_, shape)}: {source} holds a value that is not "
            f"{datatype_.name}: {error}") from None


def decode_raw(name: str, datatype_: Datatype, shape: tuple[int, ...], raw: bytes) -> np.ndarray:
    """Builds the array for one input from its raw bytes (row-major, little-endian, no padding).

    BYTES elements are each a 4-byte little-endian length followed by the bytes. The returned
    numeric array is a read-only view of `raw`.
    """
    expected = element_count(shape)
    if datatype_.is_bytes:
        return _decode_raw_bytes(name, datatype_, shape, expected, raw).reshape(shape)
    wire_dtype = datatype_.numpy_dtype.newbyteorder("<")
    expected_bytes = expected * wire_dtype.itemsize
    if len(raw) != expected_bytes:
        raise errors.InvalidArgument(
            f"{describe(name, datatype_, shape)} needs {expected_bytes} bytes of raw contents "
            f"({expected} values of {wire_dtype.itemsize} bytes), received {len(raw)} bytes")
    if datatype_.name == "BOOL":
        # Any non-zero byte is true; reading bytes other than 0/1 as np.bool_ directly is undefined.
        return (np.frombuffer(raw, dtype=np.uint8) != 0).reshape(shape)
    array = np.frombuffer(raw, dtype=wire_dtype)
    return array.astype(datatype_.numpy_dtype, copy=False).reshape(shape)


def encode_values(array: np.ndarray) -> list:
    """The flat, row-major Python values of an output, for its typed contents field (or JSON)."""
    datatype_ = from_numpy_dtype(array.dtype)
    if datatype_.contents_field is None:
        raise errors.Internal(f"{datatype_.name} outputs must be encoded raw")
    flat = np.asarray(array).ravel()
    if datatype_.is_bytes:
        return [_as_bytes("output", value) for value in flat.tolist()]
    # tolist() gives Python scalars, which protobuf and json accept far faster than numpy ones.
    return flat.tolist()


def encode_raw(array: np.ndarray) -> bytes:
    """An output's raw bytes: little-endian values, or length-prefixed elements for BYTES."""
    array = np.asarray(array)
    datatype_ = from_numpy_dtype(array.dtype)
    if datatype_.is_bytes:
        parts = []
        for value in array.ravel().tolist():
            data = _as_bytes("output", value)
            parts.append(_BYTES_LENGTH.pack(len(data)))
            parts.append(data)
        return b"".join(parts)
    wire_dtype = datatype_.numpy_dtype.newbyteorder("<")
    return np.ascontiguousarray(array, dtype=wire_dtype).tobytes()


def describe(name: str, datatype_: Datatype | str, shape: Sequence[int]) -> str:
    """'input "x" (datatype FP32, shape [2,3])': how every message names a tensor."""
    label = datatype_.name if isinstance(datatype_, Datatype) else datatype_
    return f'input "{name}" (datatype {label}, shape [{",".join(str(d) for d in shape)}])'


def _decode_raw_bytes(name: str, datatype_: Datatype, shape, expected: int, raw: bytes
                      ) -> np.ndarray:
    if expected * _BYTES_LENGTH.size > len(raw):
        # Checked before allocating: the shape comes from the client and may be huge.
        raise errors.InvalidArgument(
            f"{describe(name, datatype_, shape)} needs {expected} length-prefixed elements "
            f"(at least {expected * _BYTES_LENGTH.size} bytes), received {len(raw)} bytes")
    array = np.empty(expected, dtype=object)
    position = 0
    for index in range(expected):
        if position + _BYTES_LENGTH.size > len(raw):
            raise errors.InvalidArgument(
                f"{describe(name, datatype_, shape)} needs {expected} length-prefixed elements "
                f"in its raw contents, but the {len(raw)} bytes end after {index}")
        (length,) = _BYTES_LENGTH.unpack_from(raw, position)
        position += _BYTES_LENGTH.size
        if position + length > len(raw):
            raise errors.InvalidArgument(
                f"{describe(name, datatype_, shape)}: element {index} declares {length} bytes "
                f"but only {len(raw) - position} of the {len(raw)} raw bytes remain")
        array[index] = raw[position:position + length]
        position += length
    if position != len(raw):
        raise errors.InvalidArgument(
            f"{describe(name, datatype_, shape)} needs {expected} length-prefixed elements, but "
            f"{len(raw) - position} of the {len(raw)} raw bytes are left after them")
    return array


def _check_range(name: str, datatype_: Datatype, shape, values: np.ndarray, source: str) -> None:
    if values.size == 0:
        return
    limits = np.iinfo(datatype_.numpy_dtype)
    low, high = values.min(), values.max()
    if low < limits.min or high > limits.max:
        bad = low if low < limits.min else high
        raise errors.InvalidArgument(
            f"{describe(name, datatype_, shape)}: value {bad} in {source} is outside the "
            f"{datatype_.name} range [{limits.min}, {limits.max}]")


def _as_bytes(name: str, value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise errors.InvalidArgument(
        f'BYTES tensor "{name}" holds a {type(value).__name__} ({value!r}); only bytes and str')


def _tf_dtype_name(tf_dtype: int) -> str:
    try:
        return types_pb2.DataType.Name(tf_dtype)
    except ValueError:
        return f"DataType({tf_dtype})"
