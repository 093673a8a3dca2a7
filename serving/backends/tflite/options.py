"""How many TF Lite interpreters serve one model version: --num_tflite_pools and friends.

The meanings are TF Serving's (model_servers/main.cc, servables/tensorflow/tflite_session.cc):
a *pool* runs one request at a time, so `num_pools` is how many requests one version runs at
once; the `interpreters_per_pool` interpreters of a pool split a request's batch between them and
run the parts in parallel. Nothing here imports TensorFlow, so flag parsing stays instant.
"""

from __future__ import annotations

import dataclasses
import os

from serving.options import ServerOptions


@dataclasses.dataclass(frozen=True)
class TfliteOptions:
    """Interpreters per loaded TF Lite version: `num_pools` x `interpreters_per_pool`."""

    num_pools: int = 1
    interpreters_per_pool: int = 1

    def __post_init__(self) -> None:
        for name in ("num_pools", "interpreters_per_pool"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")


def options_from_flags(options: ServerOptions) -> TfliteOptions | None:
    """The TF Lite settings of a parsed command line; None without --prefer_tflite_model.

    As in TF Serving, --num_tflite_pools=0 (the default) means one pool per CPU this process may
    run on, and --num_tflite_interpreters_per_pool below 1 means 1.
    """
    if not options.prefer_tflite_model:
        return None
    return TfliteOptions(
        num_pools=options.num_tflite_pools or usable_cpu_count(),
        interpreters_per_pool=max(1, options.num_tflite_interpreters_per_pool),
    )


def usable_cpu_count() -> int:
    """CPUs this process may be scheduled on (its affinity mask), not every CPU of the machine."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
