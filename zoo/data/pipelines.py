"""tf.data pipelines over a `Dataset`'s numpy splits, ready for `model.fit` under any strategy."""

from __future__ import annotations

import numpy as np

from zoo.spec import Dataset


def make_pipelines(ds: Dataset, batch_size: int, *, seed: int = 0, shuffle: bool = True, cache: bool = True):
    """Builds the (train, validation, test) `tf.data.Dataset`s of batches of (inputs, targets).

    Args:
        ds: the dataset to serve.
        batch_size: the GLOBAL batch size; a distribution strategy splits each batch over replicas.
        seed: the training shuffle's seed. Every worker of a MultiWorkerMirroredStrategy must
            use the same one, so that they agree on the order they shard by.
        shuffle: whether to reshuffle the training split every epoch (validation and test never are).
        cache: whether to keep the elements in memory after the first pass.

    Targets are shaped for Keras losses: int64 (N,) class indices for sparse categorical
    cross-entropy, float32 (N, num_outputs) for regression losses.

    Auto-sharding is set to DATA: the pipelines read in-memory arrays, not files, so a
    multi-worker strategy can only shard them by element.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA

    def pipeline(x: np.ndarray, y: np.ndarray, training: bool) -> tf.data.Dataset:
        elements = tf.data.Dataset.from_tensor_slices((x, keras_targets(ds, y)))
        if cache:
            elements = elements.cache()
        if training and shuffle:
            elements = elements.shuffle(max(1, len(x)), seed=seed, reshuffle_each_iteration=True)
        return elements.batch(int(batch_size)).prefetch(tf.data.AUTOTUNE).with_options(options)

    return (
        pipeline(ds.x_train, ds.y_train, training=True),
        pipeline(ds.x_val, ds.y_val, training=False),
        pipeline(ds.x_test, ds.y_test, training=False),
    )


def keras_targets(ds: Dataset, y: np.ndarray) -> np.ndarray:
    """Targets as Keras losses want them: flat int64 class indices, or float32 (N, num_outputs)."""
    if ds.spec.is_classification:
        return np.asarray(y, dtype=np.int64).reshape(-1)
    return np.asarray(y, dtype=np.float32).reshape(len(y), ds.spec.num_outputs)
