"""tensorflow.serving.ModelService over the model manager: GetModelStatus and
HandleReloadConfigRequest.
"""

from __future__ import annotations

import logging

from tensorflow_serving.apis import get_model_status_pb2, model_management_pb2, model_service_pb2_grpc

from serving import errors
from serving.apis.tfs import model_config
from serving.tfs import model_specs

logger = logging.getLogger("serving.tfs")

_STATES = get_model_status_pb2.ModelVersionStatus.State


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    """TF Serving's ModelService, answering from `manager` (a serving.core ModelManager)."""

    def __init__(self, manager):
        self._manager = manager

    def GetModelStatus(self, request: get_model_status_pb2.GetModelStatusRequest, context
                       ) -> get_model_status_pb2.GetModelStatusResponse:
        model_spec = model_specs.required_model_spec(request)
        # As in TF Serving, only an explicit version narrows the answer; a label is ignored.
        version = model_spec.version.value if model_spec.HasField("version") else None
        response = get_model_status_pb2.GetModelStatusResponse()
        for status in self._manager.status(model_spec.name, version):
            entry = response.model_version_status.add(version=status.version, state=_STATES.Value(status.state))
            entry.status.SetInParent()  # TF Serving always sets it, OK (code 0) included
            if status.error_code is not None:
                entry.status.error_code = status.error_code.value[0]
                entry.status.error_message = status.error_message
        return response

    def HandleReloadConfigRequest(self, request: model_management_pb2.ReloadConfigRequest, context
                                  ) -> model_management_pb2.ReloadConfigResponse:
        """Replaces the served model list with `request.config`.

        As TF Serving does, a failure is both written into `response.status` and returned as the
        call's gRPC status (so gRPC clients see it as an error); success leaves status OK.
        """
        response = model_management_pb2.ReloadConfigResponse()
        # TF Serving collects the named metrics before and after; tfzoo records none yet, so
        # each requested metric is reported, as TF Serving reports an unknown one, with no increase.
        for metric_name in request.metric_names:
            response.metric.add(name=metric_name, int64_value_increase=0)
        try:
            if request.config.WhichOneof("config") != "model_config_list":
                raise errors.InvalidArgument(
                    "ServerModelConfig type not supported by HandleReloadConfigRequest. "
                    "Only ModelConfigList is currently supported"
                )
            logger.info("event=reload_config_requested models=%s",
                        ",".join(model.name for model in request.config.model_config_list.config))
            config = model_config.validate_model_server_config(request.config,
                                                               source="reloaded config")
            self._manager.reload_config(model_config.model_configs(config))
        except errors.ServingError as error:
            logger.error("event=reload_config_failed code=%s error=%r", error.code.name, error.message)
            response.status.error_code = error.code.value[0]
            response.status.error_message = error.message
            context.set_code(error.code)
            context.set_details(error.message)
        return response
