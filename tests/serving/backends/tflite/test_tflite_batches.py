"""Splitting a batch between a pool's interpreters and joining the outputs back."""

from __future__ import annotations

import numpy as np
import pytest

from serving.backends.tflite.batches import common_batch_size, empty_outputs, join_outputs, split_batch
from serving.backends.tflite.layouts import SignatureLayout, TensorLayout


def batched(*shape, dtype=np.float32) -> TensorLayout:
    return TensorLayout(name="t:0", index=0, dtype=np.dtype(dtype), shape=(-1, *shape))


LAYOUT = SignatureLayout(key="sig", inputs={"a": batched(2), "b": batched()},
                         outputs={"y": batched(3), "text": batched(dtype=np.bytes_)})


@pytest.mark.parametrize("batch, parts, sizes", [(7, 3, [2, 3, 2]), (2, 2, [1, 1]), (5, 1, [5])])
def test_split_batch_gives_contiguous_parts_differing_by_at_most_one(batch, parts, sizes):
    feeds = {"a": np.arange(batch * 2).reshape(batch, 2), "b": np.arange(batch)}
    pieces = split_batch(feeds, parts)
    assert [len(piece["b"]) for piece in pieces] == sizes
    np.testing.assert_array_equal(np.concatenate([piece["a"] for piece in pieces]), feeds["a"])


def test_split_batch_refuses_zero_parts():
    with pytest.raises(ValueError, match="parts must be positive. Received: parts=0"):
        split_batch({"a": np.zeros((2, 2))}, 0)


def test_join_outputs_concatenates_each_output_in_order():
    joined = join_outputs([{"y": np.array([[1]])}, {"y": np.array([[2], [3]])}])
    np.testing.assert_array_equal(joined["y"], [[1], [2], [3]])


def test_common_batch_size_needs_every_input_to_agree():
    assert common_batch_size(LAYOUT, {"a": np.zeros((4, 2)), "b": np.zeros(4)}) == 4
    assert common_batch_size(LAYOUT, {"a": np.zeros((4, 2)), "b": np.zeros(3)}) is None


@pytest.mark.parametrize("a, b", [((4,), (4,)), ((4, 2), ())], ids=["rank", "scalar"])
def test_batch_of_other_ranks_than_the_signatures_is_not_split(a, b):
    assert common_batch_size(LAYOUT, {"a": np.zeros(a), "b": np.zeros(b)}) is None


def test_empty_outputs_have_the_outputs_dtypes_and_fixed_dimensions():
    outputs = empty_outputs(LAYOUT)
    assert (outputs["y"].shape, outputs["y"].dtype) == ((0, 3), np.float32)
    assert (outputs["text"].shape, outputs["text"].dtype) == ((0,), object)


def test_empty_outputs_are_unknown_when_an_output_has_another_dynamic_dimension():
    layout = SignatureLayout(key="sig", inputs={"a": batched(2)}, outputs={"y": batched(-1)})
    assert empty_outputs(layout) is None
