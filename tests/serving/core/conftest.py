"""Fixtures for the model core tests: managers that clean up after themselves, a bounded waiter,
and read-only SavedModels exported once per session."""

from __future__ import annotations

import functools
import pathlib

import pytest
from tests.support import savedmodels
from tests.support.server_harness import wait_until as harness_wait_until

from serving.apis.tfs.model_config import model_configs
from serving.core import ModelManager
from serving.version_loader import VersionLoader

# Fast polling and retries, so version changes show up within a fraction of a second.
FAST_OPTIONS = dict(file_system_poll_wait_seconds=0.1, load_retry_interval_seconds=0.05,
                    max_num_load_retries=1)


@pytest.fixture
def wait_until():
    """wait_until(predicate, timeout=30, message=...): polls every 20 ms until true, fails on
    timeout."""
    return functools.partial(harness_wait_until, interval=0.02)


@pytest.fixture
def make_manager():
    """make_manager(config, start=True, warmup_iterations=1, **options): a ModelManager loading
    real SavedModels, stopped after the test; `config` is a validated ModelServerConfig."""
    managers = []

    def make(config, start: bool = True, warmup_iterations: int | None = 1,
             **options) -> ModelManager:
        loader = VersionLoader(warmup_iterations=warmup_iterations)
        manager = ModelManager(model_configs(config), load=loader.load,
                               **{**FAST_OPTIONS, **options})
        managers.append(manager)
        if start:
            manager.start()
        return manager

    yield make
    for manager in managers:
        manager.stop()


@pytest.fixture(scope="session")
def shared_models(tmp_path_factory) -> pathlib.Path:
    """Base paths no test modifies: half_plus_two (versions 1 and 2), multi_io (1), tf1 (1)."""
    root = tmp_path_factory.mktemp("shared_models")
    savedmodels.export_half_plus_two(root / "half_plus_two", 1)
    savedmodels.export_half_plus_two(root / "half_plus_two", 2, slope=1.0)
    savedmodels.export_multi_io(root / "multi_io", 1)
    savedmodels.export_tf1_classify_regress(root / "tf1", 1)
    return root
