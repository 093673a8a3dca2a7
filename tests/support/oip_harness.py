"""Serving helpers for the OIP tests: model configs and the server's gRPC transport on loopback."""

from __future__ import annotations

from tests.support.server_harness import free_port

from serving.apis.guard import Guard
from serving.apis.tfs.model_config import model_configs, parse_model_config_text
from serving.apis.tfs.settings import TfsSettings
from serving.options import ServerOptions
from serving.security import ServerSecurity
from serving.transports.grpc.server import GrpcTransport

# Every call gets a deadline, so a broken server fails a test instead of hanging it.
RPC_TIMEOUT_SECONDS = 30.0


def model_config(models: dict, extra: dict[str, str] | None = None):
    """The ModelConfigs serving `models` (name -> base path); `extra` adds config fields."""
    entries = "".join(
        f'config {{ name: "{name}" base_path: "{path}" model_platform: "tensorflow" '
        f'{(extra or {}).get(name, "")} }}\n' for name, path in models.items())
    return model_configs(parse_model_config_text(f"model_config_list {{ {entries} }}"))


def start_server(manager) -> tuple[GrpcTransport, str]:
    """The server's gRPC transport (the OIP service under the guard, with the others) on a free
    loopback port, serving `manager`.

    Returns the transport (stop it with `.stop(grace)`) and its target address.
    """
    # The transport reads its port and thread options only: the models are the manager's, the
    # base path only satisfies ServerOptions' check that some model is named.
    options = ServerOptions(port=free_port(), grpc_bind_address="127.0.0.1",
                            model_base_path="/models/served-by-the-manager")
    transport = GrpcTransport(manager, Guard(), ServerSecurity.from_options(options), options,
                              TfsSettings(), threads=4)
    transport.bind()
    transport.start()
    return transport, f"127.0.0.1:{transport.port}"
