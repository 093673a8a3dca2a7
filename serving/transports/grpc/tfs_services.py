"""TensorFlow Serving's gRPC services, tensorflow.serving.PredictionService and ModelService:
each method hands its request to the API that answers it (serving/apis/tfs)."""

from __future__ import annotations

from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2, inference_pb2, model_management_pb2,
                                     model_service_pb2, predict_pb2, prediction_service_pb2,
                                     regression_pb2)

from serving.apis import endpoints
from serving.apis.tfs import classify_regress, metadata, multi_inference, predict, reload, status
from serving.apis.tfs.settings import TfsSettings
from serving.transports.grpc.handlers import GrpcMethod

# Their descriptors also let reflection describe them.
PREDICTION_SERVICE = prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"].full_name
MODEL_SERVICE = model_service_pb2.DESCRIPTOR.services_by_name["ModelService"].full_name


def prediction_service(manager, settings: TfsSettings) -> dict[str, GrpcMethod]:
    """PredictionService's methods, answering from `manager`."""
    return {
        "Predict": GrpcMethod(
            endpoints.PREDICT, predict_pb2.PredictRequest,
            lambda request, call: predict.predict_async(manager, request, call, settings),
            awaited=True),
        "Classify": GrpcMethod(
            endpoints.CLASSIFY, classification_pb2.ClassificationRequest,
            lambda request, call: classify_regress.classify(manager, request, call, settings)),
        "Regress": GrpcMethod(
            endpoints.REGRESS, regression_pb2.RegressionRequest,
            lambda request, call: classify_regress.regress(manager, request, call, settings)),
        "MultiInference": GrpcMethod(
            endpoints.MULTI_INFERENCE, inference_pb2.MultiInferenceRequest,
            lambda request, call: multi_inference.multi_inference(manager, request, call,
                                                                  settings)),
        "GetModelMetadata": GrpcMethod(
            endpoints.GET_MODEL_METADATA, get_model_metadata_pb2.GetModelMetadataRequest,
            lambda request, call: metadata.get_model_metadata(manager, request, call)),
    }


def model_service(manager, request_logger=None) -> dict[str, GrpcMethod]:
    """ModelService's methods, answering from `manager`; a reloaded config's logging_configs go
    to `request_logger` (a ServerRequestLogger)."""
    return {
        "GetModelStatus": GrpcMethod(
            endpoints.GET_MODEL_STATUS, get_model_status_pb2.GetModelStatusRequest,
            lambda request, call: status.get_model_status(manager, request, call)),
        "HandleReloadConfigRequest": GrpcMethod(
            endpoints.RELOAD_CONFIG, model_management_pb2.ReloadConfigRequest,
            lambda request, call: reload.reload_config(manager, request, call, request_logger)),
    }
