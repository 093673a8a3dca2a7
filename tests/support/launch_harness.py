"""Running `zoo launch` in a child process, for the tests that start real local clusters (the fixtures
are in tests/zoo/launch/conftest.py)."""

from __future__ import annotations

import subprocess
import sys

# One iris MLP small enough for the suite: 7 steps of 16 examples per epoch.
IRIS_MLP = ["mlp", "--dataset", "iris", "--batch-size", "16", "--seed", "3", "--schedule", "constant",
            "--verbose", "2", "--set", "hidden_units=[16]", "--set", "dropout=0.0"]


def zoo_launch_command(*launch_args: str, train_args: list[str]) -> list[str]:
    return [sys.executable, "-m", "zoo.cli.main", "launch", *launch_args, "--", "zoo", "train", *train_args]


def run_launch(*launch_args: str, train_args: list[str], env: dict, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(zoo_launch_command(*launch_args, train_args=train_args), env=env, capture_output=True,
                          text=True, timeout=timeout)
