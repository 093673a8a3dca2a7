"""Fixtures for the batching tests: a held-open model for the batcher, batchers that stop
themselves, and tiny SavedModels exported once per session (see tests/support/batching_helpers.py)."""

from __future__ import annotations

import os

import pytest
from tests.support import savedmodels
from tests.support.batching_helpers import GatedModel

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def gated_model():
    model = GatedModel()
    yield model
    model.release()


@pytest.fixture
def batchers():
    """Makes DynamicBatchers and stops every one at the end of the test."""
    from serving.batching import DynamicBatcher

    made = []

    def make(run_batch, options, **kwargs):
        batcher = DynamicBatcher(run_batch, options, **kwargs)
        made.append(batcher)
        return batcher

    yield make
    for batcher in made:
        batcher.stop()


@pytest.fixture(scope="session")
def batching_models(tmp_path_factory):
    """Read-only models: half_plus_two (x [None]), multi_io (three inputs of three dtypes)."""
    root = tmp_path_factory.mktemp("batching_models")
    savedmodels.export_half_plus_two(root / "half_plus_two", 1)
    savedmodels.export_multi_io(root / "multi_io", 1)
    return root
