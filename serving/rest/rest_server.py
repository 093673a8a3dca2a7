"""RestServer: the REST port of a ModelServer, built from tensorflow_model_server's options.

It serves TF Serving's /v1 API, the Open Inference Protocol's /v2 API and, when
--monitoring_config_file enables it, the Prometheus page, all over one HTTP/1.1 listener bound
like the gRPC port (--grpc_bind_address, --rest_api_port). The ModelServer binds it with the
gRPC ports (so a taken port fails before models load), starts it once the models are loaded, and
stops it gracefully with the gRPC server.
"""

from __future__ import annotations

import logging
import re

from serving.options import ServerOptions
from serving.rest.http_server import RestHttpServer
from serving.rest.messages import RestRequest, RestResponse
from serving.rest.oip_api import oip_routes
from serving.rest.routing import RestDispatcher, Route
from serving.rest.tfs_api import tfs_routes

logger = logging.getLogger("serving.rest")


def rest_server_from_options(options: ServerOptions, manager, security=None
                             ) -> "RestServer | None":
    """The REST server --rest_api_port asks for (None when it is 0), with the Prometheus page if
    --monitoring_config_file enables it.

    Raises:
        errors.InvalidArgument: the monitoring config file is unreadable or invalid (checked even
            without a REST port, so a broken file is never silently ignored).
    """
    metrics_path = None
    if options.monitoring_config_file:
        from serving.metrics.monitoring_config import load_monitoring_config, prometheus_path

        metrics_path = prometheus_path(load_monitoring_config(options.monitoring_config_file))
        if metrics_path and not options.rest_api_port:
            logger.warning("event=metrics_not_served reason=%r",
                           "Prometheus metrics are served on the REST port; give --rest_api_port")
    if not options.rest_api_port:
        return None
    return RestServer(manager, options, metrics_path=metrics_path, security=security)


class RestServer:
    """The REST listener of one ModelServer, answering from `manager`.

    `metrics_path` serves the Prometheus page at that exact path (None: no page). `security`
    (a serving.security.ServerSecurity) adds TLS to the listener and the bearer-token check to
    every route but the health endpoints; `dispatcher.add_request_check` adds further checks.
    """

    def __init__(self, manager, options: ServerOptions, metrics_path: str | None = None,
                 security=None):
        routes = []
        if metrics_path:
            routes.append(_metrics_route(manager, metrics_path))
        routes += tfs_routes(manager, check_method_name=options.enable_signature_method_name_check)
        routes += oip_routes(manager)
        self.dispatcher = RestDispatcher(
            routes,
            num_threads=options.rest_threads,
            timeout_seconds=options.rest_timeout_seconds,
            cors=options.rest_api_enable_cors_support,
        )
        if security is not None and security.token is not None:
            token = security.token
            self.dispatcher.add_request_check(
                lambda request: token.check(request.headers.get("Authorization")))
        self._http = RestHttpServer(
            self.dispatcher, options.grpc_bind_address, options.rest_api_port,
            max_body_bytes=options.rest_api_max_request_bytes,
            ssl_context=security.tls.ssl_context() if security is not None and security.tls else None)

    @property
    def scheme(self) -> str:
        return "https" if self._http.ssl_context is not None else "http"

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def address(self) -> str:
        """`http://host:port` (https with TLS), for logs."""
        host = self._http.host
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return f"{self.scheme}://{host}:{self.port}"

    def bind(self) -> int:
        """Binds the REST port; returns it.

        Raises:
            serving.server.ServerStartError: the port is taken or the address is not local.
        """
        try:
            return self._http.bind()
        except OSError as error:
            from serving.server import ServerStartError

            raise ServerStartError(
                f"cannot listen on {self._http.host}:{self._http.port} for REST "
                f"({error.strerror or error}); the port may be in use or the address not local: "
                "change --rest_api_port/--grpc_bind_address") from None

    def start(self) -> None:
        self._http.start()

    def begin_stop(self) -> None:
        """Stops accepting requests; those in flight go on."""
        self._http.begin_stop()

    def wait_stopped(self, grace_seconds: float | None) -> None:
        """Waits up to `grace_seconds` for requests in flight, then closes every connection."""
        self._http.wait_stopped(grace_seconds)
        self.dispatcher.close()


def _metrics_route(manager, path: str) -> Route:
    from serving.metrics.page import CONTENT_TYPE, metrics_page

    def metrics(request: RestRequest, params: dict) -> RestResponse:
        return RestResponse(body=metrics_page(manager), content_type=CONTENT_TYPE)

    return Route("GET", re.compile(re.escape(path)), metrics, model_call=False)
