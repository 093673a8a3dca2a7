"""HandleReloadConfigRequest: replace the served model list with the one in the request."""

from __future__ import annotations

import logging

from tensorflow_serving.apis import model_management_pb2

from serving import errors
from serving.apis.tfs import model_config

logger = logging.getLogger("serving.tfs")


def apply_model_server_config(manager, config: model_config.ModelServerConfig,
                              request_logger=None) -> None:
    """Serves a validated ModelServerConfig: its logging_configs go to `request_logger` (a
    ServerRequestLogger; first, so an unwritable log directory changes nothing), its models to
    `manager`. Returns once the new versions have loaded or failed.

    Raises:
        errors.ServingError: the config cannot be applied (the message says why).
    """
    if request_logger is not None:
        request_logger.update(model_config.request_log_configs(config))
    manager.reload_config(model_config.model_configs(config))


def reload_config(manager, request: model_management_pb2.ReloadConfigRequest, call,
                  request_logger=None) -> model_management_pb2.ReloadConfigResponse:
    """Applies `request.config` (see `apply_model_server_config`).

    As TF Serving does, a failure is written into `response.status` and also becomes the call's
    status (`call.status`), so gRPC clients see it as an error; success leaves both OK.
    """
    response = model_management_pb2.ReloadConfigResponse()
    # TF Serving collects the named metrics before and after; none is tracked here yet, so each
    # requested metric is reported, as TF Serving reports an unknown one, with no increase.
    for metric_name in request.metric_names:
        response.metric.add(name=metric_name, int64_value_increase=0)
    try:
        if request.config.WhichOneof("config") != "model_config_list":
            raise errors.InvalidArgument(
                "ServerModelConfig type not supported by HandleReloadConfigRequest. "
                "Only ModelConfigList is currently supported")
        logger.info("event=reload_config_requested models=%s",
                    ",".join(model.name for model in request.config.model_config_list.config))
        config = model_config.validate_model_server_config(request.config,
                                                           source="reloaded config")
        apply_model_server_config(manager, config, request_logger)
    except errors.ServingError as error:
        logger.error("event=reload_config_failed code=%s error=%r", error.code.name, error.message)
        response.status.error_code = error.code.value[0]
        response.status.error_message = error.message
        call.status = error.code
    return response
