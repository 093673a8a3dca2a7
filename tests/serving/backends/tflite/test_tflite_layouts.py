"""SignatureDefs made from TF Lite signature details: dtypes, shapes, method names, splittability."""

from __future__ import annotations

import numpy as np
import pytest
from tensorflow.core.framework import types_pb2

from serving.backends.tflite.layouts import SignatureLayout, TensorLayout, UnsupportedTensorType


def tensor(dtype, shape, name="t:0", index=0) -> TensorLayout:
    return TensorLayout(name=name, index=index, dtype=np.dtype(dtype), shape=tuple(shape))


def layout(inputs, outputs) -> SignatureLayout:
    return SignatureLayout(key="sig", inputs=inputs, outputs=outputs)


def test_signature_def_carries_tensor_names_tf_dtypes_and_shapes():
    signature = layout({"image": tensor(np.float32, (-1, 4, 4, 1), name="sig_image:0")},
                       {"ids": tensor(np.int64, (-1,)), "text": tensor(np.bytes_, (-1, 2))}
                       ).signature_def()
    image = signature.inputs["image"]
    assert image.name == "sig_image:0"
    assert image.dtype == types_pb2.DT_FLOAT
    assert [dim.size for dim in image.tensor_shape.dim] == [-1, 4, 4, 1]
    assert signature.outputs["ids"].dtype == types_pb2.DT_INT64
    assert signature.outputs["text"].dtype == types_pb2.DT_STRING


def test_scalar_tensor_has_a_known_rank_of_zero():
    signature = layout({"x": tensor(np.int32, ())}, {"y": tensor(np.int32, ())}).signature_def()
    assert not signature.inputs["x"].tensor_shape.unknown_rank
    assert len(signature.inputs["x"].tensor_shape.dim) == 0


@pytest.mark.parametrize("outputs, method", [
    ({"classes": np.bytes_, "scores": np.float32}, "tensorflow/serving/classify"),
    ({"scores": np.float32}, "tensorflow/serving/classify"),
    ({"outputs": np.float32}, "tensorflow/serving/regress"),
    ({"probabilities": np.float32}, "tensorflow/serving/predict"),
])
def test_method_name_follows_tensorflows_classify_and_regress_aliases(outputs, method):
    signature = layout({"inputs": tensor(np.bytes_, (-1,))},
                       {alias: tensor(dtype, (-1,)) for alias, dtype in outputs.items()}
                       ).signature_def()
    assert signature.method_name == method


def test_numeric_inputs_alias_is_a_predict_signature():
    signature = layout({"inputs": tensor(np.float32, (-1, 3))}, {"outputs": tensor(np.float32, (-1,))}
                       ).signature_def()
    assert signature.method_name == "tensorflow/serving/predict"


def test_tensor_type_without_a_tensorflow_dtype_is_refused_naming_the_tensor():
    with pytest.raises(UnsupportedTensorType, match="'sig'.*'handle'"):
        layout({"handle": tensor(np.void, ())}, {}).signature_def()


@pytest.mark.parametrize("input_shape, output_shape, splittable", [
    ((-1, 3), (-1, 2), True),
    ((1, 3), (1, 2), False),  # a fixed batch of one
    ((-1, 3), (2,), False),  # an output without a batch dimension
    ((), (-1,), False),  # a scalar input
])
def test_batch_is_splittable_only_when_every_tensor_has_a_dynamic_batch(input_shape, output_shape,
                                                                         splittable):
    signature = layout({"x": tensor(np.float32, input_shape)}, {"y": tensor(np.float32, output_shape)})
    assert signature.batch_splittable is splittable
