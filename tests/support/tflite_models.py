"""Models for the TF Lite serving tests: a zoo export with model.tflite, and hand-made TF Lite files.

TensorFlow is imported inside the functions, when a fixture first needs a model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.spec import DataSpec

MODEL_NAME = "digits_cnn"
# How the TF Lite servers run: 2 pools (requests at once) of 2 interpreters (a batch in 2 parts).
TFLITE_FLAGS = ("--prefer_tflite_model", "--num_tflite_pools=2", "--num_tflite_interpreters_per_pool=2")
CNN_SPEC = DataSpec(name="tiny_digits", kind="image", task="classification", input_shape=(8, 8, 1),
                    num_outputs=3, class_names=("zero", "one", "two"))


def sample_images(count: int, seed: int = 0) -> np.ndarray:
    """`count` float32 images of CNN_SPEC's shape, pixel values 0-16 like sklearn's digits."""
    return np.random.default_rng(seed).uniform(0, 16, (count, *CNN_SPEC.input_shape)).astype(np.float32)


def export_zoo_cnn(base: Path, version: int = 1) -> Path:
    """The zoo's cnn for CNN_SPEC (untrained, seeded), exported to base/MODEL_NAME/version with
    model.tflite and warmup requests; returns the version directory."""
    import keras

    from zoo.export import export_saved_model
    from zoo.models import build_model

    keras.utils.set_random_seed(7)
    model = build_model("cnn", CNN_SPEC, {"filters": [4, 8], "dense_units": 16},
                        adapt_data=sample_images(32, seed=1))
    return export_saved_model(model, CNN_SPEC, base, MODEL_NAME, version=version,
                              warmup_examples=sample_images(4, seed=2), tflite=True)


def write_main_graph_model(path: Path) -> Path:
    """A TF Lite model without signatures (TF1's converter): y = 2x + 1, x float32 [-1, 3]."""
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
        y = tf.identity(x * 2.0 + 1.0, name="y")
        with tf.compat.v1.Session(graph=graph) as session:
            content = tf.compat.v1.lite.TFLiteConverter.from_session(session, [x], [y]).convert()
    path.mkdir(parents=True, exist_ok=True)
    (path / "model.tflite").write_bytes(content)
    return path


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

    module = TextModel()
    concrete = module.serve.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
    path.mkdir(parents=True, exist_ok=True)
    (path / "model.tflite").write_bytes(converter.convert())
    return path
