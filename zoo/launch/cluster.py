"""The cluster a local launch starts: which tasks, on which 127.0.0.1 ports, and each one's TF_CONFIG.

Two shapes, as tf.distribute expects them:
- multi-worker mirrored (`--ps 0`): N `worker` tasks that all train; worker 0 is the chief.
- parameter server (`--ps M`): a `chief` that runs the training program (the coordinator), N
  `worker` tasks and M `ps` tasks that only serve (they run `tf.distribute.Server`).
"""

from __future__ import annotations

import dataclasses
import json
import socket

LOCALHOST = "127.0.0.1"


@dataclasses.dataclass(frozen=True)
class Task:
    """One process of the cluster: its role, index and address."""

    type: str
    index: int
    address: str

    @property
    def name(self) -> str:
        return f"{self.type}-{self.index}"


@dataclasses.dataclass(frozen=True)
class ClusterPlan:
    """Every task of a local cluster; `tf_config(task)` is what that task's process is given."""

    tasks: tuple[Task, ...]

    @property
    def cluster(self) -> dict[str, list[str]]:
        spec: dict[str, list[str]] = {}
        for task in self.tasks:
            spec.setdefault(task.type, []).append(task.address)
        return spec

    @property
    def chief(self) -> Task:
        """The task whose exit code is the launch's: `chief` if there is one, else worker 0."""
        return next((t for t in self.tasks if t.type == "chief"), self.tasks[0])

    @property
    def uses_parameter_servers(self) -> bool:
        return any(task.type == "ps" for task in self.tasks)

    def is_server_only(self, task: Task) -> bool:
        """Tasks that serve variables or steps and never end by themselves (parameter-server mode)."""
        return self.uses_parameter_servers and task.type in ("worker", "ps")

    def tf_config(self, task: Task) -> str:
        return json.dumps({"cluster": self.cluster, "task": {"type": task.type, "index": task.index}})


def plan_cluster(workers: int, ps: int = 0, *, ports: list[int] | None = None) -> ClusterPlan:
    """Lays out `workers` workers (and, with `ps` > 0, a chief and `ps` parameter servers).

    Args:
        workers: number of worker tasks, at least 1.
        ps: number of parameter-server tasks; 0 means multi-worker mirrored training.
        ports: one port per task (chief, workers, ps in that order); default: free ports now.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer. Received: workers={workers!r}")
    if isinstance(ps, bool) or not isinstance(ps, int) or ps < 0:
        raise ValueError(f"ps must be a non-negative integer. Received: ps={ps!r}")
    roles = ([("chief", 0)] if ps else []) + [("worker", i) for i in range(workers)] + [("ps", i) for i in range(ps)]
    if ports is None:
        ports = free_ports(len(roles))
    if len(ports) != len(roles):
        raise ValueError(f"ports must name one port per task ({len(roles)}). Received: ports={ports}")
    return ClusterPlan(tuple(Task(kind, index, f"{LOCALHOST}:{port}") for (kind, index), port in zip(roles, ports)))


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports nothing listens on right now (held open together so they differ).

    Another process may take one before the task binds it; the launcher then reports that task's
    failure, and a new launch picks new ports.
    """
    probes = []
    try:
        for _ in range(count):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probe.bind((LOCALHOST, 0))
            probes.append(probe)
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()
