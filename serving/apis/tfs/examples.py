"""The tf.Example `Input` of Classify, Regress and MultiInference, as the string tensor models parse.

TF Serving feeds a classify/regress signature one DT_STRING vector: each element a serialized
tf.Example. For `example_list_with_context` it prepends the serialized context to each serialized
example (util.cc, InputToSerializedExampleTensor). Protobuf merges concatenated messages and a
later map entry replaces an earlier one, so the context's features are merged into every example
and an example's own feature wins over a context feature of the same name. This module does the
same byte-level concatenation, so models see exactly what TF Serving would give them.
"""

from __future__ import annotations

import numpy as np
from tensorflow_serving.apis import input_pb2

from serving import errors


def serialized_examples(input_proto: input_pb2.Input) -> np.ndarray:
    """Returns a 1-D object array of serialized tf.Example bytes, one per example in the Input.

    Raises errors.InvalidArgument("Input is empty.") (TF Serving's message) when the Input holds
    no example, whether its kind is unset or its list is empty.
    """
    kind = input_proto.WhichOneof("kind")
    if kind == "example_list":
        serialized = [example.SerializeToString() for example in input_proto.example_list.examples]
    elif kind == "example_list_with_context":
        with_context = input_proto.example_list_with_context
        context = with_context.context.SerializeToString()
        serialized = [context + example.SerializeToString() for example in with_context.examples]
    else:
        serialized = []
    if not serialized:
        raise errors.InvalidArgument("Input is empty.")
    examples = np.empty(len(serialized), dtype=object)
    examples[:] = serialized
    return examples
