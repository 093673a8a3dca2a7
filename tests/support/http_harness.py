"""Plain HTTP(S) calls to a test server's REST port, one fresh connection per call.
"""

from __future__ import annotations

import dataclasses
import http.client
import json

HTTP_TIMEOUT_SECONDS = 30.0


@dataclasses.dataclass
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def error(self) -> str:
        """The message of a REST error answer (`{"error": ...}`)."""
        return self.json()["error"]


def http_call(port: int, method: str, path: str, body=None, *, headers: dict | None = None,
              ssl_context=None, timeout: float = HTTP_TIMEOUT_SECONDS) -> HttpReply:
    """One HTTP(S) request to 127.0.0.1:`port`; `body` may be bytes or a JSON-able value."""
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
    if ssl_context is None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    else:
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=ssl_context)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return HttpReply(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()
