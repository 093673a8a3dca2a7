"""TF Lite models that embed TensorFlow SignatureDefs are served by them, as TF Serving does: keys,
aliases, method names, dtypes and shapes from the embedded map, run on the tensors it names."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from tensorflow.core.framework import types_pb2
from tests.support import tflite_models

from serving.backends.tflite import TfliteBackend, TfliteOptions
from serving.backends.tflite.signature_metadata import SIGNATURE_DEFS_METADATA
from serving.core.servable import ServableLoadError

FLOAT = types_pb2.DT_FLOAT
PREDICT = "tensorflow/serving/predict"
# TF Serving's saved_model_half_plus_two_tflite_with_sigdef names its tensors with TensorFlow's
# ":0" suffix, which the TF Lite model's tensors lack.
SERVING_DEFAULT = tflite_models.signature_def(PREDICT, {"x": ("tflite_input:0", FLOAT, [1, 1])},
                                              {"y": ("y:0", FLOAT, [1, 1])})
EXACT_NAMES = tflite_models.signature_def("custom/method", {"value": ("tflite_input", FLOAT, [-1, 1])},
                                          {"half_plus_two": ("y", FLOAT, [-1, 1])})


def load(path) -> TfliteBackend:
    return TfliteBackend.load("model", 1, str(path), TfliteOptions())


def dims(tensor_info) -> list[int]:
    return [dim.size for dim in tensor_info.tensor_shape.dim]


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    path = tflite_models.write_half_plus_two_model(
        tmp_path_factory.mktemp("embedded") / "1",
        {"serving_default": SERVING_DEFAULT, "exact_names": EXACT_NAMES})
    backend = load(path)
    yield backend
    backend.unload()


def test_keys_aliases_and_method_names_are_the_embedded_ones(embedded):
    signatures = embedded.signature_defs
    assert sorted(signatures) == ["exact_names", "serving_default"]
    assert (list(signatures["serving_default"].inputs), list(signatures["serving_default"].outputs),
            signatures["serving_default"].method_name) == (["x"], ["y"], PREDICT)
    assert (list(signatures["exact_names"].inputs), list(signatures["exact_names"].outputs),
            signatures["exact_names"].method_name) == (["value"], ["half_plus_two"], "custom/method")


def test_dtypes_and_shapes_are_the_embedded_ones_and_names_the_tflite_tensors(embedded):
    x = embedded.signature_defs["serving_default"].inputs["x"]
    assert (x.name, x.dtype, dims(x)) == ("tflite_input", FLOAT, [1, 1])
    assert embedded.signature_defs["serving_default"].outputs["y"].name == "y"
    value = embedded.signature_defs["exact_names"].inputs["value"]
    assert (value.name, dims(value)) == ("tflite_input", [-1, 1])  # declared, not TF Lite's [1, 1]


def test_each_signature_runs_on_the_tensors_it_names(embedded):
    outputs = embedded.run("serving_default", {"x": np.array([[2.0]], np.float32)}, ["y"])
    np.testing.assert_array_equal(outputs["y"], [[3.0]])
    outputs = embedded.run("exact_names", {"value": np.array([[2.0], [6.0]], np.float32)},
                           ["half_plus_two"])
    np.testing.assert_array_equal(outputs["half_plus_two"], [[3.0], [5.0]])


def test_embedded_signature_defs_replace_the_models_tflite_signatures(tmp_path):
    plain = load(tflite_models.write_linear_model(tmp_path / "plain"))
    x_name = plain.signature_defs["serving_default"].inputs["x"].name  # the converter's names
    y_name = plain.signature_defs["serving_default"].outputs["y"].name
    plain.unload()
    backend = load(tflite_models.write_linear_model(tmp_path / "embedded", {
        "linear": tflite_models.signature_def(PREDICT, {"features": (x_name, FLOAT, [-1, 3])},
                                              {"scores": (y_name, FLOAT, [-1, 2])})}))
    try:
        assert list(backend.signature_defs) == ["linear"]
        x = np.arange(6, dtype=np.float32).reshape(2, 3)
        outputs = backend.run("linear", {"features": x}, ["scores"])
    finally:
        backend.unload()
    np.testing.assert_allclose(outputs["scores"], x @ tflite_models.LINEAR_WEIGHTS)


def test_model_without_embedded_signature_defs_is_described_from_its_tensors(tmp_path):
    backend = load(tflite_models.write_half_plus_two_model(tmp_path / "1"))
    try:
        signature = backend.signature_defs["serving_default"]
        assert (list(backend.signature_defs), list(signature.inputs), list(signature.outputs),
                signature.method_name) == (["serving_default"], ["tflite_input"], ["y"], PREDICT)
        outputs = backend.run("serving_default", {"tflite_input": np.array([[2.0]], np.float32)},
                              ["y"])
    finally:
        backend.unload()
    np.testing.assert_array_equal(outputs["y"], [[3.0]])


BROKEN_SIGNATURE_DEFS = {
    "unknown_input": (
        tflite_models.signature_def(PREDICT, {"x": ("missing:0", FLOAT, [1, 1])},
                                    {"y": ("y:0", FLOAT, [1, 1])}),
        "signature 'serving_default' input 'x' names the tensor 'missing:0', which is not an input"),
    "output_named_as_an_input": (
        tflite_models.signature_def(PREDICT, {"x": ("tflite_input:0", FLOAT, [1, 1])},
                                    {"y": ("tflite_input:0", FLOAT, [1, 1])}),
        "signature 'serving_default' output 'y' names the tensor 'tflite_input:0', which is not an "
        "output"),
    "wrong_dtype": (
        tflite_models.signature_def(PREDICT, {"x": ("tflite_input:0", types_pb2.DT_INT32, [1, 1])},
                                    {"y": ("y:0", FLOAT, [1, 1])}),
        "signature 'serving_default' input 'x' declares DT_INT32, but the TF Lite tensor "
        "'tflite_input' holds DT_FLOAT"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_SIGNATURE_DEFS))
def test_signature_def_the_model_cannot_run_fails_the_load(tmp_path, case):
    signature_def, message = BROKEN_SIGNATURE_DEFS[case]
    path = tflite_models.write_half_plus_two_model(tmp_path / "1", {"serving_default": signature_def})
    with pytest.raises(ServableLoadError) as caught:
        load(path)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert message in caught.value.message


def test_unreadable_signature_def_metadata_fails_the_load(tmp_path):
    path = tflite_models.write_half_plus_two_model(tmp_path / "1")
    model_file = path / "model.tflite"
    model_file.write_bytes(tflite_models.embed_metadata(model_file.read_bytes(),
                                                        SIGNATURE_DEFS_METADATA, b"\x01\x04\x01"))
    with pytest.raises(ServableLoadError) as caught:
        load(path)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "model.tflite" in caught.value.message and SIGNATURE_DEFS_METADATA in caught.value.message
