"""What a benchmark run does: the settings of `zoo bench`, validated in one place."""

from __future__ import annotations

import dataclasses

from tfzoo_client.contract import DEFAULT_SIGNATURE


@dataclasses.dataclass(frozen=True)
class BenchOptions:
    """One benchmark: `model` on `server`, at each concurrency in turn.

    At a concurrency of C, C requests are in flight at all times (each caller sends its next
    request as soon as the previous one answers), split over `processes` worker processes. The
    first `warmup` seconds are not measured; then requests are counted for `duration` seconds.
    """

    server: str
    model: str
    concurrency: tuple[int, ...] = (1,)
    duration: float = 5.0            # measured seconds per concurrency level
    warmup: float = 1.0              # unmeasured seconds before each level's measurement
    batch: int = 1                   # examples per request
    protocol: str = "tfs-grpc"
    processes: int = 1               # worker processes per level (never more than its concurrency)
    timeout: float = 10.0            # deadline of each request, in seconds
    version: int | None = None
    label: str | None = None
    signature: str = DEFAULT_SIGNATURE
    token: str | None = None
    root_certificates: bytes | None = None   # PEM; with `tls`, None means the system's roots
    tls: bool = False
    seed: int = 0                    # for the random inputs

    def __post_init__(self) -> None:
        if not self.concurrency or any(not isinstance(c, int) or c < 1 for c in self.concurrency):
            raise ValueError(
                f"concurrency must be one or more positive integers. Received: concurrency={self.concurrency!r}"
            )
        for name in ("duration", "timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds. Received: {name}={getattr(self, name)}")
        if self.warmup < 0:
            raise ValueError(f"warmup must be >= 0 seconds. Received: warmup={self.warmup}")
        for name in ("batch", "processes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={getattr(self, name)}")
        if self.version is not None and self.label is not None:
            raise ValueError(f"pass a version or a label, not both. Received: version={self.version}, label={self.label!r}")
        if self.root_certificates is not None and not self.tls:
            raise ValueError("root_certificates only apply with tls=True")
