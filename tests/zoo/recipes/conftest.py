"""Shared helpers for the recipe tests: the data spec of a recipe's dataset (without its data
where the registry knows it, else loaded once per worker), and the benchmark script
(tests.support.benchmark_scripts imports it from its path)."""

from __future__ import annotations

import functools
import json

import pytest

from tests.support.benchmark_scripts import imported_script


@functools.cache
def _spec(dataset: str, options_json: str):
    from zoo.data import dataset_spec

    return dataset_spec(dataset, **json.loads(options_json))


@pytest.fixture
def dataset_spec():
    """`dataset_spec(config)`: the DataSpec of a config's dataset with its options."""
    return lambda config: _spec(config.dataset, json.dumps(config.dataset_options, sort_keys=True))


@pytest.fixture(scope="session")
def zoo_table():
    """benchmarks/zoo_table.py as a module."""
    with imported_script("zoo_table") as module:
        yield module
