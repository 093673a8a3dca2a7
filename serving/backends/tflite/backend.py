"""One model version served from its `model.tflite` through pools of tf.lite.Interpreter.

`TfliteBackend` is a serving.core Backend: the Servable around it checks requests against its
SignatureDefs exactly as for a SavedModel, so TF Serving's gRPC API, KServe v2 and REST serve it
unchanged, a bad request gets the same error as from the SavedModel next to it, and
--enable_batching batches it the same way.

Shapes are TF Lite's to judge, as in TF Serving: an input whose shape is not the signature's is
run with the interpreter's input resized to it, and only what TF Lite cannot run is refused (the
Servable then names the input, the signature's shape and the received one).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
from typing import Mapping, Sequence

import grpc
import numpy as np

from serving import contract, errors
from serving.backends.tflite.batches import common_batch_size, empty_outputs, join_outputs, split_batch
from serving.backends.tflite.layouts import SignatureLayout, UnsupportedTensorType, read_layouts
from serving.backends.tflite.options import TfliteOptions
from serving.backends.tflite.pool import InterpreterPool, new_interpreter
from serving.backends.tflite.signature_metadata import read_signature_def_map
from serving.core.observer import TFLITE
from serving.core.servable import ServableLoadError

logger = logging.getLogger("serving.tflite")

TFLITE_MODEL_FILE = os.path.join(*contract.TFLITE_MODEL_FILE)


class TfliteBackend:
    """A TF Lite version: `options.num_pools` requests run at once, each on its own pool.

    With more than one interpreter per pool, a request's batch is cut into that many parts run in
    parallel (see serving/backends/tflite/batches.py), which TF Serving does for tf.Example
    models. `name` and `version` name its threads and log lines.
    """

    model_format = TFLITE

    def __init__(self, name: str, version: int, layouts: Mapping[str, SignatureLayout],
                 pool: InterpreterPool, options: TfliteOptions):
        self.signature_defs = {key: layout.signature_def() for key, layout in layouts.items()}
        # Every TF Lite signature is runnable: its layout is what run() invokes.
        self.runnable_signatures = frozenset(layouts)
        self._layouts = dict(layouts)
        self._pool = pool
        # Runs the parts of a split batch other than the first, which the caller runs itself.
        helpers = options.num_pools * (options.interpreters_per_pool - 1)
        self._helpers = concurrent.futures.ThreadPoolExecutor(
            helpers, thread_name_prefix=f"tflite-{name}-{version}") if helpers else None

    @classmethod
    def load(cls, name: str, version: int, path: str, options: TfliteOptions) -> "TfliteBackend":
        """Reads `path`/model.tflite and builds every interpreter of every pool.

        Raises:
            ServableLoadError: NOT_FOUND without the file, DATA_LOSS when it is empty or not a TF
                Lite model, INVALID_ARGUMENT for a model this interpreter cannot run (TensorFlow
                ops, tensor types TensorFlow lacks) or whose embedded SignatureDefs are unreadable
                or name tensors it lacks.
        """
        model_path = os.path.join(path, TFLITE_MODEL_FILE)
        try:
            with open(model_path, "rb") as file:
                content = file.read()
        except OSError as error:
            code = (grpc.StatusCode.NOT_FOUND if isinstance(error, FileNotFoundError)
                    else grpc.StatusCode.DATA_LOSS)
            raise ServableLoadError(f"Cannot read {model_path}: {error.strerror}", code) from None
        if not content:
            raise ServableLoadError(f"{model_path} is empty", grpc.StatusCode.DATA_LOSS)
        try:
            first = new_interpreter(content)
        except ValueError as error:
            raise ServableLoadError(f"{model_path} is not a TF Lite model: {error}",
                                    grpc.StatusCode.DATA_LOSS) from None
        except RuntimeError as error:
            raise ServableLoadError(f"Cannot run the TF Lite model {model_path}: {error}",
                                    grpc.StatusCode.INVALID_ARGUMENT) from None
        try:
            layouts = read_layouts(first, read_signature_def_map(content))
            backend = cls(name, version, layouts,
                          InterpreterPool(content, layouts, options, first_interpreter=first),
                          options)
        except (UnsupportedTensorType, ValueError, RuntimeError) as error:
            raise ServableLoadError(f"Cannot serve the TF Lite model {model_path}: {error}",
                                    grpc.StatusCode.INVALID_ARGUMENT) from None
        logger.info("event=tflite_model_loaded model=%s version=%d signatures=%s pools=%d "
                    "interpreters_per_pool=%d", name, version, ",".join(sorted(layouts)),
                    options.num_pools, options.interpreters_per_pool)
        return backend

    def run(self, signature_name: str, feeds: Mapping[str, np.ndarray],
            output_aliases: Sequence[str]) -> dict[str, np.ndarray]:
        """Runs inputs of the signature's aliases and dtypes on a free pool (waiting for one if
        every pool is busy), whatever their shapes.

        Raises:
            errors.InvalidArgument: TF Lite rejected the values or their shapes while running.
        """
        layout = self._layouts[signature_name]
        # order="C" keeps a scalar a scalar (np.ascontiguousarray would make it shape [1]).
        feeds = {alias: array if array.dtype.kind in ("O", "S", "U")
                 else np.asarray(array, order="C") for alias, array in feeds.items()}
        try:
            outputs = self._invoke(layout, feeds)
        except (ValueError, RuntimeError) as error:
            raise errors.InvalidArgument(f'signature "{signature_name}": {error}') from error
        return {alias: outputs[alias] for alias in output_aliases}

    def _invoke(self, layout: SignatureLayout, feeds: dict[str, np.ndarray]
                ) -> dict[str, np.ndarray]:
        batch = common_batch_size(layout, feeds)
        if batch == 0:
            empty = empty_outputs(layout)
            if empty is not None:
                return empty
        with self._pool.checkout() as member:
            invokers = member.invokers(layout.key)
            parts = split_batch(feeds, min(len(invokers), batch)) if batch else [feeds]
            if len(parts) == 1:
                return invokers[0](feeds)
            return join_outputs(self._run_in_parallel(invokers, parts))

    def _run_in_parallel(self, invokers: list, parts: list[dict[str, np.ndarray]]) -> list[dict]:
        """Part i on interpreter i: the first on this thread, the others on helper threads.

        Returns only once every part has finished, even when one failed, so no interpreter is
        still running when its pool is handed back.
        """
        futures = [self._helpers.submit(invoker, part)
                   for invoker, part in zip(invokers[1:], parts[1:])]
        try:
            first = invokers[0](parts[0])
        finally:
            concurrent.futures.wait(futures)
        return [first, *(future.result() for future in futures)]

    def unload(self) -> None:
        """Stops the helper threads and drops the interpreters; no run() may follow."""
        if self._helpers is not None:
            self._helpers.shutdown(wait=True)
        self._pool.close()
