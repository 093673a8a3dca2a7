"""An early TF1 export that `tf.saved_model.load` rejects, served through a TF1 session the way
TF Serving serves its own `saved_model_half_plus_three` test model.

The model is built here with TF1 APIs (a tf.compat.v1 graph, `tf.compat.v1.saved_model.Builder`,
a main_op reading an asset), then its saved_model.pb is rewritten into what TensorFlow 1.0 wrote:
GraphDef producer 21, placeholders with `shape {}` (unknown shape up to producer 21) and
SignatureDef TensorInfos without `tensor_shape`, which today's exporters no longer write. The
TensorInfos without shapes are what `tf.saved_model.load` fails on; the placeholders' `shape {}`
is what the session must read as TensorFlow 1.0 meant it (read as a scalar, the graph does not
import).
"""

from __future__ import annotations

import concurrent.futures
import logging
import logging.handlers
import os
import shutil

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import (classification_pb2, input_pb2, prediction_service_pb2_grpc,
                                     regression_pb2)
from tests.support import savedmodels
from tests.support.rpc_helpers import RPC_TIMEOUT_SECONDS, call_error, outputs_of, predict_request
from tests.support.server_harness import wait_until

from serving import errors
from serving.backends.savedmodel import (SavedModelBackend, SessionBackend, load_saved_model,
                                         read_signature_defs)
from serving.core import ServableLoadError

MODEL = "early_tf1"
SLOPE, OFFSET = 0.5, 3.0
CLASSES = (b"small", b"large")
ASSET_TEXT = b"read by the main_op from its asset"
FALLBACK_EVENT = "event=savedmodel_session_fallback"


def export_early_tf1(base_path, version: int = 1) -> str:
    """Exports y = 0.5 x + 3 as TensorFlow 1.0 would have; returns the version directory.

    Signatures: `serving_default` (x -> y; x is the parsed examples' [?, 1] tensor, fed
    directly, as in half_plus_three), `classify` and `regress` on serialized tf.Examples with a
    float feature "x", and `describe` (x -> `text`, y as strings, and `greeting`, a scalar
    string the main_op read from the export's asset file).
    """
    path = os.path.join(os.fspath(base_path), str(version))
    asset_dir = os.path.join(os.fspath(base_path), ".asset_source")
    os.makedirs(asset_dir)
    asset_source = os.path.join(asset_dir, "greeting.txt")
    with open(asset_source, "wb") as file:
        file.write(ASSET_TEXT)
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        serialized = v1.placeholder(tf.string, [None], name="tf_example")
        parsed = tf.io.parse_example(serialized, {"x": tf.io.FixedLenFeature([1], tf.float32)})
        x = tf.identity(parsed["x"], name="x")
        slope = v1.Variable(SLOPE, name="slope", use_resource=False)
        offset = v1.Variable(OFFSET, name="offset", use_resource=False)
        greeting = v1.Variable(b"", name="greeting", use_resource=False)
        y = tf.identity(slope * x + offset, name="y")
        large = tf.sigmoid(y - 4.0)
        scores = tf.concat([1.0 - large, large], axis=1, name="scores")
        classes = tf.tile(tf.constant([list(CLASSES)]), [tf.shape(serialized)[0], 1],
                          name="classes")
        text = tf.strings.as_string(y, precision=1, name="text")

        asset_path = tf.constant(asset_source, name="asset_path")
        v1.add_to_collection(v1.GraphKeys.ASSET_FILEPATHS, asset_path)
        main_op = tf.group(v1.assign(greeting, tf.io.read_file(asset_path)), name="main_op")

        utils = v1.saved_model.signature_def_utils
        signatures = {
            "serving_default": utils.predict_signature_def({"x": x}, {"y": y}),
            "classify": utils.classification_signature_def(serialized, classes, scores),
            "regress": utils.regression_signature_def(serialized, y),
            "describe": utils.predict_signature_def(
                {"x": x}, {"text": text, "greeting": greeting.read_value()}),
        }
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            builder = v1.saved_model.Builder(path)
            builder.add_meta_graph_and_variables(
                session, ["serve"], signature_def_map=signatures,
                assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS), main_op=main_op)
            builder.save()
    shutil.rmtree(asset_dir)  # the main_op can only read the export's copy, at its new path
    _rewrite_as_tensorflow_1_0(os.path.join(path, "saved_model.pb"))
    return path


def _rewrite_as_tensorflow_1_0(saved_model_pb: str) -> None:
    saved_model = saved_model_pb2.SavedModel()
    with open(saved_model_pb, "rb") as file:
        saved_model.ParseFromString(file.read())
    for meta_graph in saved_model.meta_graphs:
        meta_graph.graph_def.versions.producer = 21
        for node in meta_graph.graph_def.node:
            if node.op == "Placeholder":
                node.attr["shape"].shape.Clear()
        for signature_def in meta_graph.signature_def.values():
            for tensor_info in [*signature_def.inputs.values(), *signature_def.outputs.values()]:
                tensor_info.ClearField("tensor_shape")
    with open(saved_model_pb, "wb") as file:
        file.write(saved_model.SerializeToString())


def _examples(*xs: float) -> input_pb2.Input:
    examples = [tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(float_list=tf.train.FloatList(value=[x]))})) for x in xs]
    return input_pb2.Input(example_list=input_pb2.ExampleList(examples=examples))


def _serialized(*xs: float) -> np.ndarray:
    examples = _examples(*xs).example_list.examples
    return np.array([example.SerializeToString() for example in examples], dtype=object)


@pytest.fixture(scope="module")
def model_base(tmp_path_factory):
    base = tmp_path_factory.mktemp("early_tf1") / MODEL
    export_early_tf1(base)
    return base


@pytest.fixture(scope="module")
def version_dir(model_base):
    return str(model_base / "1")


@pytest.fixture(scope="module")
def served(model_base, start_model_server):
    """The model on a real server, with what serving.savedmodel logged while it loaded."""
    records = logging.handlers.BufferingHandler(capacity=10_000)
    logger = logging.getLogger("serving.savedmodel")
    logger.addHandler(records)
    try:
        server = start_model_server(f"--model_base_path={model_base}", f"--model_name={MODEL}",
                                    "--file_system_poll_wait_seconds=0")
        wait_until(lambda: server.manager.is_ready(MODEL), message=f"{MODEL} loaded")
    finally:
        logger.removeHandler(records)
    return server, [record.getMessage() for record in records.buffer]


@pytest.fixture(scope="module")
def stub(served):
    server, _ = served
    with grpc.insecure_channel(server.target) as channel:
        yield prediction_service_pb2_grpc.PredictionServiceStub(channel)


@pytest.fixture
def backend(version_dir):
    backend = SessionBackend.load(version_dir)
    yield backend
    backend.unload()


def test_the_model_is_one_tf_saved_model_load_rejects(version_dir):
    with pytest.raises(ValueError, match="Shapes must be equal rank"):
        tf.saved_model.load(version_dir)


def test_server_loads_it_into_a_session_and_logs_the_fallback_once(served):
    server, messages = served
    with server.manager.servable(MODEL) as servable:
        assert isinstance(servable.backend, SessionBackend)
    fallbacks = [message for message in messages if FALLBACK_EVENT in message]
    assert len(fallbacks) == 1
    assert "Shapes must be equal rank" in fallbacks[0]


@pytest.mark.parametrize("x, expected", [
    (np.array([2.0], np.float32), [4.0]),
    (np.array([[2.0], [4.0]], np.float32), [[4.0], [5.0]]),
])
def test_predict_feeds_x_whatever_its_shape(stub, x, expected):
    response = stub.Predict(predict_request(MODEL, {"x": x}), timeout=RPC_TIMEOUT_SECONDS)
    y = outputs_of(response)["y"]
    assert y.shape == x.shape
    np.testing.assert_allclose(y, expected)


def test_classify_scores_serialized_examples(stub):
    request = classification_pb2.ClassificationRequest(input=_examples(-4.0, 6.0))
    request.model_spec.name = MODEL
    request.model_spec.signature_name = "classify"
    result = stub.Classify(request, timeout=RPC_TIMEOUT_SECONDS).result
    labels = [[entry.label for entry in row.classes] for row in result.classifications]
    assert labels == [["small", "large"]] * 2
    large_scores = [row.classes[1].score for row in result.classifications]
    assert large_scores[0] < 0.5 < large_scores[1]


def test_regress_answers_each_example(stub):
    request = regression_pb2.RegressionRequest(input=_examples(1.0, 2.0, 5.0))
    request.model_spec.name = MODEL
    request.model_spec.signature_name = "regress"
    result = stub.Regress(request, timeout=RPC_TIMEOUT_SECONDS).result
    np.testing.assert_allclose([regression.value for regression in result.regressions],
                               [3.5, 4.0, 5.5])


def test_predict_returns_string_outputs(stub):
    response = stub.Predict(predict_request(MODEL, {"x": np.array([[1.0]], np.float32)},
                                            signature="describe"), timeout=RPC_TIMEOUT_SECONDS)
    outputs = outputs_of(response)
    assert outputs["text"].tolist() == [[b"3.5"]]
    assert outputs["greeting"].tolist() == ASSET_TEXT


def test_an_example_the_graph_cannot_parse_is_invalid_argument(stub):
    request = regression_pb2.RegressionRequest(input=input_pb2.Input(
        example_list=input_pb2.ExampleList(examples=[tf.train.Example()])))
    request.model_spec.name = MODEL
    request.model_spec.signature_name = "regress"
    error = call_error(stub.Regress, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Feature: x (data type: float) is required" in error.details()
    assert "{{node" not in error.details()


@pytest.mark.parametrize("shape", [(1,), (2, 1), (3,)])
def test_x_is_fed_whatever_its_shape(backend, shape):
    """x is a [?, 1] tensor of the graph; as in TF Serving, the graph decides what it takes."""
    y = backend.run("serving_default", {"x": np.full(shape, 2.0, np.float32)}, ["y"])["y"]
    np.testing.assert_allclose(y, np.full(shape, 4.0))


def test_string_outputs_are_object_arrays_of_bytes(backend):
    outputs = backend.run("describe", {"x": np.array([[1.0], [2.0]], np.float32)},
                          ["text", "greeting"])
    assert outputs["text"].dtype == object and outputs["text"].tolist() == [[b"3.5"], [b"4.0"]]
    assert outputs["greeting"].dtype == object and outputs["greeting"].shape == ()
    assert outputs["greeting"].item() == ASSET_TEXT


def test_outputs_come_back_under_their_aliases_in_the_order_asked(backend):
    x = {"x": np.array([[1.0]], np.float32)}
    for aliases in (["text", "greeting"], ["greeting", "text"], ["text"]):
        outputs = backend.run("describe", x, aliases)
        assert list(outputs) == aliases
        assert outputs["text"].tolist() == [[b"3.5"]]
    classified = backend.run("classify", {"inputs": _serialized(6.0)}, ["scores", "classes"])
    assert classified["classes"].tolist() == [list(CLASSES)]


def test_concurrent_calls_each_get_their_own_answer(backend):
    def call(x: float) -> float:
        return backend.run("serving_default", {"x": np.array([[x]], np.float32)}, ["y"])["y"].item()

    xs = [float(x) for x in range(64)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert list(pool.map(call, xs)) == [SLOPE * x + OFFSET for x in xs]


def test_a_wrongly_typed_feed_is_invalid_argument(backend):
    with pytest.raises(errors.InvalidArgument, match="float"):
        backend.run("serving_default", {"x": np.array([[1]], np.int64)}, ["y"])


def test_every_signature_is_runnable(backend):
    assert backend.runnable_signatures == {"serving_default", "classify", "regress", "describe"}


def test_unload_closes_the_session(version_dir):
    backend = SessionBackend.load(version_dir)
    backend.run("serving_default", {"x": np.array([1.0], np.float32)}, ["y"])
    backend.unload()
    with pytest.raises(errors.InvalidArgument, match="Session has been closed"):
        backend.run("serving_default", {"x": np.array([1.0], np.float32)}, ["y"])


def test_missing_variables_fail_the_load_with_not_found(tmp_path, version_dir):
    broken = shutil.copytree(version_dir, tmp_path / "1")
    for name in os.listdir(broken / "variables"):
        if name.startswith("variables.data"):
            os.remove(broken / "variables" / name)
    with pytest.raises(ServableLoadError) as caught:
        SessionBackend.load(str(broken))
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    assert caught.value.message.startswith(f"Loading {broken} failed: ")


def test_missing_saved_model_is_not_found(tmp_path):
    with pytest.raises(ServableLoadError) as caught:
        SessionBackend.load(str(tmp_path))
    assert caught.value.code == grpc.StatusCode.NOT_FOUND


def test_a_tf1_export_tf_saved_model_load_accepts_keeps_that_runtime(tmp_path, caplog):
    path = savedmodels.export_tf1_classify_regress(tmp_path / "tf1")
    with caplog.at_level(logging.WARNING, logger="serving.savedmodel"):
        backend = load_saved_model(path)
    assert isinstance(backend, SavedModelBackend)
    assert FALLBACK_EVENT not in caplog.text


def test_a_tf2_export_tf_saved_model_load_rejects_fails_as_before(tmp_path, caplog):
    path = savedmodels.export_half_plus_two(tmp_path / "half_plus_two")
    for name in os.listdir(os.path.join(path, "variables")):
        os.remove(os.path.join(path, "variables", name))
    with pytest.raises(ServableLoadError) as direct:
        SavedModelBackend.load(path)
    with caplog.at_level(logging.WARNING, logger="serving.savedmodel"), \
            pytest.raises(ServableLoadError) as chosen:
        load_saved_model(path)
    assert (chosen.value.code, chosen.value.message) == (direct.value.code, direct.value.message)
    assert FALLBACK_EVENT not in caplog.text


def test_signature_defs_are_as_stored(backend, version_dir):
    assert backend.signature_defs == read_signature_defs(version_dir, ["serve"])
