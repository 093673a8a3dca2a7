"""A parameter-server cluster (chief, 2 workers, 1 ps) started by `zoo launch` trains with the
coordinator loop, evaluates and exports like the other strategies."""

from __future__ import annotations

import json

import pytest
from tests.support.launch_harness import run_launch

from zoo.train.trainer import evaluate_saved_model

pytestmark = pytest.mark.slow


def test_parameter_server_cluster_trains_evaluates_and_exports(tmp_path, launch_env):
    workdir, export_base = tmp_path / "run", tmp_path / "models"
    out = run_launch("--workers", "2", "--ps", "1", "--timeout", "200", env=launch_env, train_args=[
        "mlp", "--dataset", "digits", "--epochs", "3", "--batch-size", "32", "--learning-rate", "0.01",
        "--set", "hidden_units=[32]", "--verbose", "2", "--strategy", "parameter_server",
        "--workdir", str(workdir), "--export-base", str(export_base)])
    assert out.returncode == 0, out.stdout[-3000:]
    assert "[ps-0] ps 0 serving" in out.stdout and "[worker-1] worker 1 serving" in out.stdout
    metrics = json.loads((workdir / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and set(metrics["history"]) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert metrics["test"]["accuracy"] > 0.6, "the scheduled steps really trained the model"
    assert sorted(p.name for p in (workdir / "checkpoints").iterdir())[-1] == "epoch-003.weights.h5"

    from zoo.data import load_dataset

    served = evaluate_saved_model(export_base / "mlp" / "1", load_dataset("digits"))
    assert served["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)
