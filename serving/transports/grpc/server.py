"""The gRPC port of a ModelServer: our three services under the guard, health and reflection.

TF Serving's channel defaults apply (message sizes up to INT32_MAX), overridden by
--grpc_channel_arguments; past the most calls in flight, gRPC answers RESOURCE_EXHAUSTED instead
of queueing, so an overload sheds calls rather than growing memory.

The server is grpcio's asyncio one, on an event loop of its own thread (uvloop's where installed:
see event_loops.py). Predict and ModelInfer are coroutines: they decode and answer on the loop's
thread and await only the model call, so a batched request reaches its batch thread with no
worker thread in between, and waits holding none. Measured with `zoo bench` at 32 calls in flight
on the CNN with batching, that is about 20 thread switches per call against 34 with grpcio's
synchronous server, whose poller hands every call to a worker thread. Methods written as plain
functions (all the others) run in the `threads` pool, as before.
"""

from __future__ import annotations

import concurrent.futures
import os

import grpc

from serving.apis.guard import Guard
from serving.apis.tfs.settings import TfsSettings
from serving.errors import ServerStartError
from serving.options import INT32_MAX, ServerOptions
from serving.transports.event_loops import LoopThread
from serving.transports.grpc import health, oip_service, tfs_services
from serving.transports.grpc.handlers import guarded_service
from serving.transports.grpc.interceptor import AuthInterceptor
from serving.transports.grpc.reflection import enable_reflection
from serving.transports.ports import check_port_free

DEFAULT_CHANNEL_ARGUMENTS = {
    "grpc.max_receive_message_length": INT32_MAX,
    "grpc.max_send_message_length": INT32_MAX,
    # Without this, a second server on the same port binds silently and steals half the calls.
    "grpc.so_reuseport": 0,
}
# Without --grpc_max_threads: calls in flight (running or waiting for a thread) before new ones
# are refused with RESOURCE_EXHAUSTED.
DEFAULT_MAX_CONCURRENT_RPCS = 1024


class GrpcTransport:
    """Serves `manager` over gRPC with `threads` call threads; `security` (a
    serving.security.ServerSecurity) binds the ports with TLS when configured."""

    def __init__(self, manager, guard: Guard, security, options: ServerOptions,
                 settings: TfsSettings, threads: int):
        self._options = options
        self._security = security
        self.port = 0
        self.addresses: list[str] = []
        self._executor = concurrent.futures.ThreadPoolExecutor(threads,
                                                               thread_name_prefix="grpc-call")
        # Coroutines that run a blocking step (a model call that is not batched) run it in the
        # executor too.
        self._loop = LoopThread("grpc-loop", executor=self._executor)
        services = {
            tfs_services.PREDICTION_SERVICE: tfs_services.prediction_service(manager, settings),
            tfs_services.MODEL_SERVICE: tfs_services.model_service(manager,
                                                                   settings.request_logger),
            oip_service.SERVICE_NAME: oip_service.oip_service(manager, settings.request_logger),
        }
        self._server = self._loop.run(_make_server(
            self._executor,
            handlers=[guarded_service(name, methods, guard) for name, methods in services.items()],
            # Asked on every call by the asyncio server: installed only where it has work.
            interceptors=[AuthInterceptor(guard, services)] if guard.requires_token else [],
            options=channel_arguments(options.grpc_channel_arguments),
            maximum_concurrent_rpcs=options.grpc_max_threads or DEFAULT_MAX_CONCURRENT_RPCS,
        ))
        self.health = health.ModelHealth(manager, self._loop.run)
        self.health.add_to_server(self._server)
        enable_reflection(self._server, (*services, health.HEALTH_SERVICE_NAME))

    def check_port(self) -> None:
        """Raises ServerStartError now if --port cannot be listened on (see ports.py)."""
        check_port_free(_host(self._options.grpc_bind_address), self._options.port,
                        "--port/--grpc_bind_address")

    def bind(self) -> None:
        """Binds --port (on --grpc_bind_address) and --grpc_socket_path.

        Raises:
            ServerStartError: an address cannot be bound.
        """
        options = self._options
        if options.port:
            host = _host(options.grpc_bind_address)
            self.port = self._add_port(f"{host}:{options.port}", "--port/--grpc_bind_address")
            self.addresses.append(f"{host}:{self.port}")
        if options.grpc_socket_path:
            address = f"unix:{os.path.abspath(options.grpc_socket_path)}"
            self._add_port(address, "--grpc_socket_path")
            self.addresses.append(address)

    def start(self) -> None:
        self.health.start()
        self._loop.run(self._server.start())

    def begin_stop(self) -> None:
        """Health turns NOT_SERVING for good, so load balancers stop routing here."""
        self.health.shutdown()

    def stop(self, grace: float | None) -> None:
        """New calls are refused; in-flight calls get `grace` seconds (None: no limit)."""
        self.begin_stop()
        self._loop.run(self._server.stop(grace))
        self._loop.close()
        self._executor.shutdown(wait=False)

    def _add_port(self, address: str, flag_names: str) -> int:
        try:
            port = self._security.add_grpc_port(self._server, address)
        except RuntimeError as error:
            raise ServerStartError(
                f"cannot listen on {address} ({error}); the port may be in use or the address "
                f"not local: change {flag_names}") from None
        if port == 0 and not address.startswith("unix:"):
            raise ServerStartError(f"cannot listen on {address}; change {flag_names}")
        return port


async def _make_server(executor, **arguments) -> grpc.aio.Server:
    return grpc.aio.server(migration_thread_pool=executor, **arguments)


def channel_arguments(user_arguments) -> list[tuple[str, int | str]]:
    """TF Serving's defaults (INT32_MAX message sizes) overridden by --grpc_channel_arguments."""
    merged = dict(DEFAULT_CHANNEL_ARGUMENTS)
    merged.update(user_arguments)
    return list(merged.items())


def _host(address: str) -> str:
    """IPv6 literals need brackets in a gRPC target ("[::]:8500")."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address
