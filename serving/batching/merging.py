"""How requests combine into one batch and how its outputs go back: merge, pad, split.

Only requests with the same queue key share a batch: the same signature, the same outputs, and
for every input the same dtype and non-batch shape (or, with pad_variable_length_inputs, the same
rank: their shapes are then padded to a common one). So inputs of different shapes are never
merged into a wrong batch; they wait in batches of their own.

A batch is the requests' inputs concatenated along dimension 0, padded up to the next allowed
batch size by repeating a real row (TF Serving pads with a row of the last request, so the
padding is always a valid input); every output is cut back into one slice per request.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from serving import errors


def is_batchable(signature_def) -> bool:
    """Whether requests to this signature can be merged along dimension 0.

    Every input and output needs a known rank >= 1 with a dimension 0 of any size (-1): a
    scalar or a fixed first dimension has no batch dimension to merge or split along.
    """
    tensor_infos = list(signature_def.inputs.values()) + list(signature_def.outputs.values())
    if not signature_def.inputs or not signature_def.outputs:
        return False
    for tensor_info in tensor_infos:
        shape = tensor_info.tensor_shape
        if shape.unknown_rank or not shape.dim or shape.dim[0].size != -1:
            return False
    return True


def request_batch_size(feeds: Mapping[str, np.ndarray]) -> int | None:
    """The request's batch size: dimension 0, shared by every input. None if it has none.

    A request whose inputs disagree on dimension 0, or with an empty batch, is run on its own.
    """
    size = None
    for array in feeds.values():
        if array.ndim == 0:
            return None
        if size is None:
            size = array.shape[0]
        elif array.shape[0] != size:
            return None
    return size or None


def queue_key(signature_name: str, feeds: Mapping[str, np.ndarray], output_aliases: Sequence[str],
              pad_variable_length_inputs: bool) -> tuple:
    """The key of the requests this one may share a batch with (see the module doc)."""
    if pad_variable_length_inputs:
        inputs = tuple((alias, feeds[alias].dtype.str, feeds[alias].ndim)
                       for alias in sorted(feeds))
    else:
        inputs = tuple((alias, feeds[alias].dtype.str, feeds[alias].shape[1:])
                       for alias in sorted(feeds))
    return signature_name, tuple(output_aliases), inputs


def merge_inputs(requests: Sequence[Mapping[str, np.ndarray]], padded_size: int,
                 pad_variable_length_inputs: bool = False) -> dict[str, np.ndarray]:
    """One batch from the requests' inputs, `padded_size` rows long.

    A single request that needs no padding is passed through without a copy.

    Raises:
        errors.InvalidArgument: variable-length padding of an empty tensor (there is no value to
            pad it with), as in TF Serving.
    """
    merged = {}
    for alias in requests[0]:
        arrays = [request[alias] for request in requests]
        if pad_variable_length_inputs:
            arrays = _pad_to_common_shape(alias, arrays)
        missing = padded_size - sum(len(array) for array in arrays)
        if missing > 0:
            arrays.append(np.repeat(arrays[-1][:1], missing, axis=0))
        merged[alias] = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
    return merged


def split_outputs(outputs: Mapping[str, np.ndarray], sizes: Sequence[int], padded_size: int
                  ) -> list[dict[str, np.ndarray]]:
    """Each request's slice of the batch's outputs (the padding rows are dropped).

    Raises:
        errors.Internal: an output whose dimension 0 is not the batch's size, so it cannot be
            split (the model does not keep its batch dimension).
    """
    for alias, array in outputs.items():
        if array.ndim == 0 or array.shape[0] != padded_size:
            raise errors.Internal(
                f'Batched output "{alias}" has shape {list(array.shape)}, but its dimension 0 '
                f"should be the batch size {padded_size}; this signature cannot be batched")
    if len(sizes) == 1 and sizes[0] == padded_size:
        return [dict(outputs)]
    parts, start = [], 0
    for size in sizes:
        parts.append({alias: array[start:start + size] for alias, array in outputs.items()})
        start += size
    return parts


def concatenate_outputs(parts: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The outputs of a request that ran as several chunks, joined back along dimension 0."""
    return {alias: np.concatenate([part[alias] for part in parts]) for alias in parts[0]}


def _pad_to_common_shape(alias: str, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Pads every array's non-batch dimensions at the end up to the largest size among them.

    The pad value is each array's own first element, TF Serving's choice (batching_util.cc).
    """
    target = tuple(max(sizes) for sizes in zip(*(array.shape[1:] for array in arrays)))
    padded = []
    for array in arrays:
        if array.shape[1:] == target:
            padded.append(array)
            continue
        if array.size == 0:
            raise errors.InvalidArgument(
                f'input "{alias}": cannot pad an empty tensor of shape {list(array.shape)} to the '
                f"batch's shape; send it with at least one element")
        widths = [(0, 0)] + [(0, want - have) for have, want in zip(array.shape[1:], target)]
        padded.append(np.pad(array, widths, mode="constant", constant_values=array.flat[0]))
    return padded
