"""The registry of wire protocols `zoo bench` can load a server with (`--protocol NAME`).

A protocol works in two places. In the parent process, `prepare` reads what it needs from the
server (the model's metadata) and builds every request ahead of time, so the measurement does not
include building them; what it returns must pickle. In each worker process, `open_sender` turns
that plan into a connection that sends one request per call. Worker-side code must import only
light modules (grpc, not TensorFlow), or every worker process pays seconds and hundreds of MB
before its first request.
"""

from __future__ import annotations

import abc
from typing import Any

from zoo.bench.options import BenchOptions
from zoo.errors import UnknownNameError


class RequestFailed(Exception):
    """A request the server answered with an error (or that timed out); `code` is the status
    name (e.g. "UNAVAILABLE") that error counts are grouped by."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Sender(abc.ABC):
    """One worker's connection: `send` makes one request and returns when it is answered."""

    @abc.abstractmethod
    async def send(self, timeout: float) -> None:
        """Raises RequestFailed when the server answers with an error or the deadline passes."""

    @abc.abstractmethod
    async def close(self) -> None: ...


class LoadProtocol(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    def prepare(self, options: BenchOptions) -> Any:
        """Runs once in the parent; returns the picklable plan the workers send from."""

    @classmethod
    @abc.abstractmethod
    async def open_sender(cls, plan: Any, connect_timeout: float) -> Sender:
        """Runs in a worker process: connects (within `connect_timeout` seconds, else raises
        RequestFailed) and returns the Sender."""


PROTOCOLS: dict[str, type[LoadProtocol]] = {}


def register_protocol(cls: type[LoadProtocol]) -> type[LoadProtocol]:
    """Class decorator: makes `cls` available as `--protocol cls.name`."""
    if not cls.name:
        raise ValueError(f"{cls.__name__}.name must be set to register it as a protocol")
    if cls.name in PROTOCOLS and PROTOCOLS[cls.name] is not cls:
        raise ValueError(f"protocol {cls.name!r} is already registered by {PROTOCOLS[cls.name].__name__}")
    PROTOCOLS[cls.name] = cls
    return cls


def get_protocol(name: str) -> type[LoadProtocol]:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown protocol {name!r}; available: {', '.join(sorted(PROTOCOLS))}"
        ) from None
