"""GetModelStatus: every version of a model the manager knows, with its state and error."""

from __future__ import annotations

from tensorflow_serving.apis import get_model_status_pb2

from serving.apis.tfs import model_specs

_STATES = get_model_status_pb2.ModelVersionStatus.State


def get_model_status(manager, request: get_model_status_pb2.GetModelStatusRequest, call
                     ) -> get_model_status_pb2.GetModelStatusResponse:
    """The versions' statuses; as in TF Serving, only an explicit version narrows the answer
    (a label is ignored).

    Raises:
        errors.InvalidArgument: no model_spec.
        errors.NotFound: unknown model or version, or no version found on disk yet.
    """
    model_spec = model_specs.required_model_spec(request)
    model_specs.target(call, model_spec)
    version = model_spec.version.value if model_spec.HasField("version") else None
    response = get_model_status_pb2.GetModelStatusResponse()
    for status in manager.status(model_spec.name, version):
        entry = response.model_version_status.add(version=status.version,
                                                  state=_STATES.Value(status.state))
        entry.status.SetInParent()  # TF Serving always sets it, OK (code 0) included
        if status.error_code is not None:
            entry.status.error_code = status.error_code.value[0]
            entry.status.error_message = status.error_message
    return response
