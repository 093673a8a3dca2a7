"""Models and sample values for the OIP tests: every datatype, with values that show mistakes."""

from __future__ import annotations

import os

import ml_dtypes
import numpy as np

# Every OIP datatype and the TF dtype its identity signature takes.
DATATYPE_TF_DTYPES = {
    "BOOL": "bool", "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64",
    "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64", "FP16": "float16",
    "BF16": "bfloat16", "FP32": "float32", "FP64": "float64", "BYTES": "string",
}
# The datatypes that have a typed contents field (FP16 and BF16 travel raw only).
TYPED_DATATYPES = [name for name in DATATYPE_TF_DTYPES if name not in ("FP16", "BF16")]


def export_identity_per_datatype(base_path, version: int = 1) -> str:
    """Exports one `identity_<DATATYPE>` signature per OIP datatype: x [None, 2] -> y.

    serving_default is identity_FP32.
    """
    import tensorflow as tf

    path = os.path.join(os.fspath(base_path), str(version))
    signatures = {}
    for datatype, dtype_name in DATATYPE_TF_DTYPES.items():
        function = tf.function(
            lambda x: {"y": tf.identity(x)},
            input_signature=[tf.TensorSpec([None, 2], tf.as_dtype(dtype_name), name="x")],
        )
        signatures[f"identity_{datatype}"] = function.get_concrete_function()
    signatures["serving_default"] = signatures["identity_FP32"]
    tf.saved_model.save(tf.Module(), path, signatures=signatures)
    return path


def export_without_serving_default(base_path, version: int = 1) -> str:
    """Exports a model whose only signature is `double` (x float32 [None] -> y = 2x)."""
    import tensorflow as tf

    path = os.path.join(os.fspath(base_path), str(version))
    double = tf.function(lambda x: {"y": 2.0 * x},
                         input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    tf.saved_model.save(tf.Module(), path, signatures={"double": double.get_concrete_function()})
    return path


def sample_array(datatype: str, shape=(3, 2)) -> np.ndarray:
    """Six values spanning the datatype's range, so a wrong width or byte order would show."""
    if datatype == "BYTES":
        return np.array([b"", b"a", b"\x00\xffbinary", "ü".encode(), b"x" * 300, b"z"],
                        dtype=object).reshape(shape)
    if datatype == "BOOL":
        return np.array([True, False, False, True, True, False]).reshape(shape)
    if datatype == "BF16":
        # Values bfloat16 holds exactly, so a float32 client round-trips them unchanged.
        return np.array([1.0, -2.5, 0.0, 256.0, -0.125, 3.0e38],
                        dtype=ml_dtypes.bfloat16).reshape(shape)
    dtype = np.dtype(DATATYPE_TF_DTYPES[datatype])
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = [info.min, info.max, 0, 1, info.max // 3, info.min // 3 if info.min else 7]
        return np.array(values, dtype=dtype).reshape(shape)
    return np.array([1.5, -2.25, 0.0, 1e4, -3.0e-3, 65504.0], dtype=dtype).reshape(shape)


def export_fixed_shape(base_path, version: int = 1) -> str:
    """Exports a model with no batch dimension: serving_default x float32 [2, 3] -> y = 2x."""
    import tensorflow as tf

    path = os.path.join(os.fspath(base_path), str(version))
    double = tf.function(lambda x: {"y": 2.0 * x},
                         input_signature=[tf.TensorSpec([2, 3], tf.float32, name="x")])
    tf.saved_model.save(tf.Module(), path,
                        signatures={"serving_default": double.get_concrete_function()})
    return path
