"""The cluster a local launch lays out: roles, ports and each task's TF_CONFIG."""

import json

import pytest

from zoo.launch import plan_cluster


def test_workers_only_plan_makes_worker_zero_the_chief_on_distinct_local_ports():
    plan = plan_cluster(3)
    assert [task.name for task in plan.tasks] == ["worker-0", "worker-1", "worker-2"]
    assert plan.chief.name == "worker-0"
    addresses = [task.address for task in plan.tasks]
    assert len(set(addresses)) == 3 and all(a.startswith("127.0.0.1:") for a in addresses)
    assert not plan.uses_parameter_servers


def test_parameter_server_plan_adds_a_chief_that_coordinates():
    plan = plan_cluster(2, 1)
    assert [task.name for task in plan.tasks] == ["chief-0", "worker-0", "worker-1", "ps-0"]
    assert plan.chief.name == "chief-0"
    assert [plan.is_server_only(task) for task in plan.tasks] == [False, True, True, True]


def test_tf_config_names_the_whole_cluster_and_the_task():
    plan = plan_cluster(2, 1, ports=[1001, 1002, 1003, 1004])
    config = json.loads(plan.tf_config(plan.tasks[2]))
    assert config == {
        "cluster": {"chief": ["127.0.0.1:1001"], "worker": ["127.0.0.1:1002", "127.0.0.1:1003"],
                    "ps": ["127.0.0.1:1004"]},
        "task": {"type": "worker", "index": 1},
    }


@pytest.mark.parametrize("workers, ps, message", [
    (0, 0, "workers must be a positive integer. Received: workers=0"),
    (2, -1, "ps must be a non-negative integer. Received: ps=-1"),
    (True, 0, "workers must be a positive integer. Received: workers=True"),
])
def test_invalid_task_counts_are_refused_with_the_value(workers, ps, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        plan_cluster(workers, ps)


def test_port_list_must_cover_every_task():
    with pytest.raises(ValueError, match="one port per task \\(2\\)"):
        plan_cluster(2, 0, ports=[1, 2, 3])
