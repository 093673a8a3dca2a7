"""The role each TF_CONFIG form gives a task: Kubeflow's TFJob operator's forms (Worker only,
Chief or Master with Workers, PS, Evaluator, "environment": "cloud") and zoo launch's."""

from __future__ import annotations

import json

import pytest
from tests.support.launch_harness import operator_tf_config

from zoo.errors import ConfigError
from zoo.launch import plan_cluster
from zoo.train.tf_config import cluster_role, use_chief_name

WORKERS = {"Worker": 3}
CHIEF = {"Chief": 1, "Worker": 2}
MASTER = {"Master": 1, "Worker": 2}
PARAMETER_SERVER = {"Chief": 1, "Worker": 2, "PS": 1}
EVALUATOR = {"Worker": 2, "Evaluator": 1}


def role(replicas, task_type, index):
    return cluster_role({"TF_CONFIG": operator_tf_config(replicas, task_type, index)})


@pytest.mark.parametrize("replicas, task_type, index, chief", [
    (WORKERS, "Worker", 0, True),
    (WORKERS, "Worker", 1, False),
    (WORKERS, "Worker", 2, False),
    (CHIEF, "Chief", 0, True),
    (CHIEF, "Worker", 0, False),
    (MASTER, "Master", 0, True),
    (MASTER, "Worker", 0, False),
    (PARAMETER_SERVER, "Chief", 0, True),
    (PARAMETER_SERVER, "Worker", 0, False),
    (PARAMETER_SERVER, "PS", 0, False),
    (EVALUATOR, "Worker", 0, True),
    (EVALUATOR, "Evaluator", 0, False),
])
def test_only_the_chief_or_else_worker_0_writes(replicas, task_type, index, chief):
    assert role(replicas, task_type, index).is_chief is chief


@pytest.mark.parametrize("replicas, strategy", [
    (WORKERS, "multi_worker"),
    (CHIEF, "multi_worker"),
    (MASTER, "multi_worker"),
    (EVALUATOR, "multi_worker"),
    (PARAMETER_SERVER, "parameter_server"),
    ({"Worker": 1}, None),
    ({"Worker": 1, "Evaluator": 1}, None),
])
def test_the_cluster_decides_the_automatic_strategy(replicas, strategy):
    assert role(replicas, "Worker", 0).distributed_strategy == strategy


def test_only_the_evaluator_is_the_evaluator():
    assert role(EVALUATOR, "Evaluator", 0).is_evaluator
    assert not role(EVALUATOR, "Worker", 0).is_evaluator


def test_zoo_launch_gives_the_same_roles():
    plan = plan_cluster(2, 1)
    roles = {task.name: cluster_role({"TF_CONFIG": plan.tf_config(task)}) for task in plan.tasks}
    assert [name for name, task_role in roles.items() if task_role.is_chief] == ["chief-0"]
    assert {task_role.distributed_strategy for task_role in roles.values()} == {"parameter_server"}


def test_no_tf_config_is_a_lone_chief():
    assert cluster_role({}) is None
    assert cluster_role({"TF_CONFIG": ""}) is None
    assert cluster_role({"TF_CONFIG": '{"task": {"type": "worker", "index": 0}}'}) is None


def test_master_is_renamed_chief_for_tf_distribute_and_nothing_else_changes():
    environ = {"TF_CONFIG": operator_tf_config(MASTER, "Master", 0)}
    use_chief_name(environ)
    config = json.loads(environ["TF_CONFIG"])
    assert config == {
        "cluster": {"chief": ["tfzoo-train-master-0.default.svc:2222"],
                    "worker": ["tfzoo-train-worker-0.default.svc:2222", "tfzoo-train-worker-1.default.svc:2222"]},
        "task": {"type": "chief", "index": 0},
        "environment": "cloud",
    }


def test_a_tf_config_without_master_is_left_as_it_is():
    environ = {"TF_CONFIG": operator_tf_config(WORKERS, "Worker", 1)}
    before = environ["TF_CONFIG"]
    use_chief_name(environ)
    assert environ["TF_CONFIG"] == before


def test_the_operators_sparse_form_is_read():
    environ = {"TF_CONFIG": json.dumps({"cluster": {"ps": ["ps-0:2222"], "worker": {"1": "worker-1:2222"}},
                                        "task": {"type": "worker", "index": 1}})}
    sparse = cluster_role(environ)
    assert sparse.cluster["worker"] == ("worker-1:2222",) and not sparse.is_chief


@pytest.mark.parametrize("raw, message", [
    ("{not json", "not valid JSON"),
    ('{"cluster": {"worker": "a:1"}, "task": {"type": "worker", "index": 0}}', "lists of addresses"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": -1}}', "non-negative"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "'ps' is not in its cluster"),
])
def test_a_malformed_tf_config_is_one_clear_error(raw, message):
    with pytest.raises(ConfigError, match=message):
        cluster_role({"TF_CONFIG": raw})
