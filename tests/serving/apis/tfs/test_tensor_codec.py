"""TensorProto <-> numpy for every dtype, checked against TensorFlow's own converters."""

import ml_dtypes
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

from serving import errors
from serving.apis.tfs.tensor_codec import (
    data_type_name,
    ndarray_to_tensor_proto,
    numpy_dtype,
    tensor_proto_to_ndarray,
    tf_data_type,
)

NUMERIC_SAMPLES = {
    "float32": np.array([[1.5, -2.25, 3.0], [0.0, 1e-3, -7.0]], np.float32),
    "float64": np.array([1.25, -1e300, 3.0], np.float64),
    "float16": np.array([0.5, -2.0, 65504.0], np.float16),
    "bfloat16": np.array([1.0, -3.5, 256.0], ml_dtypes.bfloat16),
    "int8": np.array([-128, 0, 127], np.int8),
    "int16": np.array([-32768, 5, 32767], np.int16),
    "int32": np.array([[-(2**31), 0], [7, 2**31 - 1]], np.int32),
    "int64": np.array([-(2**63), 42, 2**63 - 1], np.int64),
    "uint8": np.array([0, 128, 255], np.uint8),
    "uint16": np.array([0, 40000, 65535], np.uint16),
    "uint32": np.array([0, 3_000_000_000, 2**32 - 1], np.uint32),
    "uint64": np.array([0, 2**63 + 5, 2**64 - 1], np.uint64),
    "bool": np.array([[True, False], [False, True]]),
    "complex64": np.array([1 + 2j, -3.5 - 0.5j], np.complex64),
    "complex128": np.array([1e100 + 2j, -3 - 4j], np.complex128),
    "float8_e5m2": np.array([1.0, -2.0, 0.5], ml_dtypes.float8_e5m2),
    "float8_e4m3fn": np.array([1.0, -2.0, 0.5], ml_dtypes.float8_e4m3fn),
}
# The dtypes TensorFlow's Python converters handle (they predate float8).
TF_INTEROP = [name for name in NUMERIC_SAMPLES if not name.startswith("float8")]


@pytest.mark.parametrize("name", sorted(NUMERIC_SAMPLES))
def test_tensor_content_round_trip_keeps_dtype_shape_and_values(name):
    array = NUMERIC_SAMPLES[name]
    proto = ndarray_to_tensor_proto(array)
    assert proto.tensor_content and proto.dtype == tf_data_type(array.dtype)
    decoded = tensor_proto_to_ndarray(proto)
    assert decoded.dtype == array.dtype and decoded.shape == array.shape
    np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize("name", sorted(NUMERIC_SAMPLES))
def test_typed_field_round_trip_keeps_dtype_shape_and_values(name):
    array = NUMERIC_SAMPLES[name]
    proto = ndarray_to_tensor_proto(array, use_tensor_content=False)
    assert not proto.tensor_content
    decoded = tensor_proto_to_ndarray(proto)
    assert decoded.dtype == array.dtype and decoded.shape == array.shape
    np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize("name", TF_INTEROP)
def test_decodes_what_tf_make_tensor_proto_writes(name):
    array = NUMERIC_SAMPLES[name]
    decoded = tensor_proto_to_ndarray(tf.make_tensor_proto(array))
    assert decoded.dtype == array.dtype
    np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize("use_tensor_content", [True, False])
@pytest.mark.parametrize("name", TF_INTEROP)
def test_tf_make_ndarray_reads_what_we_encode(name, use_tensor_content):
    array = NUMERIC_SAMPLES[name]
    decoded = tf.make_ndarray(ndarray_to_tensor_proto(array, use_tensor_content=use_tensor_content))
    assert decoded.dtype == array.dtype
    np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize(
    "field, tf_dtype, values, expected",
    [
        ("float_val", types_pb2.DT_FLOAT, [1.5, 2.5], np.array([1.5, 2.5], np.float32)),
        ("double_val", types_pb2.DT_DOUBLE, [0.1, 0.2], np.array([0.1, 0.2])),
        ("int_val", types_pb2.DT_INT32, [1, -2], np.array([1, -2], np.int32)),
        ("int_val", types_pb2.DT_UINT8, [0, 255], np.array([0, 255], np.uint8)),
        ("int64_val", types_pb2.DT_INT64, [2**40, -1], np.array([2**40, -1], np.int64)),
        ("bool_val", types_pb2.DT_BOOL, [True, False], np.array([True, False])),
        ("half_val", types_pb2.DT_HALF, [0x3C00, 0xC000], np.array([1.0, -2.0], np.float16)),
        ("scomplex_val", types_pb2.DT_COMPLEX64, [1, 2, 3, 4], np.array([1 + 2j, 3 + 4j], np.complex64)),
        ("uint64_val", types_pb2.DT_UINT64, [2**64 - 1, 0], np.array([2**64 - 1, 0], np.uint64)),
    ],
)
def test_typed_field_written_by_hand_is_decoded(field, tf_dtype, values, expected):
    proto = tensor_pb2.TensorProto(dtype=tf_dtype, tensor_shape=_shape(2))
    getattr(proto, field).extend(values)
    decoded = tensor_proto_to_ndarray(proto)
    assert decoded.dtype == expected.dtype
    np.testing.assert_array_equal(decoded, expected)


def test_string_tensor_round_trips_through_string_val_as_object_array_of_bytes():
    array = np.array([[b"a", b""], [b"\x00\xffbinary", "caf\u00e9".encode()]], dtype=object)
    proto = ndarray_to_tensor_proto(array)
    assert proto.dtype == types_pb2.DT_STRING and not proto.tensor_content
    assert list(proto.string_val) == [b"a", b"", b"\x00\xffbinary", b"caf\xc3\xa9"]
    decoded = tensor_proto_to_ndarray(proto)
    assert decoded.dtype == object and decoded.shape == (2, 2)
    assert decoded.tolist() == array.tolist()


def test_str_and_fixed_width_string_arrays_are_encoded_as_utf8_bytes():
    assert list(ndarray_to_tensor_proto(np.array(["\u00e9t\u00e9", "b"])).string_val) == [b"\xc3\xa9t\xc3\xa9", b"b"]
    assert list(ndarray_to_tensor_proto(np.array([b"xy", b"z"])).string_val) == [b"xy", b"z"]


def test_string_tensor_from_tf_make_tensor_proto_is_decoded():
    decoded = tensor_proto_to_ndarray(tf.make_tensor_proto([b"hello", b"world"]))
    assert decoded.tolist() == [b"hello", b"world"]


def test_string_tensor_content_in_tf_varint_list_encoding_is_decoded():
    # TF's C++ AsProtoTensorContent: varint32 lengths of all strings, then the bytes back to back.
    long_string = b"x" * 200  # a two-byte varint length
    content = bytes([1, 0, 0xC8, 0x01]) + b"a" + long_string
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=_shape(3), tensor_content=content)
    assert tensor_proto_to_ndarray(proto).tolist() == [b"a", b"", long_string]


def test_string_tensor_content_with_wrong_lengths_names_the_tensor():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=_shape(2), tensor_content=b"\x05\x01abc")
    with pytest.raises(errors.InvalidArgument, match='"names".*string_val'):
        tensor_proto_to_ndarray(proto, name="names")


def test_single_typed_value_is_broadcast_to_the_shape():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=_shape(2, 3), float_val=[7.0])
    np.testing.assert_array_equal(tensor_proto_to_ndarray(proto), np.full((2, 3), 7.0, np.float32))


def test_single_string_is_broadcast_to_the_shape():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=_shape(3), string_val=[b"s"])
    assert tensor_proto_to_ndarray(proto).tolist() == [b"s", b"s", b"s"]


def test_scalar_and_empty_tensors_keep_their_shapes():
    assert tensor_proto_to_ndarray(ndarray_to_tensor_proto(np.float32(2.5))).shape == ()
    empty = tensor_proto_to_ndarray(ndarray_to_tensor_proto(np.zeros((0, 3), np.int64)))
    assert empty.shape == (0, 3) and empty.dtype == np.int64


def test_typed_value_count_that_does_not_match_the_shape_names_tensor_shape_and_count():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=_shape(2, 3), float_val=[1, 2, 3, 4])
    with pytest.raises(errors.InvalidArgument) as caught:
        tensor_proto_to_ndarray(proto, name="x")
    assert caught.value.message == (
        'Tensor "x" has shape [2,3] (6 values) but float_val holds 4 values; '
        "send exactly 6 values, or 1 to fill the shape"
    )


def test_missing_values_for_a_non_empty_shape_is_an_error():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_INT64, tensor_shape=_shape(4))
    with pytest.raises(errors.InvalidArgument, match=r'"ids" has shape \[4\] \(4 values\) but int64_val holds 0'):
        tensor_proto_to_ndarray(proto, name="ids")


def test_tensor_content_of_the_wrong_size_names_tensor_dtype_shape_and_bytes():
    proto = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_FLOAT, tensor_shape=_shape(3), tensor_content=np.zeros(2, np.float32).tobytes()
    )
    with pytest.raises(errors.InvalidArgument) as caught:
        tensor_proto_to_ndarray(proto, name="x")
    assert caught.value.message == (
        'Tensor "x" of dtype DT_FLOAT and shape [3] needs 3 values (12 bytes) but '
        "tensor_content holds 8 bytes"
    )


def test_odd_number_of_complex_parts_is_an_error():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_COMPLEX64, tensor_shape=_shape(2), scomplex_val=[1, 2, 3])
    with pytest.raises(errors.InvalidArgument, match="pairs"):
        tensor_proto_to_ndarray(proto, name="z")


def test_negative_dimension_is_an_error():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=_shape(-1), float_val=[1.0])
    with pytest.raises(errors.InvalidArgument, match=r'"x" has shape \[-1\] with a negative dimension'):
        tensor_proto_to_ndarray(proto, name="x")


def test_unsupported_dtype_names_it_and_the_supported_ones():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_RESOURCE, tensor_shape=_shape(1))
    with pytest.raises(errors.InvalidArgument, match="DT_RESOURCE are not supported.*DT_FLOAT"):
        tensor_proto_to_ndarray(proto)


def test_numpy_dtype_without_tf_equivalent_is_an_error():
    with pytest.raises(errors.InvalidArgument, match="datetime64"):
        ndarray_to_tensor_proto(np.array(["2020-01-01"], dtype="datetime64[D]"))


def test_big_endian_arrays_are_encoded_little_endian():
    array = np.array([1.0, 2.0], dtype=">f4")
    np.testing.assert_array_equal(tensor_proto_to_ndarray(ndarray_to_tensor_proto(array)), [1.0, 2.0])


def test_dtype_helpers_agree_with_tensorflow():
    for tf_dtype in (tf.float32, tf.bfloat16, tf.uint64, tf.bool, tf.complex128):
        assert numpy_dtype(tf_dtype.as_datatype_enum) == tf_dtype.as_numpy_dtype
    assert data_type_name(types_pb2.DT_HALF) == "DT_HALF"


def _shape(*dims):
    return tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in dims])
