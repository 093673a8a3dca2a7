"""The HTTP layer of the REST port: routing errors, bodies (gzip, chunked, size limit), keep-alive,
timeouts, CORS preflight and protocol errors, against the shared server."""

import gzip
import http.client
import json
import socket
import time
import zlib

import pytest
from tests.support.rest_harness import MAX_REQUEST_BYTES, TIMEOUT_MS

PREDICT = "/v1/models/half_plus_two/versions/1:predict"
BODY = json.dumps({"instances": [1.0, 2.0]}).encode()


def test_unknown_path_is_404_with_a_json_error(rest):
    reply = rest.get("/v3/models")
    assert reply.status == 404
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.error.startswith("Malformed request: GET /v3/models.")


@pytest.mark.parametrize("method, path", [
    ("POST", "/v1/models/half_plus_two/versions/one:predict"), ("GET", "/v1/foo"),
    ("POST", "/v1/models"), ("GET", "/v1/models/half_plus_two:predict"),
    ("POST", "/v1/models/half_plus_two/metadata"),
])
def test_a_v1_request_that_matches_no_route_is_400_malformed_as_tf_serving(rest, method, path):
    reply = rest.get(path) if method == "GET" else rest.post(path, body=BODY)
    assert reply.status == 400
    assert reply.error.startswith(f"Malformed request: {method} {path}")


def test_wrong_method_outside_v1_is_405_with_allow(rest):
    reply = rest.get("/v2/models/half_plus_two/infer")
    assert reply.status == 405
    assert reply.headers["Allow"] == "POST"
    assert reply.error == "Method GET is not allowed for /v2/models/half_plus_two/infer; use POST"
    assert rest.call("DELETE", "/v2/health/live").status == 405


def test_gzip_request_body_is_decompressed(rest):
    reply = rest.post(PREDICT, body=gzip.compress(BODY), headers={"Content-Encoding": "gzip"})
    assert (reply.status, reply.json()) == (200, {"predictions": [2.5, 3.0]})


def test_deflate_request_body_is_decompressed(rest):
    reply = rest.post(PREDICT, body=zlib.compress(BODY), headers={"Content-Encoding": "deflate"})
    assert reply.json() == {"predictions": [2.5, 3.0]}


def test_corrupt_gzip_body_is_400(rest):
    reply = rest.post(PREDICT, body=b"not gzip at all", headers={"Content-Encoding": "gzip"})
    assert reply.status == 400
    assert reply.error.startswith("The gzip body cannot be decompressed")


def test_unknown_content_encoding_is_415(rest):
    reply = rest.post(PREDICT, body=BODY, headers={"Content-Encoding": "br"})
    assert reply.status == 415
    assert reply.error == "Content-Encoding 'br' is not supported; send identity, gzip, x-gzip, deflate"


def test_body_over_the_limit_is_413_and_the_connection_closes(rest):
    reply = rest.post(PREDICT, body=b" " * (MAX_REQUEST_BYTES + 1))
    assert reply.status == 413
    assert reply.headers["Connection"] == "close"
    assert reply.error == (f"The request body ({MAX_REQUEST_BYTES + 1} bytes) exceeds the limit of "
                           f"{MAX_REQUEST_BYTES} bytes (--rest_api_max_request_bytes)")


def test_gzip_body_expanding_over_the_limit_is_413(rest):
    bomb = gzip.compress(b" " * (MAX_REQUEST_BYTES * 4))
    assert len(bomb) < MAX_REQUEST_BYTES
    reply = rest.post(PREDICT, body=bomb, headers={"Content-Encoding": "gzip"})
    assert reply.status == 413
    assert "after gzip decompression" in reply.error


def test_expect_continue_with_an_oversized_length_is_refused_before_the_body(rest):
    with socket.create_connection(("127.0.0.1", rest.port), timeout=10) as connection:
        connection.sendall(f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Length: "
                           f"{MAX_REQUEST_BYTES * 10}\r\nExpect: 100-continue\r\n\r\n".encode())
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_chunked_request_body_is_read(rest):
    connection = http.client.HTTPConnection("127.0.0.1", rest.port, timeout=10)
    try:
        connection.request("POST", PREDICT, body=iter([BODY[:5], BODY[5:]]),
                           headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())) == (200, {"predictions": [2.5, 3.0]})
    finally:
        connection.close()


def test_keep_alive_serves_several_requests_on_one_connection(rest):
    connection = http.client.HTTPConnection("127.0.0.1", rest.port, timeout=10)
    try:
        connection.request("POST", PREDICT, body=BODY)
        first = connection.getresponse()
        first.read()
        local_port = connection.sock.getsockname()[1]
        connection.request("GET", "/v2/health/live")
        second = connection.getresponse()
        assert (first.status, second.status, json.loads(second.read())) == (200, 200, {"live": True})
        assert connection.sock.getsockname()[1] == local_port
    finally:
        connection.close()


def test_model_call_over_the_rest_timeout_is_504(rest):
    started = time.monotonic()
    reply = rest.post("/v1/models/sleeper:predict",
                      {"inputs": {"x": [1.0], "sleep_micros": (TIMEOUT_MS + 1500) * 1000}})
    elapsed = time.monotonic() - started
    assert reply.status == 504
    assert reply.error == f"The request did not finish within {TIMEOUT_MS} ms (--rest_api_timeout_in_ms)"
    assert TIMEOUT_MS / 1000 <= elapsed < TIMEOUT_MS / 1000 + 1.0


def test_model_call_within_the_timeout_answers(rest):
    reply = rest.post("/v1/models/sleeper:predict", {"inputs": {"x": [1.0, 2.0], "sleep_micros": 1000}})
    assert reply.json() == {"outputs": [2.0, 4.0]}


def test_cors_preflight_needs_an_http_origin(rest):
    assert rest.call("OPTIONS", PREDICT, headers={"Origin": "https://app.example"}).status == 200
    reply = rest.call("OPTIONS", PREDICT)
    assert (reply.status, reply.error) == (400, "Origin header is missing in CORS preflight")


@pytest.mark.parametrize("request_head", [
    b"BREW /v2 HTTP/1.1\r\nHost: x\r\n\r\n",  # a method HTTP does not define
    b"GET /v2 HTTP/1.1\r\nContent-Length: ten\r\n\r\n",
    b"this is not HTTP\r\n\r\n",
])
def test_a_request_the_http_parser_cannot_read_is_400_and_the_connection_closes(rest, request_head):
    with socket.create_connection(("127.0.0.1", rest.port), timeout=10) as connection:
        connection.sendall(request_head)
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    assert answer.split(b" ", 2)[1] == b"400"


def test_an_http_method_the_api_has_no_use_for_is_501_with_a_json_error(rest):
    reply = rest.call("TRACE", "/v2/health/live")
    assert (reply.status, reply.error) == (501, "Unsupported method ('TRACE')")
    assert reply.headers["Connection"] == "close"


@pytest.mark.parametrize("path", ["/v1/models/half_plus_two", "/v2/health/ready"])
def test_responses_carry_no_cors_headers_by_default(rest, path):
    assert "Access-Control-Allow-Origin" not in rest.get(path).headers
