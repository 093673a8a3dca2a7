"""The HTTP/1.1 transport of the REST API: the standard library's ThreadingHTTPServer, keep-alive.

Why the standard library: the REST API is JSON over plain HTTP/1.1; http.server does that with
no dependency, and the model work runs on the dispatcher's bounded worker pool, not on these
connection threads. Each connection has a thread, which waits at most `idle_timeout_seconds` for
the next request (or for the rest of a slow body) before the connection is closed.

Graceful stop: `begin_stop` stops accepting, closes idle keep-alive connections and makes busy
ones close after their response; `wait_stopped` waits for the busy ones up to a grace period,
then closes whatever is left.
"""

from __future__ import annotations

import http.server
import logging
import socket
import ssl
import threading
import time

from serving.transports.rest import request_body
from serving.transports.rest.messages import RestRequest, RestResponse, plain_error

logger = logging.getLogger("serving.rest")

SERVER_NAME = "tfzoo"


class _ThreadingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # RestHttpServer.wait_stopped does the waiting, with a deadline
    request_queue_size = 128  # listen backlog; socketserver's 5 refuses bursts of clients
    ssl_context: ssl.SSLContext | None = None

    def get_request(self):
        connection, address = super().get_request()
        if self.ssl_context is not None:
            # The TLS handshake happens in the connection's thread (_RequestHandler.setup), so a
            # slow or silent client cannot stall the accept loop.
            connection = self.ssl_context.wrap_socket(connection, server_side=True,
                                                      do_handshake_on_connect=False)
        return connection, address


class RestHttpServer:
    """Serves `dispatcher.dispatch` over HTTP/1.1 on (host, port); port 0 picks a free one."""

    def __init__(self, dispatcher, host: str, port: int, *, max_body_bytes: int,
                 idle_timeout_seconds: float = 30.0, ssl_context: ssl.SSLContext | None = None):
        if max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be positive. Received: max_body_bytes={max_body_bytes}")
        if idle_timeout_seconds <= 0:
            raise ValueError("idle_timeout_seconds must be positive. "
                             f"Received: idle_timeout_seconds={idle_timeout_seconds}")
        self.dispatcher = dispatcher
        self.host = host
        self.port = port
        self.max_body_bytes = max_body_bytes
        self.idle_timeout_seconds = idle_timeout_seconds
        self.ssl_context = ssl_context
        self._httpd: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Condition()
        self._connections: dict[socket.socket, bool] = {}  # socket -> busy with a request
        self.draining = False

    def bind(self) -> int:
        """Binds the listening socket and returns its port. Raises OSError if it cannot."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_class = type("_BoundServer", (_ThreadingServer,),
                            {"address_family": family, "ssl_context": self.ssl_context})
        self._httpd = server_class((self.host.strip("[]"), self.port), _make_handler(self))
        self.port = self._httpd.server_address[1]
        return self.port

    def start(self) -> None:
        if self._httpd is None:
            raise RuntimeError("RestHttpServer.bind() must be called before start()")
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="rest-accept", daemon=True)
        self._thread.start()

    def begin_stop(self) -> None:
        """Stops accepting connections and ends idle keep-alive ones; busy ones finish."""
        with self._lock:
            if self.draining:
                return
            self.draining = True
            idle = [connection for connection, busy in self._connections.items() if not busy]
        if self._thread is not None:
            self._httpd.shutdown()
        if self._httpd is not None:
            self._httpd.server_close()
        for connection in idle:
            _shutdown_quietly(connection, socket.SHUT_RD)

    def wait_stopped(self, grace_seconds: float | None) -> None:
        """Waits up to `grace_seconds` (None: no limit) for requests in flight, then closes every
        connection still open."""
        self.begin_stop()
        deadline = None if grace_seconds is None else time.monotonic() + grace_seconds
        with self._lock:
            while any(self._connections.values()):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._lock.wait(remaining)
            left = list(self._connections)
        for connection in left:
            _shutdown_quietly(connection, socket.SHUT_RDWR)

    # --- called from connection threads ---

    def _opened(self, connection: socket.socket) -> bool:
        with self._lock:
            if self.draining:
                return False
            self._connections[connection] = False
            return True

    def _set_busy(self, connection: socket.socket, busy: bool) -> None:
        with self._lock:
            if connection in self._connections:
                self._connections[connection] = busy
                self._lock.notify_all()

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.pop(connection, None)
            self._lock.notify_all()


def _make_handler(owner: RestHttpServer):
    class Handler(_RequestHandler):
        server_owner = owner
        timeout = owner.idle_timeout_seconds

    return Handler


class _RequestHandler(http.server.BaseHTTPRequestHandler):
    """One connection: reads requests, hands each to the dispatcher, writes the answers."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY the body waits for the
    # client's delayed ACK (~40 ms) on every kept-alive request.
    disable_nagle_algorithm = True
    server_version = SERVER_NAME
    sys_version = ""
    server_owner: RestHttpServer

    def setup(self) -> None:
        super().setup()
        self._registered = self.server_owner._opened(self.connection)
        if self._registered and isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError) as error:
                logger.warning("event=rest_tls_handshake_failed client=%s error=%r",
                               self.client_address[0], error)
                self._registered = False

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server_owner._closed(self.connection)

    def handle(self) -> None:
        if not self._registered:
            return  # accepted while stopping: close without reading
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection and not self.server_owner.draining:
            self.handle_one_request()

    def parse_request(self) -> bool:
        # The request line has arrived: from here until the answer the connection is busy.
        self.server_owner._set_busy(self.connection, True)
        return super().parse_request()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, OSError) as error:
            logger.debug("event=rest_connection_error error=%r", error)
            self.close_connection = True
        finally:
            self.server_owner._set_busy(self.connection, False)

    def handle_expect_100(self) -> bool:
        """Refuses an oversized body before the client sends it."""
        try:
            request_body.declared_length(self.headers, self.server_owner.max_body_bytes)
        except request_body.BodyError as error:
            self._answer(plain_error(error.status, error.message), close=True)
            return False
        return super().handle_expect_100()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def _serve(self) -> None:
        try:
            body = request_body.read_body(self.rfile, self.headers, self.server_owner.max_body_bytes)
        except request_body.BodyError as error:
            self._answer(plain_error(error.status, error.message), close=error.close_connection)
            return
        path = self.path.split("?", 1)[0]
        request = RestRequest(method=self.command, path=path, headers=self.headers, body=body)
        self._answer(self.server_owner.dispatcher.dispatch(request),
                     close=self.server_owner.draining)

    def _answer(self, response: RestResponse, close: bool) -> None:
        if close:
            self.close_connection = True
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors found by http.server (bad request line, unknown method...) as JSON."""
        text = message or self.responses.get(code, ("Error",))[0]
        self._answer(plain_error(code, f"{text}{f': {explain}' if explain else ''}"), close=True)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:
        logger.debug("event=rest_access %s", format % args)


def _shutdown_quietly(connection: socket.socket, how: int) -> None:
    try:
        connection.shutdown(how)
    except OSError:
        pass  # already closed by the peer or by its thread
