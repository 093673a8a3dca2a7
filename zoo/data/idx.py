"""A reader for the IDX format that MNIST and Fashion-MNIST are distributed in.

An IDX file starts with two zero bytes, a dtype code, the number of dimensions, then one
big-endian uint32 per dimension; the values follow, big-endian. The files are usually gzipped.
We read the whole file and view it with `np.frombuffer`, so 70k images load in well under a second.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

from zoo.data.errors import DataFormatError

# IDX dtype codes (http://yann.lecun.com/exdb/mnist/), as big-endian numpy dtypes.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads an IDX file (gzipped or not) into an array of its header's shape and dtype.

    The array is in native byte order; for uint8 data it is a read-only view of the file's bytes.

    Raises:
        DataFormatError: the header is not IDX, or the data is shorter or longer than the header
            says (a truncated download, or the wrong file).
    """
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[:2] != b"\x00\x00":
        raise DataFormatError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code not in IDX_DTYPES:
        raise DataFormatError(f"{path}: unknown IDX dtype code 0x{dtype_code:02x}")
    if ndim == 0:
        raise DataFormatError(f"{path}: IDX header declares 0 dimensions")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataFormatError(f"{path}: truncated IDX header ({len(raw)} bytes for {ndim} dimensions)")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = IDX_DTYPES[dtype_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header_size
    if actual != expected:
        problem = "truncated" if actual < expected else "has trailing bytes"
        raise DataFormatError(
            f"{path}: IDX file {problem}: header says shape {shape} ({expected} bytes of data) "
            f"but the file holds {actual}; download it again"
        )
    values = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return values if dtype.itemsize == 1 else values.astype(dtype.newbyteorder("="))


def _read_bytes(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as file:
        raw = file.read()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise DataFormatError(f"{path}: corrupt gzip data ({error}); download it again") from None
