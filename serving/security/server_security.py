"""The server's security settings from its flags, and the hooks the front ends call.

`ModelServer` builds one `ServerSecurity` at start-up, before it loads any model, so a bad TLS
config or token file stops the server at once instead of leaving it serving in the clear:
with `--ssl_config_file` the server serves TLS or does not start. The gRPC server adds its ports
through `add_grpc_port`; the REST server wraps its socket with `tls.ssl_context()`; the guard
checks `token` on every request.
"""

from __future__ import annotations

import dataclasses
import logging

import grpc

from serving.options import ServerOptions
from serving.security.auth import BearerToken
from serving.security.tls import ServerTls, load_ssl_config_file

logger = logging.getLogger("serving.security")


@dataclasses.dataclass(frozen=True)
class ServerSecurity:
    """TLS identity (None: plaintext) and bearer token (None: no authentication)."""

    tls: ServerTls | None = None
    token: BearerToken | None = None

    @classmethod
    def from_options(cls, options: ServerOptions) -> "ServerSecurity":
        """Reads --ssl_config_file and --auth_token_file (either may be empty: feature off).

        Raises:
            errors.InvalidArgument: a file is missing, unreadable or invalid (one line naming
                the flag, the file and the problem).
        """
        security = cls(
            tls=load_ssl_config_file(options.ssl_config_file) if options.ssl_config_file else None,
            token=BearerToken.from_file(options.auth_token_file) if options.auth_token_file
            else None,
        )
        logger.info("event=security_configured tls=%s client_verify=%s token_auth=%s",
                    "on" if security.tls else "off",
                    "on" if security.tls and security.tls.client_verify else "off",
                    "on" if security.token else "off")
        return security

    def add_grpc_port(self, server: grpc.Server, address: str) -> int:
        """Binds `address` with TLS when configured, in the clear otherwise; returns the port
        (gRPC's return value: 0 when binding failed, or for a UNIX socket)."""
        if self.tls is None:
            return server.add_insecure_port(address)
        return server.add_secure_port(address, self.tls.grpc_credentials())
