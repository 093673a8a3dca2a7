"""The protocol-agnostic codec: datatype mapping, typed and raw decoding, output encoding."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
import tensorflow as tf
from tests.support.oip_testdata import sample_array
from tensorflow.core.framework import types_pb2

from serving import errors
from serving.apis.oip import datatypes

TYPED = [name for name, d in datatypes.DATATYPES.items() if d.contents_field is not None]


@pytest.mark.parametrize("name", list(datatypes.DATATYPES))
def test_every_datatype_round_trips_through_raw_bytes(name):
    array = sample_array(name)
    datatype = datatypes.datatype(name)

    decoded = datatypes.decode_raw("x", datatype, array.shape, datatypes.encode_raw(array))

    assert decoded.dtype == datatype.numpy_dtype
    np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize("name", TYPED)
def test_every_typed_datatype_round_trips_through_its_contents_field(name):
    array = sample_array(name)
    datatype = datatypes.datatype(name)

    values = datatypes.encode_values(array)
    decoded = datatypes.decode_values("x", datatype, array.shape, values, datatype.contents_field)

    assert decoded.dtype == datatype.numpy_dtype
    np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize("name", list(datatypes.DATATYPES))
def test_datatype_tf_and_numpy_dtypes_agree(name):
    datatype = datatypes.datatype(name)
    tf_dtype = tf.dtypes.as_dtype(datatype.tf_dtype)

    assert datatypes.from_tf_dtype(datatype.tf_dtype) is datatype
    if name == "BYTES":
        assert tf_dtype == tf.string
    else:
        assert np.dtype(tf_dtype.as_numpy_dtype) == datatype.numpy_dtype
        assert datatypes.from_numpy_dtype(datatype.numpy_dtype) is datatype


def test_bf16_is_bfloat16_two_bytes_per_value():
    raw = np.array([1.0, -2.5], dtype=ml_dtypes.bfloat16).tobytes()

    decoded = datatypes.decode_raw("x", datatypes.datatype("BF16"), (2,), raw)

    assert len(raw) == 4
    np.testing.assert_array_equal(decoded.astype(np.float32), [1.0, -2.5])


def test_raw_values_are_read_little_endian():
    decoded = datatypes.decode_raw("x", datatypes.datatype("INT32"), (2,),
                                   b"\x01\x00\x00\x00\x00\x01\x00\x00")

    np.testing.assert_array_equal(decoded, [1, 256])


def test_raw_bytes_elements_are_little_endian_length_prefixed():
    array = np.array([b"ab", b""], dtype=object)

    assert datatypes.encode_raw(array) == b"\x02\x00\x00\x00ab\x00\x00\x00\x00"


def test_raw_bool_treats_any_nonzero_byte_as_true():
    decoded = datatypes.decode_raw("x", datatypes.datatype("BOOL"), (3,), b"\x00\x01\x07")

    np.testing.assert_array_equal(decoded, [False, True, True])


def test_strings_in_bytes_values_are_encoded_as_utf8():
    decoded = datatypes.decode_values("x", datatypes.datatype("BYTES"), (1,), ["ü"], "data")

    assert decoded[0] == "ü".encode()


def test_typed_value_count_mismatch_names_input_shape_datatype_and_count():
    with pytest.raises(errors.InvalidArgument) as raised:
        datatypes.decode_values("pixels", datatypes.datatype("FP32"), (2, 3), [1.0] * 5,
                                "fp32_contents")

    message = raised.value.message
    assert 'input "pixels"' in message and "FP32" in message and "[2,3]" in message
    assert "needs 6 values" in message and "received 5" in message


def test_raw_byte_count_mismatch_names_input_shape_datatype_and_bytes():
    with pytest.raises(errors.InvalidArgument) as raised:
        datatypes.decode_raw("pixels", datatypes.datatype("FP64"), (2,), b"\x00" * 12)

    message = raised.value.message
    assert 'input "pixels"' in message and "FP64" in message and "[2]" in message
    assert "needs 16 bytes" in message and "received 12 bytes" in message


def test_raw_bytes_with_fewer_elements_than_the_shape_is_rejected():
    raw = datatypes.encode_raw(np.array([b"only one"], dtype=object))

    with pytest.raises(errors.InvalidArgument, match=r"needs 2 length-prefixed elements"):
        datatypes.decode_raw("names", datatypes.datatype("BYTES"), (2,), raw)


def test_raw_bytes_element_longer_than_the_buffer_is_rejected():
    with pytest.raises(errors.InvalidArgument, match=r"element 0 declares 9 bytes"):
        datatypes.decode_raw("names", datatypes.datatype("BYTES"), (1,), b"\x09\x00\x00\x00abc")


def test_raw_bytes_left_over_after_the_last_element_are_rejected():
    raw = datatypes.encode_raw(np.array([b"a", b"b"], dtype=object))

    with pytest.raises(errors.InvalidArgument, match=r"left after them"):
        datatypes.decode_raw("names", datatypes.datatype("BYTES"), (1,), raw)


@pytest.mark.parametrize("name,value", [("INT8", 300), ("INT16", -40000), ("UINT8", 256),
                                        ("UINT16", 70000)])
def test_narrow_integer_outside_its_range_is_rejected_not_wrapped(name, value):
    datatype = datatypes.datatype(name)

    with pytest.raises(errors.InvalidArgument, match=rf"value {value} .* outside the {name} range"):
        datatypes.decode_values("x", datatype, (1,), [value], datatype.contents_field)


@pytest.mark.parametrize("name", ["FP16", "BF16"])
def test_16_bit_floats_have_no_typed_field_and_must_be_sent_raw(name):
    with pytest.raises(errors.InvalidArgument, match=r"no typed contents field.*raw_input_contents"):
        datatypes.decode_values("x", datatypes.datatype(name), (1,), [1.0], "contents")


def test_value_that_does_not_fit_the_datatype_is_invalid_argument():
    with pytest.raises(errors.InvalidArgument, match=r"not UINT64"):
        datatypes.decode_values("x", datatypes.datatype("UINT64"), (1,), [-1], "data")


def test_unknown_datatype_error_names_the_input_and_lists_valid_datatypes():
    with pytest.raises(errors.InvalidArgument) as raised:
        datatypes.datatype("FLOAT32", input_name="x")

    assert 'input "x"' in raised.value.message
    assert "'FLOAT32'" in raised.value.message and "FP32" in raised.value.message


def test_negative_dimension_in_a_request_shape_is_rejected():
    with pytest.raises(errors.InvalidArgument, match=r"must be >= 0"):
        datatypes.checked_shape("x", datatypes.datatype("FP32"), [-1, 3])


def test_tf_dtype_without_an_oip_datatype_is_unimplemented():
    with pytest.raises(errors.Unimplemented, match=r"DT_COMPLEX64 has no Open Inference Protocol"):
        datatypes.from_tf_dtype(types_pb2.DT_COMPLEX64)


@pytest.mark.parametrize("name", ["FP32", "BYTES"])
def test_huge_request_shape_is_rejected_before_anything_is_allocated(name):
    shape = (2**62, 4)  # its element count wraps to 0 in int64 arithmetic

    with pytest.raises(errors.InvalidArgument, match=rf"\b{2**64} (values|length-prefixed)"):
        datatypes.decode_raw("x", datatypes.datatype(name), shape, b"")
