"""The REST port as part of a ModelServer: off by default, a taken port fails at start, a bad
monitoring config stops start-up, bearer-token auth, TLS and CORS, readiness of a model that did
not load, and a graceful stop that lets a request in flight finish."""

import http.client
import json
import socket
import threading
import time

import pytest
from tests.support.rest_harness import RestClient, self_signed_ssl_config
from tests.support.server_harness import free_port

from serving import errors, flags
from serving.server import ModelServer, ServerStartError


def _options(model_path, *extra):
    return flags.parse_flags([f"--model_base_path={model_path}", "--model_name=sleeper",
                              "--grpc_bind_address=127.0.0.1", f"--port={free_port()}",
                              "--file_system_poll_wait_seconds=0", *extra])


def test_rest_is_off_without_rest_api_port(rest_models):
    server = ModelServer(_options(rest_models["sleeper"]))
    server.start()
    try:
        assert server.rest is None
        assert not any(address.startswith("http") for address in server.addresses)
    finally:
        server.stop(grace=0)


def test_taken_rest_port_fails_at_start_naming_the_flag(rest_models):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ModelServer(_options(rest_models["sleeper"], f"--rest_api_port={port}"))
        with pytest.raises(ServerStartError, match="change --rest_api_port/--grpc_bind_address"):
            server.start()


def test_invalid_monitoring_config_stops_start_up(rest_models, tmp_path):
    config = tmp_path / "monitoring.config"
    config.write_text("prometheus_config { enable: maybe }\n")
    server = ModelServer(_options(rest_models["sleeper"], f"--rest_api_port={free_port()}",
                                  f"--monitoring_config_file={config}"))
    with pytest.raises(errors.InvalidArgument,
                       match="Error parsing text-format tensorflow.serving.MonitoringConfig: 1:"):
        server.start()


@pytest.fixture(scope="module")
def guarded_server(rest_models, tmp_path_factory):
    token_file = tmp_path_factory.mktemp("token") / "token"
    token_file.write_text("s3cret\n")
    server = ModelServer(_options(rest_models["sleeper"], f"--rest_api_port={free_port()}",
                                  f"--auth_token_file={token_file}", "--rest_api_enable_cors_support"))
    server.start()
    yield RestClient(server.rest.port)
    server.stop(grace=0)


def test_token_is_required_on_model_endpoints(guarded_server):
    body = {"inputs": {"x": [1.0], "sleep_micros": 0}}
    refused = guarded_server.post("/v1/models/sleeper:predict", body)
    assert refused.status == 401
    assert refused.error.startswith("Missing bearer token")
    wrong = guarded_server.post("/v1/models/sleeper:predict", body, headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    allowed = guarded_server.post("/v1/models/sleeper:predict", body,
                                  headers={"Authorization": "Bearer s3cret"})
    assert allowed.json() == {"outputs": [2.0]}


def test_health_endpoints_stay_open_with_a_token(guarded_server):
    assert guarded_server.get("/v2/health/live").status == 200
    assert guarded_server.get("/v2/health/ready").status == 200
    assert guarded_server.get("/v2/models/sleeper/ready").status == 401


def test_cors_headers_when_enabled(guarded_server):
    reply = guarded_server.get("/v2/health/live")
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.headers["Access-Control-Allow-Methods"] == "POST, GET"


@pytest.mark.slow
def test_graceful_stop_lets_a_request_in_flight_finish_then_refuses(rest_models):
    server = ModelServer(_options(rest_models["sleeper"], f"--rest_api_port={free_port()}"))
    server.start()
    port = server.rest.port
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    idle.request("GET", "/v2/health/live")
    idle.getresponse().read()  # a kept-alive connection with nothing in flight
    answers = {}

    def slow_call():
        answers["slow"] = RestClient(port).post("/v1/models/sleeper:predict",
                                                {"inputs": {"x": [3.0], "sleep_micros": 1_500_000}})

    caller = threading.Thread(target=slow_call)
    caller.start()
    _wait_for_requests(server, received=2)  # the slow one is in flight
    server.stop(grace=10)
    caller.join(10)
    assert (answers["slow"].status, answers["slow"].json()) == (200, {"outputs": [6.0]})
    with pytest.raises(OSError):
        idle.request("GET", "/v2/health/live")
        idle.getresponse()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def _wait_for_requests(server, received: int) -> None:
    """Waits until `server`'s REST port has received `received` requests since start."""
    deadline = time.monotonic() + 10
    while server.rest._http.requests_received < received:
        assert time.monotonic() < deadline, f"expected {received} requests to arrive"
        time.sleep(0.01)


def test_monitoring_config_page_path_comes_from_the_file(rest_models, tmp_path):
    config = tmp_path / "monitoring.config"
    config.write_text('prometheus_config { enable: true path: "/metrics" }\n')
    server = ModelServer(_options(rest_models["sleeper"], f"--rest_api_port={free_port()}",
                                  f"--monitoring_config_file={config}"))
    server.start()
    try:
        client = RestClient(server.rest.port)
        page = client.get("/metrics")
        assert page.status == 200
        assert page.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert client.get("/monitoring/prometheus/metrics").status == 404
    finally:
        server.stop(grace=0)


def test_metrics_page_is_absent_without_a_monitoring_config(guarded_server):
    reply = guarded_server.get("/monitoring/prometheus/metrics", headers={"Authorization": "Bearer s3cret"})
    assert reply.status == 404
    assert json.loads(reply.body)["error"].startswith("Malformed request")


def test_unready_model_answers_503_on_readiness_and_reports_its_load_error(tmp_path):
    from tests.support import savedmodels

    savedmodels.export_broken_version(tmp_path / "broken", 1)
    server = ModelServer(flags.parse_flags([
        f"--model_base_path={tmp_path / 'broken'}", "--model_name=broken", "--max_num_load_retries=0",
        "--grpc_bind_address=127.0.0.1", f"--port={free_port()}", f"--rest_api_port={free_port()}",
        "--file_system_poll_wait_seconds=0"]))
    server.start()
    try:
        client = RestClient(server.rest.port)
        assert client.get("/v2/health/live").status == 200
        ready = client.get("/v2/health/ready")
        assert (ready.status, ready.json()) == (503, {"ready": False})
        model_ready = client.get("/v2/models/broken/ready")
        assert (model_ready.status, model_ready.json()) == (503, {"name": "broken", "ready": False})
        status = client.get("/v1/models/broken").json()["model_version_status"][0]
        assert (status["version"], status["state"], status["status"]["error_code"]) == ("1", "END", "DATA_LOSS")
        assert "Cannot parse the SavedModel" in status["status"]["error_message"]
    finally:
        server.stop(grace=0)


def test_ssl_config_serves_the_rest_port_over_tls(rest_models, tmp_path):
    import ssl

    config_text, certificate = self_signed_ssl_config()
    (tmp_path / "ssl.config").write_text(config_text)
    server = ModelServer(_options(rest_models["sleeper"], f"--rest_api_port={free_port()}",
                                  f"--ssl_config_file={tmp_path / 'ssl.config'}"))
    server.start()
    try:
        assert server.rest.address == f"https://127.0.0.1:{server.rest.port}"
        context = ssl.create_default_context(cadata=certificate.decode())
        connection = http.client.HTTPSConnection("127.0.0.1", server.rest.port, context=context,
                                                 timeout=10)
        connection.request("POST", "/v1/models/sleeper:predict",
                           body=json.dumps({"inputs": {"x": [1.0], "sleep_micros": 0}}))
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())) == (200, {"outputs": [2.0]})
        connection.close()
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            RestClient(server.rest.port).get("/v2/health/live")  # plain HTTP on a TLS port
    finally:
        server.stop(grace=0)


def test_refusal_names_the_bearer_scheme_in_www_authenticate(guarded_server):
    body = {"inputs": {"x": [1.0], "sleep_micros": 0}}
    missing = guarded_server.post("/v1/models/sleeper:predict", body)
    wrong = guarded_server.post("/v1/models/sleeper:predict", body, headers={"Authorization": "Bearer nope"})

    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="zoo-serve"'
    assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="zoo-serve", error="invalid_token"'
