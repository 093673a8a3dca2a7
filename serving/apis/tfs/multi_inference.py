"""MultiInference: several classify and regress signatures of one model on the same examples.

TF Serving runs the tasks in one Session call (multi_inference.cc); here each signature is its
own function call, which gives the same results. Every task is validated before any runs, with
TF Serving's messages.
"""

from __future__ import annotations

from tensorflow_serving.apis import inference_pb2, model_pb2

from serving import errors
from serving.apis.tfs import model_specs, request_logger
from serving.apis.tfs.classify_regress import (classification_outputs, classification_result,
                                               regression_outputs, regression_result)
from serving.apis.tfs.examples import serialized_examples
from serving.apis.tfs.settings import TfsSettings
from serving.contract import CLASSIFY_METHOD, EXAMPLES_INPUT, REGRESS_METHOD


def multi_inference(manager, request: inference_pb2.MultiInferenceRequest, call,
                    settings: TfsSettings) -> inference_pb2.MultiInferenceResponse:
    """Runs the request's tasks on the version its first task names (an unnamed spec when there
    is no task, as TF Serving does)."""
    first_spec = request.tasks[0].model_spec if request.tasks else model_pb2.ModelSpec()
    response = model_specs.answer_on_named_version(
        manager, first_spec, call,
        lambda servable: multi_inference_on(servable, request, call.deadline, settings))
    if settings.request_logger is not None:
        settings.request_logger.log(request_logger.MULTI_INFERENCE_LOG, request, response)
    return response


def multi_inference_on(servable, request: inference_pb2.MultiInferenceRequest,
                       deadline: float | None, settings: TfsSettings
                       ) -> inference_pb2.MultiInferenceResponse:
    """Runs every task of the request on one loaded version; warmup calls this directly.

    Tasks must name one model, no signature twice, and method_name classify or regress
    (UNIMPLEMENTED otherwise).
    """
    plans = []
    seen_signatures: set[str] = set()
    model_name = ""
    for task in request.tasks:
        if not task.model_spec.name:
            raise errors.InvalidArgument("Found ModelSpec with an empty model name.")
        if model_name and task.model_spec.name != model_name:
            raise errors.InvalidArgument(
                "All ModelSpecs in a MultiInferenceRequest must access the same model name.")
        model_name = task.model_spec.name
        signature_name = model_specs.signature_name_of(task.model_spec)
        if signature_name in seen_signatures:
            raise errors.InvalidArgument(f"Duplicate evaluation of signature: {signature_name}")
        seen_signatures.add(signature_name)
        signature = servable.signature_defs.get(signature_name)
        if signature is None:
            raise errors.InvalidArgument(
                f"Requested signature not found in model graph: {signature_name}")
        check = settings.check_method_name
        if task.method_name == CLASSIFY_METHOD:
            output_aliases = classification_outputs(signature, check_method_name=check)
        elif task.method_name == REGRESS_METHOD:
            output_aliases = regression_outputs(signature, check_method_name=check)
        else:
            raise errors.Unimplemented(f"Unsupported signature method_name: {task.method_name}")
        plans.append((task, signature_name, output_aliases))

    examples = serialized_examples(request.input)
    response = inference_pb2.MultiInferenceResponse()
    for task, signature_name, output_aliases in plans:
        outputs = servable.run(signature_name, {EXAMPLES_INPUT: examples}, output_aliases,
                               deadline=deadline, check_dtypes=False)
        result = response.results.add()
        if task.method_name == CLASSIFY_METHOD:
            result.classification_result.CopyFrom(classification_result(outputs, len(examples)))
        else:
            result.regression_result.CopyFrom(regression_result(outputs, len(examples)))
        model_specs.fill_model_spec(result.model_spec, task.model_spec.name, servable.version,
                                    task.model_spec.signature_name)
    return response
