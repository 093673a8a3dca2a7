"""Helpers for tests that run real local clusters with `zoo launch` in a child process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# One iris MLP small enough for the suite: 7 steps of 16 examples per epoch.
IRIS_MLP = ["mlp", "--dataset", "iris", "--batch-size", "16", "--seed", "3", "--schedule", "constant",
            "--verbose", "2", "--set", "hidden_units=[16]", "--set", "dropout=0.0"]


@pytest.fixture(scope="session")
def launch_env_factory():
    """Makes the environment for launched tasks under `root`: quiet TensorFlow, and a private
    TMPDIR (`root/task-tmp`) so a test can see what the tasks left in their temporary directories."""

    def make(root) -> dict:
        tmp = root / "task-tmp"
        tmp.mkdir()
        return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TMPDIR": str(tmp)}

    return make


@pytest.fixture
def launch_env(tmp_path, launch_env_factory):
    return launch_env_factory(tmp_path)


def zoo_launch_command(*launch_args: str, train_args: list[str]) -> list[str]:
    return [sys.executable, "-m", "zoo.cli.main", "launch", *launch_args, "--", "zoo", "train", *train_args]


def run_launch(*launch_args: str, train_args: list[str], env: dict, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(zoo_launch_command(*launch_args, train_args=train_args), env=env, capture_output=True,
                          text=True, timeout=timeout)
