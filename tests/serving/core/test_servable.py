"""Servable: loading real SavedModels, running signatures, and the messages for bad requests."""

import grpc
import numpy as np
import pytest
from tests.support import savedmodels
from tensorflow.core.protobuf import meta_graph_pb2

from serving import errors
from serving.core import signature_check
from serving.core.servable import Servable, ServableLoadError
from serving.version_loader import VersionLoader


@pytest.fixture(scope="module")
def half_plus_two(shared_models):
    return VersionLoader(warmup_iterations=None).load("half_plus_two", 1, str(shared_models / "half_plus_two" / "1"))


@pytest.fixture(scope="module")
def multi_io(shared_models):
    return VersionLoader(warmup_iterations=None).load("multi_io", 1, str(shared_models / "multi_io" / "1"))


@pytest.fixture(scope="module")
def tf1(shared_models):
    return VersionLoader(warmup_iterations=None).load("tf1", 1, str(shared_models / "tf1" / "1"))


def _multi_io_inputs(batch=2):
    return {
        "features": np.ones((batch, 3), np.float32),
        "ids": np.arange(batch, dtype=np.int64),
        "names": np.array([b"ann", b"bob"][:batch], dtype=object),
    }


def test_run_returns_numpy_outputs(half_plus_two):
    outputs = half_plus_two.run("serving_default", {"x": np.array([1.0, 2.0], np.float32)})
    np.testing.assert_allclose(outputs["y"], [2.5, 3.0])
    assert outputs["y"].dtype == np.float32


def test_empty_signature_name_means_serving_default(half_plus_two):
    assert half_plus_two.run("", {"x": np.array([0.0], np.float32)})["y"].tolist() == [2.0]


def test_string_outputs_are_object_arrays_of_bytes(multi_io):
    outputs = multi_io.run("serving_default", _multi_io_inputs())
    assert outputs["greeting"].dtype == object
    assert outputs["greeting"].tolist() == [b"hello ann", b"hello bob"]
    assert outputs["doubled_ids"].tolist() == [0, 2]


def test_output_filter_returns_only_the_named_outputs(multi_io):
    outputs = multi_io.run("serving_default", _multi_io_inputs(), output_filter=["total"])
    assert list(outputs) == ["total"]
    np.testing.assert_allclose(outputs["total"], [3.0, 4.0])


def test_unknown_signature_is_failed_precondition(half_plus_two):
    with pytest.raises(errors.FailedPrecondition) as caught:
        half_plus_two.run("predict_images", {"x": np.array([1.0], np.float32)})
    assert caught.value.message == 'Serving signature key "predict_images" not found.'


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


def test_tensorflow_runtime_error_becomes_invalid_argument_without_python_stack(tf1):
    with pytest.raises(errors.InvalidArgument) as caught:
        tf1.run("regress", {"inputs": np.array([b"not an example"], dtype=object)})
    assert "Could not parse example input" in caught.value.message
    assert "most recent call last" not in caught.value.message


def test_tf1_signature_defs_keep_classify_and_regress_method_names(tf1):
    methods = {key: signature.method_name for key, signature in tf1.signature_defs.items()}
    assert methods == {
        "classify": "tensorflow/serving/classify",
        "regress": "tensorflow/serving/regress",
        "serving_default": "tensorflow/serving/predict",
    }
    classify = tf1.signature_defs["classify"]
    assert set(classify.inputs) == {"inputs"}
    assert set(classify.outputs) == {"classes", "scores"}


def test_tf1_classify_signature_runs_on_serialized_examples(tf1):
    examples = np.array([savedmodels.tf_example(2.0), savedmodels.tf_example(-2.0)], dtype=object)
    outputs = tf1.run("classify", {"inputs": examples})
    assert outputs["classes"].tolist() == [list(savedmodels.TF1_CLASSES)] * 2
    assert outputs["scores"][0, 1] > 0.5 > outputs["scores"][1, 1]


def test_tf2_signature_defs_are_as_stored_including_init_op(half_plus_two):
    assert set(half_plus_two.signature_defs) == {"serving_default", "__saved_model_init_op"}
    assert half_plus_two.signature_defs["serving_default"].inputs["x"].dtype == 1  # DT_FLOAT


def test_corrupt_saved_model_fails_to_load_with_data_loss(tmp_path):
    path = savedmodels.export_broken_version(tmp_path, 1)
    with pytest.raises(ServableLoadError) as caught:
        VersionLoader(warmup_iterations=None).load("broken", 1, path)
    assert caught.value.code == grpc.StatusCode.DATA_LOSS
    assert path in caught.value.message


def test_directory_without_saved_model_fails_with_not_found(tmp_path):
    with pytest.raises(ServableLoadError) as caught:
        VersionLoader(warmup_iterations=None).load("empty", 1, str(tmp_path))
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    assert "SavedModel file does not exist at" in caught.value.message


def test_missing_tag_set_lists_available_tags(shared_models):
    with pytest.raises(ServableLoadError) as caught:
        VersionLoader(tags=("serve", "gpu"), warmup_iterations=None).load("m", 1, str(shared_models / "half_plus_two" / "1"))
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    assert "Available tag sets: [['serve']]" in caught.value.message
