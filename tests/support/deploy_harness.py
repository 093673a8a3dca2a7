"""Paths and helpers of the deployment tests (tests import it as `deploy_harness`: a module name
unique in the whole tests/ tree, unlike conftest)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"
KUBERNETES = ROOT / "deploy" / "kubernetes"
KSERVE = ROOT / "deploy" / "kserve"
KUBEFLOW = ROOT / "deploy" / "kubeflow"
VENV_BIN = Path(sys.executable).parent

# Prints what it was started with as JSON: what the real program would have received.
RECORDER = (f"#!{sys.executable}\nimport json, os, sys\n"
            "print(json.dumps({'argv': sys.argv[1:], 'tf_config': os.environ.get('TF_CONFIG')}))\n")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def entrypoint_env(**values: str) -> dict[str, str]:
    """This environment, with the venv's programs (zoo-serve) first on PATH and `values` set."""
    return {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "TF_CPP_MIN_LOG_LEVEL": "2", **values}
