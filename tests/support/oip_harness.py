"""Serving helpers for the OIP tests: model configs and a loopback server with the OIP service."""

from __future__ import annotations

from concurrent import futures

import grpc

from serving.apis.tfs.model_config import model_configs, parse_model_config_text
from serving.apis.guard import Guard
from serving.transports.grpc.handlers import guarded_service
from serving.transports.grpc.oip_service import SERVICE_NAME, oip_service

# Every call gets a deadline, so a broken server fails a test instead of hanging it.
RPC_TIMEOUT_SECONDS = 30.0


def model_config(models: dict, extra: dict[str, str] | None = None):
    """The ModelConfigs serving `models` (name -> base path); `extra` adds config fields."""
    entries = "".join(
        f'config {{ name: "{name}" base_path: "{path}" model_platform: "tensorflow" '
        f'{(extra or {}).get(name, "")} }}\n' for name, path in models.items())
    return model_configs(parse_model_config_text(f"model_config_list {{ {entries} }}"))


def start_server(manager) -> tuple[grpc.Server, str]:
    """A gRPC server on a free loopback port with the OIP service under the server's guard.

    Returns the server and its target address.
    """
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         handlers=[guarded_service(SERVICE_NAME, oip_service(manager), Guard())])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"
