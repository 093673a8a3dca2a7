"""TensorFlow SignatureDefs embedded in a TF Lite model's metadata, read as TF Serving reads them.

A TF Lite model may carry the SignatureDefs of the TensorFlow model it was converted from:
TensorFlow's signature_def_util (tensorflow/lite/tools/signature) stores them in the flatbuffer
as a Metadata entry named "signature_defs_metadata" whose Buffer holds a FlexBuffer map from
signature key to the serialized SignatureDef (a FlexBuffer string holding the proto's bytes).
TF Serving serves those SignatureDefs (tflite_session.cc calls GetSignatureDefMap) instead of
describing the model from its TF Lite tensors, so clients keep the TensorFlow model's keys,
aliases and method names.

TensorFlow's pip package has no Python binding for signature_def_util, so the flatbuffer is read
with TensorFlow's generated schema accessors (tensorflow.lite.python.schema_py_generated), the
FlexBuffer with the `flatbuffers` package it depends on, and each SignatureDef with TensorFlow's
own proto class. TensorFlow is imported only when a model is read.
"""

from __future__ import annotations

import struct

# TensorFlow's kSignatureDefsMetadataName.
SIGNATURE_DEFS_METADATA = "signature_defs_metadata"


def read_signature_def_map(model_content: bytes) -> dict:
    """The SignatureDefs `model_content` embeds, by signature key; empty when it embeds none.

    `model_content` must be a model tf.lite.Interpreter accepted: the flatbuffer itself is
    trusted, only the metadata entry is checked.

    Raises:
        ValueError: the metadata entry exists but does not hold a map of serialized
            SignatureDefs (TF Serving refuses such a model too).
    """
    from flatbuffers import flexbuffers
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import meta_graph_pb2
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.Model.GetRootAs(model_content, 0)
    content = _metadata_content(model, SIGNATURE_DEFS_METADATA)
    if content is None:
        return {}
    try:
        entries = flexbuffers.GetRoot(content).AsMap
        return {key.AsKey: meta_graph_pb2.SignatureDef.FromString(bytes(value.AsStringBytes))
                for key, value in zip(entries.Keys, entries.Values)}
    except (TypeError, ValueError, IndexError, struct.error, DecodeError) as error:
        raise ValueError(f'metadata "{SIGNATURE_DEFS_METADATA}" is not a FlexBuffer map of '
                         f"serialized SignatureDefs ({type(error).__name__}: {error})") from None


def _metadata_content(model, name: str) -> bytes | None:
    """The bytes of the buffer the Metadata entry `name` points at; None without that entry."""
    for position in range(model.MetadataLength()):
        metadata = model.Metadata(position)
        if metadata.Name() != name.encode():
            continue
        index = metadata.Buffer()
        # The generated accessors do not check bounds: an index past the end reads garbage.
        if not 0 <= index < model.BuffersLength():
            raise ValueError(f'metadata "{name}" points at buffer {index}, but the model has '
                             f"{model.BuffersLength()}")
        buffer = model.Buffers(index)
        if buffer.DataLength() == 0:
            raise ValueError(f'metadata "{name}" points at buffer {index}, which is empty')
        return buffer.DataAsNumpy().tobytes()
    return None
