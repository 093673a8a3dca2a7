"""deploy/kubeflow/, parsed with PyYAML: each TFJob's pods run a `zoo train` command the zoo's
parser accepts, in the container the operator gives TF_CONFIG, on the operator's port; and with
the TF_CONFIG the operator writes for each pod, `--strategy auto` picks the cluster's strategy and
exactly one pod (the chief) writes, to the shared volume. Training itself under the operator's
TF_CONFIG is tested in tests/zoo/launch/test_tfjob_pods.py."""

from __future__ import annotations

import pytest
import yaml
from tests.support.deploy_harness import KUBEFLOW
from tests.support.launch_harness import operator_tf_config

from zoo.cli.main import build_parser
from zoo.train.tf_config import cluster_role

# TFJob's defaults (training-operator pkg/apis/kubeflow.org/v1/tensorflow_types.go).
CONTAINER, PORT_NAME, PORT = "tensorflow", "tfjob-port", 2222
TFJOBS = {"tfjob-multi-worker.yaml": "multi_worker", "tfjob-parameter-server.yaml": "parameter_server"}


def load(name: str) -> dict:
    (document,) = yaml.safe_load_all((KUBEFLOW / name).read_text())
    return document


def pods(tfjob: dict):
    """(replica type, index, container, pod spec) for every pod the operator would start."""
    for kind, replica in tfjob["spec"]["tfReplicaSpecs"].items():
        spec = replica["template"]["spec"]
        (container,) = [c for c in spec["containers"] if c["name"] == CONTAINER]
        for index in range(replica["replicas"]):
            yield kind, index, container, spec


@pytest.mark.parametrize("name", TFJOBS)
def test_each_pod_runs_zoo_train_in_the_operators_container_and_port(name):
    tfjob = load(name)
    assert (tfjob["apiVersion"], tfjob["kind"]) == ("kubeflow.org/v1", "TFJob")
    for _, _, container, _ in pods(tfjob):
        assert container["ports"] == [{"name": PORT_NAME, "containerPort": PORT}]
        args = build_parser().parse_args(container["command"][1:])
        assert container["command"][:2] == ["zoo", "train"] and args.strategy == "auto"


@pytest.mark.parametrize("name", TFJOBS)
def test_with_the_operators_tf_config_one_pod_writes_and_auto_picks_the_clusters_strategy(name):
    tfjob = load(name)
    replicas = {kind: replica["replicas"] for kind, replica in tfjob["spec"]["tfReplicaSpecs"].items()}
    writers = []
    for kind, index, container, spec in pods(tfjob):
        role = cluster_role({"TF_CONFIG": operator_tf_config(replicas, kind, index, job=tfjob["metadata"]["name"])})
        assert role.distributed_strategy == TFJOBS[name]
        if role.is_chief:
            writers.append((kind, index))
            args = build_parser().parse_args(container["command"][1:])
            mounts = [mount["mountPath"] for mount in container["volumeMounts"]]
            assert all(any(path.startswith(mount + "/") for mount in mounts) for path in (args.workdir, args.export_base))
            claims = [volume["persistentVolumeClaim"]["claimName"] for volume in spec["volumes"]]
            assert claims == ["tfzoo-training"], "the chief writes to the shared volume"
    assert writers == [("Worker", 0)] if "Chief" not in replicas else [("Chief", 0)]


def test_every_pod_of_the_parameter_server_job_runs_the_same_command():
    commands = {tuple(container["command"]) for _, _, container, _ in pods(load("tfjob-parameter-server.yaml"))}
    assert len(commands) == 1, "roles come from TF_CONFIG, not from the command"
