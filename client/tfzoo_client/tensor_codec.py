"""numpy arrays <-> TensorProto, on the client's side of the wire.

Requests are encoded as TensorFlow's `make_tensor_proto` encodes an array, so that they are the
same bytes: more than one value of a dtype TensorFlow lists (`_CONTENT_DTYPES`) in
`tensor_content` (one copy of the array's bytes); single values, and booleans, uint16 and complex
numbers, value by value in their typed field; strings in `string_val`. Responses are read from whichever
field the server filled: TF Serving answers with the typed `*_val` fields by default and with
`tensor_content` under --enable_serialization_as_tensor_content. A single value fills the whole
shape, as in TensorFlow; any other count that does not match the shape is an error.

bfloat16 and float8 tensors need the `ml_dtypes` package (TensorFlow's own); without it they are
refused with a message saying so, and every other dtype works.
"""

from __future__ import annotations

import math

import numpy as np

from tfzoo_client import errors
from tfzoo_client._proto.tensorflow.core.framework import tensor_pb2, types_pb2

try:
    import ml_dtypes
except ImportError:  # an optional dependency: only bfloat16 and float8 need it
    ml_dtypes = None

# DataType -> numpy dtype, for every dtype a signature can take and numpy can hold; the server's
# codec (serving/apis/tfs/tensor_codec.py) reads TensorProto with these tables too.
NUMPY_DTYPES: dict[int, np.dtype] = {
    types_pb2.DT_FLOAT: np.dtype(np.float32),
    types_pb2.DT_DOUBLE: np.dtype(np.float64),
    types_pb2.DT_HALF: np.dtype(np.float16),
    types_pb2.DT_INT8: np.dtype(np.int8),
    types_pb2.DT_INT16: np.dtype(np.int16),
    types_pb2.DT_INT32: np.dtype(np.int32),
    types_pb2.DT_INT64: np.dtype(np.int64),
    types_pb2.DT_UINT8: np.dtype(np.uint8),
    types_pb2.DT_UINT16: np.dtype(np.uint16),
    types_pb2.DT_UINT32: np.dtype(np.uint32),
    types_pb2.DT_UINT64: np.dtype(np.uint64),
    types_pb2.DT_BOOL: np.dtype(np.bool_),
    types_pb2.DT_COMPLEX64: np.dtype(np.complex64),
    types_pb2.DT_COMPLEX128: np.dtype(np.complex128),
    types_pb2.DT_STRING: np.dtype(object),
}
# The dtypes only ml_dtypes gives numpy, by the attribute naming each there.
_ML_DTYPES = {
    types_pb2.DT_BFLOAT16: "bfloat16",
    types_pb2.DT_FLOAT8_E5M2: "float8_e5m2",
    types_pb2.DT_FLOAT8_E4M3FN: "float8_e4m3fn",
    types_pb2.DT_FLOAT8_E4M3FNUZ: "float8_e4m3fnuz",
    types_pb2.DT_FLOAT8_E4M3B11FNUZ: "float8_e4m3b11fnuz",
    types_pb2.DT_FLOAT8_E5M2FNUZ: "float8_e5m2fnuz",
}
if ml_dtypes is not None:
    NUMPY_DTYPES.update({tf_dtype: np.dtype(getattr(ml_dtypes, name)) for tf_dtype, name in _ML_DTYPES.items()})
# float8 values travel one byte each, in the `float8_val` bytes field.
FLOAT8_DTYPES = frozenset(tf_dtype for tf_dtype in _ML_DTYPES if tf_dtype != types_pb2.DT_BFLOAT16)
_DATA_TYPES = {dtype: tf_dtype for tf_dtype, dtype in NUMPY_DTYPES.items()}

# The typed field of each dtype, and how its values travel: int_val is int32 for every small int,
# half_val carries the raw 16 bits of float16 and bfloat16, complex fields interleave parts.
TYPED_FIELDS: dict[int, tuple[str, np.dtype]] = {
    types_pb2.DT_FLOAT: ("float_val", np.dtype(np.float32)),
    types_pb2.DT_DOUBLE: ("double_val", np.dtype(np.float64)),
    types_pb2.DT_HALF: ("half_val", np.dtype(np.int32)),
    types_pb2.DT_BFLOAT16: ("half_val", np.dtype(np.int32)),
    types_pb2.DT_INT8: ("int_val", np.dtype(np.int32)),
    types_pb2.DT_INT16: ("int_val", np.dtype(np.int32)),
    types_pb2.DT_INT32: ("int_val", np.dtype(np.int32)),
    types_pb2.DT_UINT8: ("int_val", np.dtype(np.int32)),
    types_pb2.DT_UINT16: ("int_val", np.dtype(np.int32)),
    types_pb2.DT_INT64: ("int64_val", np.dtype(np.int64)),
    types_pb2.DT_UINT32: ("uint32_val", np.dtype(np.uint32)),
    types_pb2.DT_UINT64: ("uint64_val", np.dtype(np.uint64)),
    types_pb2.DT_BOOL: ("bool_val", np.dtype(np.bool_)),
    types_pb2.DT_COMPLEX64: ("scomplex_val", np.dtype(np.float32)),
    types_pb2.DT_COMPLEX128: ("dcomplex_val", np.dtype(np.float64)),
}

# The dtypes tf.make_tensor_proto writes to tensor_content (tensor_util._TENSOR_CONTENT_TYPES).
_CONTENT_DTYPES = frozenset({
    types_pb2.DT_HALF, types_pb2.DT_BFLOAT16, types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE, types_pb2.DT_INT8,
    types_pb2.DT_INT16, types_pb2.DT_INT32, types_pb2.DT_INT64, types_pb2.DT_UINT8, types_pb2.DT_UINT32,
    types_pb2.DT_UINT64, *FLOAT8_DTYPES,
})


def data_type_name(tf_dtype: int) -> str:
    """`DT_FLOAT` for 1: the spelling TF Serving uses in its messages."""
    try:
        return types_pb2.DataType.Name(tf_dtype)
    except ValueError:
        return f"DataType({tf_dtype})"


def numpy_dtype(tf_dtype: int) -> np.dtype:
    """The numpy dtype holding tensors of TF dtype `tf_dtype` (object, of bytes, for DT_STRING);
    errors.InvalidArgument for one numpy cannot hold here."""
    try:
        return NUMPY_DTYPES[tf_dtype]
    except KeyError:
        hint = " (install ml_dtypes for it)" if tf_dtype in _ML_DTYPES else ""
        raise errors.InvalidArgument(f"Tensors of dtype {data_type_name(tf_dtype)} are not supported{hint}") from None


def tf_data_type(dtype: np.dtype) -> int:
    """The TF DataType of a numpy dtype; strings (object, bytes, str) are DT_STRING."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OSU":
        return types_pb2.DT_STRING
    native = dtype.newbyteorder("=") if dtype.byteorder not in "=|" else dtype
    try:
        return _DATA_TYPES[native]
    except KeyError:
        raise errors.InvalidArgument(f"numpy dtype {dtype} has no TensorFlow equivalent") from None


def ndarray_to_tensor_proto(array) -> tensor_pb2.TensorProto:
    """A TensorProto of `array`, as tf.make_tensor_proto makes it (see the module's doc); str
    values are sent as UTF-8."""
    array = np.asarray(array)
    proto = tensor_pb2.TensorProto(dtype=tf_data_type(array.dtype))
    proto.tensor_shape.SetInParent()  # present even for a scalar, as TensorFlow writes it
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    flat = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<") if array.dtype.kind != "O" else None).ravel()
    if proto.dtype == types_pb2.DT_STRING:
        proto.string_val.extend(_as_bytes(value) for value in flat.tolist())
    elif flat.size > 1 and proto.dtype in _CONTENT_DTYPES:
        proto.tensor_content = flat.tobytes()
    elif proto.dtype in FLOAT8_DTYPES:
        proto.float8_val = flat.tobytes()
    else:
        field, _ = TYPED_FIELDS[proto.dtype]
        if flat.dtype.kind == "c":
            flat = flat.view(flat.real.dtype)  # real and imaginary parts interleaved
        elif proto.dtype in (types_pb2.DT_HALF, types_pb2.DT_BFLOAT16):
            flat = flat.view(np.uint16)  # half_val carries the raw 16 bits
        getattr(proto, field).extend(flat.tolist())
    return proto


def tensor_proto_to_ndarray(proto, name: str = "") -> np.ndarray:
    """The array a TensorProto holds (strings as an object array of bytes). `proto` may be any
    TensorProto class (this package's or TensorFlow's): only its fields are read."""
    dtype = numpy_dtype(proto.dtype)
    shape = tuple(dim.size for dim in proto.tensor_shape.dim)
    size = math.prod(shape)
    if proto.tensor_content:
        if proto.dtype == types_pb2.DT_STRING:
            values = decode_string_list(proto.tensor_content, size, name)
        else:
            values = np.frombuffer(proto.tensor_content, dtype=dtype.newbyteorder("<")).astype(dtype)
        return _shaped(values, shape, size, name)
    if proto.dtype == types_pb2.DT_STRING:
        values = np.empty(len(proto.string_val), dtype=object)
        values[:] = list(proto.string_val)
    elif proto.dtype in FLOAT8_DTYPES:
        values = np.frombuffer(proto.float8_val, dtype=dtype)
    else:
        field, wire_dtype = TYPED_FIELDS[proto.dtype]
        values = np.asarray(getattr(proto, field), dtype=wire_dtype)
        if dtype.kind == "c":
            values = values.view(dtype)
        elif proto.dtype in (types_pb2.DT_HALF, types_pb2.DT_BFLOAT16):
            values = values.astype(np.uint16).view(dtype)
        else:
            values = values.astype(dtype)
    return _shaped(values, shape, size, name)


def _shaped(values: np.ndarray, shape: tuple[int, ...], size: int, name: str) -> np.ndarray:
    if values.size == size:
        return values.reshape(shape)
    if values.size == 1:  # TensorFlow's rule: one value fills the tensor
        return np.full(shape, values[0], dtype=values.dtype)
    raise errors.InvalidArgument(
        f"Tensor {_label(name)} has shape {list(shape)} ({size} values) but holds {values.size}")


def decode_string_list(content: bytes, size: int, name: str = "") -> np.ndarray:
    """TensorFlow's string tensor_content (`size` varint32 lengths, then the bytes back to back) as
    an object array of bytes; errors.InvalidArgument, naming the tensor, when it does not add up.
    The server reads requests with it too."""
    lengths, position = [], 0
    try:
        for _ in range(size):
            length, shift = 0, 0
            while True:
                byte = content[position]
                position += 1
                length |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            lengths.append(length)
    except IndexError:
        raise errors.InvalidArgument(
            f"Tensor {_label(name)} of dtype DT_STRING: tensor_content ends before the lengths "
            f"of its {size} strings; send strings in string_val instead"
        ) from None
    if position + sum(lengths) != len(content):
        raise errors.InvalidArgument(
            f"Tensor {_label(name)} of dtype DT_STRING: tensor_content holds "
            f"{len(content) - position} bytes of string data but its lengths add up to "
            f"{sum(lengths)}; send strings in string_val instead"
        )
    values = np.empty(size, dtype=object)
    for index, length in enumerate(lengths):
        values[index] = content[position:position + length]
        position += length
    return values


def _label(name: str) -> str:
    return f'"{name}"' if name else "(unnamed)"


def _as_bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise errors.InvalidArgument(f"A string tensor holds a {type(value).__name__} ({value!r}); send bytes or str")
