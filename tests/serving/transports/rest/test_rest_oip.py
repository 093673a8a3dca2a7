"""The Open Inference Protocol's REST endpoints, with plain HTTP and with tritonclient.http."""

import json
import struct

import numpy as np
import pytest


def _infer_body(inputs, **extra) -> dict:
    return {"inputs": inputs, **extra}


# --- health, server and model metadata ---


def test_live_and_ready(rest):
    assert (rest.get("/v2/health/live").status, rest.get("/v2/health/live").json()) == (200, {"live": True})
    assert rest.get("/v2/health/ready").json() == {"ready": True}


def test_server_metadata_names_the_server_and_its_rest_extensions(rest):
    document = rest.get("/v2").json()
    assert document["name"] == "tfzoo"
    assert document["extensions"] == ["binary_tensor_data", "model_configuration", "statistics"]


def test_model_metadata_describes_serving_default(rest):
    reply = rest.get("/v2/models/multi_io")
    assert reply.json() == {
        "name": "multi_io", "versions": ["1"], "platform": "tensorflow_savedmodel",
        "inputs": [{"name": "features", "datatype": "FP32", "shape": [-1, 3]},
                   {"name": "ids", "datatype": "INT64", "shape": [-1]},
                   {"name": "names", "datatype": "BYTES", "shape": [-1]}],
        "outputs": [{"name": "doubled_ids", "datatype": "INT64", "shape": [-1]},
                    {"name": "greeting", "datatype": "BYTES", "shape": [-1]},
                    {"name": "total", "datatype": "FP32", "shape": [-1]}],
    }


def test_model_metadata_lists_available_versions_or_the_one_asked(rest):
    assert rest.get("/v2/models/half_plus_two").json()["versions"] == ["1", "2"]
    assert rest.get("/v2/models/half_plus_two/versions/stable").json()["versions"] == ["1"]


def test_model_ready_for_model_version_and_label(rest):
    assert rest.get("/v2/models/half_plus_two/ready").json() == {"name": "half_plus_two", "ready": True}
    assert rest.get("/v2/models/half_plus_two/versions/2/ready").status == 200
    assert rest.get("/v2/models/half_plus_two/versions/canary/ready").status == 200


def test_model_ready_of_a_version_the_server_does_not_know_is_404(rest):
    reply = rest.get("/v2/models/multi_io/versions/5/ready")
    assert (reply.status, reply.error) == (404, "Could not find version 5 of model multi_io")


def test_unknown_model_metadata_and_ready_are_404(rest):
    assert rest.get("/v2/models/nope").status == 404
    reply = rest.get("/v2/models/nope/ready")
    assert reply.status == 404
    assert "Model 'nope' is not served" in reply.error


# --- infer over JSON ---


def test_infer_json_echoes_the_id_and_returns_every_output(rest):
    reply = rest.post("/v2/models/half_plus_two/versions/1/infer", _infer_body(
        [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2, 0.1]}], id="request-7"))
    assert reply.status == 200
    assert reply.json() == {"model_name": "half_plus_two", "model_version": "1", "id": "request-7",
                            "outputs": [{"name": "y", "datatype": "FP32", "shape": [3],
                                         "data": [2.5, 3.0, 2.05]}]}


def test_infer_accepts_nested_data_and_selects_outputs_in_order(rest):
    reply = rest.post("/v2/models/multi_io/infer", _infer_body(
        [{"name": "features", "shape": [2, 3], "datatype": "FP32", "data": [[1, 2, 3], [4, 5, 6]]},
         {"name": "ids", "shape": [2], "datatype": "INT64", "data": [1, 2]},
         {"name": "names", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}],
        outputs=[{"name": "greeting"}, {"name": "doubled_ids"}]))
    outputs = reply.json()["outputs"]
    assert [output["name"] for output in outputs] == ["greeting", "doubled_ids"]
    assert outputs[0]["data"] == ["hello a", "hello b"]
    assert outputs[1] == {"name": "doubled_ids", "datatype": "INT64", "shape": [2], "data": [2, 4]}
    assert "id" not in reply.json()


def test_signature_name_parameter_picks_a_signature(rest):
    reply = rest.post("/v2/models/multi_io/infer", _infer_body(
        [{"name": "features", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}],
        parameters={"signature_name": "sum_only"}))
    assert reply.json()["outputs"] == [{"name": "total", "datatype": "FP32", "shape": [1], "data": [6.0]}]


def test_infer_with_a_version_label(rest):
    reply = rest.post("/v2/models/half_plus_two/versions/canary/infer", _infer_body(
        [{"name": "x", "shape": [1], "datatype": "FP32", "data": [2]}]))
    assert (reply.json()["model_version"], reply.json()["outputs"][0]["data"]) == ("2", [5.0])


def test_binary_request_and_response_per_the_binary_tensor_extension(rest):
    header = json.dumps({
        "inputs": [{"name": "x", "shape": [2], "datatype": "FP32",
                    "parameters": {"binary_data_size": 8}}],
        "parameters": {"binary_data_output": True}}).encode()
    reply = rest.post("/v2/models/half_plus_two/versions/1/infer",
                      body=header + np.array([2, 4], "<f4").tobytes(),
                      headers={"Inference-Header-Content-Length": str(len(header))})
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/octet-stream"
    json_length = int(reply.headers["Inference-Header-Content-Length"])
    document = json.loads(reply.body[:json_length])
    assert document["outputs"] == [{"name": "y", "datatype": "FP32", "shape": [2],
                                    "parameters": {"binary_data_size": 8}}]
    np.testing.assert_array_equal(np.frombuffer(reply.body[json_length:], "<f4"), [3.0, 4.0])


@pytest.mark.parametrize("inputs, message", [
    ([{"name": "x", "shape": [2], "datatype": "FP32", "data": [1]}],
     'input "x" (datatype FP32, shape [2]) needs 2 values in "data", received 1'),
    ([{"name": "x", "shape": [1], "datatype": "FLOAT", "data": [1]}], "unknown datatype 'FLOAT'"),
    ([{"name": "x", "shape": [1], "datatype": "FP32", "data": ["one"]}],
     '"data" holds "one", which is not a FP32 value'),
    ([{"name": "x", "shape": [1], "datatype": "INT64", "data": [1]}],
     "expects datatype FP32, received INT64"),
    ([{"name": "x", "shape": [1], "datatype": "FP32"}], 'has neither "data" nor a binary_data_size'),
    ([{"name": "x", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 4}}],
     "does not fit the 0 binary bytes left"),
    ("x", '"inputs" must be a list of tensors'),
])
def test_malformed_infer_inputs_are_400_with_the_reason(rest, inputs, message):
    reply = rest.post("/v2/models/half_plus_two/infer", {"inputs": inputs})
    assert reply.status == 400
    assert message in reply.error


def test_infer_of_unknown_model_is_404(rest):
    reply = rest.post("/v2/models/nope/infer", _infer_body(
        [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]))
    assert (reply.status, reply.error) == (404, "Servable not found for request: Latest(nope)")


def test_unknown_output_name_is_400(rest):
    reply = rest.post("/v2/models/half_plus_two/infer", _infer_body(
        [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], outputs=[{"name": "z"}]))
    assert reply.status == 400
    assert reply.error.startswith("output tensor alias not found in signature: z")


# --- the official client ---


def test_tritonclient_http_health_and_metadata(triton_http):
    assert triton_http.is_server_live() and triton_http.is_server_ready()
    assert triton_http.is_model_ready("half_plus_two", "1")
    assert not triton_http.is_model_ready("multi_io", "5")
    assert triton_http.get_server_metadata()["name"] == "tfzoo"
    assert triton_http.get_model_metadata("half_plus_two", "1")["inputs"] == [
        {"name": "x", "datatype": "FP32", "shape": [-1]}]


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tritonclient_http_infer_all_datatypes_of_a_model(triton_http, binary):
    import tritonclient.http as httpclient

    features = np.array([[1, 2, 3], [0.5, 0.25, 0.125]], np.float32)
    ids = np.array([7, -3], np.int64)
    names = np.array([b"ann", "zoë".encode()], dtype=object)
    inputs = []
    for name, array, datatype in (("features", features, "FP32"), ("ids", ids, "INT64"),
                                  ("names", names, "BYTES")):
        tensor = httpclient.InferInput(name, list(array.shape), datatype)
        tensor.set_data_from_numpy(array, binary_data=binary)
        inputs.append(tensor)
    outputs = [httpclient.InferRequestedOutput(name, binary_data=binary)
               for name in ("total", "doubled_ids", "greeting")]
    result = triton_http.infer("multi_io", inputs, outputs=outputs, request_id="t-1")
    np.testing.assert_allclose(result.as_numpy("total"), features.sum(axis=1) + ids)
    np.testing.assert_array_equal(result.as_numpy("doubled_ids"), ids * 2)
    assert [bytes(value) if isinstance(value, bytes) else value.encode()
            for value in result.as_numpy("greeting")] == [b"hello ann", "hello zoë".encode()]
    assert result.get_response()["id"] == "t-1"


def test_tritonclient_http_default_request_is_binary_and_gzip_compressed_works(triton_http):
    import tritonclient.http as httpclient

    tensor = httpclient.InferInput("x", [2], "FP32")
    tensor.set_data_from_numpy(np.array([2, 4], np.float32))
    result = triton_http.infer("half_plus_two", [tensor], model_version="1",
                               request_compression_algorithm="gzip")
    np.testing.assert_array_equal(result.as_numpy("y"), [3.0, 4.0])


def test_tritonclient_http_error_carries_the_server_message(triton_http):
    import tritonclient.http as httpclient
    from tritonclient.utils import InferenceServerException

    tensor = httpclient.InferInput("x", [1], "INT32")
    tensor.set_data_from_numpy(np.array([1], np.int32))
    with pytest.raises(InferenceServerException, match="expects datatype FP32, received INT32"):
        triton_http.infer("half_plus_two", [tensor])


def test_bytes_output_that_is_not_utf8_is_returned_raw_even_when_json_is_asked(rest):
    header = json.dumps(_infer_body(
        [{"name": "data", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 6}}],
        outputs=[{"name": "echo_text", "parameters": {"binary_data": False}}])).encode()
    raw = struct.pack("<I", 2) + b"\xff\x00"
    reply = rest.post("/v2/models/bytes_echo/infer", body=header + raw,
                      headers={"Inference-Header-Content-Length": str(len(header))})
    json_length = int(reply.headers["Inference-Header-Content-Length"])
    output = json.loads(reply.body[:json_length])["outputs"][0]
    assert output["parameters"] == {"binary_data_size": 6}
    assert reply.body[json_length:] == raw
