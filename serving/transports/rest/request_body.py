"""A request body, size-limited and decompressed (gzip/deflate), off an HTTP server's stream.

The HTTP server (aiohttp) parses the framing (Content-Length or chunked); this module applies
the REST API's rules to what it yields. The limit applies twice: to the bytes on the wire, and
to the body after decompression, so a small gzip bomb cannot expand into gigabytes.
Decompression streams with `max_length`, never holding more than the limit.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Awaitable, Callable, Mapping

# zlib's wbits for each Content-Encoding: gzip framing, zlib framing ("deflate" in HTTP).
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class BodyError(Exception):
    """A body that cannot be read; `status` is the HTTP status to answer with.

    `close_connection` is set when the body was not read to its end, so the connection cannot
    carry another request: it closes after the answer.
    """

    def __init__(self, status: int, message: str, close_connection: bool = False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.close_connection = close_connection


def declared_length(headers: Mapping[str, str], max_bytes: int) -> int | None:
    """The Content-Length, checked against the limit; None for a chunked or absent body."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return None
    text = headers.get("Content-Length")
    if text is None:
        return None
    try:
        length = int(text)
    except ValueError:
        length = -1
    if length < 0:
        raise BodyError(400, f"Content-Length {text!r} is not a byte count", close_connection=True)
    if length > max_bytes:
        raise BodyError(413, _too_large(f"{length} bytes", max_bytes), close_connection=True)
    return length


async def read_body(read_chunk: Callable[[], Awaitable[bytes]], headers: Mapping[str, str],
                    max_bytes: int, idle_timeout_seconds: float) -> bytes:
    """The request body as sent (still encoded), at most `max_bytes`.

    `read_chunk` returns the next piece of the body, b"" at its end. A client that sends nothing
    for `idle_timeout_seconds` is refused (408), so a stalled body cannot hold the connection.

    Raises BodyError: 413 over the limit (declared or sent), 400 for a malformed length, 408.
    """
    declared_length(headers, max_bytes)
    parts, total = [], 0
    while True:
        try:
            async with asyncio.timeout(idle_timeout_seconds):
                chunk = await read_chunk()
        except TimeoutError:
            raise BodyError(408, f"The body did not arrive: nothing was received for "
                                 f"{idle_timeout_seconds:g} s", close_connection=True) from None
        if not chunk:
            return b"".join(parts)
        total += len(chunk)
        if total > max_bytes:
            raise BodyError(413, _too_large(f"more than {max_bytes} bytes", max_bytes),
                            close_connection=True)
        parts.append(chunk)


def decode_content(body: bytes, content_encoding: str, max_bytes: int) -> bytes:
    """Undoes `Content-Encoding` (identity, gzip, x-gzip, deflate), refusing output over the limit."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in _DECODERS:
        raise BodyError(415, f"Content-Encoding {content_encoding!r} is not supported; send "
                             f"identity, {', '.join(_DECODERS)}")
    decompressor = zlib.decompressobj(_DECODERS[encoding])
    try:
        decoded = decompressor.decompress(body, max_bytes + 1)
    except zlib.error as error:
        raise BodyError(400, f"The {encoding} body cannot be decompressed: {error}") from None
    if len(decoded) > max_bytes or decompressor.unconsumed_tail:
        raise BodyError(413, _too_large(f"more than {max_bytes} bytes after {encoding} "
                                        "decompression", max_bytes))
    if not decompressor.eof:
        raise BodyError(400, f"The {encoding} body is truncated")
    return decoded


def _too_large(received: str, max_bytes: int) -> str:
    return (f"The request body ({received}) exceeds the limit of {max_bytes} bytes "
            "(--rest_api_max_request_bytes)")
