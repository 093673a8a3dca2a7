"""Small real SavedModels for the serving tests, exported into a directory the test owns.

Every `export_*` function writes `<base_path>/<version>/` in TF Serving's layout and returns that
version directory, so a test can lay out several versions of one model and change them while a
server polls. Exports are written to a hidden staging directory and renamed into place, so a
polling server never sees a half-written version. The models are tiny (a few ops) so an export
takes well under a second.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Iterable

import tensorflow as tf
from google.protobuf import message as protobuf_message
from tensorflow_serving.apis import (
    classification_pb2,
    inference_pb2,
    predict_pb2,
    prediction_log_pb2,
    regression_pb2,
)

# The classes the TF1 classifier reports, in score order.
TF1_CLASSES = (b"negative", b"positive")

_WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


def _version_dir(base_path: str | os.PathLike, version: int) -> str:
    if int(version) < 0:
        raise ValueError(f"version must be a non-negative integer. Received: version={version}")
    return os.path.join(os.fspath(base_path), str(int(version)))


def _export_atomically(base_path, version: int, write, warmup_requests=None) -> str:
    """Calls `write(staging_dir)`, then moves the result to `<base_path>/<version>`.

    The staging directory is a dot-directory under base_path (ignored as a version: not a
    number), so the final rename stays on one file system. An existing version is replaced.
    `warmup_requests`, if given, are written (write_warmup_requests) before the rename.
    """
    path = _version_dir(base_path, version)
    os.makedirs(os.fspath(base_path), exist_ok=True)
    staging_parent = tempfile.mkdtemp(prefix=".staging-", dir=os.fspath(base_path))
    staging = os.path.join(staging_parent, "export")
    try:
        write(staging)
        if warmup_requests is not None:
            write_warmup_requests(staging, warmup_requests)
        if os.path.exists(path):
            shutil.rmtree(path)
        os.rename(staging, path)
    finally:
        shutil.rmtree(staging_parent, ignore_errors=True)
    return path


def export_half_plus_two(base_path, version: int = 1, *, slope: float = 0.5, offset: float = 2.0,
                         warmup_requests=None) -> str:
    """Exports `y = slope * x + offset` with signature `serving_default` (x: float32 [None]).

    `slope` and `offset` are stored as variables, so two versions with different values give
    different answers: that is how the tests tell which version served a request.
    """

    class HalfPlusTwo(tf.Module):
        def __init__(self):
            super().__init__()
            self.slope = tf.Variable(slope, dtype=tf.float32)
            self.offset = tf.Variable(offset, dtype=tf.float32)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def serve(self, x):
            return {"y": self.slope * x + self.offset}

    module = HalfPlusTwo()
    return _export_atomically(base_path, version, lambda path: tf.saved_model.save(
        module, path, signatures={"serving_default": module.serve}), warmup_requests)


def export_multi_io(base_path, version: int = 1, *, warmup_requests=None) -> str:
    """Exports a model with three inputs and three outputs of different dtypes.

    Inputs of `serving_default`: `features` float32 [None, 3], `ids` int64 [None],
    `names` string [None]. Outputs: `total` float32 [None] (row sum of features plus ids),
    `doubled_ids` int64 [None], `greeting` string [None] (b"hello " + name).
    A second signature `sum_only` takes `features` and returns `total`.
    """

    class MultiIO(tf.Module):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, 3], tf.float32, name="features"),
                tf.TensorSpec([None], tf.int64, name="ids"),
                tf.TensorSpec([None], tf.string, name="names"),
            ]
        )
        def serve(self, features, ids, names):
            return {
                "total": tf.reduce_sum(features, axis=1) + tf.cast(ids, tf.float32),
                "doubled_ids": ids * 2,
                "greeting": tf.strings.join([tf.constant("hello "), names]),
            }

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="features")])
        def sum_only(self, features):
            return {"total": tf.reduce_sum(features, axis=1)}

    module = MultiIO()
    return _export_atomically(base_path, version, lambda path: tf.saved_model.save(
        module, path, signatures={"serving_default": module.serve, "sum_only": module.sum_only}),
        warmup_requests)


def export_tf1_classify_regress(base_path, version: int = 1, *, warmup_requests=None) -> str:
    """Exports a TF1-style graph (tf.compat.v1, SavedModelBuilder) with Classify and Regress APIs.

    Signatures, with the method names TF Serving checks:
    - `classify` (tensorflow/serving/classify): input `inputs` (serialized tf.Example with a float
      feature `x`), outputs `classes` string [None, 2] and `scores` float32 [None, 2].
    - `regress` (tensorflow/serving/regress): input `inputs`, output `outputs` float32 [None]
      equal to 0.5 * x + 2.
    - `serving_default` (tensorflow/serving/predict): input `x` float32 [None], output `y`.
    Score of "positive" is sigmoid(x), so x > 0 is classified positive.
    """
    return _export_atomically(base_path, version, _write_tf1_classify_regress, warmup_requests)


def _write_tf1_classify_regress(path: str) -> None:
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        serialized = v1.placeholder(tf.string, shape=[None], name="tf_example")
        parsed = tf.io.parse_example(serialized, {"x": tf.io.FixedLenFeature([1], tf.float32)})
        x_from_examples = tf.reshape(parsed["x"], [-1])
        x = v1.placeholder(tf.float32, shape=[None], name="x")
        slope = v1.get_variable("slope", initializer=tf.constant(0.5))
        offset = v1.get_variable("offset", initializer=tf.constant(2.0))

        regression = tf.identity(slope * x_from_examples + offset, name="regression")
        positive = tf.sigmoid(x_from_examples)
        scores = tf.stack([1.0 - positive, positive], axis=1, name="scores")
        classes = tf.tile(
            tf.constant([list(TF1_CLASSES)]), [tf.shape(serialized)[0], 1], name="classes"
        )
        y = tf.identity(slope * x + offset, name="y")

        utils = v1.saved_model.signature_def_utils
        signatures = {
            "classify": utils.classification_signature_def(serialized, classes, scores),
            "regress": utils.regression_signature_def(serialized, regression),
            "serving_default": utils.predict_signature_def({"x": x}, {"y": y}),
        }
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            builder = v1.saved_model.Builder(path)
            builder.add_meta_graph_and_variables(
                session, [v1.saved_model.tag_constants.SERVING], signature_def_map=signatures
            )
            builder.save()


def export_broken_version(base_path, version: int) -> str:
    """Writes a version directory whose `saved_model.pb` is not a SavedModel, so loading fails.

    Exporting a good model into the same directory later (export_* overwrites) "fixes" it.
    """

    def write(path: str) -> None:
        os.makedirs(path)
        with open(os.path.join(path, "saved_model.pb"), "wb") as file:
            file.write(b"this is not a SavedModel protocol buffer")

    return _export_atomically(base_path, version, write)


def export_call_counter(base_path, version: int = 1, *, warmup_requests=None) -> str:
    """Exports a model that counts its calls, to observe warmup and request replay.

    `serving_default` takes `x` float32 [None], returns `y = x` and adds 1 to a counter;
    `call_count` (no inputs) returns the counter as `calls` int64 [].
    """

    class CallCounter(tf.Module):
        def __init__(self):
            super().__init__()
            self.calls = tf.Variable(0, dtype=tf.int64)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def serve(self, x):
            self.calls.assign_add(1)
            return {"y": tf.identity(x)}

        @tf.function(input_signature=[])
        def call_count(self):
            return {"calls": self.calls.read_value()}

    module = CallCounter()
    return _export_atomically(base_path, version, lambda path: tf.saved_model.save(
        module, path, signatures={"serving_default": module.serve,
                                  "call_count": module.call_count}), warmup_requests)


def export_request_sleeper(base_path, version: int = 1) -> str:
    """serving_default(x float32 [None], sleep_micros int64 []) -> y = 2x, after sleeping.

    The sleep is tf.data's SleepDataset, so a request stays in flight without burning CPU, for
    as long as the request itself asks.
    """

    class Sleeper(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x"),
                                      tf.TensorSpec([], tf.int64, name="sleep_micros")])
        def serve(self, x, sleep_micros):
            dataset = tf.data.Dataset.from_tensors(x)
            slept = tf.raw_ops.SleepDataset(
                input_dataset=dataset._variant_tensor, sleep_microseconds=sleep_micros,
                output_types=[tf.float32], output_shapes=[tf.TensorShape([None])])
            value = tf.data.experimental.from_variant(slept, dataset.element_spec).get_single_element()
            return {"y": value * 2.0}

    def write(path: str) -> None:
        module = Sleeper()
        tf.saved_model.save(module, path, signatures={"serving_default": module.serve})

    return _export_atomically(base_path, version, write)


def _as_prediction_log(request: protobuf_message.Message) -> prediction_log_pb2.PredictionLog:
    if isinstance(request, prediction_log_pb2.PredictionLog):
        return request
    log = prediction_log_pb2.PredictionLog()
    if isinstance(request, predict_pb2.PredictRequest):
        log.predict_log.request.CopyFrom(request)
    elif isinstance(request, classification_pb2.ClassificationRequest):
        log.classify_log.request.CopyFrom(request)
    elif isinstance(request, regression_pb2.RegressionRequest):
        log.regress_log.request.CopyFrom(request)
    elif isinstance(request, inference_pb2.MultiInferenceRequest):
        log.multi_inference_log.request.CopyFrom(request)
    else:
        raise TypeError(
            "requests must be PredictionLog, PredictRequest, ClassificationRequest, "
            f"RegressionRequest or MultiInferenceRequest. Received: {type(request).__name__}"
        )
    return log


def write_warmup_requests(version_dir, requests: Iterable[protobuf_message.Message]) -> str:
    """Writes `assets.extra/tf_serving_warmup_requests` (a TFRecord of PredictionLog).

    `requests` may hold PredictionLog messages or bare requests (Predict, Classification,
    Regression, MultiInference), which are wrapped in the matching log. Returns the file path.
    """
    path = os.path.join(os.fspath(version_dir), _WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for request in requests:
            writer.write(_as_prediction_log(request).SerializeToString())
    return path


def predict_request(model_name: str, inputs: dict, signature_name: str = "serving_default"
                    ) -> predict_pb2.PredictRequest:
    """A PredictRequest for `model_name`; `inputs` converted with tf.make_tensor_proto."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    for alias, value in inputs.items():
        request.inputs[alias].CopyFrom(tf.make_tensor_proto(value))
    return request


def tf_example(x: float) -> bytes:
    """A serialized tf.Example with the float feature `x` the TF1 model parses."""
    feature = tf.train.Feature(float_list=tf.train.FloatList(value=[x]))
    return tf.train.Example(features=tf.train.Features(feature={"x": feature})).SerializeToString()
