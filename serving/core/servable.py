"""One loaded version of one model: its SignatureDefs and a checked way to run them.

A Servable is protocol-agnostic: the gRPC, REST and KServe front ends all turn their requests
into `run(signature_name, {alias: ndarray})` and turn the returned arrays back into their own
messages. It holds no lock: TensorFlow functions are safe to call from many threads at once.
"""

from __future__ import annotations

import os
import re
import time
from typing import Mapping, Sequence

import grpc
import numpy as np

from serving import errors
from serving.core import signature_check
from serving.core.signature_runner import SignatureRunner

DEFAULT_SIGNATURE = "serving_default"


class ServableLoadError(errors.ServingError):
    """A version that could not be loaded; `code` is the status GetModelStatus reports for it."""

    def __init__(self, message: str, code: grpc.StatusCode = grpc.StatusCode.UNKNOWN):
        super().__init__(message)
        self.code = code


class Servable:
    """A SavedModel version loaded with `tf.saved_model.load`, ready to run its signatures.

    `signature_defs` come from `saved_model.pb` itself (the MetaGraphDef with the requested tags),
    so method names and TensorInfo are exactly as exported; GetModelMetadata returns them as is.
    """

    def __init__(self, name: str, version: int, path: str, signature_defs: Mapping[str, object],
                 signature_functions: Mapping[str, object], loaded_object: object = None):
        self.name = name
        self.version = version
        self.path = path
        self.signature_defs = dict(signature_defs)
        self._functions = dict(signature_functions)
        # The object tf.saved_model.load returned owns the variables the functions read.
        self._loaded_object = loaded_object
        # --enable_batching: the version's DynamicBatcher and the signatures it batches.
        self._batcher = None
        self._batched_signatures: frozenset[str] = frozenset()
        self._runners: dict[str, SignatureRunner] = {}

    @classmethod
    def load(cls, name: str, version: int, path: str, tags: Sequence[str] = ("serve",)
             ) -> "Servable":
        """Loads the SavedModel at `path` (a version directory) with the MetaGraph tagged `tags`.

        Raises:
            ServableLoadError: with the status code TF Serving would report (NOT_FOUND for a
                missing SavedModel or tag set, DATA_LOSS for a corrupt one, TensorFlow's code
                for anything TensorFlow rejects).
        """
        signature_defs = read_signature_defs(path, tags)
        import tensorflow as tf

        try:
            loaded = tf.saved_model.load(path, tags=list(tags))
        except tf.errors.OpError as error:
            raise ServableLoadError(f"Loading {path} failed: {error.message}",
                                    _status_code(error.error_code)) from error
        except (OSError, ValueError, TypeError) as error:
            raise ServableLoadError(f"Loading {path} failed: {error}",
                                    grpc.StatusCode.INVALID_ARGUMENT) from error
        except (IndexError, EOFError) as error:
            # TensorFlow's checkpoint reader raises these when a variables file is shorter than
            # its index says: a truncated or half-copied export.
            raise ServableLoadError(
                f"Loading {path} failed: {type(error).__name__}: {error}; a file under "
                f"{path}/variables is truncated or corrupt", grpc.StatusCode.DATA_LOSS) from error
        # saved_model.pb also lists entries that are not callable (TF2's __saved_model_init_op):
        # they stay in signature_defs, as TF Serving's metadata shows them, but cannot be run.
        functions = {key: loaded.signatures[key] for key in signature_defs
                     if key in loaded.signatures}
        return cls(name, version, path, signature_defs, functions, loaded)

    def run(self, signature_name: str, inputs: Mapping[str, np.ndarray],
            output_filter: Sequence[str] = (), deadline: float | None = None
            ) -> dict[str, np.ndarray]:
        """Runs one signature on a batch of inputs and returns its outputs as numpy arrays.

        Inputs are checked against the SignatureDef first, so a bad request gets a message naming
        the signature, the alias and the expected vs received dtype or shape. An empty
        `signature_name` means "serving_default". String tensors are object arrays of bytes.
        With a batcher attached (set_batcher), batchable signatures run through it, merged with
        concurrent requests. `deadline` (time.monotonic() seconds) is when the caller stops
        waiting: a request still not run by then is skipped.

        Raises:
            errors.FailedPrecondition: no signature `signature_name`.
            errors.InvalidArgument: wrong aliases, dtype, shape or output filter, or TensorFlow
                rejected the values while running.
            errors.DeadlineExceeded: `deadline` passed before the model ran.
            errors.Unavailable: the batching queue is full.
        """
        signature_name = signature_name or DEFAULT_SIGNATURE
        signature_def = self.signature_defs.get(signature_name)
        if signature_def is None:
            raise errors.FailedPrecondition(f'Serving signature key "{signature_name}" not found.')
        function = self._functions.get(signature_name)
        if function is None:
            raise errors.FailedPrecondition(
                f'Serving signature key "{signature_name}" names an entry of the SavedModel that '
                f"is not a callable signature. Signatures: {sorted(self._functions)}")
        signature_check.check_input_aliases(signature_name, signature_def, inputs)
        wanted = signature_check.check_output_filter(signature_name, signature_def, output_filter)
        feeds = {}
        for alias, value in inputs.items():
            array = np.asarray(value)
            tensor_info = signature_def.inputs[alias]
            signature_check.check_input_array(signature_name, alias, tensor_info, array)
            feeds[alias] = array
        batcher = self._batcher
        if batcher is not None and signature_name in self._batched_signatures:
            return batcher.run(signature_name, feeds, wanted, deadline)
        if deadline is not None and time.monotonic() >= deadline:
            raise errors.DeadlineExceeded("Deadline exceeded before the model ran; the request "
                                          "was not run")
        return self.call_signature(signature_name, feeds, wanted)

    def call_signature(self, signature_name: str, feeds: Mapping[str, np.ndarray],
                       output_aliases: Sequence[str]) -> dict[str, np.ndarray]:
        """The model call itself, on inputs `run` has already checked (a batcher's run_batch)."""
        import tensorflow as tf

        runner = self._runners.get(signature_name)
        if runner is None:  # built on first use; a race builds two equal runners, harmlessly
            runner = SignatureRunner(self._functions[signature_name],
                                     self.signature_defs[signature_name])
            self._runners[signature_name] = runner
        try:
            return runner(feeds, output_aliases)
        except tf.errors.OpError as error:
            raise errors.InvalidArgument(_tensorflow_message(error.message)) from error
        except (TypeError, ValueError) as error:
            raise errors.InvalidArgument(f'signature "{signature_name}": {error}') from error

    def set_batcher(self, batcher, signature_names) -> None:
        """Sends requests to `signature_names` through `batcher` (a serving.batching
        DynamicBatcher built on call_signature); unload() stops it."""
        self._batcher = batcher
        self._batched_signatures = frozenset(signature_names)

    def unload(self) -> None:
        """Drops the references to the model so TensorFlow can free it; run() must not follow.

        A batcher is stopped first: what it still has queued runs before the model goes.
        """
        if self._batcher is not None:
            self._batcher.stop()
            self._batcher = None
        self._functions.clear()
        self._loaded_object = None

    def __repr__(self) -> str:
        return f"Servable(name={self.name!r}, version={self.version}, path={self.path!r})"


def read_signature_defs(path: str, tags: Sequence[str]) -> dict[str, object]:
    """The SignatureDefs of the MetaGraph whose tag set equals `tags`, read from saved_model.pb."""
    from google.protobuf import message, text_format
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    binary_path = os.path.join(path, "saved_model.pb")
    text_path = os.path.join(path, "saved_model.pbtxt")
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
    wanted = set(tags)
    for meta_graph in saved_model.meta_graphs:
        if set(meta_graph.meta_info_def.tags) == wanted:
            return dict(meta_graph.signature_def)
    available = [sorted(meta_graph.meta_info_def.tags) for meta_graph in saved_model.meta_graphs]
    raise ServableLoadError(
        f"MetaGraphDef associated with tags {sorted(wanted)} could not be found in the SavedModel "
        f"at {path}. Available tag sets: {available}. Set --saved_model_tags to one of them.",
        grpc.StatusCode.NOT_FOUND)


def _status_code(tf_error_code: int) -> grpc.StatusCode:
    """TensorFlow's error codes are the gRPC codes; map the number to grpc's enum."""
    for code in grpc.StatusCode:
        if code.value[0] == tf_error_code:
            return code
    return grpc.StatusCode.UNKNOWN


def _tensorflow_message(message: str) -> str:
    """TensorFlow's error without the Python stack of where the graph was built.

    Eager execution prefixes "Graph execution error:" and a "Detected at node ... defined at"
    traceback of the export script, which means nothing to a client; the cause is the last part.
    """
    if message.startswith("Graph execution error:"):
        message = message.rsplit("\n\n", 1)[-1]
    # Graph-mode kernels append the node that failed ("\n\t [[{{node ParseExample}}]]").
    message = re.sub(r"\s*\[\[\{\{node [^}]*\}\}\]\]", "", message)
    return re.sub(r"\s*\[Op:[^\]]*\]$", "", message).strip()
