"""With ZOO_NO_OPTIONAL_DATA=1 the suite runs as on a newcomer's machine without Debian's
dataset-fashion-mnist: the tests that need the data skip and say why, and the recipes still
build their models, since Fashion-MNIST's spec needs no data. (.ci/run also runs every test
that can reach the zoo's loaders this way.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from zoo.data import DATASETS, dataset_spec, load_dataset
from zoo.data.optional import ENV_VAR
from zoo.errors import DatasetUnavailableError

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", [name for name, info in DATASETS.items() if info.spec is not None])
def test_without_optional_data_a_dataset_that_may_be_absent_still_has_its_spec(name, optional_data_hidden):
    available, where = DATASETS[name].availability()
    with pytest.raises(DatasetUnavailableError):
        load_dataset(name)
    assert available is False and ENV_VAR in where
    assert dataset_spec(name) == DATASETS[name].spec


def test_without_optional_data_the_datasets_pip_installs_still_load(optional_data_hidden):
    assert dataset_spec("digits").input_shape == (8, 8, 1)
    assert DATASETS["co2"].availability()[0] and DATASETS["bbc_news"].availability()[0]


@pytest.mark.slow  # a pytest run of its own, which builds the Fashion-MNIST recipes' models
def test_without_optional_data_the_tests_that_need_it_skip_with_their_reason_and_the_rest_pass():
    tests = ["tests/zoo/data/test_fashion_mnist.py", "tests/zoo/recipes/test_recipe_catalog.py"]
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *tests,
                             "-k", "fashion or builds_its_model"],
                            capture_output=True, text=True, cwd=ROOT, env={**os.environ, ENV_VAR: "1"}, timeout=900)

    assert result.returncode == 0, result.stdout[-3000:]
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and re.fullmatch(
        rf"SKIPPED \[1\] tests/zoo/data/test_fashion_mnist.py:\d+: {ENV_VAR} is set: "
        r"Debian's dataset-fashion-mnist counts as absent", skipped[0]), skipped
    assert re.search(r"\d+ passed, 1 skipped", result.stdout.splitlines()[-1])
