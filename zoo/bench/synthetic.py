"""Random request inputs made from a signature's metadata, so any model can be benchmarked
without sample data.

The batch dimension (the first unknown one) becomes `batch`; other unknown dimensions become
UNKNOWN_DIM_SIZE, a typical short sequence length. Values are in ranges every model accepts:
floats in [0, 1), integers in [0, 10) (valid ids for any vocabulary), strings a short phrase,
except an `image_bytes` input (an image export's encoded files), which gets a PNG of random pixels
of SAMPLE_IMAGE_SIDE, about the size and decoding work of a photo.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from zoo.spec import IMAGE_BYTES

UNKNOWN_DIM_SIZE = 8
SAMPLE_TEXT = b"a short benchmark input"
SAMPLE_IMAGE_SIDE = 256


def synthetic_inputs(signature, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """{alias: array} for every input of `signature` (a tfzoo_client SignatureInfo)."""
    rng = np.random.default_rng(seed)
    return {alias: synthetic_tensor(info, batch, rng) for alias, info in signature.inputs.items()}


def synthetic_tensor(info, batch: int, rng: np.random.Generator) -> np.ndarray:
    shape = example_batch_shape(info.shape, batch)
    dtype = info.numpy_dtype
    if dtype == np.dtype(object):
        values = np.empty(shape, dtype=object)
        values.fill(random_png(SAMPLE_IMAGE_SIDE, rng) if info.name == IMAGE_BYTES else SAMPLE_TEXT)
        return values
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        return rng.integers(0, 10, shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.random(shape) + 1j * rng.random(shape)).astype(dtype)
    return rng.random(shape).astype(dtype)


def example_batch_shape(shape: tuple[int | None, ...] | None, batch: int) -> tuple[int, ...]:
    """A concrete shape for a signature shape: unknown rank is a vector of `batch` values."""
    if shape is None:
        return (batch,)
    if not shape:
        return ()
    first = batch if shape[0] is None else shape[0]
    return (first, *(UNKNOWN_DIM_SIZE if size is None else size for size in shape[1:]))


def random_png(side: int, rng: np.random.Generator) -> bytes:
    """A side x side RGB PNG of random pixels, written with zlib alone (no image library)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    rows = b"".join(b"\x00" + row.tobytes() for row in pixels)  # filter type 0 before each row
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
