"""Certificates for the TLS tests, made fresh with `cryptography`: a CA, a server certificate
for 127.0.0.1 and `localhost`, and client certificates signed by that CA or by another one."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAME = "localhost"


@dataclasses.dataclass(frozen=True)
class KeyPair:
    """A PEM private key and the PEM certificate for it."""

    key: bytes
    cert: bytes


@dataclasses.dataclass(frozen=True)
class Authority:
    """A certificate authority that can sign server and client certificates."""

    pair: KeyPair
    _key: ec.EllipticCurvePrivateKey
    _name: x509.Name

    @classmethod
    def create(cls, common_name: str) -> "Authority":
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        certificate = (
            _builder(name, name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(KeyPair(_key_pem(key), _cert_pem(certificate)), key, name)

    def issue(self, common_name: str, *, server: bool) -> KeyPair:
        """A leaf certificate: for a server (SAN localhost and 127.0.0.1) or for a client."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            _builder(subject, self._name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName([
                x509.DNSName(SERVER_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
        return KeyPair(_key_pem(key), _cert_pem(builder.sign(self._key, hashes.SHA256())))


def ssl_config_text(server: KeyPair, *, custom_ca: bytes | None = None,
                    client_verify: bool = False) -> str:
    """An SSLConfig text file as TF Serving users write it: PEM text with escaped newlines."""
    lines = [f"server_key: {_quoted(server.key)}", f"server_cert: {_quoted(server.cert)}"]
    if custom_ca is not None:
        lines.append(f"custom_ca: {_quoted(custom_ca)}")
    if client_verify:
        lines.append("client_verify: true")
    return "\n".join(lines) + "\n"


def _quoted(pem: bytes) -> str:
    return '"' + pem.decode("ascii").replace("\n", "\\n") + '"'


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)))


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)
