"""TensorProto's typed value fields (`float_val`, `int64_val`...) written at numpy speed.

Filling a repeated field through protobuf's Python API costs about 50 ns a value (7 ms for the
150,000 floats of one 224x224x3 image), which would make TF Serving's default response encoding
the slowest part of a Predict. But every typed field of TensorProto is declared `packed`, and a
packed field's wire form is one tag, one length and the values back to back: little-endian
IEEE bytes for float and double, base-128 varints for the integer types. So the field is encoded
here with numpy and handed to protobuf's C parser in one `MergeFromString` call, which gives
exactly the message the Python API would have built.
"""

from __future__ import annotations

import numpy as np
from tensorflow.core.framework import tensor_pb2

_FIELD_NUMBERS = {field.name: field.number for field in tensor_pb2.TensorProto.DESCRIPTOR.fields}
_LENGTH_DELIMITED = 2
# Below this many values protobuf's own extend() is the faster of the two (no wire bytes to
# build); above it the packed form wins, by 10x at 1,000 values and 65x at 150,000
# (benchmarks/tensor_encoding.py).
SMALL_FIELD_VALUES = 32
# A uint64 needs at most ten 7-bit groups; int32 and int64 negatives are sign-extended to 64 bits.
_MAX_VARINT_BYTES = 10


def merge_packed_field(proto: tensor_pb2.TensorProto, field: str, flat: np.ndarray) -> None:
    """Appends the values of the 1-D array `flat` to `proto`'s packed repeated `field`.

    `flat` holds the field's values as numbers: floats for float_val/double_val and the complex
    fields (real and imaginary parts interleaved), integers (or booleans) for the varint fields.
    """
    if flat.size == 0:
        return
    if flat.size <= SMALL_FIELD_VALUES:
        # tolist(): extending a repeated field from Python scalars is far faster than from numpy.
        getattr(proto, field).extend(flat.tolist())
        return
    if flat.dtype.kind == "f":
        payload = flat.astype("<f8" if flat.dtype.itemsize == 8 else "<f4", copy=False).tobytes()
    else:
        payload = _varints(flat)
    tag = _varint_bytes(_FIELD_NUMBERS[field] << 3 | _LENGTH_DELIMITED)
    proto.MergeFromString(tag + _varint_bytes(len(payload)) + payload)


def _varints(values: np.ndarray) -> bytes:
    """The base-128 varint encoding of every value, back to back (protobuf's int32, int64, uint32,
    uint64 and bool encoding): seven bits a byte, low bits first, high bit set on all but the
    last byte of a value."""
    remaining = values.astype(np.int64, copy=False).view(np.uint64) if values.dtype.kind == "i" \
        else values.astype(np.uint64)
    groups = np.empty((values.size, _MAX_VARINT_BYTES), dtype=np.uint8)
    lengths = np.ones(values.size, dtype=np.int64)
    for position in range(_MAX_VARINT_BYTES):
        low_bits = (remaining & np.uint64(0x7F)).astype(np.uint8)
        remaining = remaining >> np.uint64(7)
        more = remaining != 0
        groups[:, position] = low_bits | (more.astype(np.uint8) << 7)
        if not more.any():
            break
        lengths += more
    used = np.arange(_MAX_VARINT_BYTES) < lengths[:, None]
    return groups[used].tobytes()


def _varint_bytes(value: int) -> bytes:
    """One non-negative Python int as a varint (tags and lengths)."""
    encoded = bytearray()
    while value > 0x7F:
        encoded.append(value & 0x7F | 0x80)
        value >>= 7
    encoded.append(value)
    return bytes(encoded)
