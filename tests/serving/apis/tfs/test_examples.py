"""The Input of Classify/Regress/MultiInference as serialized tf.Example bytes."""

import pytest
import tensorflow as tf
from tensorflow_serving.apis import input_pb2

from serving import errors
from serving.apis.tfs.examples import serialized_examples


def _example(**floats) -> tf.train.Example:
    features = {key: tf.train.Feature(float_list=tf.train.FloatList(value=[value])) for key, value in floats.items()}
    return tf.train.Example(features=tf.train.Features(feature=features))


def _parse(serialized) -> list[dict]:
    parsed = [tf.train.Example.FromString(data) for data in serialized]
    return [{k: list(v.float_list.value) for k, v in ex.features.feature.items()} for ex in parsed]


def test_example_list_gives_one_serialized_example_each():
    input_proto = input_pb2.Input()
    input_proto.example_list.examples.extend([_example(x=1.0), _example(x=2.0)])
    examples = serialized_examples(input_proto)
    assert examples.dtype == object and examples.shape == (2,)
    assert _parse(examples) == [{"x": [1.0]}, {"x": [2.0]}]


def test_context_features_are_merged_into_each_example_and_example_features_win():
    input_proto = input_pb2.Input()
    with_context = input_proto.example_list_with_context
    with_context.context.CopyFrom(_example(shared=9.0, x=-1.0))
    with_context.examples.extend([_example(x=1.0), _example(y=2.0)])
    assert _parse(serialized_examples(input_proto)) == [
        {"shared": [9.0], "x": [1.0]},
        {"shared": [9.0], "x": [-1.0], "y": [2.0]},
    ]


def test_merged_examples_are_parsed_by_tensorflow_like_plain_ones():
    input_proto = input_pb2.Input()
    input_proto.example_list_with_context.context.CopyFrom(_example(x=5.0))
    input_proto.example_list_with_context.examples.extend([_example(), _example(x=3.0)])
    parsed = tf.io.parse_example(serialized_examples(input_proto), {"x": tf.io.FixedLenFeature([1], tf.float32)})
    assert parsed["x"].numpy().ravel().tolist() == [5.0, 3.0]


@pytest.mark.parametrize("kind", [None, "example_list", "example_list_with_context"])
def test_input_without_examples_is_invalid_argument_input_is_empty(kind):
    input_proto = input_pb2.Input()
    if kind == "example_list":
        input_proto.example_list.SetInParent()
    elif kind == "example_list_with_context":
        input_proto.example_list_with_context.context.CopyFrom(_example(x=1.0))
    with pytest.raises(errors.InvalidArgument) as caught:
        serialized_examples(input_proto)
    assert caught.value.message == "Input is empty."
