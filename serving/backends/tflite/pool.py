"""Pools of tf.lite.Interpreter for one model version, checked out one request at a time.

TF Serving's TfLiteSessionPool: `num_pools` pools, each of `interpreters_per_pool` interpreters
built from the same model bytes. A request holds one pool for its whole run (an interpreter is
not thread-safe); requests beyond `num_pools` wait until a pool is handed back. Within a pool,
interpreter i runs part i of a batch the servable split.
"""

from __future__ import annotations

import contextlib
import queue
import warnings
from typing import Iterator, Mapping

from serving.backends.tflite.invokers import make_invoker
from serving.backends.tflite.layouts import SignatureLayout
from serving.backends.tflite.options import TfliteOptions

# tf.lite.Interpreter warns on every construction that LiteRT (ai-edge-litert) replaces it; the
# server chose it knowingly, and the multi-line warning would break the one-line logs.
_DEPRECATION_MESSAGE = r"\s*Warning: tf\.lite\.Interpreter is deprecated"


def new_interpreter(model_content: bytes):
    """A tf.lite.Interpreter of the model with its main graph's tensors allocated.

    One thread per interpreter: concurrency comes from the pools, as in TF Serving.

    Raises:
        ValueError: the bytes are not a TF Lite model.
        RuntimeError: the model needs something this interpreter lacks (e.g. TensorFlow ops).
    """
    import tensorflow as tf

    warnings.filterwarnings("ignore", message=_DEPRECATION_MESSAGE, category=UserWarning)
    interpreter = tf.lite.Interpreter(model_content=model_content, num_threads=1)
    interpreter.allocate_tensors()
    return interpreter


class PoolMember:
    """One pool: its interpreters and, per signature, one invoker for each of them."""

    def __init__(self, model_content: bytes, layouts: Mapping[str, SignatureLayout],
                 interpreters: list):
        self._model_content = model_content
        self._layouts = layouts
        self._use(interpreters)

    def _use(self, interpreters: list) -> None:
        self._interpreters = interpreters  # the invokers use them; keep them alive together
        self._invokers = {key: [make_invoker(interpreter, layout) for interpreter in interpreters]
                          for key, layout in self._layouts.items()}

    def invokers(self, signature_key: str) -> list:
        """The signature's invokers, one per interpreter of this pool (at least one)."""
        return self._invokers[signature_key]

    def renew(self) -> None:
        """Replaces every interpreter with a new one of the same model, after TF Lite failed.

        TF Lite's Python wrapper never empties its error buffer (PythonErrorReporter::message
        clears the stream's state flags, not its text), so an interpreter that failed once would
        prefix every later error message with all the earlier ones and keep them in memory for
        good, and a client sending shapes the model cannot run could grow both without bound. A
        new interpreter starts clean; only requests TF Lite refused pay for building it.
        """
        self._use([new_interpreter(self._model_content) for _ in self._interpreters])


class InterpreterPool:
    """`options.num_pools` PoolMembers of one model; `checkout()` lends one to a request."""

    def __init__(self, model_content: bytes, layouts: Mapping[str, SignatureLayout],
                 options: TfliteOptions, first_interpreter=None):
        """Builds every interpreter now, so a model that cannot run fails the load, not a request.

        `first_interpreter`, one already made from `model_content` (to read the layouts), is
        reused as the first pool's first interpreter.
        """
        self._free: queue.SimpleQueue[PoolMember] = queue.SimpleQueue()
        spare = [first_interpreter] if first_interpreter is not None else []
        for _ in range(options.num_pools):
            interpreters = [spare.pop() if spare else new_interpreter(model_content)
                            for _ in range(options.interpreters_per_pool)]
            self._free.put(PoolMember(model_content, layouts, interpreters))

    @contextlib.contextmanager
    def checkout(self) -> Iterator[PoolMember]:
        """Waits for a free pool, lends it for the `with` block, and takes it back, renewed if
        TF Lite failed on it (ValueError or RuntimeError; see PoolMember.renew)."""
        member = self._free.get()
        try:
            yield member
        except (ValueError, RuntimeError):
            member.renew()
            raise
        finally:
            self._free.put(member)

    def close(self) -> None:
        """Drops the pools so their interpreters can be freed; no checkout may follow."""
        while True:
            try:
                self._free.get_nowait()
            except queue.Empty:
                return
