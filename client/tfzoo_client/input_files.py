"""Model inputs from files: images, .npy arrays, CSV rows and JSON, shaped as a signature wants.

`zoo predict` reads its INPUT arguments with `read_input`; a notebook can too. What the
signature says decides how a file is read:
- an image (PNG, JPEG, or anything Pillow opens) is decoded, converted to the signature's
  channels (1: grayscale, 3: RGB, 4: RGBA) and resized to its height and width, giving one
  example of raw 0-255 pixels (zoo models normalise inside the graph); a signature that takes
  strings gets the encoded file bytes instead;
- a .npy file is one example, or a batch when it already has the batch dimension;
- a CSV file holds one example per row (a header row is skipped), each row reshaped to the
  example shape; for a string input, each row is one string;
- JSON (a file, or "-" for stdin) is a list of examples, or TF Serving's REST bodies
  {"instances": [...]} (rows) or {"inputs": ...} (columns), with {"b64": "..."} for bytes.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
import json
import math
import os
from typing import IO, Any

import numpy as np

from tfzoo_client.metadata import SignatureInfo, TensorInfo

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
SUPPORTED = "an image (.png, .jpg...), a .npy file, a .csv file, a .json file, or - for JSON on stdin"


class InputFileError(ValueError):
    """A file that cannot become the signature's input; the message names the file and why."""


@dataclasses.dataclass(frozen=True)
class InputBatch:
    """The inputs read from one source: `inputs` for `Client.predict`, and how many examples."""

    source: str
    inputs: Any
    count: int


def read_input(source: str, signature: SignatureInfo, stdin: IO[str] | None = None) -> InputBatch:
    """Reads `source` (a path, or "-" for JSON on `stdin`) as a batch for `signature`."""
    if source == "-":
        if stdin is None:
            raise InputFileError("- reads JSON from stdin, but no stdin was given")
        return _json_batch("stdin", stdin.read(), signature)
    if not os.path.isfile(source):
        raise InputFileError(f"{source}: no such file")
    suffix = os.path.splitext(source)[1].lower()
    if suffix == ".json":
        with open(source, encoding="utf-8") as file:
            return _json_batch(source, file.read(), signature)
    info = _single_input(source, signature)
    if suffix in IMAGE_SUFFIXES:
        return InputBatch(source, _image(source, info), 1)
    if suffix == ".npy":
        array = _npy(source, info)
        return InputBatch(source, array, _batch_size(array))
    if suffix == ".csv":
        array = _csv(source, info)
        return InputBatch(source, array, len(array))
    raise InputFileError(f"{source}: unknown kind of file; INPUT is {SUPPORTED}")


def _single_input(source: str, signature: SignatureInfo) -> TensorInfo:
    if len(signature.inputs) != 1:
        raise InputFileError(
            f'{source}: signature "{signature.name}" takes {len(signature.inputs)} inputs '
            f"({', '.join(signature.inputs)}); a file can fill only one. Use JSON with "
            '{"inputs": {ALIAS: VALUE, ...}} instead'
        )
    return next(iter(signature.inputs.values()))


def _image(source: str, info: TensorInfo) -> np.ndarray:
    with open(source, "rb") as file:
        encoded = file.read()
    if info.dtype == "string":
        return np.array([encoded], dtype=object)
    shape = info.shape
    if shape is None or len(shape) not in (3, 4):
        raise InputFileError(
            f'{source}: input "{info.name}" has shape {info.shape_text}, not an image batch '
            "[batch, height, width(, channels)]"
        )
    channels = shape[3] if len(shape) == 4 else 1
    modes = {1: "L", 3: "RGB", 4: "RGBA", None: "RGB"}
    if channels not in modes:
        raise InputFileError(f'{source}: input "{info.name}" wants {channels} channels; images have 1, 3 or 4')
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(encoded))
        image.load()
    except (UnidentifiedImageError, OSError) as error:
        raise InputFileError(f"{source}: not an image Pillow can decode ({error})") from None
    image = image.convert(modes[channels])
    height, width = shape[1], shape[2]
    if (height, width) != (None, None):
        size = (width or image.width, height or image.height)
        if image.size != size:
            image = image.resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.uint8)
    if len(shape) == 4 and pixels.ndim == 2:
        pixels = pixels[:, :, np.newaxis]
    return _in_dtype(pixels[np.newaxis], info)


def _npy(source: str, info: TensorInfo) -> np.ndarray:
    try:
        array = np.load(source, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise InputFileError(f"{source}: not a readable .npy array ({error})") from None
    if info.shape is not None and array.ndim == len(info.shape) - 1:
        array = array[np.newaxis]  # one example: add the batch dimension
    return array


def _csv(source: str, info: TensorInfo) -> np.ndarray:
    with open(source, newline="", encoding="utf-8") as file:
        rows = [row for row in csv.reader(file) if row and any(cell.strip() for cell in row)]
    if info.dtype == "string":
        if any(len(row) != 1 for row in rows):
            raise InputFileError(f'{source}: input "{info.name}" takes one string per example; '
                                 "give one column per row")
        return np.array([row[0] for row in rows], dtype=object)
    if rows and not all(_is_number(cell) for cell in rows[0]):
        rows = rows[1:]  # a header
    if not rows:
        raise InputFileError(f"{source}: no rows of numbers")
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise InputFileError(f"{source}: rows have different numbers of columns ({sorted(widths)})")
    try:
        values = np.array([[float(cell) for cell in row] for row in rows], dtype=np.float64)
    except ValueError as error:
        raise InputFileError(f"{source}: {error}") from None
    example_shape = info.shape[1:] if info.shape is not None else None
    if example_shape and None not in example_shape:
        if math.prod(example_shape) != values.shape[1]:
            raise InputFileError(
                f'{source}: rows have {values.shape[1]} values, but input "{info.name}" takes '
                f"examples of shape {list(example_shape)} ({math.prod(example_shape)} values)"
            )
        values = values.reshape(len(values), *example_shape)
    elif example_shape == ():
        values = values[:, 0] if values.shape[1] == 1 else values
    return _in_dtype(values, info)


def _in_dtype(values: np.ndarray, info: TensorInfo) -> np.ndarray:
    """Decoded text and pixels have no precision of their own: round them to a float input's
    dtype here (the client would refuse float64 -> float32 as lossy); other dtypes are left to
    the client's lossless conversion."""
    target = info.numpy_dtype
    if target.kind == "f" and values.dtype.kind in "fiu":
        return values.astype(target)
    return values


def _json_batch(source: str, text: str, signature: SignatureInfo) -> InputBatch:
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputFileError(f"{source}: invalid JSON ({error})") from None
    body = _decode_b64(body)
    if isinstance(body, list):
        return InputBatch(source, body, len(body))
    if not isinstance(body, dict) or len(set(body) & {"instances", "inputs"}) != 1:
        raise InputFileError(
            f'{source}: JSON must be a list of examples, {{"instances": [...]}} or {{"inputs": ...}}'
        )
    if "inputs" in body:
        inputs = body["inputs"]
        first = next(iter(inputs.values()), []) if isinstance(inputs, dict) else inputs
        return InputBatch(source, inputs, len(first) if isinstance(first, list) else 1)
    instances = body["instances"]
    if not isinstance(instances, list) or not instances:
        raise InputFileError(f'{source}: "instances" must be a non-empty list')
    if all(isinstance(row, dict) for row in instances):
        aliases = set(signature.inputs)
        for index, row in enumerate(instances):
            if set(row) != aliases:
                raise InputFileError(
                    f"{source}: instance {index} has keys {sorted(row)}; signature "
                    f'"{signature.name}" takes {sorted(aliases)}'
                )
        columns = {alias: [row[alias] for row in instances] for alias in signature.inputs}
        return InputBatch(source, columns, len(instances))
    return InputBatch(source, instances, len(instances))


def _decode_b64(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"b64"} and isinstance(value["b64"], str):
            return base64.b64decode(value["b64"])
        return {key: _decode_b64(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode_b64(item) for item in value]
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _batch_size(array: np.ndarray) -> int:
    return int(array.shape[0]) if array.ndim else 1
