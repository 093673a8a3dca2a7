"""The REST layer's pure parts: JSON parsing and float32 output digits, request bodies."""

import asyncio
import gzip
import json

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


@pytest.mark.parametrize("size", [1, 10, 47, 48, 64])
def test_float32_values_of_small_and_large_arrays_print_alike(size):
    """Arrays under 48 values are converted one by one, the rest vectorised: both print each
    value as numpy prints the float32."""
    rng = np.random.default_rng(size)
    values = (rng.standard_normal(size) * 10.0 ** rng.integers(-20, 20, size)).astype(np.float32)
    values[: min(size, 4)] = np.array([0.1, 16777217, 2.05, 1e-45], np.float32)[: min(size, 4)]
    converted = json_io.float32_values(values.reshape(1, size))
    assert converted.dtype == np.float64 and converted.shape == (1, size)
    assert [repr(value) for value in converted.ravel().tolist()] == [repr(float(str(value))) for value in values]


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


def test_dump_writes_numpy_scalars_beside_non_finite_floats():
    """A row of several outputs holds numpy scalars; an infinity sends the document to json."""
    ids, scores = np.array([7, 8], np.int64), np.array([np.inf, 0.5])
    document = {"predictions": [{"ids": ids[row], "scores": scores[row]} for row in range(2)]}
    assert json_io.dump_json(document) == (
        b'{"predictions":[{"ids":7,"scores":Infinity},{"ids":8,"scores":0.5}]}')


def test_dump_writes_non_finite_floats_as_tf_serving_does():
    assert json_io.dump_json({"v": [float("nan"), float("inf")]}) == b'{"v":[NaN,Infinity]}'
    assert json_io.dump_json({"v": np.array([1.5, -np.inf])}) == b'{"v":[1.5,-Infinity]}'


@pytest.mark.parametrize("value, text", [
    (np.array([[1.5, 2.0], [3.25, 4.0]]), b"[[1.5,2.0],[3.25,4.0]]"),
    (np.arange(6, dtype=np.int64).reshape(2, 3)[:, 1], b"[1,4]"),  # not contiguous
    (np.array(7, dtype=np.int32), b"7"),                             # 0-d
    (np.array([True, False]), b"[true,false]"),
    (2**70, b"1180591620717411303424"),                              # beyond 64 bits
    (None, b"null"),
])
def test_dump_writes_numpy_arrays_and_python_values_as_json(value, text):
    assert json_io.dump_json({"v": value}) == b'{"v":' + text + b"}"


def _read(chunks: list[bytes], headers: dict, limit: int = 100, idle_timeout: float = 5.0) -> bytes:
    """read_body over `chunks` as the HTTP server hands them over; an empty list never ends."""
    pending = list(chunks)

    async def read_chunk() -> bytes:
        if not chunks:
            await asyncio.sleep(3600)  # a client that has stopped sending
        return pending.pop(0) if pending else b""

    return asyncio.run(request_body.read_body(read_chunk, headers, limit, idle_timeout))


def test_body_chunks_are_joined():
    assert _read([b"hel", b"lo"], {"Content-Length": "5"}) == b"hello"


def test_declared_length_over_the_limit_is_413_before_reading():
    with pytest.raises(request_body.BodyError, match="The request body \\(101 bytes\\) exceeds the "
                                                     "limit of 100 bytes") as error:
        _read([], {"Content-Length": "101"})
    assert error.value.status == 413 and error.value.close_connection


def test_chunked_body_over_the_limit_is_413_once_the_limit_is_passed():
    with pytest.raises(request_body.BodyError, match="more than 100 bytes") as error:
        _read([b"a" * 60, b"a" * 60], {"Transfer-Encoding": "chunked"})
    assert error.value.status == 413 and error.value.close_connection


def test_a_body_that_stops_arriving_is_408():
    with pytest.raises(request_body.BodyError, match="nothing was received for 0.05 s") as error:
        _read([], {"Content-Length": "5"}, idle_timeout=0.05)
    assert error.value.status == 408 and error.value.close_connection


def test_truncated_gzip_is_400():
    compressed = gzip.compress(b"x" * 50)
    with pytest.raises(request_body.BodyError, match="The gzip body is truncated"):
        request_body.decode_content(compressed[:-8], "gzip", 100)


def test_negative_or_text_content_length_is_400():
    for value in ("-1", "ten"):
        with pytest.raises(request_body.BodyError, match="is not a byte count"):
            request_body.declared_length({"Content-Length": value}, 100)


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


def test_numbers_a_float_cannot_hold_are_rounded_as_tf_serving_rounds_them():
    """json_tensor_test.cc: FloatTensorWithPrecisionLoss and FloatTensorThatExceedsMaxReturnsInf."""
    from serving.transports.rest.tfs_tensors import json_to_array

    array = json_to_array([1435774380, 1435774380.0, 1.7976931348623157e308, -1.7976931348623157e308],
                          _tensor_info("DT_FLOAT"), "x")
    assert array.tolist() == [1435774336.0, 1435774336.0, np.inf, -np.inf]


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
