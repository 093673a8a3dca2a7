"""Cutting a request's batch into parts for a pool's interpreters, and joining their outputs.

Only for signatures whose every input and output has a batch dimension
(`SignatureLayout.batch_splittable`), whose inputs agree on the batch size: rows are then
independent, so running contiguous slices separately and concatenating the outputs gives the
same result as one run.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from serving.backends.tflite.layouts import SignatureLayout


def common_batch_size(layout: SignatureLayout, feeds: Mapping[str, np.ndarray]) -> int | None:
    """The batch size shared by every input, or None if the batch cannot be split or joined.

    Only a request of the signature's ranks has a batch dimension to split: any other shape is
    the model's to interpret, whole.
    """
    if not layout.batch_splittable:
        return None
    if any(array.ndim != len(layout.inputs[alias].shape) for alias, array in feeds.items()):
        return None
    sizes = {array.shape[0] for array in feeds.values()}
    return sizes.pop() if len(sizes) == 1 else None


def split_batch(feeds: Mapping[str, np.ndarray], parts: int) -> list[dict[str, np.ndarray]]:
    """`parts` contiguous slices of every input along dim 0, sizes differing by at most one."""
    if parts < 1:
        raise ValueError(f"parts must be positive. Received: parts={parts}")
    batch = next(iter(feeds.values())).shape[0]
    bounds = np.linspace(0, batch, parts + 1).round().astype(int)
    return [{alias: array[start:stop] for alias, array in feeds.items()}
            for start, stop in zip(bounds[:-1], bounds[1:])]


def join_outputs(results: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Each output's parts concatenated along dim 0, in order."""
    return {alias: np.concatenate([result[alias] for result in results])
            for alias in results[0]}


def empty_outputs(layout: SignatureLayout) -> dict[str, np.ndarray] | None:
    """What a batch of 0 examples returns, without running the model; None if not knowable.

    TF Lite's delegates refuse to plan for a dimension of 0 (XNNPACK fails to reshape), while
    TensorFlow answers an empty batch with empty outputs; that answer only needs the outputs'
    other dimensions to be fixed.
    """
    outputs = {}
    for alias, tensor in layout.outputs.items():
        rest = tensor.shape[1:]
        if any(size < 0 for size in rest):
            return None
        outputs[alias] = np.empty((0, *rest), dtype=object if tensor.is_string else tensor.dtype)
    return outputs
