"""dense_json: numeric tensors straight into numpy, and exactly the general parser's answer
(values, errors and messages) whatever the body."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2

from serving import errors
from serving.transports.rest import dense_json, tfs_tensors
from serving.transports.rest.json_io import parse_json_object


def _tensor_info(dtype: int):
    return meta_graph_pb2.TensorInfo(dtype=dtype)


def test_a_dense_float_tensor_is_read_into_a_float64_buffer():
    document = dense_json.parse_predict_body(b'{"instances": [[0.5, 1], [2e1, -3.25]]}')
    dense = document["instances"]
    assert isinstance(dense, dense_json.DenseArray)
    assert dense.values.dtype == np.float64
    assert dense.values.tolist() == [[0.5, 1.0], [20.0, -3.25]]


def test_a_tensor_of_integers_is_read_as_int64_and_keeps_its_json_values():
    dense = dense_json.parse_predict_body(b'{"inputs": [[1, -2], [3, 4]]}')["inputs"]
    assert dense.values.dtype == np.int64 and dense.shape == (2, 2)
    assert dense.as_python() == [[1, -2], [3, 4]]


def test_each_named_columnar_input_and_each_infer_input_is_read_on_its_own():
    columnar = dense_json.parse_predict_body(b'{"inputs": {"a": [1.5, 2], "b": ["text"]}}')
    assert isinstance(columnar["inputs"]["a"], dense_json.DenseArray)
    assert columnar["inputs"]["b"] == ["text"]
    infer = dense_json.parse_infer_body(
        b'{"id": "7", "inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [1, 2.5]},'
        b' {"name": "s", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}')
    assert infer["id"] == "7" and infer["inputs"][0]["shape"] == [2]
    assert infer["inputs"][0]["data"].values.tolist() == [1.0, 2.5]
    assert infer["inputs"][1]["data"] == ["a"]


@pytest.mark.parametrize("body", [
    b'{"instances": [[1, 2], [3]]}',               # ragged
    b'{"instances": [[1, 2, 3], [4], [5, 6]]}',    # ragged with as many numbers as a dense 3x2
    b'{"instances": [[1, [2]], [3, 4]]}',          # mixed depth
    b'{"instances": [[0], []]}',                   # an empty row: its skeleton is a number's
    b'{"instances": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}",  # deeper than numpy holds
    b'{"instances": [1, true]}',
    b'{"instances": [1, null]}',
    b'{"instances": [1, "2"]}',
    b'{"instances": [{"a": [1, 2]}]}',
    b'{"instances": [NaN, 1]}',                    # TF Serving accepts NaN; simdjson does not
    b'{"instances": [1, 2]} and then some bytes',  # TF Serving ignores them
    b'{"instances": [18446744073709551616]}',      # beyond 64 bits
    b'{"instances": [9223372036854775808]}',       # beyond int64
    b'{"instances": [1], "instances": [2]}',       # JSON parsers keep the last
    b'{"sig\\u00e9": "x", "instances": [1]}',      # an escape json.dumps writes otherwise
    b'{"a\\u0000b": 1, "instances": [1.0]}',        # a key simdjson cannot look up (schemathesis)
    b'{"inputs": {"a\\u0000": [1.0]}}',
])
def test_anything_but_a_dense_numeric_array_is_left_to_the_general_parser(body):
    document = dense_json.parse_predict_body(body)
    assert not isinstance(document.get("instances"), dense_json.DenseArray)
    assert json.dumps(document) == json.dumps(parse_json_object(body))


@pytest.mark.parametrize("body", [b"", b"[1, 2]", b'{"instances": [1', b"\xff"])
def test_bodies_that_are_not_a_json_object_fail_as_the_general_parser_fails(body):
    with pytest.raises(errors.InvalidArgument) as dense_error:
        dense_json.parse_predict_body(body)
    with pytest.raises(errors.InvalidArgument) as general_error:
        parse_json_object(body)
    assert dense_error.value.message == general_error.value.message


_NUMBERS = st.one_of(st.integers(-2**63, 2**63 - 1), st.integers(-2**70, 2**70),
                     st.floats(allow_nan=False, allow_infinity=False, width=32))
_LEAVES = st.one_of(_NUMBERS, _NUMBERS, _NUMBERS, st.booleans(), st.text(max_size=3))
# Mostly dense arrays (every row the same length), sometimes ragged ones or odd leaves.
_ARRAYS = st.one_of(
    st.integers(1, 3).flatmap(lambda width: st.lists(st.lists(_NUMBERS, min_size=width,
                                                              max_size=width), min_size=1, max_size=3)),
    st.lists(_NUMBERS, min_size=1, max_size=5),
    st.recursive(_LEAVES, lambda children: st.lists(children, max_size=3), max_leaves=8),
)
_DTYPES = st.sampled_from([types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE, types_pb2.DT_INT32,
                           types_pb2.DT_INT64, types_pb2.DT_UINT8, types_pb2.DT_BOOL,
                           types_pb2.DT_STRING, types_pb2.DT_HALF])


def _decoded(parse, body: bytes, dtype: int):
    """What Predict makes of the body: the input array, or the error message."""
    try:
        inputs = tfs_tensors.decode_predict_inputs(parse(body), {"x": _tensor_info(dtype)})
    except errors.ServingError as error:
        return type(error).__name__, error.message
    array = inputs.arrays["x"]
    return inputs.format, array.dtype.str, array.shape, array.tolist()


@settings(max_examples=600, deadline=None)
@given(array=_ARRAYS, key=st.sampled_from(["instances", "inputs"]), dtype=_DTYPES,
       spaced=st.booleans())
def test_predict_inputs_are_decoded_exactly_as_from_the_general_parser(array, key, dtype, spaced):
    body = json.dumps({key: array}, separators=(", ", ": ") if spaced else (",", ":")).encode()
    assert _decoded(dense_json.parse_predict_body, body, dtype) == _decoded(parse_json_object, body, dtype)
