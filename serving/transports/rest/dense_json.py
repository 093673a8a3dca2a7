"""Request bodies whose tensors are JSON arrays of numbers, read straight into numpy.

Most of a Predict or infer body is one big array of numbers (a 28x28x1 image is 784 of them in
7 KB). The general parser (json_io.parse_json_object) makes a Python float per number and a list
per row, then numpy walks them all again; that is most of a REST request's CPU. Here simdjson
parses the document in C and copies each dense numeric tensor into one buffer, so no Python
object is made per element.

Only an exact result is taken. A tensor is read this way when its JSON text is, level by level,
arrays of one length holding numbers only; that is checked on the whole body at once: the body's
skeleton (its text without number characters and whitespace) must equal the skeleton of the
parsed document with each tensor written as a dense array of its dimensions, and hold no empty
array. Equal skeletons leave no room for a ragged row, a string or true among the numbers (see
`_with_dense_tensors`). A body
simdjson refuses (NaN or Infinity, bytes after the document, a big integer, deep nesting, bad
UTF-8) or that fails the check is parsed by json_io.parse_json_object, so values, messages and
TF Serving's leniencies stay exactly as they were.

The tensors come back as `DenseArray` values in place of their lists; the decoders that read
them (tfs_tensors, oip_json) take their numpy values when the signature's dtype accepts them as
they are, and the JSON values (`as_python`) otherwise, for the general path's checks and
messages.
"""

from __future__ import annotations

import json
from typing import Callable

import numpy as np
import simdjson

from serving.transports.rest.json_io import parse_json_object

# What a body's skeleton drops: whitespace, then every character a JSON number can hold.
_WHITESPACE = b" \t\n\r"
_NUMBER_CHARACTERS = b"0123456789.eE+-"
_NOT_SKELETON = _WHITESPACE + _NUMBER_CHARACTERS
# Deeper arrays than numpy can hold are the general path's to refuse.
_MAX_DIMS = 32
_MARKER = "\x01dense tensor\x01"  # stands for a tensor in the document before its skeleton is made


class DenseArray:
    """A JSON array of numbers with every level of one length, as numpy `values`: int64 when
    every number is written as an integer, else float64."""

    __slots__ = ("values", "_element")

    def __init__(self, values: np.ndarray, element):
        self.values = values
        self._element = element  # the simdjson array, for as_python

    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape

    def as_python(self) -> list:
        """The array as the general JSON parser reads it: nested lists of ints and floats."""
        return self._element.as_list()


def parse_predict_body(body: bytes) -> dict:
    """A TF Serving Predict body: `instances`, `inputs`, or each of `inputs`' named values, as
    DenseArray where they are dense numeric arrays."""
    return _parse(body, _predict_tensors)


def parse_infer_body(body: bytes) -> dict:
    """An Open Inference Protocol infer body: each input's `data` as a DenseArray where it is a
    dense numeric array."""
    return _parse(body, _infer_tensors)


# A place a tensor may be: (the dict that holds it, its key).
Place = tuple[dict, str]


def _parse(body: bytes, find_tensors: Callable[[dict], list[Place]]) -> dict:
    try:
        document = simdjson.Parser().parse(body)
    except (ValueError, RuntimeError, UnicodeDecodeError):
        return parse_json_object(body)
    try:
        top_level = _members(document)
        return _with_dense_tensors(body, top_level, find_tensors(top_level))
    except _NotDense:
        return parse_json_object(body)


class _NotDense(Exception):
    """The body is left to the general parser."""


def _members(value) -> dict:
    """A simdjson object's members, values still proxies (its items() would convert them all).

    Raises _NotDense for a repeated key (simdjson finds the first, JSON parsers keep the last) and
    for a key simdjson cannot look up by its text (one holding a NUL character).
    """
    if not isinstance(value, simdjson.Object):
        raise _NotDense()
    keys = list(value.keys())
    if len(set(keys)) != len(keys):
        raise _NotDense()
    try:
        return {key: value[key] for key in keys}
    except (KeyError, UnicodeError):
        raise _NotDense() from None


def _predict_tensors(document: dict) -> list[Place]:
    places = [(document, key) for key in ("instances", "inputs")
              if isinstance(document.get(key), simdjson.Array)]
    if isinstance(document.get("inputs"), simdjson.Object):
        inputs = document["inputs"] = _members(document["inputs"])
        places += [(inputs, name) for name, value in inputs.items()
                   if isinstance(value, simdjson.Array)]
    return places


def _infer_tensors(document: dict) -> list[Place]:
    if not isinstance(document.get("inputs"), simdjson.Array):
        return []
    inputs = document["inputs"] = [_members(tensor) if isinstance(tensor, simdjson.Object)
                                   else tensor for tensor in _elements(document["inputs"])]
    return [(tensor, "data") for tensor in inputs
            if isinstance(tensor, dict) and isinstance(tensor.get("data"), simdjson.Array)]


def _elements(array) -> list:
    """A simdjson array's elements, still proxies (iterating it would convert them)."""
    return [array[index] for index in range(len(array))]


def _with_dense_tensors(body: bytes, document: dict, places: list[Place]) -> dict:
    """`document` as Python values with a DenseArray at each place that holds a dense numeric
    array.

    Raises _NotDense when the body's skeleton does not match, or an integer does not fit int64.

    Why equal skeletons prove each tensor dense: the parsed document and the body are the same
    JSON, so their skeletons can only differ inside the tensors (or where the body escapes a
    string differently from json.dumps: merely a miss). A tensor's skeleton holds only
    brackets and commas, so the text before it (ending in a colon or an opening bracket) lines
    up in both, and the balanced group that starts there is the tensor in both: the body's
    tensor has exactly the commas and brackets of a dense array, and nothing but numbers between
    them (true, a string or an object would leave letters, quotes or braces). One number and no
    number leave the same skeleton, so a body holding an empty array anywhere is not taken.
    """
    tensors = []
    for container, key in places:
        element = container[key]
        first, dims = _first_number(element)
        if dims is not None:
            tensors.append((container, key, (element, first), dims))
            container[key] = _MARKER
    document = _python(document)
    expected = _skeleton(json.dumps(document, ensure_ascii=False).encode("utf-8"))
    for _, _, _, dims in tensors:
        expected = expected.replace(_MARKER_SKELETON, _dense_skeleton(dims), 1)
    # An empty array has the skeleton of a one-number array: such a body takes no fast path.
    # Deleting numbers never removes a "[]", so a body whose skeleton equals one without "[]"
    # holds no empty array, and only a skeleton holding one needs the body searched.
    if _skeleton(body) != expected or (b"[]" in expected
                                       and b"[]" in body.translate(None, _WHITESPACE)):
        raise _NotDense()
    for container, key, (element, first), dims in tensors:
        container[key] = DenseArray(_numbers(element, first).reshape(dims), element)
    return document


def _first_number(array) -> tuple[int | float | None, tuple[int, ...] | None]:
    """The array's first leaf and the lengths along the way to it; (None, None) if that leaf
    is not a number, or is deeper than _MAX_DIMS."""
    dims, element = [], array
    while isinstance(element, simdjson.Array):
        if not len(element) or len(dims) == _MAX_DIMS:
            return None, None
        dims.append(len(element))
        element = element[0]
    if isinstance(element, bool) or not isinstance(element, (int, float)):
        return None, None
    return element, tuple(dims)


def _numbers(element, first: int | float) -> np.ndarray:
    """The numbers of a dense array, flat: int64 if all are written as integers, else float64
    (tried first when the first number has a fraction or an exponent).

    Raises _NotDense for an integer beyond int64, which the general parser keeps exact.
    """
    if isinstance(first, int):
        try:
            return np.frombuffer(element.as_buffer(of_type="i"), dtype=np.int64)
        except TypeError:  # a later number has a fraction or an exponent
            pass
        except ValueError:
            raise _NotDense() from None
    try:
        return np.frombuffer(element.as_buffer(of_type="d"), dtype=np.float64)
    except ValueError:
        raise _NotDense() from None


def _python(value):
    """simdjson proxies as Python values. The dicts and lists _parse and the find_tensors
    functions made are converted in place, so the places that point into them stay valid."""
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _python(item)
        return value
    if isinstance(value, list):
        value[:] = [_python(item) for item in value]
        return value
    if isinstance(value, simdjson.Object):
        return value.as_dict()
    if isinstance(value, simdjson.Array):
        return value.as_list()
    return value


def _skeleton(text: bytes) -> bytes:
    return text.translate(None, _NOT_SKELETON)


def _dense_skeleton(dims: tuple[int, ...]) -> bytes:
    skeleton = b""
    for size in reversed(dims):
        skeleton = b"[" + b",".join([skeleton] * size) + b"]"
    return skeleton


_MARKER_SKELETON = _skeleton(json.dumps(_MARKER, ensure_ascii=False).encode("utf-8"))
