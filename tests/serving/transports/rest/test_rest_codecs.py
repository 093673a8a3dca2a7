"""The REST layer's pure parts: JSON parsing and float32 output digits, request bodies."""

import gzip
import json
import io

import numpy as np
import pytest

from serving import errors
from serving.transports.rest import json_io, request_body


def test_float32_values_print_as_numpy_prints_float32():
    rng = np.random.default_rng(0)
    values = np.concatenate([
        rng.random(2000).astype(np.float32),
        (rng.standard_normal(2000) * 10.0 ** rng.integers(-30, 30, 2000)).astype(np.float32),
        np.array([0.1, 0.2, 3, 1e-8, 0.0, -0.0, 1e-45, 3.4028235e38, 16777217, 2.05], np.float32),
    ])
    converted = json_io.float32_values(values)
    assert converted.dtype == np.float64 and converted.shape == values.shape
    assert [repr(value) for value in converted.tolist()] == [repr(float(str(value))) for value in values]


def test_float32_values_keep_nan_and_infinities():
    converted = json_io.float32_values(np.array([[np.nan, np.inf], [-np.inf, 1.5]], np.float32))
    assert np.isnan(converted[0, 0]) and converted[0, 1] == np.inf and converted[1].tolist() == [-np.inf, 1.5]


def test_parse_accepts_nan_and_infinity_tokens():
    document = json_io.parse_json_object(b'{"a": [NaN, Infinity, -Infinity]}')
    assert np.isnan(document["a"][0]) and document["a"][1:] == [np.inf, -np.inf]


@pytest.mark.parametrize("body, message", [
    (b"  ", "JSON Parse error: The document is empty"),
    (b"[1, 2]", "JSON Value: [1,2] Is not object"),
    (b'{"a": \xff}', "JSON Parse error: the body is not UTF-8"),
    (b"[" * 50_000, "JSON Parse error: the document is nested too deeply to parse"),
])
def test_parse_errors_are_invalid_argument(body, message):
    with pytest.raises(errors.InvalidArgument, match=message.replace("[", r"\[").replace("]", r"\]")):
        json_io.parse_json_object(body)


def test_dump_writes_non_finite_floats_as_tf_serving_does():
    assert json_io.dump_json({"v": [float("nan"), float("inf")]}) == b'{"v":[NaN,Infinity]}'


def _read(raw: bytes, headers: dict, limit: int = 100) -> bytes:
    return request_body.read_body(io.BytesIO(raw), headers, limit)


def test_content_length_body_is_read_exactly():
    assert _read(b"hello, and more", {"Content-Length": "5"}) == b"hello"


def test_truncated_body_is_400():
    with pytest.raises(request_body.BodyError, match="The body ended after 3 of 5 bytes") as error:
        _read(b"abc", {"Content-Length": "5"})
    assert error.value.status == 400 and error.value.close_connection


def test_chunked_body_with_extensions_and_trailers():
    raw = b"3;name=value\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: x\r\n\r\n"
    assert _read(raw, {"Transfer-Encoding": "chunked"}) == b"abcde"


@pytest.mark.parametrize("raw, status, message", [
    (b"zz\r\nabc\r\n", 400, "chunk size b'zz'"),
    (b"5\r\nab", 400, "a chunk is shorter than its size"),
    (b"65\r\n" + b"a" * 101 + b"\r\n0\r\n\r\n", 413, "exceeds the limit of 100 bytes"),
])
def test_malformed_or_oversized_chunked_bodies(raw, status, message):
    with pytest.raises(request_body.BodyError, match=message) as error:
        _read(raw, {"Transfer-Encoding": "chunked"})
    assert error.value.status == status


def test_truncated_gzip_is_400():
    compressed = gzip.compress(b"x" * 50)
    with pytest.raises(request_body.BodyError, match="The gzip body is truncated"):
        request_body.decode_content(compressed[:-8], "gzip", 100)


def test_negative_or_text_content_length_is_400():
    for value in ("-1", "ten"):
        with pytest.raises(request_body.BodyError, match="is not a byte count"):
            _read(b"", {"Content-Length": value})


def _tensor_info(dtype: str):
    from tensorflow.core.framework import types_pb2
    from tensorflow.core.protobuf import meta_graph_pb2

    return meta_graph_pb2.TensorInfo(dtype=types_pb2.DataType.Value(dtype))


@pytest.mark.parametrize("dtype, value, expected", [
    ("DT_UINT64", [2**64 - 1, 1], np.array([2**64 - 1, 1], np.uint64)),
    ("DT_INT8", [[-128, 127]], np.array([[-128, 127]], np.int8)),
    ("DT_BOOL", [True, False], np.array([True, False])),
    ("DT_HALF", [0.5, 2], np.array([0.5, 2], np.float16)),
    ("DT_DOUBLE", 3, np.array(3, np.float64)),
])
def test_json_values_become_arrays_of_the_signature_dtype(dtype, value, expected):
    from serving.transports.rest.tfs_tensors import json_to_array

    array = json_to_array(value, _tensor_info(dtype), "x")
    assert array.dtype == expected.dtype and array.shape == expected.shape
    np.testing.assert_array_equal(array, expected)


@pytest.mark.parametrize("dtype, value, message", [
    ("DT_INT8", [128], r'Input "x": a value is outside the int8 range \[-128, 127\]'),
    ("DT_UINT8", [-1], r"outside the uint8 range"),
    ("DT_INT64", [True], "Type: True is not of expected type: int64"),
    ("DT_BOOL", [1], "is not of expected type: bool"),
    ("DT_FLOAT", [None], "Type: Null is not of expected type: float"),
    ("DT_STRING", [1], "Type: Number is not of expected type: string"),
    ("DT_STRING", [{"b64": "AA==", "x": 1}], "not formatted correctly for base64 data"),
    # Found by schemathesis: 4e301 became -Infinity. Refused as TF Serving's IsLosslessDecimal.
    ("DT_FLOAT", [1.0, -4.3e301],
     r'Input "x": Cannot convert JSON value: -4.3e\+301 to float without loss of precision.'),
    ("DT_FLOAT", [16777217], "Cannot convert JSON value: 16777217 to float without loss"),
])
def test_json_values_of_the_wrong_type_or_range_are_refused(dtype, value, message):
    from serving.transports.rest.tfs_tensors import json_to_array

    with pytest.raises(errors.InvalidArgument, match=message):
        json_to_array(value, _tensor_info(dtype), "x")


def test_nan_infinities_and_exact_integers_are_accepted_as_floats():
    from serving.transports.rest.tfs_tensors import json_to_array

    array = json_to_array([float("nan"), float("-inf"), 16777216, 3.4e38],
                          _tensor_info("DT_FLOAT"), "x")
    assert array.dtype == np.float32
    assert np.isnan(array[0]) and array[1] == -np.inf and array[2] == 16777216


def test_empty_list_becomes_an_empty_tensor_of_the_dtype():
    from serving.transports.rest.tfs_tensors import json_to_array

    array = json_to_array([[], []], _tensor_info("DT_INT32"), "x")
    assert (array.dtype, array.shape) == (np.int32, (2, 0))


def test_what_follows_the_document_is_ignored_as_tf_serving_does():
    assert json_io.parse_json_object(b'  {"instances": [1.0]} trailing bytes') == {"instances": [1.0]}


def test_an_output_with_no_json_form_is_tf_servings_400():
    from serving.transports.rest.tfs_tensors import encode_predict_outputs

    with pytest.raises(errors.InvalidArgument, match="^Failed to write JSON value for tensor type: "
                                                     "complex64"):
        encode_predict_outputs({"z": np.ones(2, np.complex64)}, "row")


def test_rest_errors_carry_the_whole_message_unlike_grpc_statuses():
    from serving.transports.rest.messages import error_response

    error = errors.InvalidArgument("x" * 2000)
    assert error.message.endswith("...TRUNCATED")  # gRPC: cut, as TF Serving's status is
    assert json.loads(error_response(error).body)["error"] == "x" * 2000
