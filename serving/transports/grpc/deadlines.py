"""A call's deadline in the batcher's terms: time.monotonic() seconds, or None for no deadline.

gRPC tells a servicer how long its client still waits (`context.time_remaining()`, None without
a deadline); Servable.run and DynamicBatcher.run take the moment the caller stops waiting, so
work nobody waits for any more is skipped rather than run.
"""

from __future__ import annotations

import time


def grpc_deadline(context) -> float | None:
    """The monotonic time at which the gRPC call of `context` expires (None: it never does)."""
    remaining = context.time_remaining() if context is not None else None
    if remaining is None:
        return None
    return time.monotonic() + remaining
