"""Counts every gRPC model call in one place: a server interceptor around all unary handlers.

It must come before `serving.server.ErrorMappingInterceptor` in the server's interceptor list, so
it wraps the error mapping and sees the final status: an aborted call's code is read from the
context, and so is a code set without raising (HandleReloadConfigRequest does that).

Only the model APIs of TF Serving's and the Open Inference Protocol's services are counted; health
checks and reflection pass through untouched.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import grpc

from serving.metrics.recorders import record_request

_TFS = "/tensorflow.serving.PredictionService/"
_MODEL_SERVICE = "/tensorflow.serving.ModelService/"
_OIP = "/inference.GRPCInferenceService/"


@dataclasses.dataclass(frozen=True)
class _Api:
    name: str
    model: Callable  # request -> model name
    version: Callable  # (request, response or None) -> version label value or None


def _spec_model(request) -> str:
    return request.model_spec.name


def _spec_version(request, response):
    for message in (response, request):
        spec = getattr(message, "model_spec", None) if message is not None else None
        if spec is not None and spec.HasField("version"):
            return spec.version.value
    spec = request.model_spec
    return spec.version_label or None


def _multi_model(request) -> str:
    return request.tasks[0].model_spec.name if request.tasks else ""


def _multi_version(request, response):
    if response is not None and response.results:
        return response.results[0].model_spec.version.value
    return None


def _oip_infer_version(request, response):
    return (response.model_version if response is not None else "") or request.model_version or None


def _oip_named_version(request, response):
    return request.version or None


def _no_model(request) -> str:
    return ""


def _no_version(request, response):
    return None


_APIS = {
    _TFS + "Predict": _Api("predict", _spec_model, _spec_version),
    _TFS + "Classify": _Api("classify", _spec_model, _spec_version),
    _TFS + "Regress": _Api("regress", _spec_model, _spec_version),
    _TFS + "MultiInference": _Api("multi_inference", _multi_model, _multi_version),
    _TFS + "GetModelMetadata": _Api("get_model_metadata", _spec_model, _spec_version),
    _MODEL_SERVICE + "GetModelStatus": _Api("get_model_status", _spec_model, _spec_version),
    _MODEL_SERVICE + "HandleReloadConfigRequest": _Api("reload_config", _no_model, _no_version),
    _OIP + "ModelInfer": _Api("oip_infer", lambda request: request.model_name, _oip_infer_version),
    _OIP + "ModelMetadata": _Api("oip_model_metadata", lambda request: request.name,
                                 _oip_named_version),
    _OIP + "ModelReady": _Api("oip_model_ready", lambda request: request.name, _oip_named_version),
    _OIP + "ServerLive": _Api("oip_server_live", _no_model, _no_version),
    _OIP + "ServerReady": _Api("oip_server_ready", _no_model, _no_version),
    _OIP + "ServerMetadata": _Api("oip_server_metadata", _no_model, _no_version),
}


class MetricsInterceptor(grpc.ServerInterceptor):
    """Records `:tensorflow:serving:request_count` / `request_latency` (entrypoint GRPC)."""

    def __init__(self):
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = continuation(handler_call_details)
        api = _APIS.get(method)
        if api is None or handler is None or handler.unary_unary is None:
            return handler
        wrapped = grpc.unary_unary_rpc_method_handler(
            _observed(api, handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
        self._wrapped[method] = wrapped
        return wrapped


def _observed(api: _Api, behavior):
    def observed(request, context):
        started = time.monotonic()
        try:
            response = behavior(request, context)
        except BaseException:
            # context.abort raises after setting the code; anything else escaped unmapped.
            _record(api, request, None, context.code() or grpc.StatusCode.UNKNOWN, started)
            raise
        _record(api, request, response, context.code() or grpc.StatusCode.OK, started)
        return response

    return observed


def _record(api: _Api, request, response, code: grpc.StatusCode, started: float) -> None:
    record_request(api.model(request), api.version(request, response), api.name, "GRPC", code,
                   time.monotonic() - started)
