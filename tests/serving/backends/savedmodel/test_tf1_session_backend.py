"""An early TF1 export that `tf.saved_model.load` rejects, run in a TF1 session the way TF Serving
runs its own `saved_model_half_plus_three` test model.

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
import os
import shutil

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import input_pb2

from serving import errors
from serving.backends.savedmodel import SessionBackend, read_signature_defs
from serving.core import ServableLoadError

MODEL = "early_tf1"
SLOPE, OFFSET = 0.5, 3.0
CLASSES = (b"small", b"large")
ASSET_TEXT = b"read by the main_op from its asset"


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
def version_dir(tmp_path_factory):
    return export_early_tf1(tmp_path_factory.mktemp("early_tf1") / MODEL)


@pytest.fixture
def backend(version_dir):
    backend = SessionBackend.load(version_dir)
    yield backend
    backend.unload()


def test_the_model_is_one_tf_saved_model_load_rejects(version_dir):
    with pytest.raises(ValueError, match="Shapes must be equal rank"):
        tf.saved_model.load(version_dir)


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


def test_signature_defs_are_as_stored(backend, version_dir):
    assert backend.signature_defs == read_signature_defs(version_dir, ["serve"])
