"""TLS and mutual TLS on the gRPC and REST ports from `--ssl_config_file` (TF Serving's SSLConfig
text format), with certificates made by the test, and the promise that goes with the flag: the
server serves TLS or does not start."""

from __future__ import annotations

import asyncio
import http.client
import os
import ssl
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from serving import errors, flags
from tfzoo_client import AsyncClient, Client, RetryPolicy, TlsConfig
from serving.security import parse_ssl_config_text
from serving.server import ModelServer

from tests.support.reliability_certs import Authority, ssl_config_text
from tests.support.http_harness import http_call
from tests.support.server_harness import free_port

NO_RETRY = RetryPolicy(max_attempts=1)
X = np.array([1.0, 2.0], np.float32)


@pytest.fixture(scope="module")
def authority():
    return Authority.create("tfzoo test CA")


@pytest.fixture(scope="module")
def server_pair(authority):
    return authority.issue("tfzoo test server", server=True)


def model_flags(reliability_models) -> list[str]:
    return [f"--model_base_path={reliability_models / 'half_plus_two'}", "--model_name=half_plus_two",
            "--file_system_poll_wait_seconds=0"]


@pytest.fixture(scope="module")
def tls_server(start_server, reliability_models, authority, server_pair, tmp_path_factory):
    path = tmp_path_factory.mktemp("tls") / "ssl.config"
    path.write_text(ssl_config_text(server_pair))
    return start_server(*model_flags(reliability_models), f"--ssl_config_file={path}",
                        f"--rest_api_port={free_port()}")


@pytest.fixture(scope="module")
def mtls_server(start_server, reliability_models, authority, server_pair, tmp_path_factory):
    path = tmp_path_factory.mktemp("mtls") / "ssl.config"
    path.write_text(ssl_config_text(server_pair, custom_ca=authority.pair.cert, client_verify=True))
    return start_server(*model_flags(reliability_models), f"--ssl_config_file={path}",
                        f"--rest_api_port={free_port()}")


def test_tls_server_answers_a_client_that_trusts_its_ca(tls_server, authority):
    with Client(tls_server.target, tls=TlsConfig(root_certificates=authority.pair.cert)) as client:
        assert client.predict("half_plus_two", X)["y"].tolist() == [3.0, 5.0]


def test_plaintext_client_gets_no_answer_from_a_tls_server(tls_server):
    with Client(tls_server.target, retry=NO_RETRY, timeout=5.0) as client:
        with pytest.raises(errors.Unavailable):
            client.status("half_plus_two")


def test_client_that_does_not_trust_the_servers_ca_fails_the_handshake(tls_server):
    other = Authority.create("another CA")
    with Client(tls_server.target, tls=TlsConfig(root_certificates=other.pair.cert),
                retry=NO_RETRY, timeout=5.0) as client:
        with pytest.raises(errors.Unavailable):
            client.status("half_plus_two")


def test_mutual_tls_answers_a_client_certificate_signed_by_the_custom_ca(mtls_server, authority):
    pair = authority.issue("good client", server=False)
    tls = TlsConfig(root_certificates=authority.pair.cert, certificate_chain=pair.cert,
                    private_key=pair.key)
    with Client(mtls_server.target, tls=tls) as client:
        assert client.predict("half_plus_two", X)["y"].tolist() == [3.0, 5.0]


def test_mutual_tls_refuses_a_client_without_a_certificate(mtls_server, authority):
    with Client(mtls_server.target, tls=TlsConfig(root_certificates=authority.pair.cert),
                retry=NO_RETRY, timeout=5.0) as client:
        with pytest.raises(errors.Unavailable):
            client.status("half_plus_two")


def test_mutual_tls_refuses_a_client_certificate_from_another_ca(mtls_server, authority):
    stranger = Authority.create("stranger CA").issue("stranger", server=False)
    tls = TlsConfig(root_certificates=authority.pair.cert, certificate_chain=stranger.cert,
                    private_key=stranger.key)
    with Client(mtls_server.target, tls=tls, retry=NO_RETRY, timeout=5.0) as client:
        with pytest.raises(errors.Unavailable):
            client.status("half_plus_two")


def test_async_client_speaks_mutual_tls_too(mtls_server, authority):
    pair = authority.issue("async client", server=False)
    tls = TlsConfig(root_certificates=authority.pair.cert, certificate_chain=pair.cert,
                    private_key=pair.key)

    async def status():
        async with AsyncClient(mtls_server.target, tls=tls) as client:
            return await client.status("half_plus_two")

    assert [entry.version for entry in asyncio.run(status())] == [2]


# === The REST port: the same identity and client-certificate rule ===


def https_context(authority, client=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=authority.pair.cert.decode())
    if client is not None:
        directory = tempfile.mkdtemp()
        for name, pem in (("cert.pem", client.cert), ("key.pem", client.key)):
            with open(os.path.join(directory, name), "wb") as file:
                file.write(pem)
        context.load_cert_chain(os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem"))
    return context


def test_rest_port_serves_https_with_the_servers_certificate(tls_server, authority):
    assert tls_server.server.rest.address.startswith("https://")
    reply = http_call(tls_server.server.rest.port, "POST", "/v1/models/half_plus_two:predict",
                      {"instances": [1.0, 2.0]}, ssl_context=https_context(authority))
    assert (reply.status, reply.json()) == (200, {"predictions": [3.0, 5.0]})


def test_plain_http_to_a_tls_rest_port_gets_no_answer(tls_server):
    with pytest.raises((OSError, http.client.HTTPException)):
        http_call(tls_server.server.rest.port, "GET", "/v2/health/live", timeout=5)


def test_rest_mutual_tls_answers_a_client_certificate_signed_by_the_custom_ca(mtls_server, authority):
    context = https_context(authority, client=authority.issue("rest client", server=False))
    reply = http_call(mtls_server.server.rest.port, "GET", "/v1/models/half_plus_two", ssl_context=context)
    assert reply.status == 200
    assert reply.json()["model_version_status"][0]["state"] == "AVAILABLE"


@pytest.mark.parametrize("client", ["none", "stranger"])
def test_rest_mutual_tls_refuses_a_client_without_a_trusted_certificate(mtls_server, authority, client):
    pair = Authority.create("stranger CA").issue("stranger", server=False) if client == "stranger" else None
    with pytest.raises((OSError, http.client.HTTPException)):
        http_call(mtls_server.server.rest.port, "GET", "/v2/health/live",
                  ssl_context=https_context(authority, client=pair), timeout=5)


# === The file: TF Serving's text format, checked before anything is served ===


def start_error(tmp_path, reliability_models, config_text: str | None) -> str:
    path = tmp_path / "ssl.config"
    if config_text is not None:
        path.write_text(config_text)
    server = ModelServer(flags.parse_flags([*model_flags(reliability_models), "--port=0",
                                            f"--grpc_socket_path={tmp_path / 'unused.sock'}",
                                            f"--ssl_config_file={path}"]))
    with pytest.raises(errors.InvalidArgument) as refused:
        server.start()
    assert server.manager is None, "no model may load before the TLS config is known to be good"
    message = refused.value.message
    assert "\n" not in message and "--ssl_config_file" in message and str(path) in message
    return message


def test_ssl_config_with_a_syntax_error_stops_the_server_naming_line_and_column(tmp_path, reliability_models):
    message = start_error(tmp_path, reliability_models, 'server_key: "x"\nserver_certificate: "y"\n')
    assert "Error parsing text-format tensorflow.serving.SSLConfig: 2:" in message
    assert "ssl.config" in message and "server_cert" in message


def test_missing_ssl_config_file_stops_the_server(tmp_path, reliability_models):
    assert "cannot read the file" in start_error(tmp_path, reliability_models, None)


def test_key_that_does_not_match_its_certificate_stops_the_server(tmp_path, reliability_models,
                                                                  authority, server_pair):
    other_key = authority.issue("other", server=True).key
    text = ssl_config_text(type(server_pair)(key=other_key, cert=server_pair.cert))
    message = start_error(tmp_path, reliability_models, text)
    assert "server_key and server_cert are not a usable PEM key pair" in message
    assert "PRIVATE KEY" not in message


def test_truncated_certificate_stops_the_server(tmp_path, reliability_models, server_pair):
    text = ssl_config_text(type(server_pair)(key=server_pair.key, cert=server_pair.cert[:100]))
    assert "not a usable PEM key pair" in start_error(tmp_path, reliability_models, text)


def test_client_verify_without_custom_ca_stops_the_server(tmp_path, reliability_models, server_pair):
    message = start_error(tmp_path, reliability_models, ssl_config_text(server_pair, client_verify=True))
    assert "client_verify is true but custom_ca is empty" in message


def test_custom_ca_that_is_not_a_certificate_stops_the_server(tmp_path, reliability_models, server_pair):
    text = ssl_config_text(server_pair, custom_ca=b"-----BEGIN CERTIFICATE-----\nnope\n", client_verify=True)
    assert "custom_ca is not a usable PEM certificate" in start_error(tmp_path, reliability_models, text)


def test_empty_server_key_stops_the_server(tmp_path, reliability_models, server_pair):
    text = f'server_cert: "{server_pair.cert.decode().replace(chr(10), chr(92) + "n")}"\n'
    assert "server_key is empty" in start_error(tmp_path, reliability_models, text)


def test_pem_split_over_adjacent_string_literals_parses_as_in_tf_serving(server_pair):
    def literals(pem: bytes) -> str:
        return " ".join('"' + line + '\\n"' for line in pem.decode().splitlines())

    tls = parse_ssl_config_text(f"server_key: {literals(server_pair.key)}\n"
                                f"server_cert: {literals(server_pair.cert)}\n")
    assert (tls.server_key, tls.server_cert, tls.client_verify) == (server_pair.key, server_pair.cert, False)
    assert "PRIVATE" not in repr(tls)


def test_zoo_serve_with_a_bad_ssl_config_exits_1_with_one_line_and_serves_nothing(
        tmp_path, reliability_models):
    path = tmp_path / "ssl.config"
    path.write_text('server_key: "not a key"\nserver_cert: "not a certificate"\n')
    socket_path = tmp_path / "grpc.sock"
    result = subprocess.run(
        [sys.executable, "-m", "serving", *model_flags(reliability_models), "--port=0",
         f"--grpc_socket_path={socket_path}", f"--ssl_config_file={path}"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 1
    failure = [line for line in result.stderr.splitlines() if "failed to start" in line]
    assert len(failure) == 1 and str(path) in failure[0] and "not a usable PEM key pair" in failure[0]
    assert "Traceback" not in result.stderr
    assert not socket_path.exists()


def test_ssl_config_file_is_no_longer_an_unimplemented_flag(tmp_path, reliability_models):
    options = flags.parse_flags([*model_flags(reliability_models), f"--ssl_config_file={tmp_path / 'ssl.config'}",
                                 f"--auth_token_file={tmp_path / 'token'}"])
    assert flags.unimplemented_flag_warnings(options) == []
