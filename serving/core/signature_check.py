"""Checks a request's inputs and output filter against a SignatureDef, as TF Serving does.

Aliases and dtypes are refused before the model runs, as TF Serving refuses them; the alias
message keeps TF Serving's form (predict_util.cc) so clients that parse it keep working, and the
dtype message names what TensorFlow's own error ("Expects arg[0] to be float but string is
provided") does not: the signature, the alias, the expected and received dtypes.

Shapes are not refused up front: TF Serving feeds a tensor of any shape and lets the graph
decide (half_plus_two, declared [-1, 1], computes an input of shape [3]). `shape_mismatch` only
describes a difference, so that when the model does fail on such a tensor the error can still
name the input, the signature's shape and the received one.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from serving import errors

_STRING_KINDS = ("O", "S", "U")


class SignaturePlan:
    """One signature's checks, worked out once per version: every request to it is checked here.

    The common case (the right aliases, dtypes and shapes) costs a few dictionary and tuple
    comparisons; the messages of the functions below are built only for a request that fails.
    """

    def __init__(self, signature_name: str, signature_def):
        import tensorflow as tf

        self._signature_name = signature_name
        self._signature_def = signature_def
        self.aliases = frozenset(signature_def.inputs)
        self.outputs = list(signature_def.outputs)
        self._dtypes = {}
        self._shapes = {}
        for alias, tensor_info in signature_def.inputs.items():
            dtype = tf.dtypes.as_dtype(tensor_info.dtype)
            try:
                self._dtypes[alias] = None if dtype == tf.string else np.dtype(dtype.as_numpy_dtype)
            except TypeError:  # resource and variant dtypes have no numpy equivalent
                self._dtypes[alias] = None
            shape = tensor_info.tensor_shape
            self._shapes[alias] = (None if not tensor_info.HasField("tensor_shape")
                                   or shape.unknown_rank else tuple(dim.size for dim in shape.dim))
        # Every input has a dimension 0 of any size: a request is a batch of examples along it.
        self._has_batch_dimension = bool(self._shapes) and all(
            shape and shape[0] == -1 for shape in self._shapes.values())

    def check(self, inputs: Mapping[str, object], output_filter: Sequence[str],
              check_dtypes: bool = True) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
        """(feeds as arrays, output aliases to return, how shapes differ from the signature's).

        Raises:
            errors.InvalidArgument: wrong aliases, dtypes (when `check_dtypes`) or output filter.
        """
        name, signature_def = self._signature_name, self._signature_def
        if inputs.keys() != self.aliases:
            check_input_aliases(name, signature_def, inputs)
        wanted = check_output_filter(name, signature_def, output_filter) if output_filter \
            else self.outputs
        feeds, mismatches = {}, []
        for alias, value in inputs.items():
            array = value if type(value) is np.ndarray else np.asarray(value)
            expected = self._dtypes[alias]
            if check_dtypes and array.dtype != expected and not (
                    expected is None and array.dtype.kind in _STRING_KINDS):
                check_input_dtype(name, alias, signature_def.inputs[alias], array)
            shape = self._shapes[alias]
            if shape is not None and not _shape_matches(shape, array.shape):
                mismatches.append(shape_mismatch(name, alias, signature_def.inputs[alias],
                                                 array.shape))
            feeds[alias] = array
        return feeds, wanted, mismatches

    def rows(self, feeds: Mapping[str, np.ndarray]) -> int:
        """How many examples checked `feeds` hold: dimension 0 when the signature has a batch
        dimension, else 1 (what Triton's statistics count as inferences)."""
        if not self._has_batch_dimension:
            return 1
        first = next(iter(feeds.values()))
        return first.shape[0] if first.ndim else 1


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


def check_input_dtype(signature_name: str, alias: str, tensor_info, array: np.ndarray) -> None:
    """Raises InvalidArgument if `array`'s dtype is not the one `tensor_info` declares."""
    import tensorflow as tf

    expected_dtype = tf.dtypes.as_dtype(tensor_info.dtype)
    if not _dtype_matches(expected_dtype, array.dtype):
        raise errors.InvalidArgument(
            f'signature "{signature_name}" input "{alias}": expected dtype '
            f"{_describe_tf_dtype(expected_dtype)}, received {_describe_numpy_dtype(array.dtype)}"
        )


def shape_mismatch(signature_name: str, alias: str, tensor_info, shape: Sequence[int]
                   ) -> str | None:
    """None when `shape` fits the shape `tensor_info` declares, else a message saying how it
    differs. A dimension of -1 matches any size; an unknown rank, or no shape at all (old TF1
    exports), matches any shape.
    """
    if not tensor_info.HasField("tensor_shape") or tensor_info.tensor_shape.unknown_rank:
        return None
    expected_shape = [dim.size for dim in tensor_info.tensor_shape.dim]
    received_shape = list(shape)
    if _shape_matches(expected_shape, received_shape):
        return None
    message = (
        f'signature "{signature_name}" input "{alias}": expected shape '
        f"{_format_shape(expected_shape)} (-1 matches any size), received shape "
        f"{_format_shape(received_shape)}"
    )
    if len(received_shape) + 1 == len(expected_shape) and _shape_matches(expected_shape[1:],
                                                                          received_shape):
        message += (
            f". The signature has a batch dimension: send one example as shape "
            f"{_format_shape([1, *received_shape])}"
        )
    return message


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
