"""tf.Example inputs for Classify and Regress, from plain dicts.

A dict maps feature names to values: floats (or float arrays) become a `float_list`, ints and
bools an `int64_list`, str/bytes a `bytes_list`; arrays are flattened, as the models' parsing
(`tf.io.parse_example` with a FixedLenFeature of the input's shape) expects. An Example message
is taken as it is: this package's, or TensorFlow's `tf.train.Example` (another class of the same
message, copied through its bytes).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np
from tfzoo_client._proto.tensorflow.core.example import example_pb2, feature_pb2
from tfzoo_client._proto.tensorflow_serving.apis import input_pb2

from tfzoo_client import errors

Example = Mapping[str, Any] | example_pb2.Example


def input_proto(examples: Iterable[Example], context: Example | None = None) -> input_pb2.Input:
    """An `Input` holding `examples` (and the shared `context`, merged into each by the server).

    errors.InvalidArgument when there is no example or a value cannot be a feature.
    """
    if isinstance(examples, Mapping) or _is_example_message(examples):
        examples = [examples]
    converted = [to_example(example, index) for index, example in enumerate(examples)]
    if not converted:
        raise errors.InvalidArgument("examples is empty: pass at least one example")
    proto = input_pb2.Input()
    if context is None:
        proto.example_list.examples.extend(converted)
    else:
        proto.example_list_with_context.context.CopyFrom(to_example(context, "context"))
        proto.example_list_with_context.examples.extend(converted)
    return proto


def to_example(example: Example, where: int | str = 0) -> example_pb2.Example:
    if isinstance(example, example_pb2.Example):
        return example
    if _is_example_message(example):
        return example_pb2.Example.FromString(example.SerializeToString())
    if not isinstance(example, Mapping):
        raise errors.InvalidArgument(
            f"example {where} must be a dict of feature name -> values or a tf.train.Example. "
            f"Received: {type(example).__name__}"
        )
    proto = example_pb2.Example()
    for name, value in example.items():
        proto.features.feature[str(name)].CopyFrom(_feature(value, f"example {where}, feature {name!r}"))
    return proto


def _is_example_message(value: Any) -> bool:
    descriptor = getattr(value, "DESCRIPTOR", None)
    return getattr(descriptor, "full_name", None) == example_pb2.Example.DESCRIPTOR.full_name


def _feature(value: Any, where: str) -> feature_pb2.Feature:
    if isinstance(value, feature_pb2.Feature):
        return value
    if isinstance(value, (str, bytes)):
        value = [value]
    if type(value).__module__.startswith("tensorflow") and callable(getattr(value, "numpy", None)):
        value = value.numpy()
    array = np.asarray(value)
    if array.dtype.kind in "SUO":
        items = array.ravel().tolist()
        if not all(isinstance(item, (str, bytes)) for item in items):
            raise errors.InvalidArgument(f"{where}: a feature holds numbers or text, not a mix of both")
        encoded = [item.encode("utf-8") if isinstance(item, str) else item for item in items]
        return feature_pb2.Feature(bytes_list=feature_pb2.BytesList(value=encoded))
    if array.dtype.kind == "f":
        return feature_pb2.Feature(float_list=feature_pb2.FloatList(value=array.astype(np.float32).ravel().tolist()))
    if array.dtype.kind in "biu":
        return feature_pb2.Feature(int64_list=feature_pb2.Int64List(value=array.astype(np.int64).ravel().tolist()))
    raise errors.InvalidArgument(f"{where}: {array.dtype} values cannot be a tf.Example feature")
