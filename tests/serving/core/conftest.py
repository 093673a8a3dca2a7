"""Fixtures for the model core tests: managers of fake versions (tests/support/fake_backends.py),
so no test here loads a SavedModel. The shared fixtures (wait_until) are in
tests/serving/conftest.py; `make_manager` here replaces the one there, which loads real models.
"""

from __future__ import annotations

import functools
import pathlib

import pytest
from tests.support import fake_backends
from tests.support.managers import ManagerFactory


@pytest.fixture
def fake_loader() -> fake_backends.FakeLoader:
    """The load function of the managers `make_manager` makes; it records every load."""
    return fake_backends.FakeLoader()


@pytest.fixture
def make_manager(fake_loader):
    """make_manager(models, start=True, **options): a ModelManager of serving.core ModelConfigs
    whose versions `fake_loader` loads, polling every 0.1 s, stopped after the test."""
    managers = ManagerFactory()
    yield functools.partial(managers.make, load=fake_loader.load)
    managers.stop_all()


@pytest.fixture(scope="session")
def fake_models(tmp_path_factory) -> pathlib.Path:
    """Base paths no test modifies: half (version 1: 0.5x+2, version 2: x+2) and other (1)."""
    root = tmp_path_factory.mktemp("fake_models")
    fake_backends.write_version(root / "half", 1)
    fake_backends.write_version(root / "half", 2, slope=1.0)
    fake_backends.write_version(root / "other", 1)
    return root
