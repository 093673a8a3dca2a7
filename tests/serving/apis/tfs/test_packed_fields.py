"""Typed value fields written at numpy speed are byte for byte what protobuf's own API writes."""

import ml_dtypes
import numpy as np
import pytest
from tensorflow.core.framework import tensor_pb2

from serving.apis.tfs.packed_fields import SMALL_FIELD_VALUES, merge_packed_field

VALUES = {
    "float_val": np.array([0.0, -1.5, 3.4e38, np.inf, -np.inf, 1e-45], np.float32),
    "double_val": np.array([0.0, -1.5, 1.7e308, 5e-324, np.nan]),
    "scomplex_val": np.array([1.0, -2.0, 0.5, 0.25], np.float32),
    "dcomplex_val": np.array([1.0, -2.0, 0.5, 0.25]),
    "int_val": np.array([-(2**31), -1, 0, 1, 127, 128, 16383, 16384, 2**31 - 1], np.int32),
    "int64_val": np.array([-(2**63), -1, 0, 1, 2**35, 2**63 - 1], np.int64),
    "uint32_val": np.array([0, 1, 127, 128, 2**32 - 1], np.uint32),
    "uint64_val": np.array([0, 1, 2**63, 2**64 - 1], np.uint64),
    "bool_val": np.array([True, False, True]),
    "half_val": np.array([1.5, -2.0, 65504.0], np.float16).view(np.uint16),
}


def _by_protobuf(field: str, values: np.ndarray) -> tensor_pb2.TensorProto:
    proto = tensor_pb2.TensorProto()
    getattr(proto, field).extend(values.tolist())
    return proto


@pytest.mark.parametrize("field", sorted(VALUES))
@pytest.mark.parametrize("repeats", [1, SMALL_FIELD_VALUES])  # short fields go through extend()
def test_packed_field_is_byte_identical_to_protobufs_own_encoding(field, repeats):
    values = np.tile(VALUES[field], repeats)
    proto = tensor_pb2.TensorProto()
    merge_packed_field(proto, field, values)
    assert proto.SerializeToString() == _by_protobuf(field, values).SerializeToString()


def test_bfloat16_bits_travel_in_half_val():
    bits = np.array([1.0, -3.0], ml_dtypes.bfloat16).view(np.uint16)
    proto = tensor_pb2.TensorProto()
    merge_packed_field(proto, "half_val", bits)
    assert list(proto.half_val) == bits.tolist()


def test_values_are_appended_to_what_the_field_holds():
    proto = _by_protobuf("float_val", np.array([1.0], np.float32))
    more = np.arange(100, dtype=np.float32)
    merge_packed_field(proto, "float_val", more)
    assert list(proto.float_val) == [1.0, *more.tolist()]


def test_an_empty_array_writes_nothing():
    proto = tensor_pb2.TensorProto()
    merge_packed_field(proto, "int64_val", np.array([], np.int64))
    assert proto.SerializeToString() == b""
