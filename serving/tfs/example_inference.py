"""Classify, Regress and MultiInference: tf.Example in, ClassificationResult / RegressionResult out.

These follow TF Serving's classifier.cc, regressor.cc and multi_inference.cc check for check and
message for message, because clients and tests match on them: a classify signature has one input
"inputs" (the serialized examples) and outputs "classes" (string [batch, n]) and/or "scores"
(float [batch, n]); a regress signature has one input "inputs" and one output "outputs" (float
[batch] or [batch, 1]). The method_name of a signature is checked only when
--enable_signature_method_name_check is on, which TF Serving also leaves off by default so native
TF2 models can be served.

MultiInference runs each task's signature on the same examples. TF Serving runs them in one
Session call; here each signature is its own function call, which gives the same results.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from google.protobuf import text_format
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import classification_pb2, inference_pb2, input_pb2, regression_pb2

from serving import errors
from serving.tfs import model_specs
from serving.tfs.examples import serialized_examples
from serving.tfs.tensor_codec import data_type_name, tf_data_type

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"
PREDICT_METHOD = "tensorflow/serving/predict"

EXAMPLES_INPUT = "inputs"
CLASSES_OUTPUT = "classes"
SCORES_OUTPUT = "scores"
REGRESSION_OUTPUT = "outputs"


def classification_outputs(signature, *, check_method_name: bool) -> list[str]:
    """The output aliases a classify signature is run for (classes and/or scores).

    Raises errors.InvalidArgument with TF Serving's PreProcessClassification messages.
    """
    if check_method_name and signature.method_name != CLASSIFY_METHOD:
        raise errors.InvalidArgument(
            f"Expected classification signature method_name to be {CLASSIFY_METHOD}. "
            f"Was: {signature.method_name}"
        )
    if len(signature.inputs) != 1:
        raise errors.InvalidArgument("Expected one input Tensor.")
    if len(signature.outputs) not in (1, 2):
        raise errors.InvalidArgument(
            f"Expected one or two output Tensors, found {len(signature.outputs)}"
        )
    if EXAMPLES_INPUT not in signature.inputs:
        raise errors.InvalidArgument(
            f"No classification inputs found in SignatureDef: {_debug_string(signature)}"
        )
    outputs = [alias for alias in (CLASSES_OUTPUT, SCORES_OUTPUT) if alias in signature.outputs]
    if not outputs:
        raise errors.InvalidArgument(
            f'Expected classification signature outputs to contain at least one of "{CLASSES_OUTPUT}" '
            f'or "{SCORES_OUTPUT}". Signature was: {_debug_string(signature)}'
        )
    return outputs


def regression_outputs(signature, *, check_method_name: bool) -> list[str]:
    """The output alias a regress signature is run for ("outputs").

    Raises errors.InvalidArgument with TF Serving's PreProcessRegression messages.
    """
    if check_method_name and signature.method_name != REGRESS_METHOD:
        raise errors.InvalidArgument(
            f"Expected regression signature method_name to be {REGRESS_METHOD}. "
            f"Was: {signature.method_name}"
        )
    if len(signature.inputs) != 1:
        raise errors.InvalidArgument("Expected one input Tensor.")
    if len(signature.outputs) != 1:
        raise errors.InvalidArgument("Expected one output Tensor.")
    if EXAMPLES_INPUT not in signature.inputs:
        raise errors.InvalidArgument(
            f"No regression inputs found in SignatureDef: {_debug_string(signature)}"
        )
    if REGRESSION_OUTPUT not in signature.outputs:
        raise errors.InvalidArgument(
            f"No regression outputs found in SignatureDef: {_debug_string(signature)}"
        )
    return [REGRESSION_OUTPUT]


def classify(servable, signature_name: str, input_proto: input_pb2.Input, *,
             check_method_name: bool, deadline: float | None = None
             ) -> classification_pb2.ClassificationResult:
    """Runs a classify signature on the Input's examples and builds the ClassificationResult.

    The signature is checked before the examples, so errors come in TF Serving's order.
    `deadline` (time.monotonic() seconds) is when the caller stops waiting, as for Predict.
    """
    signature = _named_signature(servable, signature_name)
    output_aliases = classification_outputs(signature, check_method_name=check_method_name)
    examples = serialized_examples(input_proto)
    outputs = servable.run(signature_name, {EXAMPLES_INPUT: examples}, output_aliases,
                           deadline=deadline)
    return classification_result(outputs, len(examples))


def regress(servable, signature_name: str, input_proto: input_pb2.Input, *,
            check_method_name: bool, deadline: float | None = None) -> regression_pb2.RegressionResult:
    """Runs a regress signature on the Input's examples and builds the RegressionResult."""
    signature = _named_signature(servable, signature_name)
    output_aliases = regression_outputs(signature, check_method_name=check_method_name)
    examples = serialized_examples(input_proto)
    outputs = servable.run(signature_name, {EXAMPLES_INPUT: examples}, output_aliases,
                           deadline=deadline)
    return regression_result(outputs, len(examples))


def classification_result(outputs: Mapping[str, np.ndarray], num_examples: int
                          ) -> classification_pb2.ClassificationResult:
    """classes [batch, n] and/or scores [batch, n] -> one Classifications per example."""
    classes = outputs.get(CLASSES_OUTPUT)
    scores = outputs.get(SCORES_OUTPUT)
    if classes is not None:
        _check_classification_tensor("classes", classes, types_pb2.DT_STRING, num_examples)
    if scores is not None:
        _check_classification_tensor("scores", scores, types_pb2.DT_FLOAT, num_examples)
    if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
        raise errors.InvalidArgument(
            "Tensors class and score should match in dim_size(1). "
            f"Got {classes.shape[1]} vs. {scores.shape[1]}"
        )
    num_classes = (classes if classes is not None else scores).shape[1]
    labels = classes.tolist() if classes is not None else None
    score_rows = scores.tolist() if scores is not None else None
    result = classification_pb2.ClassificationResult()
    for example in range(num_examples):
        classifications = result.classifications.add()
        for index in range(num_classes):
            entry = classifications.classes.add()
            if labels is not None:
                entry.label = _label_text(labels[example][index])
            if score_rows is not None:
                entry.score = score_rows[example][index]
    return result


def regression_result(outputs: Mapping[str, np.ndarray], num_examples: int
                      ) -> regression_pb2.RegressionResult:
    """outputs [batch] or [batch, 1] -> one Regression per example."""
    values = outputs[REGRESSION_OUTPUT]
    if not (values.ndim == 1 or (values.ndim == 2 and values.shape[1] == 1)):
        raise errors.InvalidArgument(
            "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
            f"{_shape_text(values.shape)}"
        )
    if values.shape[0] != num_examples:
        raise errors.InvalidArgument(
            "Input batch size did not match output batch size: "
            f"{num_examples} vs. {values.shape[0]}"
        )
    dtype = tf_data_type(values.dtype)
    if dtype != types_pb2.DT_FLOAT:
        raise errors.InvalidArgument(f"Expected output Tensor of DT_FLOAT.  Got: {data_type_name(dtype)}")
    result = regression_pb2.RegressionResult()
    for value in values.ravel().tolist():
        result.regressions.add(value=value)
    return result


def multi_inference(servable, request: inference_pb2.MultiInferenceRequest, *,
                    check_method_name: bool, deadline: float | None = None
                    ) -> inference_pb2.MultiInferenceResponse:
    """Runs every classify/regress task of a MultiInferenceRequest on the same examples.

    All tasks are validated before any runs, with TF Serving's messages: one model for all,
    no signature twice, and method_name classify or regress (UNIMPLEMENTED otherwise).
    """
    plans = []
    seen_signatures: set[str] = set()
    model_name = ""
    for task in request.tasks:
        if not task.model_spec.name:
            raise errors.InvalidArgument("Found ModelSpec with an empty model name.")
        if model_name and task.model_spec.name != model_name:
            raise errors.InvalidArgument(
                "All ModelSpecs in a MultiInferenceRequest must access the same model name."
            )
        model_name = task.model_spec.name
        signature_name = model_specs.signature_name_of(task.model_spec)
        if signature_name in seen_signatures:
            raise errors.InvalidArgument(f"Duplicate evaluation of signature: {signature_name}")
        seen_signatures.add(signature_name)
        signature = servable.signature_defs.get(signature_name)
        if signature is None:
            raise errors.InvalidArgument(
                f"Requested signature not found in model graph: {signature_name}"
            )
        if task.method_name == CLASSIFY_METHOD:
            output_aliases = classification_outputs(signature, check_method_name=check_method_name)
        elif task.method_name == REGRESS_METHOD:
            output_aliases = regression_outputs(signature, check_method_name=check_method_name)
        else:
            raise errors.Unimplemented(f"Unsupported signature method_name: {task.method_name}")
        plans.append((task, signature_name, output_aliases))

    examples = serialized_examples(request.input)
    response = inference_pb2.MultiInferenceResponse()
    for task, signature_name, output_aliases in plans:
        outputs = servable.run(signature_name, {EXAMPLES_INPUT: examples}, output_aliases,
                           deadline=deadline)
        result = response.results.add()
        if task.method_name == CLASSIFY_METHOD:
            result.classification_result.CopyFrom(classification_result(outputs, len(examples)))
        else:
            result.regression_result.CopyFrom(regression_result(outputs, len(examples)))
        model_specs.fill_model_spec(result.model_spec, task.model_spec.name, servable.version,
                                    task.model_spec.signature_name)
    return response


def _named_signature(servable, signature_name: str):
    signature = servable.signature_defs.get(signature_name)
    if signature is None:
        raise errors.InvalidArgument(f"No signature was found with the name: {signature_name}")
    return signature


def _check_classification_tensor(name: str, array: np.ndarray, want_dtype: int, num_examples: int
                                 ) -> None:
    if array.ndim != 2:
        raise errors.InvalidArgument(
            f"Expected Tensor shape: [batch_size num_classes] but got {_shape_text(array.shape)}"
        )
    dtype = tf_data_type(array.dtype)
    if dtype != want_dtype:
        raise errors.InvalidArgument(
            f"Expected {name} Tensor of {data_type_name(want_dtype)}. Got: {data_type_name(dtype)}"
        )
    if array.shape[0] != num_examples:
        raise errors.InvalidArgument(
            f"Expected {name} output batch size of {num_examples}. Got: {array.shape[0]}"
        )


def _label_text(label) -> str:
    # ClassificationResult labels are proto strings; models emit bytes, normally UTF-8.
    return label.decode("utf-8", errors="replace") if isinstance(label, bytes) else str(label)


def _debug_string(message) -> str:
    return text_format.MessageToString(message, as_one_line=True)


def _shape_text(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"
