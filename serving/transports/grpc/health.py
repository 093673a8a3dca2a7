"""grpc.health.v1 statuses that follow the models, and server reflection.

Health entries: "" is the whole server, SERVING when every configured model has an AVAILABLE
version; each model name has its own entry; TF Serving's service names ("PredictionService",
"ModelService", also fully qualified) are SERVING while the server runs, as TF Serving reports
them with --enable_grpc_healthcheck_service. A model removed from the config turns
SERVICE_UNKNOWN. Statuses follow the manager's state events (no polling); a status is sent to
Watch streams only when it changes. On shutdown every entry turns NOT_SERVING, so load
balancers stop routing before calls are refused.

The servicer is grpc_health's asyncio one, living on the gRPC server's event loop: a Watch stream
then waits on the loop rather than holding a thread of the pool until the server stops.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Coroutine

from grpc_health.v1 import health, health_pb2, health_pb2_grpc

logger = logging.getLogger("serving.health")

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN

HEALTH_SERVICE_NAME = health.SERVICE_NAME
# The names TF Serving registers in its health service, plus their full gRPC names.
TF_SERVING_HEALTH_NAMES = (
    "PredictionService",
    "ModelService",
    "tensorflow.serving.PredictionService",
    "tensorflow.serving.ModelService",
)


class ModelHealth:
    """Keeps a grpc HealthServicer in step with a ModelManager's readiness. `on_loop(coroutine)`
    runs one of the servicer's coroutines on the event loop of the server it is added to and
    waits for it, so statuses are published in order and a Check right after a change sees it
    (never called from that loop's thread)."""

    def __init__(self, manager, on_loop: Callable[[Coroutine], object]):
        self.servicer = health.aio.HealthServicer()  # grpc_health's public name for it
        self._on_loop = on_loop
        self._manager = manager
        self._statuses: dict[str, int] = {}
        self._lock = threading.Lock()
        self._started = False
        self._stopping = threading.Event()

    def add_to_server(self, server) -> None:
        health_pb2_grpc.add_HealthServicer_to_server(self.servicer, server)

    def start(self) -> None:
        """Publishes the current statuses, then follows the manager's state events."""
        if self._started:
            raise RuntimeError("ModelHealth.start() was already called")
        self._started = True
        self._manager.add_listener(self._state_changed)
        self.refresh()

    def refresh(self) -> None:
        """Reads every model's readiness now and publishes what changed."""
        names = self._manager.model_names()
        wanted = {name: SERVING if self._manager.is_ready(name) else NOT_SERVING for name in names}
        wanted.update({name: SERVING for name in TF_SERVING_HEALTH_NAMES})
        wanted[""] = SERVING if self._manager.is_ready() else NOT_SERVING
        with self._lock:
            if self._stopping.is_set():
                return
            for name in set(self._statuses) - set(wanted):
                wanted[name] = SERVICE_UNKNOWN
            for name, status in wanted.items():
                if self._statuses.get(name) != status:
                    self._statuses[name] = status
                    self._on_loop(self.servicer.set(name, status))
                    if name not in TF_SERVING_HEALTH_NAMES:
                        logger.info("event=health_changed service=%r status=%s", name,
                                health_pb2.HealthCheckResponse.ServingStatus.Name(status))

    def shutdown(self) -> None:
        """Turns every entry NOT_SERVING for good and stops following the manager."""
        with self._lock:
            self._stopping.set()
            self._on_loop(self.servicer.enter_graceful_shutdown())

    def _state_changed(self, event) -> None:
        self.refresh()
