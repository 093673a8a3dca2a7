"""Make Keras 3's `model.fit`/`evaluate` work under MultiWorkerMirroredStrategy.

Keras 3.15 breaks multi-worker training in two places of keras/src/backend/tensorflow/trainer.py
(keras-team/keras#20585, open; the TensorFlow tutorial's multi-worker example fails the same way):

1. `_maybe_symbolic_build` all-reduces the first data batch, a tuple of PerReplica values, to learn
   its shapes; the collective strategy's `reduce` takes one value, not a tuple, and raises
   "Attempt to convert a value (PerReplica...) with an unsupported type to a Tensor".
2. `reduce_per_replica` averages each step's logs across workers with `axis=0`; the logs are
   scalars, so every train step raises "Invalid reduction dimension 0 for input with 0 dimensions".

`enable_multi_worker_fit()` wraps both: the symbolic build reads this worker's own first replica
batch (it only needs shapes and dtypes), and scalar logs are averaged across workers without an
axis. Under any other strategy the wrappers call Keras' own code unchanged, so installing them
once per process is safe. Remove this module when Keras fixes the issue (a test trains 2 workers).
"""

from __future__ import annotations

import functools

import tensorflow as tf
from keras.src import tree
from keras.src.backend.tensorflow import trainer as keras_tf_trainer


def enable_multi_worker_fit() -> None:
    """Installs the two corrections (once; later calls do nothing)."""
    trainer_class = keras_tf_trainer.TensorFlowTrainer
    if not getattr(trainer_class._maybe_symbolic_build, "zoo_multi_worker", False):
        trainer_class._maybe_symbolic_build = _symbolic_build_from_local_batch(trainer_class._maybe_symbolic_build)
    if not getattr(keras_tf_trainer.reduce_per_replica, "zoo_multi_worker", False):
        keras_tf_trainer.reduce_per_replica = _average_scalar_logs_across_workers(keras_tf_trainer.reduce_per_replica)


def is_multi_worker(strategy) -> bool:
    """A MultiWorkerMirroredStrategy that really spans more than one worker."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and strategy.extended._in_multi_worker_mode()


def _symbolic_build_from_local_batch(keras_method):
    @functools.wraps(keras_method)
    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        if iterator is None or strategy is None or not is_multi_worker(strategy):
            return keras_method(self, iterator=iterator, data_batch=data_batch)
        for _, _, batches in iterator:
            data_batch = tree.map_structure(
                lambda value: strategy.experimental_local_results(value)[0], next(batches)
            )
            break
        return keras_method(self, iterator=None, data_batch=data_batch)

    maybe_symbolic_build.zoo_multi_worker = True
    return maybe_symbolic_build


def _average_scalar_logs_across_workers(keras_function):
    @functools.wraps(keras_function)
    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or not is_multi_worker(strategy):
            return keras_function(values, strategy, reduction)

        def reduce_one(value):
            local = strategy.experimental_local_results(value)[0] if isinstance(
                value, tf.distribute.DistributedValues) else value
            if local.shape.rank == 0:
                return strategy.reduce("MEAN", value, axis=None)
            return keras_function(value, strategy, reduction)

        return tree.map_structure(reduce_one, values)

    reduce_per_replica.zoo_multi_worker = True
    return reduce_per_replica
