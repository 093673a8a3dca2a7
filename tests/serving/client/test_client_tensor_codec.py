"""The client's TensorProto codec makes TensorFlow's own bytes (tf.make_tensor_proto) for every
dtype and size, and reads back any TensorProto, TensorFlow's class included."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
import tensorflow as tf

from tfzoo_client import errors
from tfzoo_client.tensor_codec import ndarray_to_tensor_proto, tensor_proto_to_ndarray

DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
          np.uint8, np.uint16, np.uint32, np.uint64, np.bool_, np.complex64, np.complex128,
          ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2]
SHAPES = [(), (1,), (0,), (3, 2)]


def sample(dtype, shape) -> np.ndarray:
    values = np.arange(1, 1 + int(np.prod(shape)), dtype=np.float64).reshape(shape)
    if np.dtype(dtype).kind == "c":
        values = values + 0.5j
    return (values % 2 == 0) if dtype is np.bool_ else values.astype(dtype)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda dtype: np.dtype(dtype).name)
def test_requests_are_tensorflows_bytes_and_read_back(dtype, shape):
    array = sample(dtype, shape)
    ours = ndarray_to_tensor_proto(array)
    assert ours.SerializeToString() == tf.make_tensor_proto(array).SerializeToString()
    for proto in (ours, tf.make_tensor_proto(array)):
        decoded = tensor_proto_to_ndarray(proto)
        assert decoded.dtype == array.dtype and decoded.shape == array.shape
        np.testing.assert_array_equal(decoded.astype(np.float64 if decoded.dtype.kind == "V" else decoded.dtype),
                                      array.astype(np.float64 if array.dtype.kind == "V" else array.dtype))


def test_strings_are_sent_as_bytes_and_read_back_as_bytes():
    array = np.array([["a", b"\x00b"], ["", "\u00e9"]], dtype=object)
    ours = ndarray_to_tensor_proto(array)
    assert ours.SerializeToString() == tf.make_tensor_proto(array).SerializeToString()
    assert tensor_proto_to_ndarray(ours).tolist() == [[b"a", b"\x00b"], [b"", "\u00e9".encode()]]


def test_typed_fields_and_string_tensor_content_are_read_as_servers_send_them():
    # TF Serving's default response encoding: typed fields; a single value fills the shape.
    proto = tf.make_tensor_proto(np.float32(3.0), shape=[2, 2])
    assert tensor_proto_to_ndarray(proto).tolist() == [[3.0, 3.0], [3.0, 3.0]]
    strings = tf.constant([b"x", b"yz"])
    proto = tf.make_tensor_proto(strings)
    assert tensor_proto_to_ndarray(proto).tolist() == [b"x", b"yz"]


def test_a_value_count_that_does_not_fit_the_shape_is_refused():
    proto = ndarray_to_tensor_proto(np.array([1.0, 2.0, 3.0], np.float32))
    proto.tensor_shape.dim[0].size = 2
    with pytest.raises(errors.InvalidArgument, match=r"shape \[2\] \(2 values\)"):
        tensor_proto_to_ndarray(proto, "x")
