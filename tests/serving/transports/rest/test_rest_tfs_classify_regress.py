"""POST ...:classify and ...:regress with TF Serving's JSON examples (context and examples)."""

import base64
import math

import pytest

TF1 = "/v1/models/tf1"


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_regress_answers_results_per_example(rest):
    # api_rest.md: {"signature_name": ..., "examples": [{"x": 1.0}, {"x": 2.0}]} -> results.
    reply = rest.post(f"{TF1}:regress", {"signature_name": "regress", "examples": [{"x": 1.0}, {"x": 2.0}]})
    assert reply.status == 200
    assert reply.json() == {"results": [2.5, 3.0]}


def test_regress_with_a_version_path(rest):
    reply = rest.post(f"{TF1}/versions/1:regress", {"signature_name": "regress", "examples": [{"x": 80.0}]})
    assert reply.json() == {"results": [42.0]}


def test_classify_answers_label_score_pairs_per_example(rest):
    reply = rest.post(f"{TF1}:classify", {"signature_name": "classify", "examples": [{"x": 1.0}, {"x": -2.0}]})
    assert reply.status == 200
    results = reply.json()["results"]
    assert [[label for label, _ in row] for row in results] == [["negative", "positive"]] * 2
    assert results[0][1][1] == pytest.approx(_sigmoid(1.0), rel=1e-6)
    assert results[1][1][1] == pytest.approx(_sigmoid(-2.0), rel=1e-6)


def test_context_features_reach_every_example(rest):
    reply = rest.post(f"{TF1}:regress", {"signature_name": "regress", "context": {"x": 4.0},
                                         "examples": [{}, {}]})
    assert reply.json() == {"results": [4.0, 4.0]}


def test_example_feature_overrides_the_context_one(rest):
    reply = rest.post(f"{TF1}:regress", {"signature_name": "regress", "context": {"x": 4.0},
                                         "examples": [{"x": 2.0}]})
    assert reply.json() == {"results": [3.0]}


def test_missing_examples_key_names_the_method(rest):
    reply = rest.post(f"{TF1}:classify", {"signature_name": "classify"})
    assert reply.status == 400
    assert "When method is classify, key 'examples' is expected and was not found" in reply.error


def test_empty_examples_are_refused(rest):
    reply = rest.post(f"{TF1}:regress", {"signature_name": "regress", "examples": []})
    assert reply.status == 400
    assert "'examples' value is an empty array" in reply.error


def test_example_that_is_not_an_object_is_refused(rest):
    reply = rest.post(f"{TF1}:regress", {"signature_name": "regress", "examples": [[1.0]]})
    assert (reply.status, reply.error) == (400, "Example must be JSON object but got JSON Array")


def test_mixed_kinds_in_one_feature_are_refused(rest):
    reply = rest.post(f"{TF1}:regress", {"signature_name": "regress", "examples": [{"x": [1.5, "a"]}]})
    assert reply.status == 400
    assert reply.error == "Unexpected element type in feature: x expecting type: float"


def test_null_feature_value_is_refused(rest):
    reply = rest.post(f"{TF1}:regress", {"signature_name": "regress", "examples": [{"x": None}]})
    assert (reply.status, reply.error) == (400, "Feature: x has element with unexpected JSON type: Null")


def test_whole_number_feature_is_an_int64_list(rest):
    # The model parses `x` as float: TensorFlow's own error shows the value arrived as int64.
    reply = rest.post(f"{TF1}:regress", {"signature_name": "regress", "examples": [{"x": 1}]})
    assert reply.status == 400
    assert "Data type: int64 but expected type: float" in reply.error


def test_base64_feature_value_is_a_bytes_list(rest):
    encoded = base64.b64encode(b"\x01\x02").decode()
    reply = rest.post(f"{TF1}:regress", {"signature_name": "regress", "examples": [{"x": {"b64": encoded}}]})
    assert reply.status == 400
    assert "Data type: string but expected type: float" in reply.error


def test_regress_on_a_classify_signature_is_refused(rest):
    reply = rest.post(f"{TF1}:regress", {"signature_name": "classify", "examples": [{"x": 1.0}]})
    assert reply.status == 400
    assert reply.error == "Expected one output Tensor."


def test_classify_of_unknown_model_is_404(rest):
    reply = rest.post("/v1/models/nope:classify", {"examples": [{"x": 1.0}]})
    assert (reply.status, reply.error) == (404, "Servable not found for request: Latest(nope)")
