"""Who may talk to the server: TLS / mutual TLS (`--ssl_config_file`) and bearer tokens
(`--auth_token_file`), for the gRPC port and the REST port alike."""

from serving.security.auth import BearerToken
from serving.security.server_security import ServerSecurity
from serving.security.tls import ServerTls, load_ssl_config_file, parse_ssl_config_text

__all__ = [
    "BearerToken",
    "ServerSecurity",
    "ServerTls",
    "load_ssl_config_file",
    "parse_ssl_config_text",
]
