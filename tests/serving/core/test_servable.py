"""Servable: the checks every request passes before a backend runs it (aliases, dtypes, shapes,
output filter, signature), its deadline, the batcher and the observer, over fake backends shaped
like the test SavedModels. Loading and running real SavedModels: tests/serving/backends/savedmodel/."""

import asyncio
import threading
import time

import numpy as np
import pytest
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tests.support.fake_backends import (INIT_OP_SIGNATURE, FakeBackend, half_plus_two_backend,
                                         multi_io_backend, signature_def)

from serving import errors
from serving.core import Servable, signature_check


@pytest.fixture
def half_plus_two():
    return Servable("half_plus_two", 1, "/models/half_plus_two/1", half_plus_two_backend())


@pytest.fixture
def multi_io():
    return Servable("multi_io", 1, "/models/multi_io/1", multi_io_backend())


def _multi_io_inputs(batch=2):
    return {
        "features": np.ones((batch, 3), np.float32),
        "ids": np.arange(batch, dtype=np.int64),
        "names": np.array([b"ann", b"bob"][:batch], dtype=object),
    }


class RecordingBatcher:
    """A Batcher that records what it is asked to run and answers y = [7.0]."""

    def __init__(self, backend):
        self.runs = []
        self.stopped = False
        self.backend_loaded_when_stopped = None
        self._backend = backend

    options = None

    def run(self, signature_name, feeds, output_aliases, deadline=None, timing=None):
        self.runs.append((signature_name, feeds, list(output_aliases), deadline))
        if timing is not None:
            timing.queue, timing.compute_infer = 0.25, 0.5
        return {"y": np.array([7.0], np.float32)}

    async def run_async(self, signature_name, feeds, output_aliases, deadline=None, timing=None):
        self.thread_of_async_runs = threading.current_thread()
        return self.run(signature_name, feeds, output_aliases, deadline, timing)

    def stop(self):
        self.stopped = True
        self.backend_loaded_when_stopped = not self._backend.unloaded


def test_empty_signature_name_means_serving_default(half_plus_two):
    assert half_plus_two.run("", {"x": np.array([0.0], np.float32)})["y"].tolist() == [2.0]


def test_output_filter_returns_only_the_named_outputs(multi_io):
    outputs = multi_io.run("serving_default", _multi_io_inputs(), output_filter=["total"])
    assert list(outputs) == ["total"]
    np.testing.assert_allclose(outputs["total"], [3.0, 4.0])


def test_unknown_signature_is_failed_precondition(half_plus_two):
    with pytest.raises(errors.FailedPrecondition) as caught:
        half_plus_two.run("predict_images", {"x": np.array([1.0], np.float32)})
    assert caught.value.message == 'Serving signature key "predict_images" not found.'


def test_signature_entry_that_cannot_run_is_failed_precondition_listing_runnable_ones(
        half_plus_two):
    with pytest.raises(errors.FailedPrecondition) as caught:
        half_plus_two.run(INIT_OP_SIGNATURE, {})
    assert caught.value.message == (
        'Serving signature key "__saved_model_init_op" names an entry of the SavedModel that is '
        "not a callable signature. Signatures: ['serving_default']")


def test_missing_alias_lists_sent_and_required_aliases(multi_io):
    inputs = _multi_io_inputs()
    del inputs["names"]
    with pytest.raises(errors.InvalidArgument) as caught:
        multi_io.run("serving_default", inputs)
    assert caught.value.message.startswith(
        "input size does not match signature: 2!=3 len({features,ids}) != "
        "len({features,ids,names}). Sent extra: {}. Missing but required: {names}.")


def test_extra_alias_is_named(half_plus_two):
    inputs = {"x": np.array([1.0], np.float32), "z": np.array([1.0], np.float32)}
    with pytest.raises(errors.InvalidArgument) as caught:
        half_plus_two.run("serving_default", inputs)
    assert caught.value.message.startswith(
        "input size does not match signature: 2!=1 len({x,z}) != len({x}). "
        "Sent extra: {z}. Missing but required: {}.")


def test_wrong_dtype_names_signature_alias_expected_and_received(multi_io):
    inputs = {**_multi_io_inputs(), "ids": np.array([1, 2], np.int32)}
    with pytest.raises(errors.InvalidArgument) as caught:
        multi_io.run("serving_default", inputs)
    assert caught.value.message == (
        'signature "serving_default" input "ids": expected dtype int64 (DT_INT64), '
        "received int32 (DT_INT32)")


def test_numbers_for_a_string_input_are_a_dtype_error(multi_io):
    inputs = {**_multi_io_inputs(), "names": np.array([1.0, 2.0], np.float32)}
    with pytest.raises(errors.InvalidArgument, match=r'input "names": expected dtype string '
                                                     r"\(DT_STRING\), received float32"):
        multi_io.run("serving_default", inputs)


def test_a_shape_the_model_computes_is_answered_though_the_signature_says_otherwise(multi_io):
    inputs = {**_multi_io_inputs(), "features": np.ones((2, 4), np.float32)}
    np.testing.assert_allclose(multi_io.run("serving_default", inputs)["total"], [4.0, 5.0])


def test_a_shape_the_model_fails_on_names_expected_and_received_shapes(multi_io):
    with pytest.raises(errors.InvalidArgument) as caught:
        multi_io.run("sum_only", {"features": np.ones((3,), np.float32)})
    assert caught.value.message.startswith(
        'signature "sum_only" input "features": expected shape [-1,3] (-1 matches any size), '
        "received shape [3]. The signature has a batch dimension: send one example as shape "
        "[1,3]; the model failed on it: ")


def test_unknown_output_filter_alias_lists_the_outputs(multi_io):
    with pytest.raises(errors.InvalidArgument) as caught:
        multi_io.run("sum_only", {"features": np.ones((1, 3), np.float32)}, output_filter=["sum"])
    assert caught.value.message.startswith(
        "output tensor alias not found in signature: sum "
        "Outputs expected to be in the set {total}.")


def test_duplicate_output_filter_alias_is_refused(multi_io):
    with pytest.raises(errors.InvalidArgument, match="duplicate output tensor alias: total"):
        multi_io.run("sum_only", {"features": np.ones((1, 3), np.float32)},
                     output_filter=["total", "total"])


def test_unknown_rank_or_no_shape_matches_any_shape():
    tensor_info = meta_graph_pb2.TensorInfo(name="x:0", dtype=1)
    assert signature_check.shape_mismatch("s", "x", tensor_info, (2, 3, 4)) is None
    tensor_info.tensor_shape.unknown_rank = True
    assert signature_check.shape_mismatch("s", "x", tensor_info, (2, 3, 4)) is None


def test_request_whose_deadline_has_passed_is_not_run(half_plus_two):
    with pytest.raises(errors.DeadlineExceeded) as caught:
        half_plus_two.run("", {"x": np.array([1.0], np.float32)}, deadline=time.monotonic() - 1)
    assert caught.value.message == ("Deadline exceeded before the model ran; the request was "
                                    "not run")
    assert half_plus_two.backend.calls == {}


def test_batched_signatures_run_through_the_batcher_after_the_checks(multi_io):
    batcher = RecordingBatcher(multi_io.backend)
    servable = multi_io.with_batcher(batcher, ["sum_only"])
    features = np.ones((2, 3), np.float32)
    assert servable.run("sum_only", {"features": features}, deadline=123.0)["y"].tolist() == [7.0]
    ((signature_name, feeds, aliases, deadline),) = batcher.runs
    assert (signature_name, aliases, deadline) == ("sum_only", ["total"], 123.0)
    np.testing.assert_array_equal(feeds["features"], features)
    with pytest.raises(errors.InvalidArgument, match="expected dtype float"):
        servable.run("sum_only", {"features": features.astype(np.float64)})
    # Shaped otherwise than the signature says: no batch to join, so it runs on its own.
    servable.run("sum_only", {"features": np.ones((2, 4), np.float32)})
    servable.run("serving_default", _multi_io_inputs())  # not batched: straight to the backend
    assert len(batcher.runs) == 1
    assert multi_io.backend.calls == {"sum_only": 1, "serving_default": 1}


def test_run_async_awaits_the_batcher_for_batched_signatures_after_the_checks(multi_io):
    batcher = RecordingBatcher(multi_io.backend)
    observer = RecordingObserver()
    servable = multi_io.with_batcher(batcher, ["sum_only"]).observed_by(observer)
    features = np.ones((2, 3), np.float32)

    outputs = asyncio.run(servable.run_async("sum_only", {"features": features}, deadline=123.0))

    assert outputs["y"].tolist() == [7.0]
    [(signature_name, _, aliases, deadline)] = batcher.runs
    assert (signature_name, aliases, deadline) == ("sum_only", ["total"], 123.0)
    [(rows, _, timing)] = observer.succeeded
    assert rows == 2 and (timing.queue, timing.compute_infer) == (0.25, 0.5)
    with pytest.raises(errors.InvalidArgument, match="expected dtype float"):
        asyncio.run(servable.run_async("sum_only", {"features": features.astype(np.float64)}))
    assert len(batcher.runs) == 1 and len(observer.failed) == 1


def test_run_async_runs_an_unbatched_request_off_the_event_loop_thread(multi_io):
    ran_in = []
    backend_run = multi_io.backend.run
    multi_io.backend.run = lambda *arguments: ran_in.append(threading.current_thread()) or \
        backend_run(*arguments)

    outputs = asyncio.run(multi_io.run_async("serving_default", _multi_io_inputs()))

    assert set(outputs) == set(multi_io.signature_defs["serving_default"].outputs)
    assert ran_in and ran_in[0] is not threading.current_thread()


def test_batched_signatures_need_a_batcher():
    with pytest.raises(ValueError, match=r"Received: batched_signatures=\['serving_default'\]"):
        Servable("m", 1, "/m/1", half_plus_two_backend(), batched_signatures=["serving_default"])


def test_unload_stops_the_batcher_then_unloads_the_backend(half_plus_two):
    batcher = RecordingBatcher(half_plus_two.backend)
    half_plus_two.with_batcher(batcher, ["serving_default"]).unload()
    assert batcher.stopped and batcher.backend_loaded_when_stopped
    assert half_plus_two.backend.unloaded


def test_inputs_the_server_built_itself_skip_the_dtype_check(multi_io):
    # Classify and Regress feed serialized tf.Examples as strings whatever the signature
    # declares (old TF1 exports say DT_FLOAT), as TF Serving does; the runtime decides.
    inputs = {**_multi_io_inputs(), "ids": np.array([b"1", b"2"], dtype=object)}
    with pytest.raises(errors.InvalidArgument, match="expected dtype int64"):
        multi_io.run("serving_default", inputs)
    answer = multi_io.run("serving_default", inputs, check_dtypes=False)  # numpy reads b"1" as 1
    np.testing.assert_allclose(answer["total"], [4.0, 5.0])


class RecordingObserver:
    """A VersionObserver that keeps what it hears."""

    def __init__(self):
        self.succeeded, self.failed, self.executions = [], [], []

    def request_succeeded(self, rows, seconds, timing):
        self.succeeded.append((rows, seconds, timing))

    def request_failed(self, seconds):
        self.failed.append(seconds)

    def model_ran(self, size, timing):
        self.executions.append((size, timing))


def test_observer_hears_each_request_its_examples_and_the_model_execution(multi_io):
    observer = RecordingObserver()
    servable = multi_io.observed_by(observer)
    servable.run("serving_default", _multi_io_inputs(batch=2))

    [(rows, seconds, timing)] = observer.succeeded
    assert rows == 2 and seconds > 0
    assert timing.queue == 0 and timing.compute_infer > 0
    assert observer.executions == [(2, timing)]
    assert observer.failed == []


def test_observer_hears_failed_requests_and_no_execution(multi_io):
    observer = RecordingObserver()
    servable = multi_io.observed_by(observer)
    with pytest.raises(errors.InvalidArgument):
        servable.run("serving_default", {"features": np.ones((2, 3), np.float32)})
    with pytest.raises(errors.FailedPrecondition):
        servable.run("no_such_signature", {})

    assert len(observer.failed) == 2 and all(seconds >= 0 for seconds in observer.failed)
    assert observer.succeeded == [] and observer.executions == []


def test_a_request_without_a_batch_dimension_counts_one_example():
    backend = FakeBackend({"scalar": signature_def({"x": (types_pb2.DT_FLOAT, [])},
                                                   {"y": (types_pb2.DT_FLOAT, [])})},
                          {"scalar": lambda x: {"y": x * 2}})
    observer = RecordingObserver()
    Servable("m", 1, "/m/1", backend, observer=observer).run("scalar",
                                                             {"x": np.float32(3.0)})
    assert [rows for rows, _, _ in observer.succeeded] == [1]


def test_batched_requests_report_the_batchers_timing_and_leave_executions_to_it(multi_io):
    observer = RecordingObserver()
    servable = multi_io.with_batcher(RecordingBatcher(multi_io.backend),
                                     ["sum_only"]).observed_by(observer)
    servable.run("sum_only", {"features": np.ones((3, 3), np.float32)})

    [(rows, _, timing)] = observer.succeeded
    assert rows == 3 and (timing.queue, timing.compute_infer) == (0.25, 0.5)
    assert observer.executions == []  # the batcher reports the batches it runs


def test_observed_by_and_with_batcher_keep_each_other(multi_io):
    observer, batcher = RecordingObserver(), RecordingBatcher(multi_io.backend)
    servable = multi_io.observed_by(observer).with_batcher(batcher, ["sum_only"])
    assert servable.observer is observer and servable.batcher_for("sum_only") is batcher
    assert servable.batcher_for("serving_default") is None
    assert servable.model_format == "saved_model"
