"""TensorProto <-> numpy, fast: the conversion every Predict request and response goes through.

Why not `tf.make_ndarray` / `tf.make_tensor_proto`: they are up to 20x slower on typed fields
(`float_val`) and import TensorFlow's Python layer into the request path. Here `tensor_content`
is read with `np.frombuffer` (no copy beyond the bytes protobuf hands us) and typed `*_val`
fields with `np.asarray`.

Semantics follow TensorFlow's `Tensor::FromProto`, with one deliberate difference: TF silently
pads a too-short value list with its last value (and zeros for an empty one), which hides client
bugs. Here a single value is broadcast to the whole shape (as TF does), and any other count that
does not match the shape is an `errors.InvalidArgument` naming the tensor, its shape and the count.
Element counts are computed in Python integers (a shape of [2**40, 2**40] must not wrap around to
0), and a single value may fill at most MAX_BROADCAST_BYTES: that rule is the one place where a
request of a few bytes could otherwise ask the server to allocate gigabytes.

DT_STRING tensors become numpy object arrays of `bytes`; that is what `Servable.run` expects.
"""

from __future__ import annotations

import math

import numpy as np
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
# DataType -> numpy dtype, the typed field of each dtype and the float8 dtypes: TensorProto's
# encoding, defined once in the client's codec (which needs it without TensorFlow).
from tfzoo_client.tensor_codec import FLOAT8_DTYPES as _FLOAT8_TYPES
from tfzoo_client.tensor_codec import NUMPY_DTYPES as _NUMPY_DTYPES
from tfzoo_client.tensor_codec import TYPED_FIELDS as _TYPED_FIELDS
from tfzoo_client.tensor_codec import decode_string_list

from serving import errors
from serving.apis.tfs.packed_fields import merge_packed_field

DataType = types_pb2.DataType

_DATA_TYPES: dict[np.dtype, int] = {dtype: tf_dtype for tf_dtype, dtype in _NUMPY_DTYPES.items()}
# The largest tensor one broadcast value may fill; bigger tensors must be sent value by value.
MAX_BROADCAST_BYTES = 256 * 1024 * 1024
# The most elements a shape may describe: 16-byte elements (complex128) must stay indexable.
MAX_ELEMENTS = 2**59


def numpy_dtype(tf_dtype: int) -> np.dtype:
    """The numpy dtype that holds tensors of TF dtype `tf_dtype` (object for DT_STRING).

    Raises errors.InvalidArgument for a dtype numpy cannot hold (quantized, resource, variant...).
    """
    try:
        return _NUMPY_DTYPES[tf_dtype]
    except KeyError:
        raise errors.InvalidArgument(
            f"Tensors of dtype {data_type_name(tf_dtype)} are not supported. Supported dtypes: "
            f"{', '.join(sorted(data_type_name(dt) for dt in _NUMPY_DTYPES))}"
        ) from None


def tf_data_type(dtype: np.dtype | type) -> int:
    """The TF DataType enum value for a numpy dtype; strings (object, bytes, str) are DT_STRING."""
    dtype = np.dtype(dtype)
    known = _DATA_TYPES.get(dtype)  # the common case: a native-order numeric dtype
    if known is not None:
        return known
    if dtype.kind in "OSU":
        return types_pb2.DT_STRING
    try:
        return _DATA_TYPES[dtype.newbyteorder("=") if dtype.byteorder != "|" else dtype]
    except KeyError:
        raise errors.InvalidArgument(
            f"numpy dtype {dtype} has no TensorFlow equivalent. Use one of: "
            f"{', '.join(sorted(str(d) for d in _DATA_TYPES))}"
        ) from None


def data_type_name(tf_dtype: int) -> str:
    """`DT_FLOAT` for 1: the spelling TF Serving uses in its messages."""
    try:
        return types_pb2.DataType.Name(tf_dtype)
    except ValueError:
        return f"DataType({tf_dtype})"


def tensor_proto_to_ndarray(proto: tensor_pb2.TensorProto, name: str = "") -> np.ndarray:
    """Decodes a TensorProto into a numpy array of its dtype and shape.

    `name` (the input alias) only serves error messages. Raises errors.InvalidArgument for an
    unsupported dtype, an invalid shape, or a value count that does not match the shape.
    """
    dtype = numpy_dtype(proto.dtype)
    shape = _shape(proto.tensor_shape, name)
    size = math.prod(shape)  # Python ints: no overflow
    if proto.tensor_content:
        return _from_tensor_content(proto, dtype, shape, size, name)
    if proto.dtype == types_pb2.DT_STRING:
        values = np.empty(len(proto.string_val), dtype=object)
        values[:] = list(proto.string_val)
        return _fit_to_shape(values, shape, size, name, "string_val")
    if proto.dtype in _FLOAT8_TYPES:
        values = np.frombuffer(proto.float8_val, dtype=dtype)
        return _fit_to_shape(values, shape, size, name, "float8_val")
    field, wire_dtype = _TYPED_FIELDS[proto.dtype]
    values = np.asarray(getattr(proto, field), dtype=wire_dtype)
    if proto.dtype in (types_pb2.DT_COMPLEX64, types_pb2.DT_COMPLEX128):
        if values.size % 2:
            raise errors.InvalidArgument(
                f"Tensor {_label(name)}: {field} holds {values.size} numbers, but complex values "
                "come as (real, imaginary) pairs, so the count must be even"
            )
        values = values.view(dtype)
    elif proto.dtype in (types_pb2.DT_HALF, types_pb2.DT_BFLOAT16):
        values = values.astype(np.uint16).view(dtype)
    elif values.dtype != dtype:
        values = values.astype(dtype)  # wraps like TF's static_cast for out-of-range int_val
    return _fit_to_shape(values, shape, size, name, field)


def ndarray_to_tensor_proto(array, *, use_tensor_content: bool = True,
                            out: tensor_pb2.TensorProto | None = None) -> tensor_pb2.TensorProto:
    """Encodes a numpy array (or anything np.asarray accepts) as a TensorProto.

    Numbers go into `tensor_content` (one memcpy; what TF's AsProtoTensorContent writes), or into
    the typed `*_val` fields when `use_tensor_content` is False (TF Serving's default response
    encoding, for clients that read `float_val` directly). Strings always use `string_val`;
    `str` elements are encoded as UTF-8. With `out` (an empty TensorProto inside a response,
    e.g. `response.outputs[alias]`), the tensor is written there and no copy of it is made.
    """
    array = np.asarray(array)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))  # TF's tensor_content is little-endian
    proto = tensor_pb2.TensorProto() if out is None else out
    proto.dtype = tf_data_type(array.dtype)
    dims = proto.tensor_shape.dim
    for size in array.shape:
        dims.add(size=size)
    if proto.dtype == types_pb2.DT_STRING:
        proto.string_val.extend(_as_bytes(value) for value in array.ravel().tolist())
    elif use_tensor_content:
        proto.tensor_content = np.ascontiguousarray(array).tobytes()
    elif proto.dtype in _FLOAT8_TYPES:
        proto.float8_val = np.ascontiguousarray(array).tobytes()
    else:
        _fill_typed_field(proto, array)
    return proto


def _fill_typed_field(proto: tensor_pb2.TensorProto, array: np.ndarray) -> None:
    field, _ = _TYPED_FIELDS[proto.dtype]
    flat = np.ascontiguousarray(array).ravel()
    if proto.dtype in (types_pb2.DT_HALF, types_pb2.DT_BFLOAT16):
        flat = flat.view(np.uint16)  # half_val carries the raw 16 bits
    elif proto.dtype in (types_pb2.DT_COMPLEX64, types_pb2.DT_COMPLEX128):
        flat = flat.view(flat.real.dtype)  # real and imaginary parts interleaved
    merge_packed_field(proto, field, flat)


def _shape(shape_proto: tensor_shape_pb2.TensorShapeProto, name: str) -> tuple[int, ...]:
    if shape_proto.unknown_rank:
        raise errors.InvalidArgument(
            f"Tensor {_label(name)} has unknown_rank set; a request tensor needs a full shape"
        )
    shape = tuple([dim.size for dim in shape_proto.dim])
    if shape and min(shape) < 0:
        raise errors.InvalidArgument(
            f"Tensor {_label(name)} has shape {_shape_text(shape)} with a negative dimension; "
            "every dimension of a request tensor must be known (>= 0)"
        )
    # numpy refuses shapes whose non-zero dimensions multiply past what it can index, even when
    # another dimension is 0 ([0, 2**62] holds no value): refuse them here, by name.
    size = math.prod(shape)
    if size > MAX_ELEMENTS or (size == 0 and math.prod(size for size in shape if size)
                               > MAX_ELEMENTS):
        raise errors.InvalidArgument(
            f"Tensor {_label(name)} has shape {_shape_text(shape)}: its non-zero dimensions "
            f"multiply to more than {MAX_ELEMENTS} elements, the most a tensor can have here"
        )
    return shape


def _from_tensor_content(proto, dtype: np.dtype, shape, size: int, name: str) -> np.ndarray:
    content = proto.tensor_content
    if proto.dtype == types_pb2.DT_STRING:
        return decode_string_list(content, size, name).reshape(shape)
    if len(content) != size * dtype.itemsize:
        raise errors.InvalidArgument(
            f"Tensor {_label(name)} of dtype {data_type_name(proto.dtype)} and shape "
            f"{_shape_text(shape)} needs {size} values ({size * dtype.itemsize} bytes) but "
            f"tensor_content holds {len(content)} bytes"
        )
    # Read-only view of the request's bytes: TensorFlow copies inputs anyway.
    return np.frombuffer(content, dtype=dtype).reshape(shape)


def _fit_to_shape(values: np.ndarray, shape, size: int, name: str, field: str) -> np.ndarray:
    if values.size == size:
        return values.reshape(shape)
    if values.size == 1:
        # TF's rule: a single value fills the whole tensor.
        itemsize = values.dtype.itemsize if values.dtype != object else 8  # a pointer per string
        if size * itemsize > MAX_BROADCAST_BYTES:
            raise errors.InvalidArgument(
                f"Tensor {_label(name)} has shape {_shape_text(shape)} ({size} values) and one "
                f"value in {field}: a single value fills at most {MAX_BROADCAST_BYTES} bytes, "
                f"this would be {size * itemsize}; send every value")
        return np.full(shape, values[0], dtype=values.dtype)
    raise errors.InvalidArgument(
        f"Tensor {_label(name)} has shape {_shape_text(shape)} ({size} values) but {field} "
        f"holds {values.size} values; send exactly {size} values, or 1 to fill the shape"
    )


def _as_bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise errors.InvalidArgument(
        f"A string tensor holds a {type(value).__name__} ({value!r}); only bytes and str can be sent"
    )


def _label(name: str) -> str:
    return f'"{name}"' if name else "(unnamed)"


def _shape_text(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"
