"""The bad-input catalogue over REST: TF Serving's /v1 API and the Open Inference Protocol's /v2.

The same mistakes as over gRPC (test_bad_input_grpc.py), in JSON, plus what only a JSON body can
get wrong: malformed and deeply nested documents, text that is not UTF-8, a body ten times the
size limit. Each gets its HTTP status and a `{"error": ...}` naming the field, the expected and
the received value, while a good gRPC client keeps being answered next to it. NaN and Infinity
are accepted and written back, as TF Serving's REST API does.
"""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from tests.support.http_harness import http_call
from tests.support.server_harness import free_port

BODY_LIMIT = 1_000_000


@pytest.fixture(scope="module")
def server(start_server, shared_config_file):
    return start_server(f"--model_config_file={shared_config_file}", "--file_system_poll_wait_seconds=0",
                        f"--rest_api_port={free_port()}", f"--rest_api_max_request_bytes={BODY_LIMIT}")


@dataclasses.dataclass(frozen=True)
class BadRest:
    name: str
    path: str
    body: object  # a JSON-able document, or raw bytes
    status: int
    fragments: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


PREDICT = "/v1/models/half_plus_two/versions/1:predict"
MULTI_IO = "/v1/models/multi_io:predict"
INFER = "/v2/models/half_plus_two/versions/1/infer"


def oip_input(name="x", datatype="FP32", shape=(2,), data=(1.0, 2.0)) -> dict:
    return {"inputs": [{"name": name, "datatype": datatype, "shape": list(shape), "data": list(data)}]}


CASES = [
    # --- TF Serving /v1 ---
    BadRest("wrong_alias", MULTI_IO, {"instances": [{"features": [1, 2, 3], "ids": 1, "nam": "a"}]}, 400,
            ("keys must be equal to: features,ids,names", '"nam"')),
    BadRest("missing_named_input", MULTI_IO, {"inputs": {"features": [[1, 2, 3]], "ids": [1]}}, 400,
            ("Missing named input: names",)),
    BadRest("wrong_dtype", MULTI_IO, {"inputs": {"features": [[1, 2, 3]], "ids": [1.5], "names": ["a"]}}, 400,
            ('Input "ids"', "1.5", "is not of expected type: int64")),
    BadRest("wrong_rank_the_model_refuses", MULTI_IO,
            {"inputs": {"features": [1, 2, 3], "ids": [1], "names": ["a"]}}, 400,
            ('input "features"', "expected shape [-1,3]", "received shape [3]")),
    BadRest("empty_instances", PREDICT, {"instances": []}, 400, ("No values in 'instances' array",)),
    BadRest("string_where_a_number_is_expected", PREDICT, {"instances": ["1.5"]}, 400,
            ('Input "x"', "1.5", "is not of expected type: float")),
    BadRest("ragged_tensor", PREDICT, {"inputs": [[1.0], [1.0, 2.0]]}, 400,
            ('Input "x"', "not a dense tensor")),
    BadRest("body_ten_times_the_limit", PREDICT,
            b'{"instances":[' + b"1.0," * (10 * BODY_LIMIT // 4) + b"1.0]}", 413,
            (f"exceeds the limit of {BODY_LIMIT} bytes",)),
    BadRest("malformed_json", PREDICT, b'{"instances": [1.0,', 400, ("JSON Parse error",)),
    BadRest("deeply_nested_json", PREDICT, b'{"instances":' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400,
            ("nested too deeply",)),
    BadRest("nested_just_below_the_parser_limit", PREDICT,
            b'{"instances":' + b"[" * 900 + b"1" + b"]" * 900 + b"}", 400, ('Input "x"',)),
    BadRest("body_not_utf8", PREDICT, b'{"instances": ["\xff"]}', 400, ("not UTF-8",)),
    BadRest("document_not_an_object", PREDICT, [1.0], 400, ("Is not object",)),
    BadRest("unknown_model", "/v1/models/nope:predict", {"instances": [1.0]}, 404, ("Latest(nope)",)),
    BadRest("unknown_version", "/v1/models/half_plus_two/versions/99:predict", {"instances": [1.0]}, 404,
            ("Specific(half_plus_two, 99)",)),
    BadRest("unknown_label", "/v1/models/half_plus_two/labels/nope:predict", {"instances": [1.0]}, 400,
            ("version label: nope", "'canary', 'stable'")),
    BadRest("unknown_signature", PREDICT, {"signature_name": "nope", "instances": [1.0]}, 400,
            ('"nope" not found',)),
    BadRest("example_missing_a_feature", "/v1/models/tf1:classify",
            {"signature_name": "classify", "examples": [{"y": 1.0}]}, 400,
            ("Feature: x (data type: float) is required but could not be found",)),
    BadRest("example_with_a_mistyped_feature", "/v1/models/tf1:classify",
            {"signature_name": "classify", "examples": [{"x": "text"}]}, 400,
            ("Key: x", "Data type: string but expected type: float")),
    # --- Open Inference Protocol /v2 ---
    BadRest("oip_wrong_input_name", INFER, oip_input(name="z"), 400,
            ("Sent extra: {z}", "Missing but required: {x}")),
    BadRest("oip_wrong_datatype", INFER, oip_input(datatype="INT64", data=(1, 2)), 400,
            ("expects datatype FP32", "received INT64")),
    BadRest("oip_value_count_not_matching_shape", INFER, oip_input(shape=(3,), data=(1.0,)), 400,
            ('input "x"', "needs 3 values", "received 1")),
    BadRest("oip_string_where_a_number_is_expected", INFER, oip_input(shape=(1,), data=("a",)), 400,
            ('input "x"', "not a FP32 value")),
    BadRest("oip_zero_and_a_huge_dimension", INFER, oip_input(shape=(0, 2**62), data=()), 400,
            ("multiply to more than",)),
    BadRest("oip_unknown_model", "/v2/models/nope/infer", oip_input(), 404, ("Latest(nope)",)),
    BadRest("oip_unknown_version", "/v2/models/half_plus_two/versions/99/infer", oip_input(), 404,
            ("Specific(half_plus_two, 99)",)),
    BadRest("oip_unknown_signature", INFER, {**oip_input(), "parameters": {"signature_name": "nope"}}, 400,
            ('"nope" not found',)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_rest_request_gets_its_status_and_an_error_naming_what_is_wrong(case, server, good_traffic):
    with good_traffic(server.target) as traffic:
        reply = http_call(server.server.rest.port, "POST", case.path, case.body)
    assert reply.status == case.status, reply.body[:300]
    error = reply.json()["error"]
    assert "\n" not in error
    for fragment in case.fragments:
        assert fragment in error
    traffic.assert_unharmed()


def test_binary_tensor_whose_size_does_not_match_its_shape_names_both(server):
    header = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [3],
                                     "parameters": {"binary_data_size": 8}}]}).encode()
    reply = http_call(server.server.rest.port, "POST", INFER, header + b"\0" * 8,
                      headers={"Inference-Header-Content-Length": str(len(header))})
    assert reply.status == 400
    assert "needs 12 bytes" in reply.json()["error"] and "received 8 bytes" in reply.json()["error"]


def test_nan_and_infinity_are_accepted_and_written_back_on_both_apis(server):
    port = server.server.rest.port
    tfs = http_call(port, "POST", PREDICT, b'{"instances": [NaN, Infinity, -Infinity]}')
    assert tfs.status == 200 and tfs.body == b'{"predictions":[NaN,Infinity,-Infinity]}'
    oip = http_call(port, "POST", INFER, b'{"inputs":[{"name":"x","datatype":"FP32","shape":[2],'
                                          b'"data":[NaN,-Infinity]}]}')
    data = oip.json()["outputs"][0]["data"]
    assert oip.status == 200 and math.isnan(data[0]) and data[1] == -math.inf


def test_batch_of_zero_examples_is_answered_with_empty_outputs(server):
    reply = http_call(server.server.rest.port, "POST", PREDICT, {"inputs": []})
    assert (reply.status, reply.json()) == (200, {"outputs": []})
