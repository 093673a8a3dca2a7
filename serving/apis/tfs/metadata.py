"""GetModelMetadata: a version's SignatureDefs, and the files a zoo export carries beside them.

TF Serving knows only the `signature_def` field; `labels` and `model_card` are this server's
extensions, each sent as a StringValue when the version has the file.
"""

from __future__ import annotations

import os

from google.protobuf import wrappers_pb2
from tensorflow_serving.apis import get_model_metadata_pb2

from serving import contract, errors
from serving.apis.tfs import model_specs

SIGNATURE_DEF_FIELD = contract.SIGNATURE_DEF_FIELD
EXTRA_METADATA_FILES = {
    contract.LABELS_FIELD: contract.LABELS_FILE,
    contract.MODEL_CARD_FIELD: contract.MODEL_CARD_FILE,
}
SUPPORTED_METADATA_FIELDS = (SIGNATURE_DEF_FIELD, *EXTRA_METADATA_FILES)


def get_model_metadata(manager, request: get_model_metadata_pb2.GetModelMetadataRequest, call
                       ) -> get_model_metadata_pb2.GetModelMetadataResponse:
    """The requested metadata fields of the version the request's model_spec names.

    Raises:
        errors.InvalidArgument: no model_spec, no field, or a field this server does not know.
        errors.NotFound: no such model or version.
    """
    model_spec = model_specs.required_model_spec(request)
    model_specs.target(call, model_spec)
    if not request.metadata_field:
        raise errors.InvalidArgument(
            "GetModelMetadataRequest must specify at least one metadata_field")
    for field in request.metadata_field:
        if field not in SUPPORTED_METADATA_FIELDS:
            raise errors.InvalidArgument(
                f"Metadata field {field} is not supported; supported fields: "
                f"{', '.join(SUPPORTED_METADATA_FIELDS)}")
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    with model_specs.servable_for(manager, model_spec) as servable:
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
    call.served_by(response.model_spec.version.value)
    return response


def _read_version_file(version_path: str, relative: tuple[str, ...]) -> str | None:
    """A file inside the version directory the servable was loaded from (None if absent)."""
    path = os.path.join(version_path, *relative)
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except OSError:
        return None
