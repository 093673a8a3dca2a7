"""Shared pieces of the deployment tests: where the files are, the image's entrypoint run with a
stand-in `zoo-serve` that records its command line, free ports, and a tiny exported model."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"
KUBERNETES = ROOT / "deploy" / "kubernetes"
VENV_BIN = Path(sys.executable).parent

# Prints the arguments it was called with as JSON: what the real program would have received.
RECORD_ARGUMENTS = f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def recorded_command(tmp_path):
    """Runs a shell entrypoint with `program` on PATH replaced by a recorder; returns its argv.

    There is no container engine here, so this is how a test sees the exact command line the
    image would start.
    """

    def run(script: list[str], program: str, env: dict[str, str], *args: str) -> list[str]:
        stand_in = tmp_path / "bin" / program
        stand_in.parent.mkdir(exist_ok=True)
        stand_in.write_text(RECORD_ARGUMENTS)
        stand_in.chmod(0o755)
        full_env = {"PATH": f"{stand_in.parent}:/usr/bin:/bin", **env}
        out = subprocess.run([*script, *args], env=full_env, capture_output=True, text=True, timeout=30)
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


def entrypoint_env(**values: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "TF_CPP_MIN_LOG_LEVEL": "2", **values}
