"""TensorFlow's exceptions turned into serving errors, the same way for every SavedModel runtime.

Whichever TensorFlow API loads or runs a SavedModel (`tf.saved_model.load` and its signature
functions, or a TF1 `tf.compat.v1.Session`), a client must see the same status and message for
the same failure: a load error carries the status code TF Serving reports for it, and a value
TensorFlow rejects while running is INVALID_ARGUMENT without TensorFlow's Python decorations.
"""

from __future__ import annotations

import contextlib
import re
from typing import Iterator

import grpc

from serving import errors
from serving.core.servable import ServableLoadError


@contextlib.contextmanager
def load_errors(path: str) -> Iterator[None]:
    """Raises what TensorFlow raises while loading `path` as ServableLoadError.

    TensorFlow's own code where it gives one; INVALID_ARGUMENT for a graph it cannot import;
    DATA_LOSS for a truncated variables file.
    """
    import tensorflow as tf

    try:
        yield
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


@contextlib.contextmanager
def run_errors(signature_name: str) -> Iterator[None]:
    """Raises what TensorFlow raises while running `signature_name` as errors.InvalidArgument:
    the inputs were checked against the SignatureDef, so what TensorFlow still rejects is a value
    (an unparsable tf.Example, a shape the graph cannot take)."""
    import tensorflow as tf

    try:
        yield
    except tf.errors.OpError as error:
        raise errors.InvalidArgument(_tensorflow_message(error.message)) from error
    except (TypeError, ValueError) as error:
        raise errors.InvalidArgument(f'signature "{signature_name}": {error}') from error


def _status_code(tf_error_code: int) -> grpc.StatusCode:
    """TensorFlow's error codes are the gRPC codes; map the number to grpc's enum."""
    for code in grpc.StatusCode:
        if code.value[0] == tf_error_code:
            return code
    return grpc.StatusCode.UNKNOWN


def _tensorflow_message(message: str) -> str:
    """TensorFlow's error without the Python stack of where the graph was built.

    Eager execution prefixes "Graph execution error:" and a "Detected at node ... defined at
    (most recent call last):" traceback of the export script (or "<stack traces unavailable>"),
    which means nothing to a client; the cause is the last line once the node names are gone.
    """
    if message.startswith("Graph execution error:"):
        message = message.rsplit("\n\n", 1)[-1]
    # Graph-mode kernels append the node that failed on a line of its own ("\n\t [[{{node
    # ParseExample}}]]"), naming the function it runs in when nested ("{{function_node f}}").
    message = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", message)
    message = re.sub(r"\s*\[\[\{\{node [^}]*\}\}\]\]", "", message)
    message = re.sub(r"\s*\[Op:[^\]]*\]$", "", message).strip()
    if message.startswith("Detected at node"):
        message = message.rsplit("\n", 1)[-1]
    return message.strip()
