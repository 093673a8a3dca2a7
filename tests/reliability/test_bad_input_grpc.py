"""The bad-input catalogue over gRPC: TF Serving's PredictionService and KServe v2's ModelInfer.

Every case is sent to a real server while a good client keeps sending requests next to it. Each
bad request must get its status and a message naming the field and the expected and received
values; the good client must see no failure and no stall.

Decisions recorded here:
- NaN and +-Inf are accepted and propagated, as TF Serving does (it never inspects values): a
  model may legitimately use them, and the response shows them as they came out of the model.
- A batch of zero examples (shape [0]) is valid: the model runs and answers with empty outputs,
  as TF Serving does. A tensor that declares a non-empty shape but carries no values is refused.
- An unknown signature keeps TF Serving's exact message ('Serving signature key "nope" not
  found.'), which clients parse; it names the received key, and GetModelMetadata lists the valid
  ones.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import grpc
import numpy as np
import pytest
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import classification_pb2, predict_pb2, prediction_service_pb2_grpc

from serving.transports.grpc import grpc_predict_v2_pb2 as oip_pb2
from serving.transports.grpc import grpc_predict_v2_pb2_grpc as oip_grpc
from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto, tensor_proto_to_ndarray

MESSAGE_LIMIT = 1024 * 1024  # the server's grpc.max_receive_message_length in this module
INVALID = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture(scope="module")
def server(start_server, shared_config_file):
    return start_server(
        f"--model_config_file={shared_config_file}", "--file_system_poll_wait_seconds=0",
        f"--grpc_channel_arguments=grpc.max_receive_message_length={MESSAGE_LIMIT}")


@pytest.fixture(scope="module")
def channel(server):
    # The client may send far more than the server accepts: the limit under test is the server's.
    options = [("grpc.max_send_message_length", 64 * MESSAGE_LIMIT)]
    with grpc.insecure_channel(server.target, options=options) as channel:
        yield channel


@dataclasses.dataclass(frozen=True)
class BadCall:
    """One catalogue entry: how to build the request, and what the server must answer."""

    name: str
    build: Callable[[], object]
    code: grpc.StatusCode
    fragments: tuple[str, ...]  # each must appear in the status message

    def __str__(self) -> str:
        return self.name


# === TF Serving Predict ===


def predict(model: str, inputs: dict, *, version: int | None = None, label: str = "",
            signature: str = "", output_filter=()) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest(output_filter=list(output_filter))
    request.model_spec.name = model
    if version is not None:
        request.model_spec.version.value = version
    if label:
        request.model_spec.version_label = label
    request.model_spec.signature_name = signature
    for alias, value in inputs.items():
        tensor = value if isinstance(value, tensor_pb2.TensorProto) else ndarray_to_tensor_proto(value)
        request.inputs[alias].CopyFrom(tensor)
    return request


def raw_tensor(dtype: int, shape, **fields) -> tensor_pb2.TensorProto:
    tensor = tensor_pb2.TensorProto(dtype=dtype, **fields)
    tensor.tensor_shape.dim.extend(tensor_shape_pb2.TensorShapeProto.Dim(size=size) for size in shape)
    return tensor


X = np.array([1.0, 2.0], np.float32)
MULTI_IO_GOOD = {"ids": np.array([1, 2], np.int64), "names": np.array([b"a", b"b"], object)}

PREDICT_CASES = [
    BadCall("wrong_alias", lambda: predict("half_plus_two", {"z": X}), INVALID,
            ("Sent extra: {z}", "Missing but required: {x}")),
    BadCall("wrong_dtype", lambda: predict("half_plus_two", {"x": np.array([1, 2], np.int64)}),
            INVALID, ('input "x"', "expected dtype float32 (DT_FLOAT)", "received int64")),
    # A shape the model cannot compute (reduce_sum over axis 1 of a vector): the model's
    # refusal, named in the signature's terms.
    BadCall("wrong_rank_the_model_refuses", lambda: predict(
        "multi_io", {"features": np.ones(3, np.float32), "ids": np.array([1], np.int64),
                     "names": np.array([b"a"], object)}),
        INVALID, ('input "features"', "expected shape [-1,3]", "received shape [3]",
                  "send one example as shape [1,3]")),
    BadCall("declared_shape_without_values", lambda: predict(
        "half_plus_two", {"x": raw_tensor(types_pb2.DT_FLOAT, [2])}),
        INVALID, ('Tensor "x"', "shape [2] (2 values)", "float_val holds 0 values")),
    BadCall("tensor_without_dtype", lambda: predict("half_plus_two", {"x": tensor_pb2.TensorProto()}),
            INVALID, ("DT_INVALID", "Supported dtypes: ", "DT_FLOAT")),
    BadCall("tensor_content_length_not_matching_shape", lambda: predict(
        "half_plus_two", {"x": raw_tensor(types_pb2.DT_FLOAT, [3], tensor_content=b"\0" * 8)}),
        INVALID, ('Tensor "x"', "shape [3]", "needs 3 values (12 bytes)", "holds 8 bytes")),
    BadCall("string_where_a_number_is_expected", lambda: predict(
        "half_plus_two", {"x": np.array([b"1.5"], object)}),
        INVALID, ('input "x"', "expected dtype float32", "received string (DT_STRING)")),
    BadCall("request_ten_times_the_message_limit", lambda: predict(
        "half_plus_two", {"x": np.zeros(10 * MESSAGE_LIMIT // 4, np.float32)}),
        grpc.StatusCode.RESOURCE_EXHAUSTED, ("larger than max", f"vs. {MESSAGE_LIMIT})")),
    BadCall("unknown_model", lambda: predict("nope", {"x": X}), grpc.StatusCode.NOT_FOUND,
            ("Servable not found for request: Latest(nope)",)),
    BadCall("unknown_version", lambda: predict("half_plus_two", {"x": X}, version=99),
            grpc.StatusCode.NOT_FOUND, ("Specific(half_plus_two, 99)",)),
    BadCall("unknown_label", lambda: predict("half_plus_two", {"x": X}, label="nope"), INVALID,
            ("version label: nope", "'canary', 'stable'")),
    BadCall("unknown_signature", lambda: predict("half_plus_two", {"x": X}, signature="nope"),
            grpc.StatusCode.FAILED_PRECONDITION, ('Serving signature key "nope" not found.',)),
    BadCall("unknown_output_alias", lambda: predict("half_plus_two", {"x": X}, output_filter=["z"]),
            INVALID, ("output tensor alias not found in signature: z", "{y}")),
    BadCall("unsupported_dtype", lambda: predict(
        "half_plus_two", {"x": raw_tensor(types_pb2.DT_RESOURCE, [1])}),
        INVALID, ("DT_RESOURCE are not supported", "DT_FLOAT")),
    BadCall("negative_dimension", lambda: predict(
        "half_plus_two", {"x": raw_tensor(types_pb2.DT_FLOAT, [-1], float_val=[1.0])}),
        INVALID, ('Tensor "x"', "shape [-1]", "must be known (>= 0)")),
    BadCall("shape_whose_size_overflows_int64", lambda: predict(
        "half_plus_two", {"x": raw_tensor(types_pb2.DT_FLOAT, [2**40, 2**40])}),
        INVALID, ('Tensor "x"', f"shape [{2**40},{2**40}]", "multiply to more than")),
    BadCall("zero_and_a_huge_dimension", lambda: predict(
        "half_plus_two", {"x": raw_tensor(types_pb2.DT_FLOAT, [0, 2**62])}),
        INVALID, ('Tensor "x"', f"shape [0,{2**62}]", "multiply to more than")),
    BadCall("one_value_broadcast_to_a_huge_shape", lambda: predict(
        "half_plus_two", {"x": raw_tensor(types_pb2.DT_FLOAT, [2**33], float_val=[1.0])}),
        INVALID, ('Tensor "x"', f"({2**33} values)", "a single value fills at most")),
]


@pytest.mark.parametrize("case", PREDICT_CASES, ids=str)
def test_bad_predict_request_gets_its_status_and_a_message_naming_what_is_wrong(
        case, server, channel, good_traffic):
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    with good_traffic(server.target) as traffic:
        with pytest.raises(grpc.RpcError) as refused:
            stub.Predict(case.build(), timeout=30)
    assert refused.value.code() == case.code, refused.value.details()
    for fragment in case.fragments:
        assert fragment in refused.value.details()
    assert "\n" not in refused.value.details()
    traffic.assert_unharmed()


def test_nan_and_infinity_are_accepted_and_propagated_as_tf_serving_does(server, channel):
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    request = predict("half_plus_two", {"x": np.array([np.nan, np.inf, -np.inf], np.float32)},
                      version=1)
    y = tensor_proto_to_ndarray(stub.Predict(request, timeout=30).outputs["y"])
    assert math.isnan(y[0]) and y[1] == np.inf and y[2] == -np.inf


def test_batch_of_zero_examples_is_answered_with_empty_outputs(server, channel):
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    response = stub.Predict(predict("half_plus_two", {"x": np.zeros((0,), np.float32)}), timeout=30)
    assert tensor_proto_to_ndarray(response.outputs["y"]).shape == (0,)


# === tf.Example input (Classify) ===


def classify(feature: dict) -> classification_pb2.ClassificationRequest:
    import tensorflow as tf

    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "tf1"
    request.model_spec.signature_name = "classify"
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    request.input.example_list.examples.add().CopyFrom(example)
    return request


def float_feature(*values):
    import tensorflow as tf

    return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def int64_feature(*values):
    import tensorflow as tf

    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


EXAMPLE_CASES = [
    BadCall("example_missing_a_feature", lambda: classify({"y": float_feature(1.0)}), INVALID,
            ("Feature: x (data type: float) is required but could not be found",)),
    BadCall("example_with_a_mistyped_feature", lambda: classify({"x": int64_feature(1)}), INVALID,
            ("Key: x", "Data type: int64 but expected type: float")),
    BadCall("example_with_too_many_values", lambda: classify({"x": float_feature(1.0, 2.0)}),
            INVALID, ("Key: x", "Values size: 2 but output shape: [1]")),
]


@pytest.mark.parametrize("case", EXAMPLE_CASES, ids=str)
def test_bad_tf_example_gets_invalid_argument_naming_the_feature(case, server, channel, good_traffic):
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    with good_traffic(server.target) as traffic:
        with pytest.raises(grpc.RpcError) as refused:
            stub.Classify(case.build(), timeout=30)
    assert refused.value.code() == case.code, refused.value.details()
    for fragment in case.fragments:
        assert fragment in refused.value.details()
    assert "[[{{node" not in refused.value.details()
    traffic.assert_unharmed()


# === KServe v2 / Open Inference Protocol ModelInfer ===


def infer(model: str, inputs: list, *, version: str = "", raw: list | None = None,
          signature: str = "") -> oip_pb2.ModelInferRequest:
    request = oip_pb2.ModelInferRequest(model_name=model, model_version=version)
    for name, datatype, shape, contents in inputs:
        tensor = request.inputs.add(name=name, datatype=datatype, shape=shape)
        if contents is not None:
            getattr(tensor.contents, contents[0]).extend(contents[1])
    if raw is not None:
        request.raw_input_contents.extend(raw)
    if signature:
        request.parameters["signature_name"].string_param = signature
    return request


def tensor(name: str, datatype: str, shape: list, field: str | None = None, values=()) -> tuple:
    """One ModelInfer input: name, datatype, shape and its typed contents (None: raw or none)."""
    return name, datatype, shape, (field, list(values)) if field else None


def half_plus_two(*inputs, **options):
    return lambda: infer("half_plus_two", list(inputs), **options)


FP32_X = tensor("x", "FP32", [2], "fp32_contents", [1.0, 2.0])
HUGE_RAW = b"\0" * (10 * MESSAGE_LIMIT)

INFER_CASES = [
    BadCall("wrong_input_name", half_plus_two(tensor("z", "FP32", [2], "fp32_contents", [1.0, 2.0])),
            INVALID, ("Sent extra: {z}", "Missing but required: {x}")),
    BadCall("wrong_datatype", half_plus_two(tensor("x", "INT64", [2], "int64_contents", [1, 2])),
            INVALID, ('"x"', "expects datatype FP32", "received INT64")),
    BadCall("wrong_rank_the_model_refuses", lambda: infer("multi_io", [
        tensor("features", "FP32", [3], "fp32_contents", [1.0] * 3),
        tensor("ids", "INT64", [1], "int64_contents", [1]),
        tensor("names", "BYTES", [1], "bytes_contents", [b"a"])]),
        INVALID, ('input "features"', "expected shape [-1,3]", "received shape [3]")),
    BadCall("value_count_not_matching_shape", half_plus_two(tensor("x", "FP32", [3], "fp32_contents", [1.0])),
            INVALID, ('"x"', "needs 3 values in contents.fp32_contents", "received 1")),
    BadCall("raw_length_not_matching_shape", half_plus_two(tensor("x", "FP32", [3]), raw=[b"\0" * 8]),
            INVALID, ('"x"', "12", "8")),
    BadCall("bytes_where_a_number_is_expected",
            half_plus_two(tensor("x", "BYTES", [1], "bytes_contents", [b"1.5"])),
            INVALID, ('"x"', "expects datatype FP32", "received BYTES")),
    BadCall("unknown_datatype", half_plus_two(tensor("x", "FLOAT", [2], "fp32_contents", [1.0, 2.0])),
            INVALID, ('input "x"', "unknown datatype 'FLOAT'", "FP32")),
    BadCall("negative_dimension", half_plus_two(tensor("x", "FP32", [-1], "fp32_contents", [1.0])),
            INVALID, ('"x"', ">= 0")),
    BadCall("shape_whose_size_overflows_int64",
            half_plus_two(tensor("x", "FP32", [2**40, 2**40], "fp32_contents", [1.0])),
            INVALID, ('"x"', "multiply to more than")),
    BadCall("zero_and_a_huge_dimension", half_plus_two(tensor("x", "BYTES", [0, 2**62], "bytes_contents")),
            INVALID, ('"x"', "multiply to more than")),
    BadCall("request_ten_times_the_message_limit",
            half_plus_two(tensor("x", "FP32", [10 * MESSAGE_LIMIT // 4]), raw=[HUGE_RAW]),
            grpc.StatusCode.RESOURCE_EXHAUSTED, ("larger than max", f"vs. {MESSAGE_LIMIT})")),
    BadCall("unknown_model", lambda: infer("nope", [FP32_X]), grpc.StatusCode.NOT_FOUND, ("Latest(nope)",)),
    BadCall("unknown_version", half_plus_two(FP32_X, version="99"),
            grpc.StatusCode.NOT_FOUND, ("Specific(half_plus_two, 99)",)),
    BadCall("unknown_label", half_plus_two(FP32_X, version="nope"), INVALID,
            ("version label: nope", "'canary', 'stable'")),
    BadCall("unknown_signature", half_plus_two(FP32_X, signature="nope"),
            grpc.StatusCode.FAILED_PRECONDITION, ('Serving signature key "nope" not found.',)),
]


@pytest.mark.parametrize("case", INFER_CASES, ids=str)
def test_bad_model_infer_request_gets_its_status_and_a_message_naming_what_is_wrong(
        case, server, channel, good_traffic):
    stub = oip_grpc.GRPCInferenceServiceStub(channel)
    with good_traffic(server.target) as traffic:
        with pytest.raises(grpc.RpcError) as refused:
            stub.ModelInfer(case.build(), timeout=30)
    assert refused.value.code() == case.code, refused.value.details()
    for fragment in case.fragments:
        assert fragment in refused.value.details()
    traffic.assert_unharmed()


def test_model_infer_propagates_nan_and_infinity(server, channel):
    stub = oip_grpc.GRPCInferenceServiceStub(channel)
    request = infer("half_plus_two", [("x", "FP32", [3], ("fp32_contents", [math.nan, math.inf, -math.inf]))],
                    version="1")
    y = list(stub.ModelInfer(request, timeout=30).outputs[0].contents.fp32_contents)
    assert math.isnan(y[0]) and y[1] == math.inf and y[2] == -math.inf


@pytest.mark.parametrize("method", ["/tensorflow.serving.PredictionService/Predict",
                                    "/inference.GRPCInferenceService/ModelInfer"])
def test_body_that_is_not_a_protobuf_is_invalid_argument_not_internal(method, server, channel, good_traffic):
    with good_traffic(server.target) as traffic:
        with pytest.raises(grpc.RpcError) as refused:
            channel.unary_unary(method)(b"\xff\xff\xff\xff", timeout=30)
    assert refused.value.code() == INVALID
    assert "is not a valid" in refused.value.details() and "protocol buffer" in refused.value.details()
    traffic.assert_unharmed()
