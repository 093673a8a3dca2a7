"""`python -m serving.healthcheck`: exit 0 when the server's gRPC health service answers SERVING.

For container health checks (Docker's HEALTHCHECK) and anything else that wants an exit status
rather than a gRPC client. It asks `grpc.health.v1.Health/Check` for one service: "" (the default)
is the whole server, SERVING once every configured model has a version AVAILABLE; a model's name
asks for that model alone. Anything else (NOT_SERVING, an unknown service, no answer within the
deadline) exits 1 with one line on stderr saying why. It imports gRPC only, never TensorFlow, so it
costs a fraction of a second.

    python -m serving.healthcheck                       # 127.0.0.1:8500, whole server
    python -m serving.healthcheck --address host:8500 --service mnist --timeout 2
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

DEFAULT_ADDRESS = "127.0.0.1:8500"
HEALTHY, UNHEALTHY, USAGE_ERROR = 0, 1, 2


def check(address: str, service: str = "", timeout: float = 3.0) -> tuple[bool, str]:
    """(healthy, a one-line reason) for `service` on the server at `address`."""
    if not timeout > 0:
        raise ValueError(f"timeout must be positive. Received: timeout={timeout}")
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return False, f"{_describe(service)} is unknown to the server at {address}"
            return False, f"no answer from {address}: {error.code().name} {error.details() or ''}".rstrip()
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    return response.status == health_pb2.HealthCheckResponse.SERVING, f"{_describe(service)} at {address}: {status}"


def _describe(service: str) -> str:
    return f"service {service!r}" if service else "the server"


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m serving.healthcheck",
        description="Exit 0 if the gRPC health service says SERVING, 1 otherwise (2: bad arguments).",
    )
    parser.add_argument("--address", default=DEFAULT_ADDRESS, help="HOST:PORT of the gRPC API (default: %(default)s)")
    parser.add_argument("--service", default="",
                        help="a model name, or '' for the whole server (default: the whole server)")
    parser.add_argument("--timeout", type=_positive_seconds, default=3.0, help="deadline in seconds (default: %(default)s)")
    args = parser.parse_args(argv)
    healthy, reason = check(args.address, args.service, args.timeout)
    print(reason, file=sys.stdout if healthy else sys.stderr)
    return HEALTHY if healthy else UNHEALTHY


if __name__ == "__main__":
    sys.exit(main())
