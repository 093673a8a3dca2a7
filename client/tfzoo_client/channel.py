"""How a client connects: target, TLS, bearer token, channel options and the retry policy.

Shared by the blocking and the asyncio client, so both open the same kind of channel and retry
the same way.
"""

from __future__ import annotations

import dataclasses
import os
import random
from typing import Iterator, Sequence

import grpc

# Big enough for a batch of large images; TF Serving's own server accepts up to INT32_MAX.
DEFAULT_MAX_MESSAGE_BYTES = 512 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class TlsConfig:
    """TLS settings. With no root certificates the system's are used; a client certificate and
    key (both or neither) turn on mutual TLS; `server_name_override` checks the server's
    certificate against that name instead of the target's host (for self-signed test certs)."""

    root_certificates: bytes | None = None
    certificate_chain: bytes | None = None
    private_key: bytes | None = None
    server_name_override: str | None = None

    def __post_init__(self) -> None:
        if (self.certificate_chain is None) != (self.private_key is None):
            raise ValueError(
                "certificate_chain and private_key go together (mutual TLS needs both). "
                f"Received: certificate_chain={'set' if self.certificate_chain else None}, "
                f"private_key={'set' if self.private_key else None}"
            )

    @classmethod
    def from_files(cls, root_certificates: str | os.PathLike | None = None,
                   certificate_chain: str | os.PathLike | None = None,
                   private_key: str | os.PathLike | None = None,
                   server_name_override: str | None = None) -> "TlsConfig":
        """Reads PEM files; FileNotFoundError names the missing one."""

        def read(path):
            if path is None:
                return None
            with open(path, "rb") as file:
                return file.read()

        return cls(read(root_certificates), read(certificate_chain), read(private_key), server_name_override)

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """Retries of calls that failed with UNAVAILABLE (server down, restarting or overloaded),
    the one status that says the request was not processed. Waits grow from `initial_backoff` by
    `multiplier` up to `max_backoff`, with +-`jitter` so clients do not retry in lockstep; the
    call's deadline bounds the whole sequence."""

    max_attempts: int = 5
    initial_backoff: float = 0.2     # seconds before the first retry
    max_backoff: float = 3.0         # longest wait between two attempts
    multiplier: float = 2.0
    jitter: float = 0.2              # fraction of each wait drawn at random

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1. Received: max_attempts={self.max_attempts}")
        if self.initial_backoff < 0 or self.max_backoff < self.initial_backoff:
            raise ValueError(
                "backoffs must satisfy 0 <= initial_backoff <= max_backoff. Received: "
                f"initial_backoff={self.initial_backoff}, max_backoff={self.max_backoff}"
            )
        if self.multiplier < 1:
            raise ValueError(f"multiplier must be >= 1. Received: multiplier={self.multiplier}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1). Received: jitter={self.jitter}")

    def backoffs(self) -> Iterator[float]:
        """The waits before attempts 2..max_attempts."""
        wait = self.initial_backoff
        for _ in range(self.max_attempts - 1):
            yield wait * (1 + random.uniform(-self.jitter, self.jitter))
            wait = min(wait * self.multiplier, self.max_backoff)


NO_RETRY = RetryPolicy(max_attempts=1)


def check_target(target: str) -> str:
    """`target` if it looks like something gRPC can dial: HOST:PORT, [IPv6]:PORT, unix:PATH or a
    gRPC URI (dns:///host:port); ValueError otherwise, before any connection attempt."""
    if not isinstance(target, str) or not target.strip():
        raise ValueError(f"target must be 'HOST:PORT' (or unix:PATH). Received: target={target!r}")
    if target.startswith(("unix:", "unix-abstract:", "dns:", "ipv4:", "ipv6:")):
        return target
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"target must be 'HOST:PORT' with a port in 1-65535 (or unix:PATH). Received: target={target!r}"
        )
    return target


def channel_options(max_message_bytes: int, retry: RetryPolicy, tls: TlsConfig | None,
                    extra: Sequence[tuple[str, object]] = ()) -> list[tuple[str, object]]:
    """Message-size limits both ways, and reconnect backoffs no longer than the retry policy's,
    so a channel that failed to connect tries again by the time the next attempt starts (gRPC's
    own default waits 1 s, then up to 120 s)."""
    if max_message_bytes < 1:
        raise ValueError(f"max_message_bytes must be positive. Received: max_message_bytes={max_message_bytes}")
    reconnect_ms = max(1, int(retry.initial_backoff * 1000))
    options: list[tuple[str, object]] = [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.initial_reconnect_backoff_ms", reconnect_ms),
        ("grpc.min_reconnect_backoff_ms", reconnect_ms),
        ("grpc.max_reconnect_backoff_ms", max(reconnect_ms, int(retry.max_backoff * 1000))),
        # gRPC's built-in retries would hide attempts from our policy and double them up.
        ("grpc.enable_retries", 0),
    ]
    if tls is not None and tls.server_name_override:
        options.append(("grpc.ssl_target_name_override", tls.server_name_override))
    options.extend(extra)
    return options


def resolve_tls(tls: bool | TlsConfig | None) -> TlsConfig | None:
    """`True` means TLS with the system's root certificates; None/False a plaintext channel."""
    if tls is None or tls is False:
        return None
    if tls is True:
        return TlsConfig()
    if isinstance(tls, TlsConfig):
        return tls
    raise TypeError(f"tls must be None, a bool or a TlsConfig. Received: tls={tls!r}")


def call_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """Per-call metadata: the bearer token, sent as `authorization: Bearer TOKEN`."""
    if token is None:
        return ()
    if not isinstance(token, str) or not token or any(c in token for c in "\r\n"):
        raise ValueError("token must be a non-empty string on one line. Received: an invalid token")
    return (("authorization", f"Bearer {token}"),)


def check_timeout(timeout: float) -> float:
    if timeout is None or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds. Received: timeout={timeout}")
    return float(timeout)
