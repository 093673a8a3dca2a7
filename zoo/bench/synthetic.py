"""Random request inputs made from a signature's metadata, so any model can be benchmarked
without sample data.

The batch dimension (the first unknown one) becomes `batch`; other unknown dimensions become
UNKNOWN_DIM_SIZE, a typical short sequence length. Values are in ranges every model accepts:
floats in [0, 1), integers in [0, 10) (valid ids for any vocabulary), strings a short phrase.
"""

from __future__ import annotations

import numpy as np

UNKNOWN_DIM_SIZE = 8
SAMPLE_TEXT = b"a short benchmark input"


def synthetic_inputs(signature, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """{alias: array} for every input of `signature` (a tfzoo_client SignatureInfo)."""
    rng = np.random.default_rng(seed)
    return {alias: synthetic_tensor(info, batch, rng) for alias, info in signature.inputs.items()}


def synthetic_tensor(info, batch: int, rng: np.random.Generator) -> np.ndarray:
    shape = example_batch_shape(info.shape, batch)
    dtype = info.numpy_dtype
    if dtype == np.dtype(object):
        values = np.empty(shape, dtype=object)
        values.fill(SAMPLE_TEXT)
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
