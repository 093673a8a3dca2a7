"""Two MultiWorkerMirroredStrategy workers started by `zoo launch` train like one process, and
only the chief leaves files behind."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.support.launch_harness import IRIS_MLP, run_launch

from zoo.train import TrainConfig
from zoo.train.trainer import train

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
    default = train(TrainConfig(model="mlp", dataset="iris", epochs=3, batch_size=16, seed=3, schedule="constant",
                                strategy="default", verbose=0, workdir=str(tmp_path / "default"),
                                model_config={"hidden_units": [16], "dropout": 0.0}))
    assert multi["num_replicas"] == 2
    np.testing.assert_allclose(multi["history"]["val_loss"], default.history["val_loss"], rtol=1e-2)
    assert multi["test"]["loss"] == pytest.approx(default.test_metrics["loss"], rel=1e-2)
    assert abs(multi["test"]["accuracy"] - default.test_metrics["accuracy"]) <= 1 / 30 + 1e-9


def test_only_the_chief_writes_and_other_workers_leave_no_files(two_worker_run):
    root, output = two_worker_run
    assert sorted(p.name for p in (root / "run").iterdir()) == ["checkpoints", "logs", "metrics.json", "model.keras"]
    assert sorted(p.name for p in (root / "models" / "mlp").iterdir()) == ["1"], "one export, by the chief"
    assert list((root / "task-tmp").iterdir()) == [], "worker 1's temporary backup is removed"
    assert "[worker-0] exported:" in output and "[worker-1] exported:" not in output
