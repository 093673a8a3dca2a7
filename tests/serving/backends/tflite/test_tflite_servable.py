"""TfliteBackend on real TF Lite models: signatures, batch sizes, splitting, strings, errors, loading."""

from __future__ import annotations

import shutil

import grpc
import numpy as np
import pytest
from tests.support import tflite_models

from serving import errors
from serving.backends import open_backend
from serving.backends.tflite import TfliteBackend, TfliteOptions
from serving.core.servable import Servable, ServableLoadError
from serving.version_loader import VersionLoader

ATOL = 1e-5


def load(path, num_pools: int = 1, interpreters_per_pool: int = 1) -> Servable:
    backend = TfliteBackend.load("model", 1, str(path), TfliteOptions(num_pools, interpreters_per_pool))
    return Servable("model", 1, str(path), backend)


@pytest.fixture(scope="module")
def lite(zoo_cnn_version_dir):
    servable = load(zoo_cnn_version_dir)
    yield servable
    servable.unload()


@pytest.fixture(scope="module")
def saved(zoo_cnn_version_dir):
    servable = VersionLoader(warmup_iterations=None).load("model", 1, str(zoo_cnn_version_dir))
    yield servable
    servable.unload()


def dims(tensor_info) -> list[int]:
    return [dim.size for dim in tensor_info.tensor_shape.dim]


def test_signature_def_has_tf_dtypes_and_a_dynamic_batch_dimension(lite):
    from tensorflow.core.framework import types_pb2

    signature = lite.signature_defs["serving_default"]
    assert signature.method_name == "tensorflow/serving/predict"
    assert dims(signature.inputs["image"]) == [-1, 8, 8, 1]
    assert signature.inputs["image"].dtype == types_pb2.DT_FLOAT
    assert dims(signature.outputs["probabilities"]) == [-1, 3]
    assert signature.outputs["probabilities"].dtype == types_pb2.DT_FLOAT
    assert dims(signature.outputs["classes"]) == [-1]
    assert signature.outputs["classes"].dtype == types_pb2.DT_INT64


def test_tflite_version_has_only_the_signatures_tflite_can_run(lite, saved):
    assert {"classify", "image_bytes"} <= set(saved.signature_defs)
    assert set(lite.signature_defs) == {"serving_default", "pixels"}


def test_outputs_match_the_saved_model_within_float_tolerance(lite, saved):
    images = tflite_models.sample_images(6, seed=3)
    lite_outputs = lite.run("serving_default", {"image": images})
    saved_outputs = saved.run("serving_default", {"image": images})
    np.testing.assert_allclose(lite_outputs["probabilities"], saved_outputs["probabilities"], atol=ATOL)
    np.testing.assert_array_equal(lite_outputs["classes"], saved_outputs["classes"])


def test_changing_batch_sizes_on_one_interpreter_give_per_example_results(lite):
    images = tflite_models.sample_images(5, seed=4)
    one_by_one = np.concatenate([lite.run("", {"image": images[i:i + 1]})["probabilities"]
                                 for i in range(5)])
    for size in (5, 1, 3, 5, 2):
        outputs = lite.run("", {"image": images[:size]})["probabilities"]
        np.testing.assert_allclose(outputs, one_by_one[:size], atol=ATOL)


@pytest.mark.parametrize("batch_size", [1, 2, 7])
def test_batch_split_across_a_pools_interpreters_matches_one_run(zoo_cnn_version_dir, lite, batch_size):
    split = load(zoo_cnn_version_dir, num_pools=1, interpreters_per_pool=3)
    try:
        images = tflite_models.sample_images(batch_size, seed=5)
        outputs = split.run("", {"image": images})
        expected = lite.run("", {"image": images})
    finally:
        split.unload()
    np.testing.assert_allclose(outputs["probabilities"], expected["probabilities"], atol=ATOL)
    np.testing.assert_array_equal(outputs["classes"], expected["classes"])


def test_empty_batch_returns_empty_outputs(lite):
    outputs = lite.run("", {"image": np.zeros((0, 8, 8, 1), np.float32)})
    assert {alias: (array.shape, array.dtype) for alias, array in outputs.items()} == {
        "probabilities": ((0, 3), np.float32), "classes": ((0,), np.int64)}


def test_output_filter_returns_only_the_named_outputs(lite):
    outputs = lite.run("", {"image": tflite_models.sample_images(2)}, output_filter=["classes"])
    assert list(outputs) == ["classes"]


BAD_REQUESTS = {
    "wrong_dtype": ("", {"image": np.zeros((2, 8, 8, 1), np.float64)}, ()),
    "wrong_dimension": ("", {"image": np.zeros((2, 8, 7, 1), np.float32)}, ()),
    "strings_for_floats": ("", {"image": np.full((1, 8, 8, 1), b"x", dtype=object)}, ()),
    "unknown_alias": ("", {"image": np.zeros((1, 8, 8, 1), np.float32),
                           "extra": np.zeros((1,), np.float32)}, ()),
    "missing_alias": ("", {}, ()),
    "unknown_output": ("", {"image": np.zeros((1, 8, 8, 1), np.float32)}, ("logits",)),
    "unknown_signature": ("serving_other", {"image": np.zeros((1, 8, 8, 1), np.float32)}, ()),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_bad_requests_get_the_saved_models_error(lite, saved, case):
    signature, inputs, output_filter = BAD_REQUESTS[case]
    with pytest.raises(errors.ServingError) as from_lite:
        lite.run(signature, inputs, output_filter)
    with pytest.raises(errors.ServingError) as from_saved:
        saved.run(signature, inputs, output_filter)
    assert type(from_lite.value) is type(from_saved.value)
    # A shape the models fail on names the signature's shape; each runtime adds its own reason.
    assert _signature_part(from_lite.value.message) == _signature_part(from_saved.value.message)


def _signature_part(message: str) -> str:
    return message.split("; the model failed on it: ")[0]


def test_string_tensors_round_trip_including_binary_bytes(tmp_path):
    servable = load(tflite_models.write_text_model(tmp_path / "1"), interpreters_per_pool=2)
    try:
        text = np.array([b"caf\xc3\xa9", b"\xff\x00bin\x00", b""], dtype=object)
        outputs = servable.run("", {"text": text, "x": np.ones((3, 2), np.float32)})
    finally:
        servable.unload()
    assert outputs["echo"].dtype == object
    assert outputs["echo"].tolist() == text.tolist()
    assert outputs["pairs"].tolist() == [[value, value] for value in text.tolist()]
    np.testing.assert_array_equal(outputs["doubled"], np.full((3, 2), 2.0, np.float32))


def test_model_without_signatures_serves_its_main_graph_as_serving_default(tmp_path):
    servable = load(tflite_models.write_main_graph_model(tmp_path / "1"))
    try:
        signature = servable.signature_defs["serving_default"]
        assert (list(signature.inputs), list(signature.outputs)) == (["x"], ["y"])
        assert dims(signature.inputs["x"]) == [-1, 3]
        for size in (2, 4, 2):
            x = np.arange(size * 3, dtype=np.float32).reshape(size, 3)
            np.testing.assert_allclose(servable.run("", {"x": x})["y"], 2 * x + 1)
    finally:
        servable.unload()


@pytest.mark.parametrize("content", [b"", b"this is not a flatbuffer" * 8], ids=["empty", "garbage"])
def test_corrupt_model_file_fails_to_load_with_data_loss(tmp_path, content):
    (tmp_path / "model.tflite").write_bytes(content)
    with pytest.raises(ServableLoadError) as caught:
        load(tmp_path)
    assert caught.value.code == grpc.StatusCode.DATA_LOSS
    assert "model.tflite" in caught.value.message


def test_truncated_model_file_fails_to_load(tmp_path, zoo_cnn_version_dir):
    content = (zoo_cnn_version_dir / "model.tflite").read_bytes()
    (tmp_path / "model.tflite").write_bytes(content[: len(content) // 3])
    with pytest.raises(ServableLoadError) as caught:
        load(tmp_path)
    assert caught.value.code in (grpc.StatusCode.DATA_LOSS, grpc.StatusCode.INVALID_ARGUMENT)


def test_tflite_is_preferred_only_when_asked_and_present(tmp_path, zoo_cnn_version_dir):
    options = TfliteOptions()
    preferred = open_backend("m", 1, str(zoo_cnn_version_dir), ("serve",), options)
    not_asked = open_backend("m", 1, str(zoo_cnn_version_dir), ("serve",), None)
    saved_only = shutil.copytree(zoo_cnn_version_dir, tmp_path / "1")
    (saved_only / "model.tflite").unlink()
    fallback = open_backend("m", 1, str(saved_only), ("serve",), options)
    try:
        assert isinstance(preferred, TfliteBackend)
        assert not isinstance(not_asked, TfliteBackend)
        assert not isinstance(fallback, TfliteBackend)
        assert "classify" in fallback.signature_defs
    finally:
        for servable in (preferred, not_asked, fallback):
            servable.unload()
