"""Fixtures for tests that run real local clusters with `zoo launch` (helpers: tests/support/launch_harness.py)."""

from __future__ import annotations

import os

import pytest


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
