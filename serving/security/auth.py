"""`--auth_token_file`: an optional shared bearer token every request must carry.

Clients send `authorization: Bearer TOKEN` (gRPC metadata or the HTTP header), which is what
`tfzoo_client.Client(token=...)` does. The guard (serving/apis/guard.py) checks it before any
API runs: requests without it, or with another token, get UNAUTHENTICATED (HTTP 401). Health
checks stay open (the endpoints table marks them public), so load balancers and orchestrators
can probe a server without holding the secret.

The token is a secret: it is compared in constant time, never logged, and its repr is redacted.
"""

from __future__ import annotations

import hmac

from serving import errors

FLAG = "--auth_token_file"
AUTHORIZATION = "authorization"
SCHEME = "Bearer"
MISSING_MESSAGE = (f"Missing bearer token: this server requires `{AUTHORIZATION}: "
                   f"{SCHEME} <token>` with every request")
WRONG_MESSAGE = "Invalid bearer token: the token sent is not the one this server accepts"
# WWW-Authenticate on REST's 401 answers, as RFC 6750 section 3 gives them.
MISSING_CHALLENGE = f'{SCHEME} realm="zoo-serve"'
WRONG_CHALLENGE = f'{SCHEME} realm="zoo-serve", error="invalid_token"'


class BearerToken:
    """The shared secret requests must present, from --auth_token_file.

    Example:
        token = BearerToken.from_file("/etc/tfzoo/token")
        token.check(headers.get("Authorization"))  # raises errors.Unauthenticated if wrong
    """

    def __init__(self, token: str):
        if not isinstance(token, str) or not token:
            raise ValueError("token must be a non-empty string. Received: an empty token")
        if any(char.isspace() or not char.isprintable() for char in token):
            raise ValueError("token must be one word of printable characters (no spaces, tabs or "
                             "line breaks inside). Received: a token with such characters")
        self._expected = f"{SCHEME} {token}".encode("utf-8")

    @classmethod
    def from_file(cls, path: str) -> "BearerToken":
        """Reads the token from `path`; surrounding whitespace (a final newline) is ignored.

        Raises:
            errors.InvalidArgument: the file cannot be read, is empty, or holds more than one
                word. The message names the flag and the file, never the content.
        """
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            raise errors.InvalidArgument(f"{FLAG} {path}: cannot read the token file: "
                                         f"{getattr(error, 'strerror', None) or error}") from None
        if not text:
            raise errors.InvalidArgument(f"{FLAG} {path}: the file is empty; put the token in it "
                                         "(one line)")
        try:
            return cls(text)
        except ValueError:
            raise errors.InvalidArgument(
                f"{FLAG} {path}: the token must be one word of printable characters, with no "
                "spaces or line breaks inside") from None

    def __repr__(self) -> str:
        return "BearerToken(<redacted>)"

    def accepts(self, authorization: str | bytes | None) -> bool:
        """Whether an `authorization` value is `Bearer <the token>` (compared in constant time)."""
        if authorization is None:
            return False
        if isinstance(authorization, str):
            authorization = authorization.strip().encode("utf-8", errors="replace")
        return hmac.compare_digest(authorization, self._expected)

    def check(self, authorization: str | bytes | None) -> None:
        """Raises errors.Unauthenticated unless `authorization` carries the token."""
        if not self.accepts(authorization):
            if not authorization:
                raise errors.Unauthenticated(MISSING_MESSAGE, challenge=MISSING_CHALLENGE)
            raise errors.Unauthenticated(WRONG_MESSAGE, challenge=WRONG_CHALLENGE)
