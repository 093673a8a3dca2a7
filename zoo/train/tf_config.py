"""TF_CONFIG as cluster managers write it, and the role it gives this task.

Kubeflow's TFJob operator, `zoo launch` and hand-written Kubernetes Jobs all describe a cluster as
`{"cluster": {TYPE: [ADDRESS, ...]}, "task": {"type": TYPE, "index": I}}`; the operator adds
`"environment": "cloud"`, a TensorFlow 1.x Estimator setting that no TF 2 code reads, so it is
accepted and ignored. Two of the operator's forms are not what tf.distribute takes as they are:
- a TFJob `Master` replica is listed as "master", an older name for "chief" that tf.distribute
  refuses ("Disallowed task type found in cluster spec"): `use_chief_name` renames it in the
  environment before any strategy reads TF_CONFIG;
- an `Evaluator` replica is listed in the cluster but trains with no one (tf.distribute leaves it
  out of the workers' collectives); `zoo train` evaluates on the chief when training ends, so the
  evaluator has nothing to do.

Who writes: with a chief (or master) in the cluster, the chief; otherwise worker 0. Every other
task (the other workers, the parameter servers, the evaluator) writes no checkpoint and no export.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from typing import Mapping, MutableMapping

from zoo.errors import ConfigError

log = logging.getLogger(__name__)

# The task types that train (and so take part in the collectives of multi-worker training).
TRAINER_TYPES = ("chief", "worker")
EVALUATOR = "evaluator"
# TFJob's `Master` replica type, which tf.distribute knows as "chief".
MASTER = "master"


@dataclasses.dataclass(frozen=True)
class ClusterRole:
    """The cluster TF_CONFIG describes (task type -> addresses) and this task's place in it."""

    cluster: Mapping[str, tuple[str, ...]]
    task_type: str | None
    task_index: int

    @property
    def is_chief(self) -> bool:
        """The one task that writes checkpoints, logs, metrics and the export."""
        if self.task_type is None:
            return True
        if "chief" in self.cluster:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_index == 0

    @property
    def is_evaluator(self) -> bool:
        return self.task_type == EVALUATOR

    @property
    def distributed_strategy(self) -> str | None:
        """The strategy `--strategy auto` takes for this cluster: parameter_server when it has ps
        tasks, multi_worker when more than one task trains, None for a one-task cluster."""
        if self.cluster.get("ps"):
            return "parameter_server"
        if sum(len(self.cluster.get(kind, ())) for kind in TRAINER_TYPES) > 1:
            return "multi_worker"
        return None


def cluster_role(environ: Mapping[str, str] = os.environ) -> ClusterRole | None:
    """This task's role from TF_CONFIG; None when TF_CONFIG is unset or names no cluster.

    Raises ConfigError for TF_CONFIG that is not JSON or not of the form above.
    """
    config = _parse(environ)
    if config is None:
        return None
    return ClusterRole(
        cluster=_chief_named(config["cluster"]),
        task_type=_chief_named_type(config["task"]["type"]),
        task_index=config["task"]["index"],
    )


def use_chief_name(environ: MutableMapping[str, str] = os.environ) -> None:
    """Rewrites TF_CONFIG's "master" (TFJob's Master replica) as "chief", which tf.distribute
    reads; nothing else in it changes. Call it before a strategy is built."""
    config = _parse(environ)
    if config is None or (MASTER not in config["cluster"] and config["task"]["type"] != MASTER):
        return
    config["cluster"] = {_chief_named_type(kind): tasks for kind, tasks in config["cluster"].items()}
    config["task"]["type"] = _chief_named_type(config["task"]["type"])
    environ["TF_CONFIG"] = json.dumps(config)
    log.info("TF_CONFIG: task type %r read as %r (TFJob's Master replica is tf.distribute's chief)",
             MASTER, "chief")


def _parse(environ: Mapping[str, str]) -> dict | None:
    raw = environ.get("TF_CONFIG", "").strip()
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"TF_CONFIG is not valid JSON: {error}") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    if not cluster:
        return None
    if not isinstance(cluster, dict) or not all(isinstance(tasks, (list, dict)) for tasks in cluster.values()):
        raise ConfigError(f"TF_CONFIG's cluster must map task types to lists of addresses. Received: {cluster}")
    task = config.get("task") or {}
    task_type, index = task.get("type"), task.get("index", 0)
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ConfigError(f"TF_CONFIG's task index must be a non-negative integer. Received: {task}")
    if task_type is not None and _chief_named_type(task_type) not in _chief_named(cluster) \
            and task_type != EVALUATOR:
        raise ConfigError(f"TF_CONFIG's task type {task_type!r} is not in its cluster ({', '.join(cluster)})")
    config["task"] = {**task, "type": task_type, "index": index}
    return config


def _chief_named(cluster: Mapping[str, list | dict]) -> dict[str, tuple[str, ...]]:
    # A dict of index -> address is the operator's sparse form (enableDynamicWorker).
    return {_chief_named_type(kind): tuple(tasks.values() if isinstance(tasks, dict) else tasks)
            for kind, tasks in cluster.items()}


def _chief_named_type(task_type: str | None) -> str | None:
    return "chief" if task_type == MASTER else task_type
