"""Parameter-server training: the training loop of the cluster's coordinator.

Keras 3's `model.fit` has no ParameterServerStrategy support (keras/src/backend/tensorflow/
trainer.py only distributes datasets with `experimental_distribute_dataset`, which this strategy
refuses), so the chief runs this loop instead, built on `tf.distribute.experimental.coordinator.
ClusterCoordinator`:

- every task runs the same command (`zoo launch --workers N --ps M -- zoo train ...`); `worker`
  and `ps` tasks only start a `tf.distribute.Server` and serve until stopped
  (`zoo.train.strategy.cluster_strategy`), so only the chief reaches this loop;
- the chief builds the model in the strategy's scope, so its variables live on the ps tasks;
- each worker reads its own per-worker dataset: its shard of the training split, reshuffled every
  pass, repeated; an epoch is `steps_per_epoch` steps scheduled on whichever
  worker is free, each step one asynchronous update of `batch_size` examples;
- validation is exact: every validation batch is scheduled once, with its data as arguments, and
  the workers return sums that the chief adds up;
- the zoo's callbacks (checkpoints, backup and restore, TensorBoard, early stopping, throughput)
  run on the chief at epoch boundaries, fed with the same log names `model.fit` produces;
- evaluation, saving and export then work on a copy of the trained model outside the strategy
  (`local_copy`), exactly as for the other strategies.

The training split travels to the workers inside the dataset function's graph, which suits the
in-memory datasets of the zoo (up to a few hundred MB); bigger data should be read from files.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo.spec import DataSpec

# (inputs, targets): targets already as the loss wants them (zoo.data.pipelines.keras_targets).
Split = tuple[np.ndarray, np.ndarray]


class CoordinatedTraining:
    """Trains `model` (built in `strategy`'s scope and compiled) from the chief.

    Takes what the loop needs as arguments, not the trainer's `Run`, so it can be read (and
    driven) without the trainer: the loss and metrics the model was compiled with, and the
    `spec` of the data, which fixes the dtypes and shapes of an evaluation batch.
    """

    def __init__(self, model: keras.Model, strategy: tf.distribute.ParameterServerStrategy, *,
                 loss: keras.losses.Loss, metrics: list, spec: DataSpec):
        self.model = model
        self.strategy = strategy
        self.loss = loss
        self.coordinator = tf.distribute.experimental.coordinator.ClusterCoordinator(strategy)
        cluster = tf.distribute.cluster_resolver.TFConfigClusterResolver().cluster_spec()
        self.num_workers = cluster.num_tasks("worker")
        self._example_metrics = _example_metric_functions(metrics)
        target_shape = () if spec.is_classification else (spec.num_outputs,)
        self._batch_signature = (
            tf.TensorSpec((None, *spec.input_shape), tf.string if spec.input_dtype == "string" else tf.float32),
            tf.TensorSpec((None, *target_shape), tf.int64 if spec.is_classification else tf.float32),
        )

    def fit(self, train: Split, validation: Split, *, batch_size: int, steps_per_epoch: int, seed: int,
            epochs: int, initial_epoch: int, callbacks: list, verbose: int) -> dict[str, list[float]]:
        """Epochs [initial_epoch, epochs) of `steps_per_epoch` scheduled steps of `batch_size` examples
        each, validated on all of `validation`; returns the history `model.fit` would."""
        model = self.model
        with self.strategy.scope():  # on the ps tasks, before any step needs them
            model.optimizer.build(model.trainable_variables)
        callback_list = keras.callbacks.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, verbose=verbose, epochs=epochs,
            steps=steps_per_epoch, model=model,
        )
        train_step = self._train_step()
        dataset_fn = self._training_dataset_fn(train, batch_size, seed)
        batches = iter(self.coordinator.create_per_worker_dataset(dataset_fn))
        model.stop_training = False
        callback_list.on_train_begin()
        # BackupAndRestore sets this on restore, as for model.fit.
        initial_epoch = model._initial_epoch or initial_epoch
        logs: dict[str, float] = {}
        for epoch in range(initial_epoch, epochs):
            callback_list.on_epoch_begin(epoch)
            results = [self.coordinator.schedule(train_step, args=(batches,)) for _ in range(steps_per_epoch)]
            self.coordinator.join()
            logs = _mean_logs([result.fetch() for result in results])
            val_logs = self.evaluate(*validation, batch_size=batch_size)
            logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        if epochs > 0:
            model.optimizer.finalize_variable_values(model.trainable_weights)
        callback_list.on_train_end(logs)
        return {key: [float(v) for v in values] for key, values in model.history.history.items()}

    def evaluate(self, x: np.ndarray, y: np.ndarray, *, batch_size: int) -> dict[str, float]:
        """Loss and metrics over (x, y), each batch scheduled exactly once on some worker."""
        eval_step = self._eval_step()
        results = [
            self.coordinator.schedule(eval_step, args=(tf.constant(x[start:start + batch_size]),
                                                       tf.constant(y[start:start + batch_size])))
            for start in range(0, len(x), batch_size)
        ]
        self.coordinator.join()
        return _mean_logs([result.fetch() for result in results])

    def _training_dataset_fn(self, train: Split, batch_size: int, seed: int):
        (x, y), num_workers = train, self.num_workers
        shard_size = math.ceil(len(x) / num_workers)

        def dataset_fn():
            worker = tf.cast(tf.distribute.coordinator.experimental_get_current_worker_index(), tf.int64)
            elements = tf.data.Dataset.from_tensor_slices((x, y)).shard(num_workers, worker)
            # Each worker shuffles its own shard, so one seed still gives every worker its own order.
            elements = elements.cache().shuffle(shard_size, seed=seed, reshuffle_each_iteration=True)
            return elements.repeat().batch(batch_size).prefetch(tf.data.AUTOTUNE)

        return dataset_fn

    def _train_step(self):
        model, strategy, loss_function = self.model, self.strategy, self.loss
        optimizer, summarise = model.optimizer, self._summarise

        def replica_step(x, y):
            with tf.GradientTape() as tape:
                predictions = model(x, training=True)
                example_losses = loss_function.call(y, tf.cast(predictions, tf.float32))
                loss = tf.nn.compute_average_loss(example_losses)
                if model.losses:
                    loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return summarise(y, predictions, example_losses)

        @tf.function
        def train_step(iterator):
            x, y = next(iterator)
            return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(replica_step, args=(x, y)), axis=None)

        return train_step

    def _eval_step(self):
        model, loss_function, summarise = self.model, self.loss, self._summarise

        @tf.function(input_signature=self._batch_signature)
        def eval_step(x, y):
            predictions = model(x, training=False)
            return summarise(y, predictions, loss_function.call(y, tf.cast(predictions, tf.float32)))

        return eval_step

    def _summarise(self, y, predictions, example_losses) -> dict[str, tf.Tensor]:
        """Sums over a batch (and its example count), so batches of any size add up exactly."""
        predictions = tf.cast(predictions, tf.float32)
        count = tf.cast(tf.shape(example_losses)[0], tf.float32)
        # Keras' logged loss includes the regularization penalties; so does this one.
        penalty = tf.add_n(self.model.losses) if self.model.losses else 0.0
        sums = {"count": count, "loss": tf.reduce_sum(example_losses) + penalty * count}
        for name, function in self._example_metrics.items():
            sums[name] = tf.reduce_sum(tf.cast(function(y, predictions), tf.float32))
        return sums


def _example_metric_functions(names: list) -> dict[str, Any]:
    """Per-example versions of the metrics the trainer compiles with (see zoo/train/optim.py)."""
    known = {"accuracy": keras.metrics.sparse_categorical_accuracy, "mae": keras.metrics.mean_absolute_error}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"parameter-server training computes {sorted(known)} only. Received: metrics={names}")
    return {name: known[name] for name in names}


def _mean_logs(sums: list[dict[str, np.ndarray]]) -> dict[str, float]:
    count = sum(float(s["count"]) for s in sums)
    names = [name for name in sums[0] if name != "count"] if sums else []
    return {name: sum(float(s[name]) for s in sums) / count for name in names} if count else {}


def local_copy(model: keras.Model, *, loss: keras.losses.Loss, metrics: list) -> keras.Model:
    """The trained model with its weights copied out of the ps tasks into ordinary variables,
    compiled for evaluation, so evaluating, saving and exporting need no cluster."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    copy.compile(loss=loss, metrics=metrics)
    return copy
