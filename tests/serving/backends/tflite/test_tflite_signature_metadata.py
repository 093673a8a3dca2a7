"""Reading the TensorFlow SignatureDef map a TF Lite model embeds in its metadata."""

from __future__ import annotations

import pytest
from tensorflow.core.framework import types_pb2
from tests.support import tflite_models

from serving.backends.tflite.signature_metadata import SIGNATURE_DEFS_METADATA, read_signature_def_map

FLOAT = types_pb2.DT_FLOAT


@pytest.fixture(scope="module")
def plain_content(tmp_path_factory) -> bytes:
    """A converted model with no SignatureDef map (its metadata holds min_runtime_version)."""
    path = tflite_models.write_half_plus_two_model(tmp_path_factory.mktemp("plain") / "1")
    return (path / "model.tflite").read_bytes()


def test_model_without_the_metadata_entry_embeds_no_signature_defs(plain_content):
    assert read_signature_def_map(plain_content) == {}


def test_every_embedded_signature_def_is_read_whole_with_binary_bytes(plain_content):
    embedded = {
        "serving_default": tflite_models.signature_def(
            "tensorflow/serving/predict", {"x": ("tflite_input:0", FLOAT, [-1, 1])},
            {"y": ("y:0", FLOAT, [-1, 1])}),  # -1 serializes as ten bytes no UTF-8 allows
        "second": tflite_models.signature_def("custom/method", {"a": ("tflite_input", FLOAT, [])},
                                              {"b": ("y", FLOAT, [1, 1])}),
    }
    read = read_signature_def_map(tflite_models.embed_signature_defs(plain_content, embedded))
    assert read == embedded


@pytest.mark.parametrize("data", [
    b"\x01\x04\x01",  # a FlexBuffer holding the integer 1, not a map
    b"\x00",  # too short to be a FlexBuffer
], ids=["not_a_map", "truncated"])
def test_metadata_that_is_not_a_flexbuffer_map_is_refused(plain_content, data):
    content = tflite_models.embed_metadata(plain_content, SIGNATURE_DEFS_METADATA, data)
    with pytest.raises(ValueError, match=f'metadata "{SIGNATURE_DEFS_METADATA}" is not a FlexBuffer map'):
        read_signature_def_map(content)


def test_map_of_values_that_are_not_signature_defs_is_refused(plain_content):
    from flatbuffers import flexbuffers

    data = flexbuffers.Dumps({"serving_default": b"\xff not a SignatureDef"})  # a blob, not a string
    content = tflite_models.embed_metadata(plain_content, SIGNATURE_DEFS_METADATA, bytes(data))
    with pytest.raises(ValueError, match="serialized SignatureDefs"):
        read_signature_def_map(content)


def test_metadata_pointing_at_an_empty_buffer_is_refused(plain_content):
    content = tflite_models.embed_metadata(plain_content, SIGNATURE_DEFS_METADATA, b"")
    with pytest.raises(ValueError, match="which is empty"):
        read_signature_def_map(content)
