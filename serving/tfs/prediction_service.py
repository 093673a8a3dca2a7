"""tensorflow.serving.PredictionService over the model manager: Predict, Classify, Regress,
MultiInference and GetModelMetadata.

Each method converts the protobuf, holds a servable handle for the call, runs it and converts
back. Errors are raised as `serving.errors` types and turned into gRPC statuses by the server's
error-mapping interceptor, never here.
"""

from __future__ import annotations

import os

from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    inference_pb2,
    model_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from google.protobuf import wrappers_pb2

from serving import errors
from serving.batching.deadlines import grpc_deadline
from serving.tfs import example_inference, model_specs
from serving.tfs.tensor_codec import ndarray_to_tensor_proto, tensor_proto_to_ndarray

SIGNATURE_DEF_FIELD = "signature_def"
# Extensions beyond TF Serving (which knows only signature_def): files a zoo export carries,
# each sent as a StringValue when the version has it.
EXTRA_METADATA_FILES = {
    "labels": ("assets", "labels.txt"),
    "model_card": ("assets.extra", "model_card.json"),
}
SUPPORTED_METADATA_FIELDS = (SIGNATURE_DEF_FIELD, *EXTRA_METADATA_FILES)


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """TF Serving's PredictionService, answering from `manager` (a serving.core ModelManager).

    `tensor_content_outputs`: encode Predict outputs in tensor_content (fast) rather than the
    typed *_val fields (TF Serving's default, --enable_serialization_as_tensor_content=false).
    `check_method_name`: --enable_signature_method_name_check.
    """

    def __init__(self, manager, *, tensor_content_outputs: bool = True, check_method_name: bool = False):
        self._manager = manager
        self._tensor_content_outputs = tensor_content_outputs
        self._check_method_name = check_method_name

    def Predict(self, request: predict_pb2.PredictRequest, context) -> predict_pb2.PredictResponse:
        model_spec = model_specs.required_model_spec(request)
        signature_name = model_specs.signature_name_of(model_spec)
        with model_specs.servable_for(self._manager, model_spec) as servable:
            self._check_predict_signature(servable, signature_name)
            inputs = {alias: tensor_proto_to_ndarray(tensor, alias) for alias, tensor in request.inputs.items()}
            outputs = servable.run(signature_name, inputs, list(request.output_filter),
                                   deadline=grpc_deadline(context))
            version = servable.version
        response = predict_pb2.PredictResponse()
        model_specs.fill_model_spec(response.model_spec, model_spec.name, version, signature_name)
        for alias, array in outputs.items():
            ndarray_to_tensor_proto(array, use_tensor_content=self._tensor_content_outputs,
                                    out=response.outputs[alias])
        return response

    def Classify(self, request: classification_pb2.ClassificationRequest, context
                 ) -> classification_pb2.ClassificationResponse:
        model_spec = model_specs.required_model_spec(request)
        with model_specs.servable_for(self._manager, model_spec) as servable:
            result = example_inference.classify(
                servable, model_specs.signature_name_of(model_spec), request.input,
                check_method_name=self._check_method_name, deadline=grpc_deadline(context),
            )
            version = servable.version
        response = classification_pb2.ClassificationResponse(result=result)
        model_specs.fill_model_spec(response.model_spec, model_spec.name, version, model_spec.signature_name)
        return response

    def Regress(self, request: regression_pb2.RegressionRequest, context
                ) -> regression_pb2.RegressionResponse:
        model_spec = model_specs.required_model_spec(request)
        with model_specs.servable_for(self._manager, model_spec) as servable:
            result = example_inference.regress(
                servable, model_specs.signature_name_of(model_spec), request.input,
                check_method_name=self._check_method_name, deadline=grpc_deadline(context),
            )
            version = servable.version
        response = regression_pb2.RegressionResponse(result=result)
        model_specs.fill_model_spec(response.model_spec, model_spec.name, version, model_spec.signature_name)
        return response

    def MultiInference(self, request: inference_pb2.MultiInferenceRequest, context
                       ) -> inference_pb2.MultiInferenceResponse:
        # TF Serving picks the servable from the first task's spec (an empty one if none).
        first_spec = request.tasks[0].model_spec if request.tasks else model_pb2.ModelSpec()
        with model_specs.servable_for(self._manager, first_spec) as servable:
            return example_inference.multi_inference(
                servable, request, check_method_name=self._check_method_name,
                deadline=grpc_deadline(context),
            )

    def GetModelMetadata(self, request: get_model_metadata_pb2.GetModelMetadataRequest, context
                         ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        model_spec = model_specs.required_model_spec(request)
        if not request.metadata_field:
            raise errors.InvalidArgument("GetModelMetadataRequest must specify at least one metadata_field")
        for field in request.metadata_field:
            if field not in SUPPORTED_METADATA_FIELDS:
                raise errors.InvalidArgument(
                    f"Metadata field {field} is not supported; supported fields: {', '.join(SUPPORTED_METADATA_FIELDS)}"
                )
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        with model_specs.servable_for(self._manager, model_spec) as servable:
            model_specs.fill_model_spec(response.model_spec, servable.name, servable.version)
            if SIGNATURE_DEF_FIELD in request.metadata_field:
                signature_map = get_model_metadata_pb2.SignatureDefMap()
                for key, signature in servable.signature_defs.items():
                    signature_map.signature_def[key].CopyFrom(signature)
                response.metadata[SIGNATURE_DEF_FIELD].Pack(signature_map)
            for field, relative in EXTRA_METADATA_FILES.items():
                if field in request.metadata_field:
                    text = _read_version_file(servable.path, relative)
                    if text is not None:
                        response.metadata[field].Pack(wrappers_pb2.StringValue(value=text))
        return response

    def _check_predict_signature(self, servable, signature_name: str) -> None:
        """TF Serving's order: an unknown signature is reported before any input is looked at."""
        signature = servable.signature_defs.get(signature_name)
        if signature is None:
            raise errors.FailedPrecondition(f'Serving signature key "{signature_name}" not found.')
        allowed = (example_inference.PREDICT_METHOD, example_inference.CLASSIFY_METHOD,
                   example_inference.REGRESS_METHOD)
        if self._check_method_name and signature.method_name not in allowed:
            # TF Serving reports this as INTERNAL; it is the model, not the request, at fault.
            raise errors.Internal(
                f"Expected prediction signature method_name to be one of {{{', '.join(allowed)}}}. "
                f"Was: {signature.method_name}"
            )


def _read_version_file(version_path: str, relative: tuple[str, ...]) -> str | None:
    """A file inside the version directory the servable was loaded from (None if absent)."""
    path = os.path.join(version_path, *relative)
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except OSError:
        return None
