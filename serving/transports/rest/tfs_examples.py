"""TF Serving's REST Classify/Regress JSON: `context` and `examples` in, `results` out.

Each example is a JSON object of features (util/json_tensor.cc, MakeExampleFromJsonObject): a
feature is one value or a list of values, all of one kind. Whole numbers and true/false go to an
int64_list, decimal numbers (and NaN, Infinity) to a float_list, strings and `{"b64": ...}` to a
bytes_list. With a `context`, the request is an ExampleListWithContext, so its features reach
every example the way the gRPC API merges them.
"""

from __future__ import annotations

from tensorflow.core.example import example_pb2, feature_pb2
from tensorflow_serving.apis import classification_pb2, input_pb2, regression_pb2

from serving import errors
from serving.transports.rest.json_io import debug_string, float32_values, json_type_name
from serving.transports.rest.tfs_tensors import decode_base64_object, is_base64_object

CONTEXT_KEY = "context"
EXAMPLES_KEY = "examples"
RESULTS_KEY = "results"
_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)


def input_from_json(document: dict, method: str) -> input_pb2.Input:
    """The tf.Example Input of a classify or regress body (`method` names it in messages)."""
    input_proto = input_pb2.Input()
    has_context = CONTEXT_KEY in document
    if has_context:
        _fill_example(document[CONTEXT_KEY], input_proto.example_list_with_context.context)
    if EXAMPLES_KEY not in document:
        raise errors.InvalidArgument(
            f"JSON Value: {debug_string(document)} When method is {method}, key "
            f"'{EXAMPLES_KEY}' is expected and was not found")
    examples = document[EXAMPLES_KEY]
    if not isinstance(examples, list):
        raise errors.InvalidArgument(
            f"JSON Value: {debug_string(document)} Expecting '{EXAMPLES_KEY}' value to be an "
            "list/array")
    if not examples:
        raise errors.InvalidArgument(
            f"JSON Value: {debug_string(document)} '{EXAMPLES_KEY}' value is an empty array")
    target = (input_proto.example_list_with_context.examples if has_context
              else input_proto.example_list.examples)
    for value in examples:
        _fill_example(value, target.add())
    return input_proto


def classification_json(result: classification_pb2.ClassificationResult) -> dict:
    """{"results": [[[label, score], ...] per example]}; score 0 when the model gives only labels."""
    if not result.classifications:
        raise errors.InvalidArgument("Cannot convert empty ClassificationResults to JSON")
    rows = []
    for classifications in result.classifications:
        scores = float32_values([entry.score for entry in classifications.classes]).tolist()
        rows.append([[entry.label, score] for entry, score in zip(classifications.classes, scores)])
    return {RESULTS_KEY: rows}


def regression_json(result: regression_pb2.RegressionResult) -> dict:
    """{"results": [value per example]}."""
    if not result.regressions:
        raise errors.InvalidArgument("Cannot convert empty RegressionResults to JSON")
    return {RESULTS_KEY: float32_values([entry.value for entry in result.regressions]).tolist()}


def _fill_example(value, example: example_pb2.Example) -> None:
    if not isinstance(value, dict):
        raise errors.InvalidArgument(f"Example must be JSON object but got JSON {json_type_name(value)}")
    for name, content in value.items():
        feature = example.features.feature[name]
        for item in content if isinstance(content, list) else [content]:
            _add_feature_value(name, item, feature)


def _add_feature_value(name: str, value, feature: feature_pb2.Feature) -> None:
    if isinstance(value, bool):
        _require_kind(name, feature, "int64_list").value.append(int(value))
    elif isinstance(value, int):
        if value > _INT64_MAX:
            raise errors.InvalidArgument(
                f"Feature: {name} has uint64_t element. Only int64_t is supported.")
        if value < _INT64_MIN:
            raise errors.InvalidArgument(f"Feature: {name} has an integer below the int64 range")
        _require_kind(name, feature, "int64_list").value.append(value)
    elif isinstance(value, float):
        _require_kind(name, feature, "float_list").value.append(value)
    elif isinstance(value, str):
        _require_kind(name, feature, "bytes_list").value.append(value.encode("utf-8"))
    elif is_base64_object(value):
        _require_kind(name, feature, "bytes_list").value.append(decode_base64_object(value))
    else:
        raise errors.InvalidArgument(
            f"Feature: {name} has element with unexpected JSON type: {json_type_name(value)}")


def _require_kind(name: str, feature: feature_pb2.Feature, kind: str):
    """The feature's value list of `kind`; every value of one feature must share a kind."""
    current = feature.WhichOneof("kind")
    if current is not None and current != kind:
        raise errors.InvalidArgument(
            f"Unexpected element type in feature: {name} expecting type: "
            f"{current.removesuffix('_list')}")
    return getattr(feature, kind)

