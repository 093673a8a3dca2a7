"""The REST layer's request and response values, independent of the HTTP server that carries them.

Route handlers take a `RestRequest` and return a `RestResponse`; they raise `serving.errors`
exceptions for failures, which the dispatcher turns into `{"error": "..."}` with the HTTP status
serving/errors.py assigns.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

from serving import errors
from serving.transports.rest.json_io import dump_json, error_body

JSON_CONTENT_TYPE = "application/json"


@dataclasses.dataclass(frozen=True)
class RestRequest:
    """One HTTP request: `path` without the query string, `body` already decompressed.

    `headers` is case-insensitive for `get` (the HTTP server's multidict).
    """

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""


@dataclasses.dataclass(frozen=True)
class RestResponse:
    """What a handler answers."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON_CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()


def json_response(document, status: int = 200) -> RestResponse:
    return RestResponse(status=status, body=dump_json(document))


def error_response(error: errors.ServingError) -> RestResponse:
    return RestResponse(status=error.http_status, body=error_body(error.full_message),
                        headers=error.http_headers)


def plain_error(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> RestResponse:
    """An error with an HTTP status that has no gRPC counterpart (404 path, 405, 413, 415)."""
    return RestResponse(status=status, body=error_body(message), headers=headers)
