"""What a model takes and returns, and how its versions are doing, as plain Python values.

GetModelMetadata answers with a `SignatureDefMap` packed in `google.protobuf.Any`, and
GetModelStatus with enums and TensorFlow error codes: this module turns both into frozen
dataclasses a notebook can print, and is the only place that reads those protos.

Labels and the model card are not part of TF Serving's metadata (it knows only
"signature_def"). A server may offer them as the extra metadata fields `labels` (a
`google.protobuf.StringValue` holding labels.txt, one label a line, or a `ListValue` of strings)
and `model_card` (a `StringValue` holding model_card.json, or a `Struct`); they are read when
present and left as None otherwise.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping

import grpc
import numpy as np
from google.protobuf import json_format, struct_pb2, wrappers_pb2
from tfzoo_client._proto.tensorflow.core.framework import types_pb2
from tfzoo_client._proto.tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2

from tfzoo_client import errors
from tfzoo_client.tensor_codec import data_type_name, numpy_dtype
from tfzoo_client.contract import (CLASSIFY_METHOD, DEFAULT_SIGNATURE, LABELS_FIELD, MODEL_CARD_FIELD,
                              PREDICT_METHOD, REGRESS_METHOD, SIGNATURE_DEF_FIELD)

EXTRA_FIELDS = (LABELS_FIELD, MODEL_CARD_FIELD)

# TF2's SavedModel saver adds this one to run initializers at load; it is nothing to call.
INTERNAL_SIGNATURES = frozenset({"__saved_model_init_op"})

_STATUS_CODES = {code.value[0]: code for code in grpc.StatusCode}


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """One input or output of a signature.

    `dtype` is numpy's name for it ("float32", "int64", "bool") or "string"; `tf_dtype` is TF's
    ("DT_FLOAT"). `shape` has None for a dimension of unknown size (usually the batch) and is
    None as a whole when even the rank is unknown.
    """

    name: str
    dtype: str
    tf_dtype: str
    shape: tuple[int | None, ...] | None

    @property
    def numpy_dtype(self) -> np.dtype:
        """The dtype of the numpy array to send (object, holding bytes, for strings)."""
        return numpy_dtype(types_pb2.DataType.Value(self.tf_dtype))

    @property
    def shape_text(self) -> str:
        """The shape as TF Serving prints it: `[-1,28,28,1]`, or `<unknown>`."""
        if self.shape is None:
            return "<unknown>"
        return "[" + ",".join("-1" if size is None else str(size) for size in self.shape) + "]"


@dataclasses.dataclass(frozen=True)
class SignatureInfo:
    """A named signature: its method (predict, classify or regress) and its tensors by alias."""

    name: str
    method: str
    inputs: Mapping[str, TensorInfo]
    outputs: Mapping[str, TensorInfo]


@dataclasses.dataclass(frozen=True)
class ModelMetadata:
    """A model version's signatures, plus its labels and model card when the server sends them."""

    name: str
    version: int
    signatures: Mapping[str, SignatureInfo]
    labels: tuple[str, ...] | None = None
    model_card: Mapping[str, Any] | None = None

    def signature(self, name: str) -> SignatureInfo:
        """The signature called `name`; errors.FailedPrecondition (the server's own status for an
        unknown signature) listing the ones the model has otherwise."""
        try:
            return self.signatures[name]
        except KeyError:
            raise errors.FailedPrecondition(
                f'Serving signature key "{name}" not found. Model "{self.name}" version '
                f"{self.version} has: {', '.join(sorted(self.signatures)) or 'no signatures'}"
            ) from None

    def signature_for_method(self, method: str) -> SignatureInfo:
        """The signature to use for Classify or Regress: `serving_default` if it has `method`,
        else the first (by name) that does; errors.FailedPrecondition when none does."""
        default = self.signatures.get(DEFAULT_SIGNATURE)
        if default is not None and default.method == method:
            return default
        for name in sorted(self.signatures):
            if self.signatures[name].method == method:
                return self.signatures[name]
        methods = ", ".join(f"{name} ({info.method})" for name, info in sorted(self.signatures.items()))
        raise errors.FailedPrecondition(
            f'Model "{self.name}" version {self.version} has no signature with method {method}. '
            f"Its signatures: {methods or 'none'}"
        )


@dataclasses.dataclass(frozen=True)
class ModelVersionStatus:
    """The state of one version, as GetModelStatus reports it.

    `state` is "START", "LOADING", "AVAILABLE", "UNLOADING" or "END"; `error_code` is None when
    the version is fine, else the status of its failed load (with `error_message`).
    """

    version: int
    state: str
    error_code: grpc.StatusCode | None
    error_message: str

    @property
    def is_available(self) -> bool:
        return self.state == "AVAILABLE"


def metadata_from_response(response: get_model_metadata_pb2.GetModelMetadataResponse) -> ModelMetadata:
    """Reads a GetModelMetadataResponse (leaving out INTERNAL_SIGNATURES); errors.Internal when it
    lacks the signature_def field."""
    packed = response.metadata.get(SIGNATURE_DEF_FIELD)
    if packed is None:
        raise errors.Internal(
            f'The server\'s metadata for model "{response.model_spec.name}" has no '
            f'"{SIGNATURE_DEF_FIELD}" field; it sent: {", ".join(sorted(response.metadata)) or "nothing"}'
        )
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    if not packed.Unpack(signature_map):
        raise errors.Internal(
            f'The server\'s "{SIGNATURE_DEF_FIELD}" metadata holds a {packed.TypeName()}, '
            "not a tensorflow.serving.SignatureDefMap"
        )
    signatures = {
        name: SignatureInfo(
            name=name,
            method=signature_def.method_name,
            inputs=_tensor_infos(signature_def.inputs),
            outputs=_tensor_infos(signature_def.outputs),
        )
        for name, signature_def in sorted(signature_map.signature_def.items())
        if name not in INTERNAL_SIGNATURES
    }
    return ModelMetadata(
        name=response.model_spec.name,
        version=response.model_spec.version.value,
        signatures=signatures,
        labels=_labels(response.metadata.get(LABELS_FIELD)),
        model_card=_model_card(response.metadata.get(MODEL_CARD_FIELD)),
    )


def statuses_from_response(response: get_model_status_pb2.GetModelStatusResponse) -> list[ModelVersionStatus]:
    """Reads a GetModelStatusResponse, newest version first."""
    statuses = [
        ModelVersionStatus(
            version=status.version,
            state=get_model_status_pb2.ModelVersionStatus.State.Name(status.state),
            error_code=None if status.status.error_code == 0
            else _STATUS_CODES.get(status.status.error_code, grpc.StatusCode.UNKNOWN),
            error_message=status.status.error_message,
        )
        for status in response.model_version_status
    ]
    return sorted(statuses, key=lambda status: status.version, reverse=True)


def _tensor_infos(tensors) -> dict[str, TensorInfo]:
    return {alias: _tensor_info(alias, tensors[alias]) for alias in sorted(tensors)}


def _tensor_info(alias: str, tensor) -> TensorInfo:
    tf_dtype = data_type_name(tensor.dtype)
    try:
        dtype = numpy_dtype(tensor.dtype)
        dtype_text = "string" if tensor.dtype == types_pb2.DT_STRING else dtype.name
    except errors.InvalidArgument:  # a dtype numpy cannot hold (resource, variant...)
        dtype_text = tf_dtype.removeprefix("DT_").lower()
    if tensor.tensor_shape.unknown_rank:
        shape = None
    else:
        shape = tuple(None if dim.size < 0 else dim.size for dim in tensor.tensor_shape.dim)
    return TensorInfo(name=alias, dtype=dtype_text, tf_dtype=tf_dtype, shape=shape)


def _labels(packed) -> tuple[str, ...] | None:
    if packed is None:
        return None
    text = wrappers_pb2.StringValue()
    if packed.Unpack(text):
        return tuple(line.strip() for line in text.value.splitlines() if line.strip())
    values = struct_pb2.ListValue()
    if packed.Unpack(values):
        return tuple(str(value) for value in json_format.MessageToDict(values))
    return None


def _model_card(packed) -> dict[str, Any] | None:
    if packed is None:
        return None
    text = wrappers_pb2.StringValue()
    if packed.Unpack(text):
        try:
            card = json.loads(text.value)
        except json.JSONDecodeError:
            return None
        return card if isinstance(card, dict) else None
    struct = struct_pb2.Struct()
    if packed.Unpack(struct):
        return json_format.MessageToDict(struct)
    return None
