"""A SavedModel version loaded with `tf.saved_model.load`: TensorFlow Serving's own runtime.

`signature_defs` come from `saved_model.pb` itself (the MetaGraphDef with the requested tags), so
method names and TensorInfo are exactly as exported; GetModelMetadata returns them as is.
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import grpc
import numpy as np

from serving.backends.savedmodel.signature_runner import SignatureRunner
from serving.backends.savedmodel.tensorflow_errors import load_errors, run_errors
from serving.contract import SAVED_MODEL_FILES
from serving.core.observer import SAVED_MODEL
from serving.core.servable import ServableLoadError


class SavedModelBackend:
    """The signatures of one loaded SavedModel, callable from many threads at once."""

    model_format = SAVED_MODEL

    def __init__(self, signature_defs: Mapping[str, object], signature_functions: Mapping[str, object],
                 loaded_object: object = None):
        self.signature_defs = dict(signature_defs)
        self._functions = dict(signature_functions)
        self.runnable_signatures = frozenset(self._functions)
        # The object tf.saved_model.load returned owns the variables the functions read.
        self._loaded_object = loaded_object
        self._runners: dict[str, SignatureRunner] = {}

    @classmethod
    def load(cls, path: str, tags: Sequence[str] = ("serve",),
             signature_defs: Mapping[str, object] | None = None) -> "SavedModelBackend":
        """Loads the SavedModel at `path` (a version directory) with the MetaGraph tagged `tags`.

        `signature_defs` are that MetaGraph's, when the caller has already read saved_model.pb
        (load_saved_model does, to choose a runtime); otherwise they are read here.

        Raises:
            ServableLoadError: with the status code TF Serving would report (NOT_FOUND for a
                missing SavedModel or tag set, DATA_LOSS for a corrupt one, TensorFlow's code
                for anything TensorFlow rejects).
        """
        if signature_defs is None:
            signature_defs = read_signature_defs(path, tags)
        import tensorflow as tf

        with load_errors(path):
            loaded = tf.saved_model.load(path, tags=list(tags))
        # saved_model.pb also lists entries that are not callable (TF2's __saved_model_init_op):
        # they stay in signature_defs, as TF Serving's metadata shows them, but cannot be run.
        functions = {key: loaded.signatures[key] for key in signature_defs
                     if key in loaded.signatures}
        return cls(signature_defs, functions, loaded)

    def run(self, signature_name: str, feeds: Mapping[str, np.ndarray],
            output_aliases: Sequence[str]) -> dict[str, np.ndarray]:
        """The model call itself, on inputs the Servable has already checked."""
        runner = self._runners.get(signature_name)
        if runner is None:  # built on first use; a race builds two equal runners, harmlessly
            runner = SignatureRunner(self._functions[signature_name],
                                     self.signature_defs[signature_name])
            self._runners[signature_name] = runner
        with run_errors(signature_name):
            return runner(feeds, output_aliases)

    def unload(self) -> None:
        """Drops the references to the model so TensorFlow can free it."""
        self._functions.clear()
        self._runners.clear()
        self._loaded_object = None


def read_signature_defs(path: str, tags: Sequence[str]) -> dict[str, object]:
    """The SignatureDefs of the MetaGraph whose tag set equals `tags`, read from saved_model.pb."""
    return signature_defs_of(tagged_meta_graph(read_saved_model(path), path, tags))


def signature_defs_of(meta_graph) -> dict[str, object]:
    """Copies of a MetaGraphDef's SignatureDefs. A copy, not the message itself: a sub-message
    keeps the whole parsed saved_model.pb alive, graph included (hundreds of MB for a big
    model), for as long as the version is served."""
    from tensorflow.core.protobuf import meta_graph_pb2

    copies = {}
    for key, signature_def in meta_graph.signature_def.items():
        copies[key] = meta_graph_pb2.SignatureDef()
        copies[key].CopyFrom(signature_def)
    return copies


def read_saved_model(path: str):
    """The SavedModel proto of the version directory `path` (saved_model.pb or .pbtxt).

    Raises:
        ServableLoadError: NOT_FOUND without either file, DATA_LOSS if it does not parse.
    """
    from google.protobuf import message, text_format
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    binary_path, text_path = (os.path.join(path, name) for name in SAVED_MODEL_FILES)
    try:
        if os.path.exists(binary_path):
            with open(binary_path, "rb") as file:
                saved_model.ParseFromString(file.read())
        elif os.path.exists(text_path):
            with open(text_path, encoding="utf-8") as file:
                text_format.Parse(file.read(), saved_model)
        else:
            raise ServableLoadError(
                f"SavedModel file does not exist at: {path}/{{saved_model.pbtxt|saved_model.pb}}",
                grpc.StatusCode.NOT_FOUND)
    except (message.DecodeError, text_format.ParseError, UnicodeDecodeError) as error:
        raise ServableLoadError(f"Cannot parse the SavedModel in {path}: {error}",
                                grpc.StatusCode.DATA_LOSS) from None
    return saved_model


def tagged_meta_graph(saved_model, path: str, tags: Sequence[str]):
    """The MetaGraphDef of `saved_model` (read from `path`) whose tag set equals `tags`.

    Raises:
        ServableLoadError: NOT_FOUND, listing the tag sets there are.
    """
    wanted = set(tags)
    for meta_graph in saved_model.meta_graphs:
        if set(meta_graph.meta_info_def.tags) == wanted:
            return meta_graph
    available = [sorted(meta_graph.meta_info_def.tags) for meta_graph in saved_model.meta_graphs]
    raise ServableLoadError(
        f"MetaGraphDef associated with tags {sorted(wanted)} could not be found in the SavedModel "
        f"at {path}. Available tag sets: {available}. Set --saved_model_tags to one of them.",
        grpc.StatusCode.NOT_FOUND)
