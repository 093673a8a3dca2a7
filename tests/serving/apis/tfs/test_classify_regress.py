"""Classify, Regress and MultiInference on the TF1 classify/regress model of the shared server."""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tests.support.rpc_helpers import RPC_TIMEOUT_SECONDS, call_error
from tests.support.savedmodels import TF1_CLASSES
from tensorflow_serving.apis import classification_pb2, inference_pb2, input_pb2, regression_pb2

from serving import errors
from serving.apis import endpoints
from serving.apis.guard import GRPC, Call
from serving.apis.tfs import classify_regress
from serving.apis.tfs.settings import TfsSettings

CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"


def _example(**floats) -> tf.train.Example:
    features = {key: tf.train.Feature(float_list=tf.train.FloatList(value=[value])) for key, value in floats.items()}
    return tf.train.Example(features=tf.train.Features(feature=features))


def _input(*xs: float) -> input_pb2.Input:
    return input_pb2.Input(example_list=input_pb2.ExampleList(examples=[_example(x=x) for x in xs]))


def _classification_request(signature="classify", input_proto=None, model="tf1"):
    request = classification_pb2.ClassificationRequest(input=input_proto or _input(-2.0, 3.0))
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    return request


def _regression_request(signature="regress", input_proto=None, model="tf1"):
    request = regression_pb2.RegressionRequest(input=input_proto or _input(2.0, 4.0))
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    return request


def _task(signature, method, model="tf1") -> inference_pb2.InferenceTask:
    task = inference_pb2.InferenceTask(method_name=method)
    task.model_spec.name = model
    task.model_spec.signature_name = signature
    return task


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


def test_classify_returns_labels_and_scores_per_example(prediction_stub):
    response = prediction_stub.Classify(_classification_request(), timeout=RPC_TIMEOUT_SECONDS)
    assert response.model_spec.name == "tf1" and response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "classify"
    results = response.result.classifications
    assert len(results) == 2
    for classifications, x in zip(results, (-2.0, 3.0)):
        assert [c.label for c in classifications.classes] == [label.decode() for label in TF1_CLASSES]
        scores = [c.score for c in classifications.classes]
        np.testing.assert_allclose(scores, [1 - _sigmoid(x), _sigmoid(x)], rtol=1e-5)


def test_classify_merges_the_context_into_each_example(prediction_stub):
    input_proto = input_pb2.Input()
    input_proto.example_list_with_context.context.CopyFrom(_example(x=4.0))
    input_proto.example_list_with_context.examples.extend([_example(), _example(x=-4.0)])
    results = prediction_stub.Classify(_classification_request(input_proto=input_proto), timeout=RPC_TIMEOUT_SECONDS)
    positive_scores = [c.classes[1].score for c in results.result.classifications]
    np.testing.assert_allclose(positive_scores, [_sigmoid(4.0), _sigmoid(-4.0)], rtol=1e-5)


def test_regress_returns_one_value_per_example(prediction_stub):
    response = prediction_stub.Regress(_regression_request(), timeout=RPC_TIMEOUT_SECONDS)
    assert [r.value for r in response.result.regressions] == [3.0, 4.0]
    assert response.model_spec.signature_name == "regress" and response.model_spec.version.value == 1


def test_multi_inference_runs_classify_and_regress_on_the_same_examples(prediction_stub):
    request = inference_pb2.MultiInferenceRequest(
        tasks=[_task("classify", CLASSIFY), _task("regress", REGRESS)], input=_input(0.0, 2.0)
    )
    response = prediction_stub.MultiInference(request, timeout=RPC_TIMEOUT_SECONDS)
    classification, regression = response.results
    assert classification.model_spec.signature_name == "classify" and classification.model_spec.version.value == 1
    np.testing.assert_allclose([c.classes[1].score for c in classification.classification_result.classifications],
                               [0.5, _sigmoid(2.0)], rtol=1e-5)
    assert [r.value for r in regression.regression_result.regressions] == [2.0, 3.0]
    assert regression.model_spec.signature_name == "regress"


# === Classify / Regress errors (TF Serving's checks and messages) ===


def test_classify_with_unknown_signature_is_invalid_argument(prediction_stub):
    error = call_error(prediction_stub.Classify, _classification_request(signature="nope"))
    assert (error.code(), error.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT, "No signature was found with the name: nope")


def test_classify_on_a_regress_signature_names_the_missing_outputs(prediction_stub):
    error = call_error(prediction_stub.Classify, _classification_request(signature="regress"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(
        'Expected classification signature outputs to contain at least one of "classes" or "scores". '
        "Signature was: ")


def test_regress_on_a_classify_signature_expects_one_output(prediction_stub):
    error = call_error(prediction_stub.Regress, _regression_request(signature="classify"))
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "Expected one output Tensor.")


def test_regress_on_a_predict_signature_without_inputs_alias(prediction_stub):
    error = call_error(prediction_stub.Regress, _regression_request(signature=""))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("No regression inputs found in SignatureDef: ")


@pytest.mark.parametrize("rpc_name, make_request", [
    ("Classify", _classification_request), ("Regress", _regression_request),
])
def test_empty_input_is_invalid_argument(prediction_stub, rpc_name, make_request):
    error = call_error(getattr(prediction_stub, rpc_name), make_request(input_proto=input_pb2.Input()))
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "Input is empty.")


def test_classify_unknown_model_is_not_found(prediction_stub):
    error = call_error(prediction_stub.Classify, _classification_request(model="nope"))
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(nope)")


def test_classify_without_model_spec_is_invalid_argument(prediction_stub):
    error = call_error(prediction_stub.Classify, classification_pb2.ClassificationRequest(input=_input(1.0)))
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")


def test_method_name_check_rejects_a_predict_signature_for_classify(tfs_server):
    with pytest.raises(errors.InvalidArgument) as caught:
        classify_regress.classify(tfs_server.manager, _classification_request(signature="serving_default"),
                                  Call(endpoints.CLASSIFY, GRPC), TfsSettings(check_method_name=True))
    assert caught.value.message == (
        "Expected classification signature method_name to be tensorflow/serving/classify. "
        "Was: tensorflow/serving/predict")


def test_method_name_check_accepts_matching_signatures(tfs_server):
    response = classify_regress.regress(tfs_server.manager, _regression_request(),
                                        Call(endpoints.REGRESS, GRPC), TfsSettings(check_method_name=True))
    assert [r.value for r in response.result.regressions] == [3.0, 4.0]


# === MultiInference errors ===


@pytest.mark.parametrize("tasks, code, message", [
    ([], grpc.StatusCode.INVALID_ARGUMENT, "ModelSpec has no name specified."),
    ([_task("classify", CLASSIFY), _task("regress", REGRESS, model="")],
     grpc.StatusCode.INVALID_ARGUMENT, "Found ModelSpec with an empty model name."),
    ([_task("classify", CLASSIFY), _task("regress", REGRESS, model="half_plus_two")],
     grpc.StatusCode.INVALID_ARGUMENT, "All ModelSpecs in a MultiInferenceRequest must access the same model name."),
    ([_task("classify", CLASSIFY), _task("classify", CLASSIFY)],
     grpc.StatusCode.INVALID_ARGUMENT, "Duplicate evaluation of signature: classify"),
    ([_task("nope", CLASSIFY)],
     grpc.StatusCode.INVALID_ARGUMENT, "Requested signature not found in model graph: nope"),
    ([_task("serving_default", "tensorflow/serving/predict")],
     grpc.StatusCode.UNIMPLEMENTED, "Unsupported signature method_name: tensorflow/serving/predict"),
], ids=["no-tasks", "empty-name", "two-models", "duplicate-signature", "unknown-signature", "predict-method"])
def test_multi_inference_rejects_bad_tasks(prediction_stub, tasks, code, message):
    request = inference_pb2.MultiInferenceRequest(tasks=tasks, input=_input(1.0))
    error = call_error(prediction_stub.MultiInference, request)
    assert (error.code(), error.details()) == (code, message)


def test_multi_inference_with_empty_input_is_invalid_argument(prediction_stub):
    request = inference_pb2.MultiInferenceRequest(tasks=[_task("regress", REGRESS)])
    error = call_error(prediction_stub.MultiInference, request)
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "Input is empty.")
