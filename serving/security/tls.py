"""`--ssl_config_file`: TF Serving's SSLConfig text file, checked, as gRPC and HTTPS credentials.

The file is the text form of `tensorflow.serving.SSLConfig`, exactly as tensorflow_model_server
reads it: `server_key`, `server_cert` and `custom_ca` hold PEM text (not file paths), and
`client_verify: true` demands a client certificate signed by `custom_ca` (mutual TLS).

    server_key: "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\\n"
    server_cert: "-----BEGIN CERTIFICATE-----\\n...\\n-----END CERTIFICATE-----\\n"
    custom_ca: "-----BEGIN CERTIFICATE-----\\n..."
    client_verify: true

gRPC accepts any bytes as a key or certificate and only fails later, in every handshake, with
nothing in the log. So the file is checked once, at start-up, by loading it into an
`ssl.SSLContext` (a key that does not match its certificate, a truncated PEM, or an unusable CA
are all caught there), and a bad file stops the server with one line naming the file and the
field. The same context serves HTTPS on the REST port, so both ports present one identity and
apply one client-certificate rule.
"""

from __future__ import annotations

import dataclasses
import os
import ssl
import tempfile

import grpc

from serving import errors
from serving.security import ssl_config_pb2
from serving.text_config import TextProtoError, parse_text_proto

FLAG = "--ssl_config_file"


@dataclasses.dataclass(frozen=True)
class ServerTls:
    """The server's TLS identity and client-certificate rule, read from an SSLConfig.

    `custom_ca` is None when the config gives none; `client_verify` requires it.
    """

    server_key: bytes
    server_cert: bytes
    custom_ca: bytes | None = None
    client_verify: bool = False

    def __post_init__(self) -> None:
        if not self.server_key or not self.server_cert:
            raise ValueError("server_key and server_cert are both required. Received: "
                             f"server_key={'set' if self.server_key else 'empty'}, "
                             f"server_cert={'set' if self.server_cert else 'empty'}")
        if self.client_verify and not self.custom_ca:
            raise ValueError("client_verify needs custom_ca, the CA client certificates must chain "
                             "to. Received: custom_ca=None")

    def __repr__(self) -> str:  # never print key material
        return (f"ServerTls(client_verify={self.client_verify}, "
                f"custom_ca={'set' if self.custom_ca else None})")

    def grpc_credentials(self) -> grpc.ServerCredentials:
        """Credentials for `grpc.Server.add_secure_port`, as TF Serving builds them: with
        client_verify a client certificate is required and verified, without it none is asked."""
        return grpc.ssl_server_credentials(
            [(self.server_key, self.server_cert)],
            root_certificates=self.custom_ca,
            require_client_auth=self.client_verify,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """A server-side ssl.SSLContext (TLS 1.2 or later) with the same identity and rule.

        Raises:
            ssl.SSLError: the key, the certificate or the CA is not usable (see `load`).
        """
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        _load_key_pair(context, self.server_key, self.server_cert)
        if self.custom_ca:
            context.load_verify_locations(cadata=self.custom_ca.decode("ascii", errors="replace"))
        context.verify_mode = ssl.CERT_REQUIRED if self.client_verify else ssl.CERT_NONE
        return context


def load_ssl_config_file(path: str) -> ServerTls:
    """Reads, parses and checks an SSLConfig text file.

    Raises:
        errors.InvalidArgument: the file is missing or unreadable, has a syntax error (with line
            and column), lacks a field, or holds a key, certificate or CA that TLS cannot use.
            The message names the flag, the file and the field; it never quotes key material.
    """
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise errors.InvalidArgument(f"{FLAG} {path}: cannot read the file: "
                                     f"{getattr(error, 'strerror', None) or error}") from None
    return parse_ssl_config_text(text, source=path)


def parse_ssl_config_text(text: str, *, source: str = "SSL config") -> ServerTls:
    """Parses SSLConfig text (see the module docstring) and checks it like load_ssl_config_file."""
    try:
        # The parser's own explanation may quote a line of the file, which can be a key.
        message = parse_text_proto(
            text, ssl_config_pb2.SSLConfig(), source=f"{FLAG} {source}",
            detail="not a valid SSLConfig; fields are server_key, server_cert, custom_ca (PEM "
                   "strings) and client_verify (true/false)")
    except TextProtoError as error:
        raise errors.InvalidArgument(str(error)) from None
    for field in ("server_key", "server_cert"):
        if not getattr(message, field).strip():
            raise errors.InvalidArgument(f"{FLAG} {source}: {field} is empty; it must hold the "
                                         "server's PEM text (TLS needs both key and certificate)")
    if message.client_verify and not message.custom_ca.strip():
        raise errors.InvalidArgument(
            f"{FLAG} {source}: client_verify is true but custom_ca is empty; give the PEM of the "
            "CA that signs client certificates")
    tls = ServerTls(
        server_key=message.server_key.encode("utf-8"),
        server_cert=message.server_cert.encode("utf-8"),
        custom_ca=message.custom_ca.encode("utf-8") if message.custom_ca.strip() else None,
        client_verify=message.client_verify,
    )
    _check_usable(tls, source)
    return tls


def _check_usable(tls: ServerTls, source: str) -> None:
    """Loads the key pair and CA the way a handshake would, so a bad one fails now, by name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        _load_key_pair(context, tls.server_key, tls.server_cert)
    except ssl.SSLError as error:
        raise errors.InvalidArgument(
            f"{FLAG} {source}: server_key and server_cert are not a usable PEM key pair "
            f"({_ssl_reason(error)}); check that both are complete PEM blocks and that the key "
            "belongs to the certificate") from None
    if tls.custom_ca:
        try:
            context.load_verify_locations(cadata=tls.custom_ca.decode("ascii", errors="replace"))
        except (ssl.SSLError, ValueError) as error:
            raise errors.InvalidArgument(
                f"{FLAG} {source}: custom_ca is not a usable PEM certificate "
                f"({_ssl_reason(error)})") from None


def _load_key_pair(context: ssl.SSLContext, key: bytes, cert: bytes) -> None:
    """ssl.SSLContext reads key pairs only from files: write them to a private temporary
    directory (mode 0700, files 0600) and remove it at once."""
    with tempfile.TemporaryDirectory(prefix="tfzoo-tls-") as directory:
        key_path = os.path.join(directory, "key.pem")
        cert_path = os.path.join(directory, "cert.pem")
        for path, content in ((key_path, key), (cert_path, cert)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(content)
        context.load_cert_chain(cert_path, key_path)


def _ssl_reason(error: Exception) -> str:
    return getattr(error, "reason", None) or type(error).__name__
