"""`zoo train` killed with SIGKILL mid-epoch resumes from its BackupAndRestore backup; a damaged
backup stops training with one line saying which file and what to do, never a silent restart.

The killed and the resumed runs are the real CLI in subprocesses with the same workdir; an
uninterrupted run of the same command (in process) is the reference for the step count and the
metrics. The data is a small synthetic npz problem; with batches of 8 an epoch lasts about a
second, so the kill lands well inside one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from zoo.cli.main import main as zoo_main

EPOCHS = 3
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """6,000 examples of 32 features, 4 classes from a noisy linear rule (learnable in 1 epoch)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6_000, 32)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(32, 4)) + 0.5 * rng.normal(size=(6_000, 4)), axis=1)
    path = tmp_path_factory.mktemp("crash-data") / "synthetic.npz"
    np.savez(path, x_train=x, y_train=y.astype(np.int64))
    return path


def train_arguments(dataset: Path, workdir: Path) -> list[str]:
    return ["train", "mlp", f"--dataset=npz:{dataset}", f"--epochs={EPOCHS}", "--batch-size=8",
            "--seed=7", f"--workdir={workdir}", "--verbose=2"]


def zoo_process(arguments: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "zoo.cli.main", *arguments], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def backed_up_epoch(workdir: Path) -> int | None:
    try:
        return json.loads((workdir / "backup" / "training_metadata.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return None  # not written yet, or being written


def optimizer_steps(workdir: Path) -> int:
    import keras

    import zoo.models  # noqa: F401 - registers the zoo's layers for loading

    return int(keras.models.load_model(workdir / "model.keras").optimizer.iterations.numpy())


@pytest.mark.slow
def test_training_killed_mid_epoch_resumes_from_its_backup_with_the_same_steps_and_metrics(dataset, tmp_path):
    workdir = tmp_path / "run"
    killed = zoo_process(train_arguments(dataset, workdir))
    try:
        deadline = time.monotonic() + 300
        while backed_up_epoch(workdir) != 1 and killed.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.15)  # into the second epoch: 600+ steps of batch 8 take most of a second
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
    finally:
        if killed.poll() is None:
            killed.kill()
    assert killed.returncode == -signal.SIGKILL
    assert backed_up_epoch(workdir) == 1, "the kill should land inside epoch 2, after epoch 1's backup"
    assert not (workdir / "model.keras").exists()

    resumed = zoo_process(train_arguments(dataset, workdir))
    output, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, output
    assert "Epoch 1/3" not in output and "Epoch 2/3" in output  # resumed, not restarted
    resumed_metrics = json.loads((workdir / "metrics.json").read_text())
    assert resumed_metrics["epochs"] == EPOCHS - 1
    assert not (workdir / "backup").exists(), "a finished run removes its backup"

    reference = tmp_path / "reference"
    assert zoo_main([*train_arguments(dataset, reference), "--verbose=0"]) == 0
    reference_metrics = json.loads((reference / "metrics.json").read_text())

    steps = optimizer_steps(workdir)
    print(f"SIGKILL in epoch 2 of {EPOCHS}, resumed: {steps} optimizer steps "
          f"(uninterrupted: {optimizer_steps(reference)}), test accuracy "
          f"{resumed_metrics['test']['accuracy']:.4f} (uninterrupted: "
          f"{reference_metrics['test']['accuracy']:.4f})")
    assert steps == optimizer_steps(reference)
    assert abs(resumed_metrics["test"]["accuracy"] - reference_metrics["test"]["accuracy"]) < 0.03


# === A damaged backup ===


def damage(workdir: Path, *, weights: bytes | None = None,
           metadata: str = '{"epoch": 1, "batch": 0}') -> Path:
    backup = workdir / "backup"
    backup.mkdir(parents=True)
    (backup / "training_metadata.json").write_text(metadata)
    if weights is not None:
        (backup / "latest.weights.h5").write_bytes(weights)
    return backup


def truncated_hdf5(tmp_path: Path) -> bytes:
    path = tmp_path / "whole.h5"
    with h5py.File(path, "w") as file:
        file.create_dataset("kernel", data=np.ones((256, 256), np.float32))
    data = path.read_bytes()
    return data[: len(data) // 2]


def run_and_capture(capsys, arguments: list[str]) -> tuple[int, str]:
    status = zoo_main(arguments)
    return status, capsys.readouterr().err


@pytest.mark.parametrize("damage_kind", ["truncated_weights", "garbage_weights", "broken_metadata"])
def test_damaged_backup_stops_training_with_one_line_naming_the_file_and_the_way_out(
        dataset, tmp_path, capsys, damage_kind):
    workdir = tmp_path / "run"
    if damage_kind == "truncated_weights":
        backup, damaged = damage(workdir, weights=truncated_hdf5(tmp_path)), "latest.weights.h5"
    elif damage_kind == "garbage_weights":
        backup, damaged = damage(workdir, weights=b"not an HDF5 file"), "latest.weights.h5"
    else:
        backup, damaged = damage(workdir, metadata='{"epoch": '), "training_metadata.json"
    status, stderr = run_and_capture(capsys, [*train_arguments(dataset, workdir), "--verbose=0"])
    lines = [line for line in stderr.splitlines() if line.startswith("zoo train: error:")]
    assert status == 2
    assert len(lines) == 1 and "Traceback" not in stderr
    assert str(backup / damaged) in lines[0]
    assert "delete it to train from scratch" in lines[0] and "from a copy to resume" in lines[0]
    assert not (workdir / "metrics.json").exists(), "training must not have restarted from scratch"
    assert (backup / "training_metadata.json").exists(), "the backup is left for the user to decide"


def test_backup_of_another_model_is_refused_not_half_loaded(dataset, tmp_path, capsys):
    import keras

    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    workdir = tmp_path / "run"
    backup = damage(workdir)
    other.save_weights(backup / "latest.weights.h5")
    status, stderr = run_and_capture(capsys, [*train_arguments(dataset, workdir), "--verbose=0"])
    assert status == 2 and "Traceback" not in stderr
    assert str(backup / "latest.weights.h5") in stderr and "belongs to another model" in stderr
