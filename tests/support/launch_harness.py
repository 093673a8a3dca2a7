"""Running `zoo launch` in a child process, and a TFJob's pods on this machine, for the tests that
start real local clusters (the fixtures are in tests/zoo/launch/conftest.py)."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from zoo.launch import ClusterPlan, Task, launch
from zoo.launch.cluster import LOCALHOST, free_ports

# One iris MLP small enough for the suite: 7 steps of 16 examples per epoch.
IRIS_MLP = ["mlp", "--dataset", "iris", "--batch-size", "16", "--seed", "3", "--schedule", "constant",
            "--verbose", "2", "--set", "hidden_units=[16]", "--set", "dropout=0.0"]


def assert_trains_like_one_process(metrics: dict, workdir, *, epochs: int = 3) -> None:
    """A cluster run's metrics.json equals, within tolerance, the IRIS_MLP trained by one process
    with the default strategy (in this process, under `workdir`)."""
    from zoo.train import TrainConfig
    from zoo.train.trainer import train

    default = train(TrainConfig(model="mlp", dataset="iris", epochs=epochs, batch_size=16, seed=3, schedule="constant",
                                strategy="default", verbose=0, workdir=str(workdir),
                                model_config={"hidden_units": [16], "dropout": 0.0}))
    np.testing.assert_allclose(metrics["history"]["val_loss"], default.history["val_loss"], rtol=1e-2)
    assert metrics["test"]["loss"] == pytest.approx(default.test_metrics["loss"], rel=1e-2)
    assert abs(metrics["test"]["accuracy"] - default.test_metrics["accuracy"]) <= 1 / 30 + 1e-9


def zoo_launch_command(*launch_args: str, train_args: list[str]) -> list[str]:
    return [sys.executable, "-m", "zoo.cli.main", "launch", *launch_args, "--", "zoo", "train", *train_args]


def run_launch(*launch_args: str, train_args: list[str], env: dict, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(zoo_launch_command(*launch_args, train_args=train_args), env=env, capture_output=True,
                          text=True, timeout=timeout)


def operator_tf_config(replicas: dict[str, int], task_type: str, index: int, *, job: str = "tfzoo-train",
                       namespace: str = "default", addresses: dict[str, list[str]] | None = None) -> str:
    """TF_CONFIG as Kubeflow's TFJob operator writes it for one pod (training-operator
    pkg/controller.v1/tensorflow/tensorflow.go, genTFConfigJSONStr): replica types lower-cased
    ("Master" stays "master", "Evaluator" is listed too), each task at
    `<job>-<type>-<i>.<namespace>.svc:2222`, and "environment": "cloud".

    `addresses` replaces those host names (which resolve only inside a cluster) with local ones,
    type by type, keeping everything else as the operator writes it.
    """
    cluster = {kind.lower(): [f"{job}-{kind.lower()}-{i}.{namespace}.svc:2222" for i in range(count)]
               for kind, count in replicas.items()}
    if addresses is not None:
        assert {kind: len(tasks) for kind, tasks in addresses.items()} == \
            {kind: len(tasks) for kind, tasks in cluster.items()}, "one local address per task"
        cluster = addresses
    return json.dumps({"cluster": cluster, "task": {"type": task_type.lower(), "index": index},
                       "environment": "cloud"})


@dataclasses.dataclass(frozen=True)
class TFJobPlan(ClusterPlan):
    """A local cluster whose tasks are given TF_CONFIG exactly as the TFJob operator writes it for
    `replicas` ({"Worker": 2, "Evaluator": 1}...), with its host names mapped to 127.0.0.1 ports,
    so `zoo.launch.launch` runs the pods of a TFJob on this machine."""

    replicas: tuple[tuple[str, int], ...] = ()

    def tf_config(self, task: Task) -> str:
        return operator_tf_config(dict(self.replicas), task.type, task.index, addresses=self.cluster)


def tfjob_plan(replicas: dict[str, int]) -> TFJobPlan:
    """The plan of a TFJob with `replicas`, its first replica type first (the launch's chief)."""
    roles = [(kind.lower(), i) for kind, count in replicas.items() for i in range(count)]
    tasks = tuple(Task(kind, index, f"{LOCALHOST}:{port}") for (kind, index), port in zip(roles, free_ports(len(roles))))
    return TFJobPlan(tasks, tuple(replicas.items()))


def run_tfjob(replicas: dict[str, int], train_args: list[str], env: dict, timeout: float = 200) -> tuple[int, str]:
    """Runs `zoo train TRAIN_ARGS` as the pods of a TFJob; returns the chief's status and every
    task's output, each line prefixed with its task."""
    output = io.StringIO()
    result = launch(["zoo", "train", *train_args], tfjob_plan(replicas), timeout_seconds=timeout, env=env,
                    output=output)
    return result.exit_code, output.getvalue()
