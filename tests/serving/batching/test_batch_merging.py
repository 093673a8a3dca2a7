"""Merging requests into batches on real SavedModels: which signatures batch, identical answers,
and deadlines on the unbatched path."""

from __future__ import annotations

import concurrent.futures
import time

import numpy as np
import pytest
from tests.support import savedmodels
from tests.support.batching_helpers import WAIT_SECONDS

from serving import errors
from serving.batching import BatchingOptions, is_batchable
from serving.batching import attach_batcher
from serving.batching.merging import merge_inputs, queue_key, split_outputs
from serving.version_loader import VersionLoader


def signature_def(input_shapes: dict, output_shapes: dict):
    """A SignatureDef with float inputs and outputs of the given shapes (None: unknown rank)."""
    from tensorflow.core.protobuf import meta_graph_pb2

    signature = meta_graph_pb2.SignatureDef(method_name="tensorflow/serving/predict")
    for tensors, shapes in ((signature.inputs, input_shapes), (signature.outputs, output_shapes)):
        for name, shape in shapes.items():
            info = tensors[name]
            info.dtype = 1
            if shape is None:
                info.tensor_shape.unknown_rank = True
            for size in shape or ():
                info.tensor_shape.dim.add(size=size)
    return signature


@pytest.mark.parametrize("inputs,outputs,batchable", [
    ({"x": [-1, 3]}, {"y": [-1]}, True),
    ({"x": [-1], "z": [-1, 2]}, {"y": [-1, 4]}, True),
    ({"x": []}, {"y": [-1]}, False),             # a scalar input has no batch dimension
    ({"x": [2, 3]}, {"y": [2]}, False),          # a fixed first dimension is not a batch
    ({"x": None}, {"y": [-1]}, False),           # unknown rank: cannot tell
    ({"x": [-1]}, {"y": []}, False),             # a scalar output cannot be split
    ({}, {"rows": []}, False),                   # no inputs at all
])
def test_only_signatures_with_a_free_dimension_0_everywhere_are_batchable(inputs, outputs,
                                                                          batchable):
    assert is_batchable(signature_def(inputs, outputs)) is batchable


def test_queue_key_separates_shapes_and_output_selections_but_not_batch_sizes():
    one = {"x": np.zeros((1, 3), np.float32)}
    two = {"x": np.zeros((2, 3), np.float32)}
    wider = {"x": np.zeros((1, 4), np.float32)}

    assert queue_key("s", one, ["y"], False) == queue_key("s", two, ["y"], False)
    assert queue_key("s", one, ["y"], False) != queue_key("s", wider, ["y"], False)
    assert queue_key("s", one, ["y"], False) != queue_key("s", one, ["y", "z"], False)
    assert queue_key("s", one, ["y"], True) == queue_key("s", wider, ["y"], True)


def test_merge_then_split_round_trips_each_requests_rows():
    requests = [{"x": np.arange(n * 2, dtype=np.float32).reshape(n, 2) + 10 * n} for n in (1, 3, 2)]

    merged = merge_inputs(requests, padded_size=8)
    parts = split_outputs({"y": merged["x"] * 3}, [1, 3, 2], padded_size=8)

    assert merged["x"].shape == (8, 2)
    np.testing.assert_array_equal(merged["x"][6:], np.repeat(requests[-1]["x"][:1], 2, axis=0))
    for request, part in zip(requests, parts):
        np.testing.assert_array_equal(part["y"], request["x"] * 3)


def test_an_output_that_lost_its_batch_dimension_cannot_be_split():
    with pytest.raises(errors.Internal, match="dimension 0 should be the batch size 4"):
        split_outputs({"y": np.zeros((3,), np.float32)}, [2, 2], padded_size=4)


@pytest.fixture
def multi_io_servable(batching_models):
    servable = VersionLoader(warmup_iterations=None).load("multi_io", 1,
                                                          str(batching_models / "multi_io" / "1"))
    yield servable
    servable.unload()


def test_batched_answers_are_identical_to_unbatched_ones(multi_io_servable):
    rng = np.random.default_rng(7)
    requests = []
    for index in range(40):
        rows = int(rng.integers(1, 4))
        requests.append({
            "features": rng.standard_normal((rows, 3)).astype(np.float32),
            "ids": rng.integers(-100, 100, rows).astype(np.int64),
            "names": np.array([f"n{index}-{row}".encode() for row in range(rows)], dtype=object),
        })
    expected = [multi_io_servable.run("serving_default", request) for request in requests]
    batched = attach_batcher(multi_io_servable, BatchingOptions(
        max_batch_size=16, batch_timeout_micros=2000, num_batch_threads=1))

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda request: batched.run(
            "serving_default", request, deadline=time.monotonic() + WAIT_SECONDS), requests))
    batched.unload()

    for answer, want in zip(answers, expected):
        assert sorted(answer) == sorted(want)
        for alias in want:
            np.testing.assert_array_equal(answer[alias], want[alias])


def test_a_signature_without_batch_dimension_runs_directly_next_to_a_batched_one(tmp_path):
    path = savedmodels.export_call_counter(tmp_path / "counter", 1)
    servable = attach_batcher(VersionLoader(warmup_iterations=None).load("counter", 1, path),
                              BatchingOptions(max_batch_size=4))
    try:
        servable.run("serving_default", {"x": np.array([1.0, 2.0], np.float32)})

        calls = servable.run("call_count", {})["calls"]

        assert calls == 1
    finally:
        servable.unload()


def test_unbatched_request_whose_deadline_passed_is_not_run(tmp_path):
    path = savedmodels.export_call_counter(tmp_path / "counter", 1)
    servable = VersionLoader(warmup_iterations=None).load("counter", 1, path)
    try:
        with pytest.raises(errors.DeadlineExceeded):
            servable.run("serving_default", {"x": np.array([1.0], np.float32)},
                         deadline=time.monotonic() - 0.001)

        assert servable.run("call_count", {})["calls"] == 0
    finally:
        servable.unload()


class RecordingBatcher:
    """Stands in for a DynamicBatcher: records what reaches it, runs it alone."""

    def __init__(self, backend):
        self.backend = backend
        self.shapes = []

    def run(self, signature_name, feeds, output_aliases, deadline=None, timing=None):
        self.shapes.append({alias: array.shape for alias, array in feeds.items()})
        return self.backend.run(signature_name, feeds, output_aliases)

    def stop(self):
        pass


def test_a_request_shaped_otherwise_than_the_signature_never_joins_a_batch(tmp_path):
    path = savedmodels.export_call_counter(tmp_path / "counter", 1)
    servable = VersionLoader(warmup_iterations=None).load("counter", 1, path)
    recorder = RecordingBatcher(servable.backend)
    batched = servable.with_batcher(recorder, ["serving_default"])
    try:
        batched.run("serving_default", {"x": np.array([1.0, 2.0], np.float32)})
        # x is [-1] in the signature: [2, 2] has no batch dimension the batcher may merge along.
        answer = batched.run("serving_default", {"x": np.ones((2, 2), np.float32)})
    finally:
        batched.unload()
    assert recorder.shapes == [{"x": (2,)}]
    assert answer["y"].shape == (2, 2)
