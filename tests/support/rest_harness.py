"""Helpers for the REST tests: a plain HTTP client bound to one server, and the models only these
tests export. (Test modules import this, never conftest.py: every test directory has a conftest.)
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from tests.support.http_harness import HttpReply, http_call

TIMEOUT_MS = 1500
MAX_REQUEST_BYTES = 1_000_000


@dataclasses.dataclass
class RestClient:
    """Plain HTTP/1.1 calls to the server's REST port (a new connection per call)."""

    port: int

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> HttpReply:
        return http_call(self.port, method, path, body, headers=headers)

    def get(self, path: str, **kwargs) -> HttpReply:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, document=None, *, body: bytes | None = None, **kwargs) -> HttpReply:
        if body is None:
            body = json.dumps(document).encode()
        return self.call("POST", path, body=body, **kwargs)


def export_bytes_echo(base_path: Path) -> None:
    import tensorflow as tf

    class BytesEcho(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="data")])
        def serve(self, data):
            return {"echo_bytes": tf.identity(data), "echo_text": tf.identity(data)}

    module = BytesEcho()
    tf.saved_model.save(module, str(base_path / "1"), signatures={"serving_default": module.serve})


def self_signed_ssl_config() -> tuple[str, bytes]:
    """(SSLConfig text, certificate PEM): a fresh self-signed certificate for 127.0.0.1."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)

    def quoted(pem: bytes) -> str:
        return '"' + pem.decode("ascii").replace("\n", "\\n") + '"'

    return f"server_key: {quoted(key_pem)}\nserver_cert: {quoted(cert_pem)}\n", cert_pem
