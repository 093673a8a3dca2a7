"""Reading a request body off the socket: Content-Length or chunked, size-limited, gzip/deflate.

The limit applies twice: to the bytes on the wire, and to the body after decompression, so a
small gzip bomb cannot expand into gigabytes. Decompression streams with `max_length`, never
holding more than the limit.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO, Mapping

# zlib's wbits for each Content-Encoding: gzip framing, zlib framing ("deflate" in HTTP).
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_MAX_CHUNK_LINE = 1024
# An oversized body up to this size is read and dropped before the 413 goes out: most clients
# send the whole body before reading the answer, and would otherwise see a broken pipe.
MAX_DISCARDED_BYTES = 64 * 1024 * 1024
_DISCARD_CHUNK = 1024 * 1024


class BodyError(Exception):
    """A body that cannot be read; `status` is the HTTP status to answer with.

    `close_connection` is set when unread body bytes are left on the socket, so the connection
    cannot carry another request.
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


def read_body(stream: BinaryIO, headers: Mapping[str, str], max_bytes: int) -> bytes:
    """The request body, decompressed per Content-Encoding, at most `max_bytes` either way.

    Raises BodyError: 400 for a malformed length or chunk, 413 over the limit, 415 for an unknown
    Content-Encoding.
    """
    try:
        length = declared_length(headers, max_bytes)
    except BodyError as error:
        if error.status == 413:
            _discard(stream, int(headers.get("Content-Length")))
        raise
    if length is not None:
        body = stream.read(length)
        if len(body) != length:
            raise BodyError(400, f"The body ended after {len(body)} of {length} bytes",
                            close_connection=True)
    elif "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        body = _read_chunked(stream, max_bytes)
    else:
        body = b""
    return decode_content(body, headers.get("Content-Encoding") or "", max_bytes)


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


def _discard(stream: BinaryIO, length: int) -> None:
    """Reads and drops a refused body that is not too large to bother with."""
    if length > MAX_DISCARDED_BYTES:
        return
    while length > 0:
        chunk = stream.read(min(length, _DISCARD_CHUNK))
        if not chunk:
            return
        length -= len(chunk)


def _read_chunked(stream: BinaryIO, max_bytes: int) -> bytes:
    parts, total = [], 0
    while True:
        line = stream.readline(_MAX_CHUNK_LINE + 1)
        if len(line) > _MAX_CHUNK_LINE or not line.endswith(b"\n"):
            raise BodyError(400, "Malformed chunked body: a chunk size line is missing or too long",
                            close_connection=True)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BodyError(400, f"Malformed chunked body: chunk size {line.strip()!r}",
                            close_connection=True) from None
        if size == 0:
            break
        total += size
        if total > max_bytes:
            raise BodyError(413, _too_large(f"more than {max_bytes} bytes (chunked)", max_bytes),
                            close_connection=True)
        chunk = stream.read(size)
        if len(chunk) != size or stream.read(2) != b"\r\n":
            raise BodyError(400, "Malformed chunked body: a chunk is shorter than its size",
                            close_connection=True)
        parts.append(chunk)
    while True:  # trailer fields, up to the empty line
        line = stream.readline(_MAX_CHUNK_LINE + 1)
        if line in (b"\r\n", b"\n", b""):
            break
    return b"".join(parts)


def _too_large(received: str, max_bytes: int) -> str:
    return (f"The request body ({received}) exceeds the limit of {max_bytes} bytes "
            "(--rest_api_max_request_bytes)")
