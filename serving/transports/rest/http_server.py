"""The HTTP/1.1 transport of the REST API: aiohttp's low-level server on its own event loop.

Why aiohttp: a well-kept production HTTP server (C parser, keep-alive and pipelining, TLS and
mutual TLS from an SSLContext, graceful shutdown) that embeds in a process that already runs
other servers: it serves a socket we bind ourselves, on an event loop in one thread of ours.
Measured against uvicorn and granian for this API (issue 21's note), it was as fast, and it
alone takes an SSLContext and a pre-bound socket as they are.

One event loop thread holds every connection, so idle or slow clients cost a little memory, not
a thread each: a client that sends no complete request for `idle_timeout_seconds` is
disconnected (aiohttp's keep-alive timer also covers headers that trickle in), and a body that
stalls as long gets a 408. The loop only parses, routes and writes; the model work runs on the
dispatcher's bounded pool, and gzip/deflate bodies are decompressed on the loop's executor.

Graceful stop: `begin_stop` stops accepting and closes idle keep-alive connections (busy ones
close after their response); `wait_stopped` waits for requests in flight up to a grace period,
then cancels what is left and ends the loop.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading

from aiohttp import web

from serving.transports.event_loops import LoopThread
from serving.transports.rest import request_body
from serving.transports.rest.messages import RestRequest, RestResponse, plain_error

logger = logging.getLogger("serving.rest")

SERVER_NAME = "tfzoo"
# The methods the REST API has routes or a CORS answer for; others are 501, as before.
KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
_LISTEN_BACKLOG = 1024
# How long aiohttp keeps reading (and dropping) the rest of a refused body before closing, so a
# client that sends its whole body before reading the answer sees the 413, not a reset.
_LINGER_SECONDS = 10.0


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
        self._socket: socket.socket | None = None
        self._loop: LoopThread | None = None
        self._web_server: web.Server | None = None
        self._runner: web.ServerRunner | None = None
        self._site: web.SockSite | None = None
        self._stop_lock = threading.Lock()
        self._accepting = False

    @property
    def requests_received(self) -> int:
        """How many requests have arrived since start, answered or not."""
        return self._web_server.requests_count if self._web_server is not None else 0

    def bind(self) -> int:
        """Binds the listening socket and returns its port. Raises OSError if it cannot."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._socket = socket.create_server((self.host.strip("[]"), self.port), family=family,
                                            backlog=_LISTEN_BACKLOG)
        self.port = self._socket.getsockname()[1]
        return self.port

    def start(self) -> None:
        """Starts serving on the bound socket, in a thread of its own."""
        if self._socket is None:
            raise RuntimeError("RestHttpServer.bind() must be called before start()")
        self._loop = LoopThread("rest-http")
        self._loop.run(self._serve())

    def begin_stop(self) -> None:
        """Stops accepting connections and ends idle keep-alive ones; busy ones finish."""
        with self._stop_lock:
            if not self._accepting:
                if self._socket is not None and self._loop is None:
                    self._socket.close()  # bound, never started
                return
            self._accepting = False
        self._loop.run(self._stop_accepting())

    def wait_stopped(self, grace_seconds: float | None) -> None:
        """Waits up to `grace_seconds` (None: no limit) for requests in flight, then closes every
        connection still open and ends the loop."""
        self.begin_stop()
        if self._loop is None or self._loop.closed:
            return
        self._loop.run(self._shut_down(grace_seconds))
        self._loop.close()

    # --- on the event loop ---

    async def _serve(self) -> None:
        self._web_server = web.Server(
            self._handle, keepalive_timeout=self.idle_timeout_seconds,
            lingering_time=_LINGER_SECONDS, auto_decompress=False, access_log=None,
            logger=_ProtocolErrorLog(logger))
        self._runner = web.ServerRunner(self._web_server, handle_signals=False)
        await self._runner.setup()
        self._site = web.SockSite(self._runner, self._socket, ssl_context=self.ssl_context)
        await self._site.start()
        self._accepting = True

    async def _stop_accepting(self) -> None:
        await self._site.stop()
        self._web_server.pre_shutdown()

    async def _shut_down(self, grace_seconds: float | None) -> None:
        await self._web_server.shutdown(grace_seconds)
        await self._runner.cleanup()
        # aiohttp cancels what outlived the grace period (a request, a lingering read) without
        # waiting: let those tasks finish their cancellation before the loop stops.
        left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method not in KNOWN_METHODS:
            return _http_response(plain_error(501, f"Unsupported method ({request.method!r})"),
                                  close=True)
        try:
            body = await self._read_body(request)
        except request_body.BodyError as error:
            return _http_response(plain_error(error.status, error.message),
                                  close=error.close_connection)
        rest_request = RestRequest(method=request.method, path=request.raw_path.split("?", 1)[0],
                                   headers=request.headers, body=body)
        return _http_response(await self.dispatcher.dispatch(rest_request),
                              close=not self._accepting)

    async def _read_body(self, request: web.BaseRequest) -> bytes:
        headers = request.headers
        if headers.get("Expect", "").lower() == "100-continue":
            request_body.declared_length(headers, self.max_body_bytes)  # refuse before the body
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await request_body.read_body(request.content.readany, headers, self.max_body_bytes,
                                            self.idle_timeout_seconds)
        encoding = headers.get("Content-Encoding", "")
        if encoding and encoding.strip().lower() != "identity":
            body = await asyncio.get_running_loop().run_in_executor(
                None, request_body.decode_content, body, encoding, self.max_body_bytes)
        return body


def _http_response(response: RestResponse, close: bool) -> web.Response:
    http_response = web.Response(status=response.status, body=response.body,
                                 headers=_headers(response))
    if close:
        http_response.force_close()
    return http_response


def _headers(response: RestResponse) -> dict[str, str]:
    headers = {"Content-Type": response.content_type, "Server": SERVER_NAME}
    headers.update(response.headers)
    return headers


class _ProtocolErrorLog(logging.LoggerAdapter):
    """aiohttp's connection log: what it reports as exceptions there are malformed requests and
    dropped connections (its 400 answers), a client's doing, logged at debug so a scanner cannot
    fill the log. Errors in our own handler never reach it: the dispatcher answers them."""

    def exception(self, msg, *args, **kwargs) -> None:
        kwargs.pop("exc_info", None)
        self.debug(msg, *args, **kwargs)

    def error(self, msg, *args, **kwargs) -> None:
        self.debug(msg, *args, **kwargs)
