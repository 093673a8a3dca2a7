"""Input conversion to a signature's dtypes and shapes: lossless conversions pass, the rest is
refused with a message that names the input, the value and the fix, before anything is sent."""

import numpy as np
import pytest
import tensorflow as tf

from serving import errors
from tfzoo_client.conversion import signature_inputs, tensor_input
from tfzoo_client.metadata import SignatureInfo, TensorInfo

FLOAT_VECTOR = TensorInfo("x", "float32", "DT_FLOAT", (None,))
INT_VECTOR = TensorInfo("ids", "int64", "DT_INT64", (None,))
STRINGS = TensorInfo("names", "string", "DT_STRING", (None,))
BOOLS = TensorInfo("mask", "bool", "DT_BOOL", (None,))
IMAGES = TensorInfo("image", "float32", "DT_FLOAT", (None, 2, 2, 1))
MULTI = SignatureInfo("serving_default", "tensorflow/serving/predict",
                      {"features": TensorInfo("features", "float32", "DT_FLOAT", (None, 3)),
                       "ids": INT_VECTOR, "names": STRINGS}, {})
SINGLE = SignatureInfo("serving_default", "tensorflow/serving/predict", {"x": FLOAT_VECTOR}, {})


def test_array_of_the_signature_dtype_is_sent_unchanged():
    array = np.array([1.5, 2.5], dtype=np.float32)
    assert tensor_input(array, FLOAT_VECTOR) is array


def test_safe_numpy_casts_are_converted():
    converted = tensor_input(np.array([1, 2], dtype=np.int32), INT_VECTOR)
    assert converted.dtype == np.int64 and converted.tolist() == [1, 2]
    assert tensor_input(np.array([0, 255], dtype=np.uint8), FLOAT_VECTOR).dtype == np.float32


def test_float64_values_that_float32_holds_exactly_are_converted():
    converted = tensor_input(np.array([0.5, 2.0, -8.25]), FLOAT_VECTOR)
    assert converted.dtype == np.float32 and converted.tolist() == [0.5, 2.0, -8.25]


def test_float64_array_losing_precision_is_refused_with_value_index_and_fix():
    with pytest.raises(errors.InvalidArgument) as refused:
        tensor_input(np.array([0.5, 0.1]), FLOAT_VECTOR)
    message = refused.value.message
    for fragment in ('"x"', "float32", "DT_FLOAT", "0.1", "index [1]", "astype(np.float32)"):
        assert fragment in message


def test_python_floats_are_rounded_to_a_float32_input():
    converted = tensor_input([0.1, 2.0], FLOAT_VECTOR)
    assert converted.dtype == np.float32
    np.testing.assert_array_equal(converted, np.array([0.1, 2.0], dtype=np.float32))


def test_python_float_overflowing_float32_is_refused():
    with pytest.raises(errors.InvalidArgument, match="without loss"):
        tensor_input([1e300], FLOAT_VECTOR)


def test_integral_floats_convert_to_int_but_fractions_are_refused():
    assert tensor_input([1.0, 2.0], INT_VECTOR).tolist() == [1, 2]
    with pytest.raises(errors.InvalidArgument, match=r"1\.5 at index \[0\] would become 1"):
        tensor_input([1.5], INT_VECTOR)


def test_int64_too_large_for_float32_is_refused():
    with pytest.raises(errors.InvalidArgument, match="16777217"):
        tensor_input(np.array([16777217], dtype=np.int64), FLOAT_VECTOR)


def test_nan_survives_conversion_between_float_dtypes():
    converted = tensor_input(np.array([np.nan, 1.0]), FLOAT_VECTOR)
    assert np.isnan(converted[0]) and converted[1] == 1.0


def test_nan_cannot_become_an_integer():
    with pytest.raises(errors.InvalidArgument, match="nan"):
        tensor_input(np.array([np.nan]), INT_VECTOR)


def test_zero_and_one_convert_to_bool_but_two_is_refused():
    assert tensor_input([0, 1], BOOLS).tolist() == [False, True]
    with pytest.raises(errors.InvalidArgument, match="bool"):
        tensor_input([2], BOOLS)


def test_tf_tensor_is_converted_like_a_numpy_array():
    converted = tensor_input(tf.constant([1, 2], dtype=tf.int32), INT_VECTOR)
    assert converted.dtype == np.int64 and converted.tolist() == [1, 2]
    with pytest.raises(errors.InvalidArgument, match="without loss"):
        tensor_input(tf.constant([0.1], dtype=tf.float64), FLOAT_VECTOR)


def test_str_and_bytes_go_to_a_string_input_as_bytes():
    converted = tensor_input(["héllo", b"\x00bin\x00"], STRINGS)
    assert converted.dtype == object and converted.tolist() == ["héllo".encode(), b"\x00bin\x00"]


def test_numbers_are_refused_for_a_string_input():
    with pytest.raises(errors.InvalidArgument, match=r'"names" takes strings .*int \(1\)'):
        tensor_input([1, 2], STRINGS)


def test_strings_are_refused_for_a_number_input():
    with pytest.raises(errors.InvalidArgument, match='"x" takes numbers'):
        tensor_input(["1.0"], FLOAT_VECTOR)


@pytest.mark.parametrize("shape", [(2, 2, 1), (1, 3, 2, 1)])
def test_a_shape_other_than_the_signatures_is_sent_as_given_for_the_model_to_judge(shape):
    # TF Serving feeds any shape to the model; refusing it here would be stricter than the server.
    assert tensor_input(np.zeros(shape, np.float32), IMAGES).shape == shape


def test_one_value_fills_a_single_input_signature():
    arrays = signature_inputs([1.0, 2.0], SINGLE)
    assert list(arrays) == ["x"] and arrays["x"].dtype == np.float32


def test_one_value_for_a_multi_input_signature_asks_for_a_dict():
    with pytest.raises(errors.InvalidArgument, match=r"takes 3 inputs \(features, ids, names\): pass a dict"):
        signature_inputs([1.0], MULTI)


def test_missing_and_unknown_aliases_are_both_named():
    with pytest.raises(errors.InvalidArgument, match="missing ids, names; unknown idz"):
        signature_inputs({"features": [[1.0, 2.0, 3.0]], "idz": [1]}, MULTI)


def test_every_input_of_a_multi_input_signature_is_converted():
    arrays = signature_inputs({"features": [[1, 2, 3]], "ids": np.array([4], np.int32), "names": ["a"]}, MULTI)
    assert arrays["features"].dtype == np.float32
    assert arrays["ids"].dtype == np.int64
    assert arrays["names"].tolist() == [b"a"]
