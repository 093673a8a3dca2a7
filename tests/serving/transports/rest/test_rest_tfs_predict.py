"""POST /v1/models/NAME[...]:predict: TF Serving's row and columnar JSON forms, and its errors."""

import base64
import math

import pytest

# Version 1 is y = 0.5x + 2; the latest (2) is y = 2x + 1.
PREDICT = "/v1/models/half_plus_two/versions/1:predict"


def test_documented_row_example_answers_predictions(rest):
    # api_rest.md: {"instances": [1.0, 2.0, 5.0]} -> {"predictions": [3.5, 4.0, 5.5]} for
    # half_plus_three; here the model is 0.5x + 2.
    reply = rest.post(PREDICT, {"instances": [1.0, 2.0, 5.0]})
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {"predictions": [2.5, 3.0, 4.5]}


def test_columnar_request_answers_outputs(rest):
    reply = rest.post(PREDICT, {"signature_name": "serving_default", "inputs": [3.0, 4.0]})
    assert reply.json() == {"outputs": [3.5, 4.0]}


def test_a_shape_other_than_the_signatures_is_computed_as_tf_serving_does(rest):
    # features is [-1,3] in the signature; the model sums any row length.
    reply = rest.post("/v1/models/multi_io:predict",
                      {"inputs": {"features": [[1, 2, 3, 4]], "ids": [1], "names": ["a"]}})
    assert reply.status == 200
    assert reply.json()["outputs"]["total"] == [11.0]


def test_version_and_label_paths_pick_the_version(rest):
    assert rest.post("/v1/models/half_plus_two/versions/1:predict", {"instances": [2.0]}).json() == {
        "predictions": [3.0]}
    assert rest.post("/v1/models/half_plus_two/labels/canary:predict", {"instances": [2.0]}).json() == {
        "predictions": [5.0]}
    assert rest.post("/v1/models/half_plus_two:predict", {"instances": [2.0]}).json() == {
        "predictions": [5.0]}  # latest is version 2


def test_paths_match_case_insensitively_as_in_tf_serving(rest):
    assert rest.post("/V1/Models/half_plus_two/Versions/1:PREDICT", {"instances": [2.0]}).status == 200


def test_named_inputs_in_row_format_answer_objects_per_example(rest):
    reply = rest.post("/v1/models/multi_io:predict", {"instances": [
        {"features": [1, 2, 3], "ids": 4, "names": "ann"},
        {"features": [0.5, 0.5, 0.5], "ids": 1, "names": {"b64": base64.b64encode(b"bob").decode()}},
    ]})
    assert reply.status == 200, reply.body
    assert reply.json() == {"predictions": [
        {"doubled_ids": 8, "greeting": "hello ann", "total": 10.0},
        {"doubled_ids": 2, "greeting": "hello bob", "total": 2.5},
    ]}


def test_named_inputs_in_columnar_format_answer_an_object_of_outputs(rest):
    reply = rest.post("/v1/models/multi_io:predict", {"inputs": {
        "features": [[1, 2, 3]], "ids": [4], "names": ["ann"]}})
    assert reply.json() == {"outputs": {"doubled_ids": [8], "greeting": ["hello ann"], "total": [10.0]}}


def test_signature_name_selects_another_signature(rest):
    reply = rest.post("/v1/models/multi_io:predict",
                      {"signature_name": "sum_only", "instances": [[1, 2, 3], [4, 5, 6]]})
    assert reply.json() == {"predictions": [6.0, 15.0]}


def test_outputs_named_bytes_come_back_base64_and_others_as_text(rest):
    reply = rest.post("/v1/models/bytes_echo:predict",
                      {"instances": [{"b64": base64.b64encode(b"\x00\xffimage").decode()}, "plain"]})
    predictions = reply.json()["predictions"]
    assert predictions[0]["echo_bytes"] == {"b64": base64.b64encode(b"\x00\xffimage").decode()}
    assert predictions[1] == {"echo_bytes": {"b64": base64.b64encode(b"plain").decode()},
                              "echo_text": "plain"}
    # Not UTF-8, so JSON cannot carry it as text: base64 even without the _bytes suffix.
    assert predictions[0]["echo_text"] == {"b64": base64.b64encode(b"\x00\xffimage").decode()}


def test_nan_and_infinity_are_accepted_and_returned(rest):
    reply = rest.post(PREDICT, body=b'{"instances": [NaN, Infinity, -Infinity, 1.0]}')
    assert reply.status == 200
    assert b"NaN" in reply.body and b"-Infinity" in reply.body
    values = reply.json()["predictions"]
    assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf, 2.5]


def test_float32_outputs_are_written_with_their_shortest_digits(rest):
    reply = rest.post(PREDICT, {"instances": [0.1]})
    assert reply.body == b'{"predictions":[2.05]}'


def test_empty_body_is_a_json_parse_error(rest):
    reply = rest.post(PREDICT, body=b"")
    assert reply.status == 400
    assert reply.error == "JSON Parse error: The document is empty"


def test_malformed_json_is_a_400_naming_the_parse_error(rest):
    reply = rest.post(PREDICT, body=b"instances = [1, 2]")
    assert reply.status == 400
    assert reply.error.startswith("JSON Parse error: Expecting value")


def test_deeply_nested_json_is_a_400_not_a_crash(rest):
    reply = rest.post(PREDICT, body=b'{"instances": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert reply.status == 400
    assert "nested too deeply" in reply.error


def test_string_for_a_float_input_names_the_expected_type(rest):
    reply = rest.post(PREDICT, {"instances": ["x", "y"]})
    assert reply.status == 400
    assert 'Input "x"' in reply.error and "is not of expected type: float" in reply.error


def test_fraction_for_an_int_input_is_refused(rest):
    reply = rest.post("/v1/models/multi_io:predict", {"inputs": {
        "features": [[1, 2, 3]], "ids": [1.5], "names": ["a"]}})
    assert reply.status == 400
    assert 'Input "ids"' in reply.error and "not of expected type: int64" in reply.error


def test_ragged_instances_are_refused(rest):
    reply = rest.post("/v1/models/multi_io:predict", {"signature_name": "sum_only",
                                                      "instances": [[1, 2, 3], [4, 5]]})
    assert reply.status == 400
    assert "is not a dense tensor" in reply.error


def test_unknown_label_is_a_400_like_tf_serving(rest):
    reply = rest.post("/v1/models/half_plus_two/labels/nonexistent:predict", {"instances": [1.0]})
    assert reply.status == 400
    assert "Unrecognized servable version label" in reply.error


def test_signature_name_must_be_a_string(rest):
    reply = rest.post(PREDICT, {"signature_name": 100})
    assert reply.status == 400
    assert "'signature_name' key must be a string value." in reply.error


def test_instances_and_inputs_together_are_refused(rest):
    reply = rest.post("/v1/models/half_plus_two:predict", {"instances": [1.0], "inputs": [1.0]})
    assert reply.status == 400
    assert "expecting only one of 'inputs' or 'instances' keys to exist" in reply.error


@pytest.mark.parametrize("document, message", [
    ({}, "Missing 'inputs' or 'instances' key"),
    ({"instances": 1.0}, "Expecting 'instances' to be an list/array"),
    ({"instances": []}, "No values in 'instances' array"),
])
def test_malformed_predict_documents_get_tf_serving_messages(rest, document, message):
    reply = rest.post(PREDICT, document)
    assert (reply.status, reply.error) == (400, message)


def test_plain_list_for_a_multi_input_signature_is_refused(rest):
    reply = rest.post("/v1/models/multi_io:predict", {"instances": [1.0, 2.0]})
    assert reply.status == 400
    assert "instances is a plain list, but expecting list of objects" in reply.error


def test_instance_objects_must_name_every_input(rest):
    reply = rest.post("/v1/models/multi_io:predict", {"instances": [{"features": [1, 2, 3], "ids": 1}]})
    assert reply.status == 400
    assert "keys must be equal to: features,ids,names" in reply.error


def test_columnar_object_missing_an_input_is_refused(rest):
    reply = rest.post("/v1/models/multi_io:predict", {"inputs": {"features": [[1, 2, 3]], "ids": [1]}})
    assert (reply.status, reply.error) == (400, "Missing named input: names in 'inputs' object.")


def test_unknown_model_is_a_404_with_tf_serving_message(rest):
    reply = rest.post("/v1/models/half:predict", {"instances": [1.0, 5.0]})
    assert reply.status == 404
    assert reply.error == "Servable not found for request: Latest(half)"


def test_unknown_version_is_a_404(rest):
    reply = rest.post("/v1/models/half_plus_two/versions/99:predict", {"instances": [1.0]})
    assert reply.status == 404
    assert reply.error == "Servable not found for request: Specific(half_plus_two, 99)"


def test_unknown_signature_is_a_400_naming_it(rest):
    reply = rest.post(PREDICT, {"signature_name": "nope", "instances": [1.0]})
    assert reply.status == 400
    assert reply.error == 'Serving signature name: "nope" not found in signature def'


def test_version_beyond_int64_cannot_be_converted(rest):
    reply = rest.post(f"/v1/models/half_plus_two/versions/{2**64 - 1}:predict", {"instances": [1.0]})
    assert reply.status == 400
    assert reply.error == f"Failed to convert version: {2**64 - 1} to numeric."


def test_base64_that_does_not_decode_is_refused(rest):
    reply = rest.post("/v1/models/bytes_echo:predict", {"instances": [{"b64": "not base64!"}]})
    assert (reply.status, reply.error) == (400, "Unable to base64 decode")
