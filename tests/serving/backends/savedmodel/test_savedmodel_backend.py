"""SavedModelBackend on real exports: loading (and why a load fails), signature defs as stored,
outputs as numpy, and TensorFlow's runtime errors cleaned up. The request checks in front of every
backend are tested over fakes in tests/serving/core/test_servable.py."""

import grpc
import numpy as np
import pytest
from tests.support import savedmodels

from serving import errors
from serving.backends.savedmodel import SavedModelBackend
from serving.core import Servable, ServableLoadError


def _load(path, tags=("serve",)) -> Servable:
    return Servable("m", 1, str(path), SavedModelBackend.load(str(path), tags))


@pytest.fixture(scope="module")
def half_plus_two(shared_models):
    return _load(shared_models / "half_plus_two" / "1")


@pytest.fixture(scope="module")
def multi_io(shared_models):
    return _load(shared_models / "multi_io" / "1")


@pytest.fixture(scope="module")
def tf1(shared_models):
    return _load(shared_models / "tf1" / "1")


def test_run_returns_numpy_outputs(half_plus_two):
    outputs = half_plus_two.run("serving_default", {"x": np.array([1.0, 2.0], np.float32)})
    np.testing.assert_allclose(outputs["y"], [2.5, 3.0])
    assert outputs["y"].dtype == np.float32


def test_string_outputs_are_object_arrays_of_bytes(multi_io):
    outputs = multi_io.run("serving_default", {
        "features": np.ones((2, 3), np.float32),
        "ids": np.arange(2, dtype=np.int64),
        "names": np.array([b"ann", b"bob"], dtype=object),
    })
    assert outputs["greeting"].dtype == object
    assert outputs["greeting"].tolist() == [b"hello ann", b"hello bob"]
    assert outputs["doubled_ids"].tolist() == [0, 2]


def test_tensorflow_runtime_error_becomes_invalid_argument_without_python_stack(tf1):
    with pytest.raises(errors.InvalidArgument) as caught:
        tf1.run("regress", {"inputs": np.array([b"not an example"], dtype=object)})
    assert "Could not parse example input" in caught.value.message
    assert "most recent call last" not in caught.value.message


def test_error_inside_a_tf2_graph_keeps_its_message_without_node_names(multi_io):
    # TensorFlow puts the failing node on a line after the cause, and the traceback of where the
    # graph was built before it: the client gets the cause.
    with pytest.raises(errors.InvalidArgument) as caught:
        multi_io.run("serving_default", {"features": np.ones((2, 3), np.float32),
                                         "ids": np.arange(3, dtype=np.int64),
                                         "names": np.array([b"ann", b"bob"], dtype=object)})
    assert caught.value.message == "Incompatible shapes: [3] vs. [2]"


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
        SavedModelBackend.load(path)
    assert caught.value.code == grpc.StatusCode.DATA_LOSS
    assert f"Cannot parse the SavedModel in {path}" in caught.value.message


def test_directory_without_saved_model_fails_with_not_found(tmp_path):
    with pytest.raises(ServableLoadError) as caught:
        SavedModelBackend.load(str(tmp_path))
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    assert "SavedModel file does not exist at" in caught.value.message


def test_missing_tag_set_lists_available_tags(shared_models):
    with pytest.raises(ServableLoadError) as caught:
        SavedModelBackend.load(str(shared_models / "half_plus_two" / "1"), ("serve", "gpu"))
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    assert "Available tag sets: [['serve']]" in caught.value.message
