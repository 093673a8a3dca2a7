"""Fixtures of the deployment tests: commands run with a stand-in program that records how it was
started, and a tiny exported model. Plain helpers live in tests/support/deploy_harness.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.support.deploy_harness import RECORDER


@pytest.fixture(scope="session")
def run_recorded(tmp_path_factory):
    """Runs a command with `program` on PATH replaced by a recorder; returns what it was started
    with: {"argv": [...], "tf_config": TF_CONFIG or None}.

    There is no container engine or cluster here, so this is how a test sees the exact command
    line the image's entrypoint, or a Kubernetes pod's shell script, would start.
    """

    def run(command: list[str], program: str, env: dict[str, str], *args: str) -> dict:
        stand_in = tmp_path_factory.mktemp("bin") / program
        stand_in.write_text(RECORDER)
        stand_in.chmod(0o755)
        out = subprocess.run([*command, *args], env={"PATH": f"{stand_in.parent}:/usr/bin:/bin", **env},
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    return run


@pytest.fixture(scope="session")
def models_root(tmp_path_factory) -> Path:
    """MODEL_BASE_PATH holding one model, `half_plus_two` (y = 0.5 x + 2), version 1."""
    import tensorflow as tf

    class HalfPlusTwo(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def serve(self, x):
            return {"y": 0.5 * x + 2.0}

    root = tmp_path_factory.mktemp("models")
    module = HalfPlusTwo()
    tf.saved_model.save(module, str(root / "half_plus_two" / "1"), signatures={"serving_default": module.serve})
    return root
