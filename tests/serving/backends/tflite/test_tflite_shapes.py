"""Request shapes are TF Lite's to judge, as in TF Serving: TfliteBackend.run resizes the
interpreter's inputs to whatever shapes it gets, and only a shape TF Lite cannot run is refused,
the Servable naming the input, the signature's shape and the received shape.

The backend is mostly called directly, so these hold whatever checks the Servable makes.
"""

from __future__ import annotations

import numpy as np
import pytest
from tensorflow.core.framework import types_pb2
from tests.support import tflite_models

from serving import errors
from serving.backends.tflite import TfliteBackend, TfliteOptions
from serving.core.servable import Servable

FLOAT = types_pb2.DT_FLOAT
PREDICT = "tensorflow/serving/predict"


def load(path, interpreters_per_pool: int = 1) -> TfliteBackend:
    return TfliteBackend.load("model", 1, str(path), TfliteOptions(1, interpreters_per_pool))


@pytest.fixture(scope="module", params=["main_graph", "embedded_signature_def"])
def half_plus_two(request, tmp_path_factory):
    """(backend, input alias) of half_plus_two, x float32 [1, 1], run on the main graph."""
    embedded = {"serving_default": tflite_models.signature_def(
        PREDICT, {"x": ("tflite_input:0", FLOAT, [1, 1])}, {"y": ("y:0", FLOAT, [1, 1])})}
    path = tflite_models.write_half_plus_two_model(
        tmp_path_factory.mktemp(request.param) / "1",
        embedded if request.param == "embedded_signature_def" else None)
    backend = load(path)
    yield backend, "x" if request.param == "embedded_signature_def" else "tflite_input"
    backend.unload()


@pytest.fixture(scope="module", params=["signature_runner", "embedded_signature_def"])
def linear_path(request, tmp_path_factory):
    """The linear model, x float32 [-1, 3], run by TF Lite's SignatureRunner or, described by an
    embedded SignatureDef with the same alias, on its main graph."""
    path = tflite_models.write_linear_model(tmp_path_factory.mktemp("linear") / "1")
    if request.param == "signature_runner":
        return path
    plain = load(path)
    x_name = plain.signature_defs["serving_default"].inputs["x"].name
    y_name = plain.signature_defs["serving_default"].outputs["y"].name
    plain.unload()
    return tflite_models.write_linear_model(
        tmp_path_factory.mktemp("linear_embedded") / "1",
        {"serving_default": tflite_models.signature_def(
            PREDICT, {"x": (x_name, FLOAT, [-1, 3])}, {"y": (y_name, FLOAT, [-1, 2])})})


def run_x(backend: TfliteBackend, alias: str, x) -> np.ndarray:
    output = "y"
    return backend.run("serving_default", {alias: np.asarray(x, np.float32)}, [output])[output]


def test_shape_one_runs_on_a_one_by_one_input_as_tf_serving_does(half_plus_two):
    backend, alias = half_plus_two
    np.testing.assert_array_equal(run_x(backend, alias, [2.0]), [3.0])


def test_one_interpreter_follows_shapes_back_and_forth(half_plus_two):
    backend, alias = half_plus_two
    for x in ([[2.0]], [2.0], [4.0, 6.0, 8.0], [[2.0]], [[1.0, 2.0], [3.0, 4.0]], 2.0, [2.0]):
        y = run_x(backend, alias, x)
        assert y.shape == np.shape(x)  # a scalar stays a scalar
        np.testing.assert_array_equal(y, np.asarray(x) * 0.5 + 2.0)


def test_signature_runner_runs_a_shape_tflite_accepts(linear_path):
    backend = load(linear_path)
    try:
        y = run_x(backend, "x", [1.0, 2.0, 3.0])  # rank 1: the fully connected op takes it as [1, 3]
    finally:
        backend.unload()
    np.testing.assert_allclose(y, [[1.0, 2.0, 3.0]] @ tflite_models.LINEAR_WEIGHTS)


def test_shape_tflite_cannot_run_is_invalid_argument_and_the_interpreter_is_replaced(linear_path):
    backend = load(linear_path)
    try:
        refusals = []
        for _ in range(2):
            with pytest.raises(errors.InvalidArgument) as caught:
                run_x(backend, "x", np.ones((2, 5)))
            refusals.append(caught.value.message)
        y = run_x(backend, "x", np.ones((2, 3)))
    finally:
        backend.unload()
    assert refusals[0].startswith('signature "serving_default": ')
    # TF Lite's error text does not pile up from one failure to the next, and the next request
    # runs: the interpreter that failed was replaced.
    assert refusals[1] == refusals[0]
    np.testing.assert_allclose(y, np.ones((2, 3)) @ tflite_models.LINEAR_WEIGHTS)


def test_servable_names_the_input_and_both_shapes_when_tflite_refuses(linear_path):
    servable = Servable("model", 1, str(linear_path), load(linear_path))
    try:
        with pytest.raises(errors.InvalidArgument) as caught:
            servable.run("", {"x": np.ones((2, 5), np.float32)})
    finally:
        servable.unload()
    assert caught.value.message.startswith(
        'signature "serving_default" input "x": expected shape [-1,3] (-1 matches any size), '
        "received shape [2,5]; the model failed on it: ")


def test_scalar_for_a_batched_input_is_run_whole_and_refused_by_tflite(linear_path):
    backend = load(linear_path, interpreters_per_pool=2)  # a batch of the signature's shape is split
    try:
        with pytest.raises(errors.InvalidArgument):
            run_x(backend, "x", 1.0)
        y = run_x(backend, "x", np.ones((4, 3)))
    finally:
        backend.unload()
    np.testing.assert_allclose(y, np.ones((4, 3)) @ tflite_models.LINEAR_WEIGHTS)
