"""Classify and Regress: tf.Example in, ClassificationResult / RegressionResult out.

These follow TF Serving's classifier.cc and regressor.cc check for check and message for message,
because clients and tests match on them: a classify signature has one input "inputs" (the
serialized examples) and outputs "classes" (string [batch, n]) and/or "scores" (float
[batch, n]); a regress signature has one input "inputs" and one output "outputs" (float [batch]
or [batch, 1]). The method_name of a signature is checked only when
--enable_signature_method_name_check is on, which TF Serving also leaves off by default so native
TF2 models can be served. MultiInference (multi_inference.py) reuses the checks and results.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from google.protobuf import text_format
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import classification_pb2, regression_pb2

from serving import errors
from serving.apis.tfs import model_specs, request_logger
from serving.apis.tfs.examples import serialized_examples
from serving.apis.tfs.settings import TfsSettings
from serving.apis.tfs.tensor_codec import data_type_name, tf_data_type
from serving.contract import (CLASSES_OUTPUT, CLASSIFY_METHOD, EXAMPLES_INPUT, REGRESS_METHOD,
                              REGRESSION_OUTPUT, SCORES_OUTPUT)


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


def classify(manager, request: classification_pb2.ClassificationRequest, call,
             settings: TfsSettings) -> classification_pb2.ClassificationResponse:
    """Classifies the request's examples with the version its model_spec names."""
    response = model_specs.answer_on_named_version(
        manager, model_specs.required_model_spec(request), call,
        lambda servable: classify_on(servable, request, call.deadline, settings),
        runs_signature=True)
    if settings.request_logger is not None:
        settings.request_logger.log(request_logger.CLASSIFY_LOG, request, response)
    return response


def classify_on(servable, request: classification_pb2.ClassificationRequest,
                deadline: float | None, settings: TfsSettings
                ) -> classification_pb2.ClassificationResponse:
    """Runs a ClassificationRequest on one loaded version; warmup calls this directly.

    The signature is checked before the examples, so errors come in TF Serving's order.
    """
    signature_name = model_specs.signature_name_of(request.model_spec)
    signature = _named_signature(servable, signature_name)
    output_aliases = classification_outputs(signature, check_method_name=settings.check_method_name)
    examples = serialized_examples(request.input)
    outputs = servable.run(signature_name, {EXAMPLES_INPUT: examples}, output_aliases,
                           deadline=deadline, check_dtypes=False)
    response = classification_pb2.ClassificationResponse(
        result=classification_result(outputs, len(examples)))
    model_specs.fill_model_spec(response.model_spec, request.model_spec.name, servable.version,
                                request.model_spec.signature_name)
    return response


def regress(manager, request: regression_pb2.RegressionRequest, call, settings: TfsSettings
            ) -> regression_pb2.RegressionResponse:
    """Regresses the request's examples with the version its model_spec names."""
    response = model_specs.answer_on_named_version(
        manager, model_specs.required_model_spec(request), call,
        lambda servable: regress_on(servable, request, call.deadline, settings),
        runs_signature=True)
    if settings.request_logger is not None:
        settings.request_logger.log(request_logger.REGRESS_LOG, request, response)
    return response


def regress_on(servable, request: regression_pb2.RegressionRequest, deadline: float | None,
               settings: TfsSettings) -> regression_pb2.RegressionResponse:
    """Runs a RegressionRequest on one loaded version; warmup calls this directly."""
    signature_name = model_specs.signature_name_of(request.model_spec)
    signature = _named_signature(servable, signature_name)
    output_aliases = regression_outputs(signature, check_method_name=settings.check_method_name)
    examples = serialized_examples(request.input)
    outputs = servable.run(signature_name, {EXAMPLES_INPUT: examples}, output_aliases,
                           deadline=deadline, check_dtypes=False)
    response = regression_pb2.RegressionResponse(result=regression_result(outputs, len(examples)))
    model_specs.fill_model_spec(response.model_spec, request.model_spec.name, servable.version,
                                request.model_spec.signature_name)
    return response


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
