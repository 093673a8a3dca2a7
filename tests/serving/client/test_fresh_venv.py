"""tfzoo-client in a fresh virtual environment without TensorFlow: `pip install ./client` brings
only grpcio, protobuf and numpy, `import tensorflow` fails there, and the client predicts,
classifies and reads metadata from a real zoo-serve.

pip installs from the package index (a warm cache makes it about 30 s); when the index cannot be
reached the test is skipped, saying so.
"""

from __future__ import annotations

import json
import subprocess
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
INSTALL_SECONDS = 300
# pip's words for "the index could not be reached" (as opposed to a broken package).
UNREACHABLE = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
               "No matching distribution found", "Network is unreachable", "ConnectTimeoutError")
# What the client's installation may bring into a bare virtual environment.
ALLOWED = {"tfzoo-client", "grpcio", "protobuf", "numpy", "pip", "setuptools", "typing-extensions",
           "typing_extensions"}

USE_THE_CLIENT = """
import json, sys
import numpy as np
from tfzoo_client import Client

with Client(sys.argv[1], timeout=30) as client:
    client.wait_until_ready("half_plus_two", timeout=30)
    metadata = client.metadata("half_plus_two", version=1)
    predicted = client.predict("half_plus_two", np.array([1.0, 2.0], np.float32), version=1)["y"]
    classes = client.classify("tf1", [{"x": 1.0}])
    inferred = client.infer("half_plus_two", {"x": np.array([4.0], np.float32)}, version=1)["y"]
print(json.dumps({
    "signatures": sorted(metadata.signatures),
    "x": [metadata.signature("serving_default").inputs["x"].dtype],
    "predicted": predicted.tolist(),
    "labels": [item.label for item in classes[0]],
    "inferred": inferred.tolist(),
    "tensorflow_loaded": any(name.split(".")[0] in ("tensorflow", "tensorflow_serving") for name in sys.modules),
}))
"""


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory) -> Path:
    """A fresh virtual environment with only ./client installed; its python."""
    root = tmp_path_factory.mktemp("client-venv")
    venv.EnvBuilder(with_pip=True, clear=True).create(root)
    python = root / "bin" / "python"
    try:
        out = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              str(ROOT / "client")], capture_output=True, text=True, timeout=INSTALL_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.skip(f"pip install ./client took over {INSTALL_SECONDS} s: the package index is too slow here")
    if out.returncode != 0 and any(word in out.stderr for word in UNREACHABLE):
        pytest.skip(f"the package index is unreachable: {out.stderr.strip().splitlines()[-1]}")
    assert out.returncode == 0, out.stderr[-3000:]
    return python


def test_only_grpcio_protobuf_and_numpy_come_with_the_client(client_venv):
    listed = subprocess.run([str(client_venv), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    assert {package["name"].lower() for package in json.loads(listed)} <= ALLOWED


def test_tensorflow_is_not_there(client_venv):
    for module in ("tensorflow", "tensorflow_serving"):
        out = subprocess.run([str(client_venv), "-c", f"import {module}"], capture_output=True, text=True, timeout=60)
        assert out.returncode != 0 and "ModuleNotFoundError" in out.stderr


def test_the_client_predicts_classifies_and_reads_metadata_from_zoo_serve(client_venv, client_server):
    out = subprocess.run([str(client_venv), "-c", USE_THE_CLIENT, client_server.target],
                         capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout) == {
        "signatures": ["serving_default"],
        "x": ["float32"],
        "predicted": [2.5, 3.0],
        "labels": ["negative", "positive"],
        "inferred": [4.0],
        "tensorflow_loaded": False,
    }

