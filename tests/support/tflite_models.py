"""Models for the TF Lite serving tests: a zoo export with model.tflite, hand-made TF Lite files,
and TensorFlow SignatureDefs embedded in them as TensorFlow stores them.

TensorFlow is imported inside the functions, when a fixture first needs a model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from serving.backends.tflite.signature_metadata import SIGNATURE_DEFS_METADATA
from zoo.spec import DataSpec

MODEL_NAME = "digits_cnn"
# How the TF Lite servers run: 2 pools (requests at once) of 2 interpreters (a batch in 2 parts).
TFLITE_FLAGS = ("--prefer_tflite_model", "--num_tflite_pools=2", "--num_tflite_interpreters_per_pool=2")
CNN_SPEC = DataSpec(name="tiny_digits", kind="image", task="classification", input_shape=(8, 8, 1),
                    num_outputs=3, class_names=("zero", "one", "two"))


def sample_images(count: int, seed: int = 0) -> np.ndarray:
    """`count` float32 images of CNN_SPEC's shape, pixel values 0-16 like sklearn's digits."""
    return np.random.default_rng(seed).uniform(0, 16, (count, *CNN_SPEC.input_shape)).astype(np.float32)


def export_zoo_cnn(base: Path, version: int = 1, *, tflite: bool = True) -> Path:
    """The zoo's cnn for CNN_SPEC (untrained, seeded), exported to base/MODEL_NAME/version with
    warmup requests and, with `tflite`, model.tflite; returns the version directory."""
    import keras

    from zoo.export import export_saved_model
    from zoo.models import build_model

    keras.utils.set_random_seed(7)
    model = build_model("cnn", CNN_SPEC, {"filters": [4, 8], "dense_units": 16},
                        adapt_data=sample_images(32, seed=1))
    return export_saved_model(model, CNN_SPEC, base, MODEL_NAME, version=version,
                              warmup_examples=sample_images(4, seed=2), tflite=tflite)


def write_main_graph_model(path: Path) -> Path:
    """A TF Lite model without signatures (TF1's converter): y = 2x + 1, x float32 [-1, 3]."""
    import tensorflow as tf

    def build():
        x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
        return [x], [tf.identity(x * 2.0 + 1.0, name="y")]

    return _write_model(path, _convert_tf1_graph(build))


def write_half_plus_two_model(path: Path, signature_defs: Mapping | None = None) -> Path:
    """TF Serving's half_plus_two test model as TF Lite without TF Lite signatures: y = 0.5x + 2,
    main graph input "tflite_input" and output "y", both float32 [1, 1]; `signature_defs`
    (key -> SignatureDef), if any, embedded in its metadata (see embed_signature_defs)."""
    import tensorflow as tf

    def build():
        x = tf.compat.v1.placeholder(tf.float32, [1, 1], name="tflite_input")
        return [x], [tf.identity(x * 0.5 + 2.0, name="y")]

    return _write_model(path, _convert_tf1_graph(build), signature_defs)


LINEAR_WEIGHTS = np.arange(6, dtype=np.float32).reshape(3, 2)


def write_linear_model(path: Path, signature_defs: Mapping | None = None) -> Path:
    """A TF Lite model whose inner dimension TF Lite cannot resize: TF Lite signature
    serving_default(x float32 [-1, 3]) -> y = x @ LINEAR_WEIGHTS [-1, 2] (a fully connected op);
    `signature_defs`, if any, embedded in its metadata (see embed_signature_defs)."""
    import tensorflow as tf

    class Linear(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def serve(self, x):
            return {"y": tf.matmul(x, LINEAR_WEIGHTS)}

    return _write_model(path, _convert_module(Linear()), signature_defs)


def write_text_model(path: Path) -> Path:
    """A TF Lite model with string tensors: serving_default(text string [-1], x float32 [-1, 2])
    -> echo (text), pairs (text repeated, [-1, 2]), doubled (2x)."""
    import tensorflow as tf

    class TextModel(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text"),
                                      tf.TensorSpec([None, 2], tf.float32, name="x")])
        def serve(self, text, x):
            return {"echo": tf.identity(text), "pairs": tf.tile(text[:, None], [1, 2]),
                    "doubled": x * 2.0}

    return _write_model(path, _convert_module(TextModel()))


def signature_def(method_name: str, inputs: Mapping[str, tuple], outputs: Mapping[str, tuple]):
    """A SignatureDef from {alias: (tensor name, DataType enum, shape)} for inputs and outputs."""
    from tensorflow.core.protobuf import meta_graph_pb2

    signature = meta_graph_pb2.SignatureDef(method_name=method_name)
    for tensors, target in ((inputs, signature.inputs), (outputs, signature.outputs)):
        for alias, (name, dtype, shape) in tensors.items():
            target[alias].name = name
            target[alias].dtype = dtype
            for size in shape:
                target[alias].tensor_shape.dim.add(size=size)
    return signature


def embed_signature_defs(content: bytes, signature_defs: Mapping) -> bytes:
    """`content` with the SignatureDef map stored as TensorFlow's signature_def_util stores it: a
    FlexBuffer map from signature key to the serialized SignatureDef, as a FlexBuffer string, in
    the metadata entry SIGNATURE_DEFS_METADATA (see embed_metadata).

    TensorFlow's pip package cannot write it (signature_def_util has no Python binding), so the
    map is built with the `flatbuffers` package's FlexBuffer builder.
    """
    from flatbuffers import flexbuffers

    builder = flexbuffers.Builder()
    with builder.Map():
        for key, signature_def in signature_defs.items():
            builder.Key(key)
            # Builder.String takes text only; a serialized proto is bytes that are rarely UTF-8,
            # and TensorFlow stores them as a string, not a blob, so write the string directly.
            builder._WriteBlob(signature_def.SerializeToString(), append_zero=True,
                               type_=flexbuffers.Type.STRING)
    return embed_metadata(content, SIGNATURE_DEFS_METADATA, bytes(builder.Finish()))


def embed_metadata(content: bytes, name: str, data: bytes) -> bytes:
    """`content` with a new Buffer holding `data` and a Metadata entry `name` pointing at it,
    written through TensorFlow's flatbuffer_utils and generated schema."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(content))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(data, dtype=np.uint8)
    model.buffers.append(buffer)
    metadata = schema.MetadataT(name=name, buffer=len(model.buffers) - 1)
    model.metadata = [*(model.metadata or []), metadata]
    return flatbuffer_utils.convert_object_to_bytearray(model)


def _convert_tf1_graph(build) -> bytes:
    """TF1's converter on the graph `build()` makes and returns as ([inputs], [outputs]): a model
    without TF Lite signatures whose main graph tensors keep the graph's names (no ":0")."""
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        inputs, outputs = build()
        with tf.compat.v1.Session(graph=graph) as session:
            return tf.compat.v1.lite.TFLiteConverter.from_session(session, inputs, outputs).convert()


def _convert_module(module) -> bytes:
    """TF2's converter on `module.serve`, kept as the TF Lite signature serving_default."""
    import tensorflow as tf

    concrete = module.serve.get_concrete_function()
    return tf.lite.TFLiteConverter.from_concrete_functions([concrete], module).convert()


def _write_model(path: Path, content: bytes, signature_defs: Mapping | None = None) -> Path:
    """Writes path/model.tflite, with `signature_defs` embedded if there are any."""
    if signature_defs:
        content = embed_signature_defs(content, signature_defs)
    path.mkdir(parents=True, exist_ok=True)
    (path / "model.tflite").write_bytes(content)
    return path
