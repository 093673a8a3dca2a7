"""RestServer: the REST port of a ModelServer.

It serves TF Serving's /v1 API, the Open Inference Protocol's /v2 API and, when
--monitoring_config_file enables it, the Prometheus page, all over one HTTP/1.1 listener bound
like the gRPC port (--grpc_bind_address, --rest_api_port), every route under the server's guard.
The ModelServer binds it with the gRPC ports (so a taken port fails before models load), starts
it once the models are loaded, and stops it gracefully with the gRPC server.
"""

from __future__ import annotations

import re

from serving.apis import endpoints
from serving.apis.guard import Guard
from serving.apis.tfs.settings import TfsSettings
from serving.errors import ServerStartError
from serving.options import ServerOptions
from serving.transports.rest.dispatcher import RestDispatcher, Route
from serving.transports.rest.http_server import RestHttpServer
from serving.transports.rest.messages import RestRequest, RestResponse
from serving.transports.rest.api_doc_routes import api_doc_routes
from serving.transports.rest.oip_routes import oip_routes
from serving.transports.rest.openapi_operation import SERVER_TAG, TEXT, OperationDoc
from serving.transports.rest.tfs_routes import tfs_routes
from serving.transports.ports import check_port_free


class RestServer:
    """The REST listener of one ModelServer, answering from `manager` under `guard`.

    `threads` (None: options.rest_threads) run the model calls. `metrics_page` (a callable
    returning the Prometheus text, None: no page) is served at `metrics_path`. `ssl_context`
    (None: plain HTTP) serves TLS.
    """

    def __init__(self, manager, guard: Guard, options: ServerOptions, settings: TfsSettings, *,
                 threads: int | None = None, metrics_path: str | None = None, metrics_page=None,
                 ssl_context=None):
        routes = []
        if metrics_path:
            routes.append(_metrics_route(metrics_path, metrics_page))
        routes += tfs_routes(manager, settings)
        routes += oip_routes(manager, settings.request_logger)
        routes += api_doc_routes(routes, manager, requires_token=guard.requires_token,
                                 docs_page=options.rest_api_docs)
        self.dispatcher = RestDispatcher(
            routes, guard,
            num_threads=threads or options.rest_threads,
            timeout_seconds=options.rest_timeout_seconds,
            cors=options.rest_api_enable_cors_support,
        )
        self._http = RestHttpServer(
            self.dispatcher, options.grpc_bind_address, options.rest_api_port,
            max_body_bytes=options.rest_api_max_request_bytes, ssl_context=ssl_context)

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

    def check_port(self) -> None:
        """Raises ServerStartError now if the REST port cannot be listened on (see ports.py)."""
        check_port_free(self._http.host, self._http.port, "--rest_api_port/--grpc_bind_address",
                        what="REST")

    def bind(self) -> int:
        """Binds the REST port; returns it.

        Raises:
            ServerStartError: the port is taken or the address is not local.
        """
        try:
            return self._http.bind()
        except OSError as error:
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


def _metrics_route(path: str, metrics_page) -> Route:
    from serving.metrics.page import CONTENT_TYPE

    def metrics(request: RestRequest, params: dict, call) -> RestResponse:
        return RestResponse(body=metrics_page(), content_type=CONTENT_TYPE)

    return Route("GET", re.compile(re.escape(path)), metrics, endpoints.METRICS_PAGE,
                 model_call=False, doc=OperationDoc("metrics", "Prometheus metrics", SERVER_TAG,
                                                    (path,), response_media=TEXT))
