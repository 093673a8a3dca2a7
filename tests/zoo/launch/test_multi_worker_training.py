"""Two MultiWorkerMirroredStrategy workers started by `zoo launch` train like one process, and
only the chief leaves files behind."""

from __future__ import annotations

import json

import pytest
from tests.support.launch_harness import IRIS_MLP, assert_trains_like_one_process, run_launch

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_worker_run(tmp_path_factory, launch_env_factory):
    """One 2-worker run of the iris MLP (3 epochs), shared by the tests of this module."""
    root = tmp_path_factory.mktemp("multi_worker")
    env = launch_env_factory(root)
    out = run_launch("--workers", "2", "--timeout", "200", env=env, train_args=[
        *IRIS_MLP, "--epochs", "3", "--strategy", "multi_worker", "--workdir", str(root / "run"),
        "--export-base", str(root / "models")])
    assert out.returncode == 0, out.stdout[-3000:]
    return root, out.stdout


def test_two_workers_train_like_the_default_strategy(two_worker_run, tmp_path):
    root, _ = two_worker_run
    multi = json.loads((root / "run" / "metrics.json").read_text())
    assert multi["num_replicas"] == 2
    assert_trains_like_one_process(multi, tmp_path / "default")


def test_only_the_chief_writes_and_other_workers_leave_no_files(two_worker_run):
    root, output = two_worker_run
    assert sorted(p.name for p in (root / "run").iterdir()) == ["checkpoints", "logs", "metrics.json", "model.keras"]
    assert sorted(p.name for p in (root / "models" / "mlp").iterdir()) == ["1"], "one export, by the chief"
    assert list((root / "task-tmp").iterdir()) == [], "worker 1's temporary backup is removed"
    assert "[worker-0] exported:" in output and "[worker-1] exported:" not in output
