"""User inputs (numpy arrays, lists, tf.Tensors) into the arrays a signature takes, checked
before anything is sent.

The rule for dtypes is "convert when nothing is lost, refuse otherwise":
- an array that already has the signature's dtype is sent as it is;
- numpy's safe casts (int32 -> int64, uint8 -> float32, bool -> float32...) always pass;
- any other cast passes only if every value survives it exactly (int64 [1, 2] -> float32, float64
  [0.5] -> float32, float32 [3.0] -> int64), else errors.InvalidArgument names the first value
  that would change and how to convert it yourself;
- lists and Python scalars carry no precision of their own, so their floats are rounded to a
  float target (float64 0.1 -> float32 0.1) as long as none overflows;
- strings go only to string inputs (str is sent as UTF-8) and numbers only to number inputs.
Shapes are sent as given: as TensorFlow Serving does, the server feeds a tensor of any shape to
the model and only the model's own failure is an error (which names the signature's shape).
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np

from tfzoo_client import errors
from tfzoo_client.metadata import SignatureInfo, TensorInfo


def signature_inputs(inputs: Any, signature: SignatureInfo) -> dict[str, np.ndarray]:
    """Returns `inputs` as {alias: array}, each converted to the dtype `signature` declares.

    `inputs` is a mapping of alias -> value, or one value when the signature has one input.
    Raises errors.InvalidArgument for missing or unknown aliases and lossy dtype conversions.
    """
    expected = signature.inputs
    if not isinstance(inputs, Mapping):
        if len(expected) != 1:
            raise errors.InvalidArgument(
                f'Signature "{signature.name}" takes {len(expected)} inputs '
                f"({', '.join(expected) or 'none'}): pass a dict of alias -> value. "
                f"Received: one {type(inputs).__name__}"
            )
        inputs = {next(iter(expected)): inputs}
    missing = sorted(set(expected) - set(inputs))
    unknown = sorted(set(inputs) - set(expected))
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown {', '.join(map(str, unknown))}")
        raise errors.InvalidArgument(
            f'Signature "{signature.name}" takes inputs {", ".join(expected)}: '
            f"{'; '.join(problems)}"
        )
    return {alias: tensor_input(inputs[alias], expected[alias]) for alias in expected}


def tensor_input(value: Any, info: TensorInfo) -> np.ndarray:
    """One input value as an array of `info`'s dtype, in the shape it was given."""
    target = info.numpy_dtype
    array, declared = _as_array(value, strings=target == np.dtype(object))
    if target == np.dtype(object):
        converted = _to_strings(array, info)
    else:
        converted = _to_numbers(array, target, declared, info)
    return converted


def _as_array(value: Any, strings: bool) -> tuple[np.ndarray, bool]:
    """The value as numpy, and whether its dtype was chosen by the caller (arrays, tensors) rather
    than guessed by numpy (lists, Python scalars). Lists for a string input become object arrays:
    numpy's own bytes dtype would drop trailing NUL bytes of binary values."""
    if isinstance(value, np.ndarray):
        return value, True
    if isinstance(value, np.generic):
        return np.asarray(value), True
    if type(value).__module__.startswith("tensorflow") and callable(getattr(value, "numpy", None)):
        return np.asarray(value.numpy()), True
    try:
        return np.array(value, dtype=object if strings else None), False
    except ValueError as error:  # ragged lists
        raise errors.InvalidArgument(
            f"Cannot make a tensor from a {type(value).__name__}: {error}"
        ) from None


def _to_strings(array: np.ndarray, info: TensorInfo) -> np.ndarray:
    if array.dtype.kind in "SU" or (array.dtype.kind == "O" and _all_text(array)) or array.size == 0:
        strings = np.empty(array.shape, dtype=object)
        strings.ravel()[:] = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in array.ravel().tolist()]
        return strings
    if array.dtype.kind == "O":
        offending = next(v for v in array.ravel().tolist() if not isinstance(v, (bytes, str)))
        received = f"a {type(offending).__name__} ({offending!r})"
    else:
        received = _describe(array)
    raise errors.InvalidArgument(
        f'Input "{info.name}" takes strings ({info.tf_dtype}); received {received}. '
        "Send bytes or str values"
    )


def _all_text(array: np.ndarray) -> bool:
    return all(isinstance(value, (bytes, str)) for value in array.ravel().tolist())


def _to_numbers(array: np.ndarray, target: np.dtype, declared: bool, info: TensorInfo) -> np.ndarray:
    if array.dtype == target:
        return array
    if array.size == 0 and not declared:
        return np.empty(array.shape, dtype=target)
    if array.dtype.kind not in "biufc":
        raise errors.InvalidArgument(
            f'Input "{info.name}" takes numbers ({info.dtype}, {info.tf_dtype}); received '
            f"{_describe(array)}. Convert the values to numbers first"
        )
    if np.can_cast(array.dtype, target, casting="safe"):
        return array.astype(target)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # ComplexWarning, overflow in casts: checked below
        converted = array.astype(target)
        if not declared and array.dtype.kind == "f" and target.kind == "f":
            changed = np.isfinite(array) & ~np.isfinite(converted)  # rounding is fine, overflow not
        else:
            changed = ~_same_values(converted.astype(array.dtype), array)
    if not changed.any():
        return converted
    index = tuple(int(i) for i in np.argwhere(changed)[0]) if array.ndim else ()
    before, after = array[index].item(), converted[index].item()
    raise errors.InvalidArgument(
        f'Input "{info.name}" takes {info.dtype} ({info.tf_dtype}), and its {array.dtype} values '
        f"cannot all be converted without loss: {before!r} at index {list(index)} would become "
        f"{after!r}. Convert it yourself (e.g. np.asarray(value).astype(np.{target.name})) if "
        "that is what you want"
    )


def _same_values(round_trip: np.ndarray, original: np.ndarray) -> np.ndarray:
    same = round_trip == original
    if original.dtype.kind in "fc":
        same |= np.isnan(round_trip) & np.isnan(original)
    return same


def _describe(array: np.ndarray) -> str:
    kinds = {"b": "booleans", "i": "integers", "u": "integers", "f": "floats", "c": "complex numbers",
             "S": "bytes", "U": "str values", "O": "Python objects"}
    return f"{kinds.get(array.dtype.kind, 'values')} ({array.dtype})"
