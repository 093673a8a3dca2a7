"""A SavedModel version loaded into a TF1 `tf.compat.v1.Session`, as TensorFlow Serving loads
every SavedModel.

`tf.saved_model.load` turns each signature of a TF1 export into a function (load_v1_in_v2.py,
WrappedFunction.prune) and sets every fed and fetched tensor to the shape its TensorInfo gives.
Exports from early TensorFlow 1.x recorded no `tensor_shape` there, which reads as a scalar, so
that loader rejects any signature tensor of known, non-scalar shape ("Shapes must be equal rank,
but are 2 and 0"). A session runs the graph as TF Serving's C++ loader does: it imports the
GraphDef honouring its producer version (up to producer 21 a placeholder's `shape {}` means
"unknown") and runs a signature by feeding and fetching the tensors its TensorInfos name, with no
shapes but the graph's own.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from serving.backends.savedmodel.backend import read_signature_defs
from serving.backends.savedmodel.tensorflow_errors import load_errors, run_errors
from serving.core.observer import SAVED_MODEL


class SessionBackend:
    """The signatures of one SavedModel MetaGraph in its own graph and session, callable from
    many threads at once (a session runs concurrent steps)."""

    model_format = SAVED_MODEL

    def __init__(self, session, signature_defs: Mapping[str, object]):
        self.signature_defs = dict(signature_defs)
        self.runnable_signatures = frozenset(
            key for key, signature_def in self.signature_defs.items()
            if _names_graph_tensors(session.graph, signature_def))
        self._session = session
        # (signature, output aliases) -> (input aliases, output aliases, callable), in the order
        # the callable takes and returns them.
        self._callables: dict[tuple[str, frozenset[str]], tuple] = {}

    @classmethod
    def load(cls, path: str, tags: Sequence[str] = ("serve",),
             signature_defs: Mapping[str, object] | None = None) -> "SessionBackend":
        """Loads the MetaGraph tagged `tags` of the SavedModel at `path` into a new session.

        The loader restores the variables and runs the export's main_op (or legacy_init_op) with
        its asset paths fed, as TF Serving's loader does. The session takes the process's
        TensorFlow threading settings (--tensorflow_*_parallelism). `signature_defs` are the
        MetaGraph's when the caller has already read saved_model.pb.

        Raises:
            ServableLoadError: with the status codes SavedModelBackend.load reports.
        """
        if signature_defs is None:
            signature_defs = read_signature_defs(path, tags)
        import tensorflow as tf

        graph = tf.Graph()
        session = tf.compat.v1.Session(graph=graph)
        try:
            with load_errors(path), graph.as_default():
                tf.compat.v1.saved_model.loader.load(session, list(tags), path)
        except BaseException:
            session.close()
            raise
        graph.finalize()  # requests only run it: nothing may add ops behind a running step
        return cls(session, signature_defs)

    def run(self, signature_name: str, feeds: Mapping[str, np.ndarray],
            output_aliases: Sequence[str]) -> dict[str, np.ndarray]:
        """Feeds each input to the tensor its TensorInfo names and fetches the outputs'.

        Like TF Serving, it feeds whatever shape the request has and lets the graph's kernels
        decide (a SignatureDef without shapes says nothing, and a fed tensor may have any shape).
        """
        input_aliases, fetched_aliases, call = self._callable(signature_name, output_aliases)
        with run_errors(signature_name):
            values = dict(zip(fetched_aliases, call(*(feeds[alias] for alias in input_aliases))))
        return {alias: _to_numpy(values[alias]) for alias in output_aliases}

    def unload(self) -> None:
        """Releases the callables, then closes the session, which frees the graph's memory."""
        self._callables.clear()
        self._session.close()

    def _callable(self, signature_name: str, output_aliases: Sequence[str]) -> tuple:
        """The session callable feeding `signature_name`'s inputs and fetching `output_aliases`.

        Made once per signature and set of outputs (the session prunes the graph and builds its
        executor then), keyed by the set so every order of an output filter shares one, as
        DirectSession keys its executors. A race makes two equal callables, harmlessly.

        Session.run and Session.make_callable check each feed's shape against the fed tensor's
        static shape in Python, and refuse x of shape [1] for a tensor of shape [?, 1] that TF
        Serving would feed. A callable made from CallableOptions (the private
        BaseSession._make_callable_from_options over the C++ Session::MakeCallable, which Keras'
        graph-mode backend also ran on) goes to the session without that check.
        """
        key = (signature_name, frozenset(output_aliases))
        entry = self._callables.get(key)
        if entry is None:
            from tensorflow.core.protobuf import config_pb2

            signature_def = self.signature_defs[signature_name]
            input_aliases = sorted(signature_def.inputs)
            fetched_aliases = sorted(key[1])
            options = config_pb2.CallableOptions(
                feed=[signature_def.inputs[alias].name for alias in input_aliases],
                fetch=[signature_def.outputs[alias].name for alias in fetched_aliases])
            with run_errors(signature_name):
                call = self._session._make_callable_from_options(options)
            entry = (input_aliases, fetched_aliases, call)
            self._callables[key] = entry
        return entry


def _names_graph_tensors(graph, signature_def) -> bool:
    """Whether every TensorInfo of `signature_def` names a tensor of `graph`, so the signature
    can be fed and fetched. Sparse and composite TensorInfos name no single tensor, and the
    __saved_model_init_op entry of a TF2-era export names an operation: those stay in
    signature_defs (metadata shows them) but are not runnable."""
    for tensor_info in [*signature_def.inputs.values(), *signature_def.outputs.values()]:
        if tensor_info.WhichOneof("encoding") != "name":
            return False
        try:
            graph.get_tensor_by_name(tensor_info.name)
        except (KeyError, ValueError):
            return False
    return True


def _to_numpy(value) -> np.ndarray:
    """A fetched value as an ndarray; strings as an object array of bytes, as the TF2 runtime
    returns them (the session returns a string scalar as bare bytes)."""
    array = np.asarray(value)
    return array.astype(object) if array.dtype.kind == "S" else array
