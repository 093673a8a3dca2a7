"""`zoo train --strategy auto` run as a TFJob's pods: each process gets TF_CONFIG exactly as
Kubeflow's operator writes it (host names mapped to 127.0.0.1 ports, "environment": "cloud"),
picks the cluster's strategy, trains like one process, and only the chief exports."""

from __future__ import annotations

import json

import pytest
from tests.support.launch_harness import IRIS_MLP, assert_trains_like_one_process, run_tfjob

from zoo.data import load_dataset
from zoo.train.trainer import evaluate_saved_model

pytestmark = pytest.mark.slow


def train_args(root, *extra: str) -> list[str]:
    return [*IRIS_MLP, "--epochs", "3", "--strategy", "auto", "--workdir", str(root / "run"),
            "--export-base", str(root / "models"), *extra]


def test_workers_only_train_together_and_worker_0_alone_exports(tmp_path, launch_env):
    """The issue's case: two workers used to train alone, both export, and worker 0 crash."""
    status, output = run_tfjob({"Worker": 2}, train_args(tmp_path), launch_env)
    assert status == 0, output[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["num_replicas"] == 2, "auto picked MultiWorkerMirroredStrategy"
    assert sorted(p.name for p in (tmp_path / "models" / "mlp").iterdir()) == ["1"]
    assert "[worker-0] exported:" in output and "[worker-1] exported:" not in output
    assert "Traceback" not in output
    assert_trains_like_one_process(metrics, tmp_path / "default")


def test_master_is_the_chief_and_the_evaluator_trains_nothing(tmp_path, launch_env):
    status, output = run_tfjob({"Master": 1, "Worker": 1, "Evaluator": 1}, train_args(tmp_path), launch_env)
    assert status == 0, output[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["num_replicas"] == 2, "master and worker train together; the evaluator is not a replica"
    assert "[master-0] exported:" in output and "[worker-0] exported:" not in output
    assert "[evaluator-0] TF_CONFIG makes this task the evaluator" in output
    assert sorted(p.name for p in (tmp_path / "models" / "mlp").iterdir()) == ["1"]
    assert_trains_like_one_process(metrics, tmp_path / "default")


def test_chief_workers_and_ps_train_with_parameter_servers(tmp_path, launch_env):
    status, output = run_tfjob({"Chief": 1, "Worker": 2, "PS": 1},
                               train_args(tmp_path, "--learning-rate", "0.01"), launch_env)
    assert status == 0, output[-3000:]
    assert "[ps-0] ps 0 serving" in output and "[worker-1] worker 1 serving" in output
    assert "[chief-0] exported:" in output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    served = evaluate_saved_model(tmp_path / "models" / "mlp" / "1", load_dataset("iris", seed=3))
    assert served["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)
