"""Checks a request's inputs and output filter against a SignatureDef before TensorFlow runs.

TensorFlow's own errors for a bad feed ("Expects arg[0] to be float but string is provided") do
not say which signature or alias is wrong; these checks do, naming the expected dtype and shape
from the SignatureDef next to what was received. Alias mismatches use TF Serving's message form
(predict_util.cc) so clients that parse it keep working.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from serving import errors

_STRING_KINDS = ("O", "S", "U")


def check_input_aliases(signature_name: str, signature_def, inputs: Mapping[str, object]) -> None:
    """Raises InvalidArgument unless `inputs` has exactly the signature's input aliases."""
    sent = set(inputs)
    expected = set(signature_def.inputs)
    if sent == expected:
        return
    extra = sorted(sent - expected)
    missing = sorted(expected - sent)
    raise errors.InvalidArgument(
        f"input size does not match signature: {len(sent)}!={len(expected)} "
        f"len({{{','.join(sorted(sent))}}}) != len({{{','.join(sorted(expected))}}}). "
        f"Sent extra: {{{','.join(extra)}}}. Missing but required: {{{','.join(missing)}}}. "
        f"(signature \"{signature_name}\")"
    )


def check_input_array(signature_name: str, alias: str, tensor_info, array: np.ndarray) -> None:
    """Raises InvalidArgument if `array` does not have the dtype and shape `tensor_info` declares.

    A dimension of -1 matches any size and an unknown rank matches any shape, as in TensorFlow.
    """
    import tensorflow as tf

    expected_dtype = tf.dtypes.as_dtype(tensor_info.dtype)
    where = f'signature "{signature_name}" input "{alias}"'
    if not _dtype_matches(expected_dtype, array.dtype):
        raise errors.InvalidArgument(
            f"{where}: expected dtype {_describe_tf_dtype(expected_dtype)}, "
            f"received {_describe_numpy_dtype(array.dtype)}"
        )
    shape_proto = tensor_info.tensor_shape
    if shape_proto.unknown_rank:
        return
    expected_shape = [dim.size for dim in shape_proto.dim]
    received_shape = list(array.shape)
    if _shape_matches(expected_shape, received_shape):
        return
    message = (
        f"{where}: expected shape {_format_shape(expected_shape)} (-1 matches any size), "
        f"received shape {_format_shape(received_shape)}"
    )
    if len(received_shape) + 1 == len(expected_shape) and _shape_matches(expected_shape[1:],
                                                                          received_shape):
        message += (
            f". The signature has a batch dimension: send one example as shape "
            f"{_format_shape([1, *received_shape])}"
        )
    raise errors.InvalidArgument(message)


def check_output_filter(signature_name: str, signature_def, output_filter: Sequence[str]
                        ) -> list[str]:
    """The output aliases to return: `output_filter` checked, or every output if it is empty."""
    if not output_filter:
        return list(signature_def.outputs)
    seen: set[str] = set()
    for alias in output_filter:
        if alias not in signature_def.outputs:
            raise errors.InvalidArgument(
                f"output tensor alias not found in signature: {alias} Outputs expected to be in "
                f"the set {{{','.join(sorted(signature_def.outputs))}}}. "
                f"(signature \"{signature_name}\")"
            )
        if alias in seen:
            raise errors.InvalidArgument(f"duplicate output tensor alias: {alias}")
        seen.add(alias)
    return list(output_filter)


def _dtype_matches(expected, received: np.dtype) -> bool:
    import tensorflow as tf

    if expected == tf.string:
        return received.kind in _STRING_KINDS
    if received.kind in _STRING_KINDS:
        return False
    try:
        return np.dtype(expected.as_numpy_dtype) == received
    except TypeError:  # resource and variant dtypes have no numpy equivalent
        return False


def _describe_tf_dtype(dtype) -> str:
    from tensorflow.core.framework import types_pb2

    return f"{dtype.name} ({types_pb2.DataType.Name(dtype.as_datatype_enum)})"


def _describe_numpy_dtype(dtype: np.dtype) -> str:
    import tensorflow as tf

    if dtype.kind in _STRING_KINDS:
        return _describe_tf_dtype(tf.string)
    try:
        return _describe_tf_dtype(tf.dtypes.as_dtype(dtype))
    except TypeError:
        return f"numpy {dtype}"


def _shape_matches(expected: Sequence[int], received: Sequence[int]) -> bool:
    return len(expected) == len(received) and all(
        want < 0 or want == got for want, got in zip(expected, received)
    )


def _format_shape(shape: Sequence[int]) -> str:
    return "[" + ",".join(str(dim) for dim in shape) + "]"
