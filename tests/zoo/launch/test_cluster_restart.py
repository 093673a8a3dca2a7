"""A multi-worker cluster that loses a worker is stopped at once, and started again it resumes
every worker at the chief's last backed-up epoch (BackupAndRestore), not from the start."""

from __future__ import annotations

import os
import re
import signal
import subprocess

import pytest
from tests.support.launch_harness import IRIS_MLP, zoo_launch_command

pytestmark = pytest.mark.slow


def test_restarted_cluster_resumes_every_worker_at_the_chiefs_backup(tmp_path, launch_env):
    train_args = [*IRIS_MLP, "--epochs", "4", "--strategy", "multi_worker", "--workdir", str(tmp_path / "run")]
    command = zoo_launch_command("--workers", "2", "--timeout", "150", train_args=train_args)
    first = subprocess.Popen(command, env=launch_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        worker_1 = None
        for line in first.stdout:  # bounded: the launch stops itself after --timeout
            if worker_1 is None and (match := re.search(r"worker-1 \(pid (\d+)\)", line)):
                worker_1 = int(match.group(1))
            if line.startswith("[worker-0] Epoch 2/4"):  # epoch 1 is backed up
                os.kill(worker_1, signal.SIGKILL)
                break
        rest = first.communicate(timeout=60)[0]
    finally:
        first.kill()
    assert first.returncode == 128 + signal.SIGKILL, rest[-2000:]
    assert "worker-1 exited with status 137 before the chief finished" in rest

    second = subprocess.run(command, env=launch_env, capture_output=True, text=True, timeout=200)
    assert second.returncode == 0, second.stdout[-3000:]
    resumed_at = {task: int(re.search(rf"^\[{task}\] Epoch (\d+)/4$", second.stdout, re.M).group(1))
                  for task in ("worker-0", "worker-1")}
    assert resumed_at["worker-0"] >= 2, "the chief resumed from its backup, not from epoch 1"
    assert resumed_at["worker-1"] == resumed_at["worker-0"], "both workers resumed at the same epoch"
