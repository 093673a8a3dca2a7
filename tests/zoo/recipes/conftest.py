"""Shared helpers for the recipe tests: the data spec of a recipe's dataset (loaded once per
worker), and the benchmark script imported from its path (benchmarks/ is not a package)."""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ZOO_TABLE = Path(__file__).resolve().parents[3] / "benchmarks" / "zoo_table.py"


@functools.cache
def _spec(dataset: str, options_json: str):
    from zoo.data import load_dataset

    return load_dataset(dataset, **json.loads(options_json)).spec


@pytest.fixture
def dataset_spec():
    """`dataset_spec(config)`: the DataSpec of a config's dataset with its options."""
    return lambda config: _spec(config.dataset, json.dumps(config.dataset_options, sort_keys=True))


@pytest.fixture(scope="session")
def zoo_table():
    """benchmarks/zoo_table.py as a module."""
    spec = importlib.util.spec_from_file_location("zoo_table_script", ZOO_TABLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
