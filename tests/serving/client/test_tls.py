"""TLS and bearer tokens, against a real gRPC server on loopback with a self-signed certificate.

The project's server has no TLS yet (--ssl_config_file is accepted but ignored), so this server
is a TLS front with token checking, as deployments put before a model server: it answers
GetModelStatus for any model with one AVAILABLE version.
"""

import asyncio
import concurrent.futures
import datetime

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tensorflow_serving.apis import get_model_status_pb2

from serving import errors
from tfzoo_client import AsyncClient, Client, RetryPolicy, TlsConfig

TOKEN = "s3cret-token"
NO_RETRY = RetryPolicy(max_attempts=1)


def self_signed_certificate(host: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def model_status(request: get_model_status_pb2.GetModelStatusRequest, context):
    if dict(context.invocation_metadata()).get("authorization") != f"Bearer {TOKEN}":
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")
    response = get_model_status_pb2.GetModelStatusResponse()
    response.model_version_status.add(version=1, state=get_model_status_pb2.ModelVersionStatus.AVAILABLE)
    return response


@pytest.fixture(scope="module")
def tls_server():
    key, certificate = self_signed_certificate("model-server.test")
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(2))
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("tensorflow.serving.ModelService", {
        "GetModelStatus": grpc.unary_unary_rpc_method_handler(
            model_status,
            request_deserializer=get_model_status_pb2.GetModelStatusRequest.FromString,
            response_serializer=get_model_status_pb2.GetModelStatusResponse.SerializeToString,
        )
    })])
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key, certificate)]))
    server.start()
    yield f"127.0.0.1:{port}", certificate
    server.stop(grace=0)


def trusting(certificate: bytes) -> TlsConfig:
    return TlsConfig(root_certificates=certificate, server_name_override="model-server.test")


def test_tls_client_with_the_servers_certificate_and_token_is_answered(tls_server):
    target, certificate = tls_server
    with Client(target, tls=trusting(certificate), token=TOKEN) as client:
        [status] = client.status("any")
    assert (status.version, status.state) == (1, "AVAILABLE")


def test_async_client_speaks_tls_with_a_token_too(tls_server):
    target, certificate = tls_server

    async def status():
        async with AsyncClient(target, tls=trusting(certificate), token=TOKEN) as client:
            return await client.status("any")

    assert asyncio.run(status())[0].is_available


def test_wrong_token_is_unauthenticated_with_the_servers_message(tls_server):
    target, certificate = tls_server
    with Client(target, tls=trusting(certificate), token="guess") as client:
        with pytest.raises(errors.Unauthenticated, match="missing or wrong bearer token"):
            client.status("any")


def test_certificate_not_trusted_by_the_system_fails_the_handshake(tls_server):
    target, _ = tls_server
    with Client(target, tls=True, token=TOKEN, retry=NO_RETRY, timeout=5.0) as client:
        with pytest.raises(errors.Unavailable):
            client.status("any")


def test_plaintext_client_cannot_talk_to_a_tls_server(tls_server):
    target, _ = tls_server
    with Client(target, token=TOKEN, retry=NO_RETRY, timeout=5.0) as client:
        with pytest.raises(errors.Unavailable):
            client.status("any")


def test_tls_config_reads_pem_files_and_wants_key_and_chain_together(tmp_path, tls_server):
    _, certificate = tls_server
    (tmp_path / "ca.pem").write_bytes(certificate)
    assert TlsConfig.from_files(tmp_path / "ca.pem").root_certificates == certificate
    with pytest.raises(ValueError, match="certificate_chain and private_key go together"):
        TlsConfig(certificate_chain=certificate)
