"""Test helpers for the batching tests: a model whose calls a test can hold, and a SavedModel
that sleeps inside TensorFlow. """

from __future__ import annotations

import os
import threading

import numpy as np

# A bound on every wait in these tests, so a bug fails a test instead of hanging the suite.
WAIT_SECONDS = 20.0


class GatedModel:
    """The model function a DynamicBatcher runs (its run_batch): y = 2 * x, computed for real on
    whatever batch it gets, every batch recorded. `hold()` makes calls wait until `release()`, so
    a test decides when a running batch finishes, with no sleeping and no races."""

    def __init__(self):
        self.batches: list[dict[str, np.ndarray]] = []
        self.running = 0
        self.most_running = 0
        self._lock = threading.Lock()
        self._open = threading.Event()
        self._open.set()
        self._entered = threading.Semaphore(0)
        self.error: Exception | None = None

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def wait_entered(self, count: int = 1) -> None:
        """Blocks until `count` more calls have started (bounded)."""
        for _ in range(count):
            assert self._entered.acquire(timeout=WAIT_SECONDS), "the model was never called"

    def __call__(self, signature_name, inputs, output_aliases):
        with self._lock:
            self.batches.append({alias: np.array(array) for alias, array in inputs.items()})
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        self._entered.release()
        try:
            assert self._open.wait(WAIT_SECONDS), "the test never released the model"
            if self.error is not None:
                raise self.error
            return {"y": inputs["x"] * 2}
        finally:
            with self._lock:
                self.running -= 1

    @property
    def batch_sizes(self) -> list[int]:
        return [len(batch["x"]) for batch in self.batches]


def export_sleeper(base_path, version: int = 1, *, sleep_seconds: float = 0.3) -> str:
    """A SavedModel whose serving_default (x float32 [None] -> y = 2x) sleeps `sleep_seconds` or
    more inside TensorFlow (a SleepDataset: no CPU burnt), and counts the rows it was given;
    signature `regress` does the same on serialized tf.Examples (input `inputs`, float feature
    `x`, output `outputs`, the names TF Serving's Regress expects); signature `rows` (no inputs)
    returns the count of rows either was given, as int64 []."""
    import tensorflow as tf
    from tensorflow.python.data.experimental.ops import testing as dataset_testing

    class Sleeper(tf.Module):
        def __init__(self):
            super().__init__()
            self.rows = tf.Variable(0, dtype=tf.int64)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def serve(self, x):
            slept = tf.data.Dataset.from_tensors(x).apply(
                dataset_testing.sleep(int(sleep_seconds * 1e6))).get_single_element()
            self.rows.assign_add(tf.cast(tf.shape(x)[0], tf.int64))
            return {"y": slept * 2.0}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def regress(self, inputs):
            features = tf.io.parse_example(inputs, {"x": tf.io.FixedLenFeature([], tf.float32)})
            return {"outputs": self.serve(features["x"])["y"]}

        @tf.function(input_signature=[])
        def count_rows(self):
            return {"rows": self.rows.read_value()}

    module = Sleeper()
    path = os.path.join(os.fspath(base_path), str(version))
    tf.saved_model.save(module, path, signatures={"serving_default": module.serve,
                                                  "regress": module.regress,
                                                  "rows": module.count_rows})
    return path
