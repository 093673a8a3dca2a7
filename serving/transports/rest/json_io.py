"""JSON in and out of the REST API, with TF Serving's conventions.

- NaN, Infinity and -Infinity are accepted in requests and written in responses, as TF Serving
  does (api_rest.md, "JSON conformance"); Python's json module reads and writes those tokens.
- A document nested deeper than the parser can follow is a 400, not a crash: json's C scanner
  raises RecursionError at the interpreter's recursion limit, which becomes InvalidArgument.
- float32 values are written with the fewest digits that read back as the same float32 (0.2, not
  0.20000000298023224), as TF Serving's WriteDecimal does; `float32_values` does it vectorised.
"""

from __future__ import annotations

import json

import numpy as np
import orjson

from serving import errors

# How much of an offending JSON value an error message quotes (TF Serving: 256 bytes).
MAX_DEBUG_CHARS = 256
_DECODER = json.JSONDecoder()


def parse_json_object(body: bytes) -> dict:
    """The request body as a JSON object.

    What follows the document is ignored, as TF Serving's parser stops once the document is
    complete.

    Raises errors.InvalidArgument for an empty body, invalid UTF-8 or JSON, a document nested too
    deeply, or a top-level value that is not an object.
    """
    if not body.strip():
        raise errors.InvalidArgument("JSON Parse error: The document is empty")
    try:
        text = body.decode("utf-8")
        document, _ = _DECODER.raw_decode(text, len(text) - len(text.lstrip()))
    except RecursionError:
        raise errors.InvalidArgument(
            "JSON Parse error: the document is nested too deeply to parse") from None
    except UnicodeDecodeError as error:
        raise errors.InvalidArgument(f"JSON Parse error: the body is not UTF-8 ({error})") from None
    except ValueError as error:  # json.JSONDecodeError
        raise errors.InvalidArgument(f"JSON Parse error: {error}") from None
    if not isinstance(document, dict):
        raise errors.InvalidArgument(f"JSON Value: {debug_string(document)} Is not object")
    return document


def dump_json(document) -> bytes:
    """Serialises a response; numpy arrays are written as nested lists; NaN and infinities as
    NaN, Infinity, -Infinity.

    orjson writes it (numpy arrays in C, no Python float per element) unless the result holds
    `null`: orjson writes NaN and infinities as null, so such a document is written again by
    json, which spells them as TF Serving does (a real None is null either way). Both write the
    shortest decimal that reads back as the same float.
    """
    try:
        text = orjson.dumps(document, default=_as_python, option=orjson.OPT_SERIALIZE_NUMPY)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, a key that is not a string
        text = None
    if text is None or b"null" in text:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False,
                          default=_as_python).encode("utf-8")
    return text


def error_body(message: str) -> bytes:
    """`{"error": "..."}`: the body of every REST error, TF Serving's and the protocol's alike."""
    return dump_json({"error": message})


def debug_string(value) -> str:
    """A JSON rendering of `value` for error messages, cut to MAX_DEBUG_CHARS."""
    try:
        text = json.dumps(value, separators=(",", ":"), default=_as_python)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= MAX_DEBUG_CHARS else text[:MAX_DEBUG_CHARS] + "..."


def _as_python(value):
    """JSON values held in another form: numpy arrays (those orjson does not write: 0-d,
    non-contiguous, other dtypes) as lists, numpy scalars (a row of several outputs, written by
    json when a non-finite float makes orjson's text unusable) as Python numbers,
    dense_json.DenseArray by its `as_python()`."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    as_python = getattr(value, "as_python", None)
    if as_python is None:
        raise TypeError(f"{type(value).__name__} is not JSON")
    return as_python()


def json_type_name(value) -> str:
    """The JSON type of a parsed value, spelled as TF Serving's messages do ("Number", "Null")."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return "Number"
    return {str: "String", dict: "Object", list: "Array"}.get(type(value), type(value).__name__)


def float32_values(array: np.ndarray) -> np.ndarray:
    """float32 values as float64 numbers whose repr is the shortest decimal that reads back as
    the same float32 (what str(np.float32(v)) prints).

    Small arrays (a classifier's scores) are converted one value at a time through str(), which
    costs about 0.6 us a value against about 45 us for the vectorised rounding below (measured:
    10 values 7 against 46 us, 64 values 39 against 47, 128 values 79 against 61); arrays from
    48 values up are vectorised: for each value the fewest
    significant digits p in 6..9 (6 also covers every shorter decimal) that round-trips through
    float32 is found by rounding in float64. Dividing an integer by an exact power of ten (up to
    1e22) gives the float64 nearest the decimal, whose repr is that decimal; the rare magnitudes
    that would need a larger power (below 1e-13 or from 1e14 up) are converted one by one.
    Returns a float64 array of the same shape.
    """
    values = np.asarray(array, dtype=np.float32)
    if values.size < _VECTORISED_FROM_SIZE:
        return np.fromiter(map(float, map(str, values.ravel())), dtype=np.float64,
                           count=values.size).reshape(values.shape)
    wide = values.astype(np.float64)
    result = wide.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        exponents = np.floor(np.log10(np.abs(wide)))
    # Zero, NaN and infinities are written as they are; magnitudes whose rounding needs a power
    # of ten beyond 1e22 are left for the per-element loop below.
    done = ~np.isfinite(exponents)
    vectorised = ~done & (np.abs(exponents) <= _MAX_VECTORISED_EXPONENT)
    pending = vectorised.copy()
    for digits in (6, 7, 8, 9):
        if not pending.any():
            break
        places = np.where(pending, digits - 1 - exponents, 0)
        scale = 10.0 ** np.abs(places)
        rounded = np.where(places >= 0, np.round(wide * scale) / scale,
                           np.round(wide / scale) * scale)
        found = pending & (rounded.astype(np.float32) == values)
        result[found] = rounded[found]
        pending &= ~found
    for index in np.flatnonzero(~done & ~vectorised | pending):
        result.flat[index] = float(str(values.flat[index]))
    return result


_VECTORISED_FROM_SIZE = 48
# 10**k is exact in float64 for k <= 22; with 6 to 9 digits, exponents within +-13 stay inside.
_MAX_VECTORISED_EXPONENT = 13
