"""Conversions of source arrays to the dtypes and shapes of the `zoo.spec.Dataset` contract."""

from __future__ import annotations

import numpy as np


def as_images(x: np.ndarray) -> np.ndarray:
    """Raw pixel values as float32 (N, H, W, C); a grayscale (N, H, W) array gets C=1."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, C). Received: shape={x.shape}")
    return x.astype(np.float32)


def as_class_indices(y: np.ndarray, num_classes: int) -> np.ndarray:
    """Class labels as a flat int64 array, checked to lie in [0, num_classes)."""
    y = np.asarray(y).reshape(-1).astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"class indices must be in [0, {num_classes}). Received: range {y.min()}..{y.max()}")
    return y


def as_text(texts) -> np.ndarray:
    """Texts as a 1-D numpy object array of str (a fixed-width 'U' array would pad every text)."""
    array = np.empty(len(texts), dtype=object)
    array[:] = [str(text) for text in texts]
    return array
