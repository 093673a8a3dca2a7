"""tfzoo-client sends the very bytes the official `tensorflow-serving-api` stubs send for the same
request: a recording gRPC server on loopback keeps the raw request bytes of each call, from the
client and from TF Serving's own stub fed requests built the documented way (tf.make_tensor_proto,
tf.train.Example).

A PredictRequest's inputs are a protobuf map, whose entries have no defined order on the wire: the
official stub writes them in an order that varies from process to process, so Predict requests are
compared as the messages the bytes parse into (each entry's bytes included); every other request
byte for byte."""

from __future__ import annotations

from concurrent import futures

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2, get_model_status_pb2, model_pb2,
                                     model_service_pb2_grpc, predict_pb2, prediction_service_pb2_grpc,
                                     regression_pb2)

from tfzoo_client import Client, RetryPolicy
from tfzoo_client.contract import CLASSIFY_METHOD, LABELS_FIELD, MODEL_CARD_FIELD, PREDICT_METHOD, REGRESS_METHOD

MODEL = "m"


def signature(method: str, inputs: dict[str, tf.DType]):
    return tf.compat.v1.saved_model.build_signature_def(
        inputs={name: tf.compat.v1.saved_model.build_tensor_info(tf.compat.v1.placeholder(dtype, [None]))
                for name, dtype in inputs.items()},
        outputs={"y": tf.compat.v1.saved_model.build_tensor_info(tf.compat.v1.placeholder(tf.float32, [None]))},
        method_name=method)


def metadata_response() -> bytes:
    """The metadata a server gives for MODEL: predict signatures taking x (float) and ids (int64),
    or names (strings), and a classify and a regress signature, which the client finds itself."""
    with tf.Graph().as_default():
        signatures = {"serving_default": signature(PREDICT_METHOD, {"x": tf.float32, "ids": tf.int64}),
                      "names": signature(PREDICT_METHOD, {"names": tf.string}),
                      "classify": signature(CLASSIFY_METHOD, {"inputs": tf.string}),
                      "regress": signature(REGRESS_METHOD, {"inputs": tf.string})}
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for name, signature_def in signatures.items():
        signature_map.signature_def[name].CopyFrom(signature_def)
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = MODEL
    response.model_spec.version.value = 3
    response.metadata["signature_def"].Pack(signature_map)
    return response.SerializeToString()


class RecordingServer:
    """Answers every TF Serving call with a fixed (valid) response and keeps each request's bytes."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, bytes]] = []
        answers = {"Predict": b"", "Classify": b"", "Regress": b"", "GetModelMetadata": metadata_response(),
                   "GetModelStatus": b""}
        handlers = {
            "tensorflow.serving.PredictionService": ("Predict", "Classify", "Regress", "GetModelMetadata"),
            "tensorflow.serving.ModelService": ("GetModelStatus",),
        }
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        for service, methods in handlers.items():
            self.server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(service, {
                method: grpc.unary_unary_rpc_method_handler(self._recorder(method, answers[method]))
                for method in methods})])
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    def _recorder(self, method: str, answer: bytes):
        def handle(request: bytes, context) -> bytes:  # no (de)serializers: raw bytes both ways
            self.requests.append((method, request))
            return answer
        return handle

    def take(self, method: str) -> bytes:
        """The bytes of the last `method` call; forgets every recorded call."""
        matching = [request for name, request in self.requests if name == method]
        self.requests.clear()
        return matching[-1]


@pytest.fixture(scope="module")
def recording():
    server = RecordingServer()
    server.server.start()
    yield server
    server.server.stop(grace=None)


@pytest.fixture(scope="module")
def official(recording):
    channel = grpc.insecure_channel(f"127.0.0.1:{recording.port}")
    yield (prediction_service_pb2_grpc.PredictionServiceStub(channel), model_service_pb2_grpc.ModelServiceStub(channel))
    channel.close()


@pytest.fixture
def client(recording):
    with Client(f"127.0.0.1:{recording.port}", timeout=10, retry=RetryPolicy(max_attempts=1)) as client:
        yield client


def spec(signature_name: str = "", version: int | None = None) -> model_pb2.ModelSpec:
    model_spec = model_pb2.ModelSpec(name=MODEL, signature_name=signature_name)
    if version is not None:
        model_spec.version.value = version
    return model_spec


def same_predict_request(ours: bytes, theirs: bytes) -> bool:
    """Equal messages, and each input tensor's own bytes equal (only the map's order may differ)."""
    ours_message, theirs_message = predict_pb2.PredictRequest.FromString(ours), predict_pb2.PredictRequest.FromString(theirs)
    return (ours_message == theirs_message and len(ours) == len(theirs)
            and all(ours_message.inputs[name].SerializeToString() == tensor.SerializeToString()
                    for name, tensor in theirs_message.inputs.items()))


def test_predict_bytes_equal_the_official_stubs(recording, official, client):
    x, ids = np.array([[1.5, -2.0]], np.float32), np.array([7], np.int64)
    client.predict(MODEL, {"x": x, "ids": ids}, version=3)
    ours = recording.take("Predict")

    request = predict_pb2.PredictRequest(model_spec=spec("serving_default", 3))
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(x))
    request.inputs["ids"].CopyFrom(tf.make_tensor_proto(ids))
    official[0].Predict(request, timeout=10)
    assert same_predict_request(ours, recording.take("Predict"))


def test_predict_of_strings_with_an_output_filter_equals_the_official_stubs(recording, official, client):
    names = np.array([b"bob", b"\x00binary"], dtype=object)
    client.predict(MODEL, {"names": names}, signature="names", output_filter=["y"])
    ours = recording.take("Predict")

    request = predict_pb2.PredictRequest(model_spec=spec("names"), output_filter=["y"])
    request.inputs["names"].CopyFrom(tf.make_tensor_proto(names))
    official[0].Predict(request, timeout=10)
    assert same_predict_request(ours, recording.take("Predict"))


@pytest.mark.parametrize("method, request_class, signature_name", [
    ("Classify", classification_pb2.ClassificationRequest, "classify"),
    ("Regress", regression_pb2.RegressionRequest, "regress"),
])
def test_classify_and_regress_bytes_equal_the_official_stubs(recording, official, client, method, request_class,
                                                              signature_name):
    examples = [{"x": [1.0, 2.0], "n": 3, "s": "a"}, {"x": [0.5, 0.0], "n": -1, "s": "b"}]
    tf_examples = [tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(float_list=tf.train.FloatList(value=e["x"])),
        "n": tf.train.Feature(int64_list=tf.train.Int64List(value=[e["n"]])),
        "s": tf.train.Feature(bytes_list=tf.train.BytesList(value=[e["s"].encode()]))})) for e in examples]

    getattr(client, method.lower())(MODEL, examples)
    ours = recording.take(method)
    request = request_class(model_spec=spec(signature_name))
    request.input.example_list.examples.extend(tf_examples)
    getattr(official[0], method)(request, timeout=10)
    assert ours == recording.take(method)


def test_metadata_and_status_bytes_equal_the_official_stubs(recording, official, client):
    client.metadata(MODEL, version=3)
    ours = recording.take("GetModelMetadata")
    official[0].GetModelMetadata(get_model_metadata_pb2.GetModelMetadataRequest(
        model_spec=spec(version=3), metadata_field=["signature_def", LABELS_FIELD, MODEL_CARD_FIELD]), timeout=10)
    assert ours == recording.take("GetModelMetadata")

    client.status(MODEL)
    ours = recording.take("GetModelStatus")
    official[1].GetModelStatus(get_model_status_pb2.GetModelStatusRequest(model_spec=spec()), timeout=10)
    assert ours == recording.take("GetModelStatus")
