"""Predict: TensorFlow Serving's PredictRequest in, PredictResponse out (predict_util.cc).

The gRPC service runs `predict_async` on its event loop, warmup replay runs `predict_on` on a
version it holds, and the REST API runs `predict_arrays` on the tensors it decodes from JSON: all
make the same checks and model call, so a request gets the same errors and answer whichever way
it came.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from tensorflow_serving.apis import predict_pb2

from serving import contract, errors
from serving.apis.tfs import model_specs, request_logger
from serving.apis.tfs.settings import TfsSettings
from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto, tensor_proto_to_ndarray

_PREDICT_METHODS = (contract.PREDICT_METHOD, contract.CLASSIFY_METHOD, contract.REGRESS_METHOD)


async def predict_async(manager, request: predict_pb2.PredictRequest, call,
                        settings: TfsSettings) -> predict_pb2.PredictResponse:
    """Runs the request on the version its model_spec names. The request is decoded and
    answered on the caller's event loop thread; only the model call is awaited (see
    Servable.run_async), so a batched request holds no thread while its batch forms and runs.

    Raises:
        errors.InvalidArgument: no model_spec or name, bad inputs or output filter.
        errors.NotFound: no such model or version.
        errors.FailedPrecondition: no such signature.
        errors.DeadlineExceeded: `call.deadline` passed before the model ran.
    """
    with model_specs.named_version(manager, model_specs.required_model_spec(request), call,
                                   runs_signature=True) as servable:
        signature_name, inputs = _decoded_inputs(servable, request, settings)
        outputs = await servable.run_async(signature_name, inputs, list(request.output_filter),
                                           deadline=call.deadline)
        response = _response(servable, request, signature_name, outputs, settings)
    _log(settings, request, response)
    return response


def predict_on(servable, request: predict_pb2.PredictRequest, deadline: float | None,
               settings: TfsSettings) -> predict_pb2.PredictResponse:
    """Runs a PredictRequest on one loaded version; warmup calls this directly."""
    signature_name, inputs = _decoded_inputs(servable, request, settings)
    outputs = servable.run(signature_name, inputs, list(request.output_filter), deadline=deadline)
    return _response(servable, request, signature_name, outputs, settings)


def _decoded_inputs(servable, request: predict_pb2.PredictRequest, settings: TfsSettings
                    ) -> tuple[str, dict[str, np.ndarray]]:
    """The signature a request runs (checked to exist first, as TF Serving does) and its inputs
    as arrays."""
    signature_name = model_specs.signature_name_of(request.model_spec)
    check_predict_signature(servable, signature_name, settings.check_method_name)
    return signature_name, {alias: tensor_proto_to_ndarray(tensor, alias)
                            for alias, tensor in request.inputs.items()}


def _response(servable, request: predict_pb2.PredictRequest, signature_name: str,
              outputs: Mapping[str, np.ndarray], settings: TfsSettings
              ) -> predict_pb2.PredictResponse:
    response = predict_pb2.PredictResponse()
    model_specs.fill_model_spec(response.model_spec, request.model_spec.name, servable.version,
                                signature_name)
    for alias, array in outputs.items():
        ndarray_to_tensor_proto(array, use_tensor_content=settings.tensor_content_outputs,
                                out=response.outputs[alias])
    return response


def _log(settings: TfsSettings, request: predict_pb2.PredictRequest,
         response: predict_pb2.PredictResponse) -> None:
    if settings.request_logger is not None:
        settings.request_logger.log(request_logger.PREDICT_LOG, request, response)


def predict_arrays(servable, signature_name: str, inputs: Mapping[str, np.ndarray],
                   deadline: float | None, settings: TfsSettings) -> dict[str, np.ndarray]:
    """Predict's checks and model call on inputs a transport decoded itself (the REST API's
    JSON), with no PredictRequest built only to be taken apart again."""
    check_predict_signature(servable, signature_name, settings.check_method_name)
    return servable.run(signature_name, inputs, [], deadline=deadline)


def check_predict_signature(servable, signature_name: str, check_method_name: bool) -> None:
    """TF Serving's order: an unknown signature is reported before any input is looked at."""
    signature = servable.signature_defs.get(signature_name)
    if signature is None:
        raise errors.FailedPrecondition(f'Serving signature key "{signature_name}" not found.')
    if check_method_name and signature.method_name not in _PREDICT_METHODS:
        # TF Serving reports this as INTERNAL; it is the model, not the request, at fault.
        raise errors.Internal(
            f"Expected prediction signature method_name to be one of "
            f"{{{', '.join(_PREDICT_METHODS)}}}. Was: {signature.method_name}")
