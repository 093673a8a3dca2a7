import numpy as np
import pytest

from zoo.data import DATASETS, dataset_names, load_dataset
from zoo.errors import ConfigError, UnknownNameError
from zoo.spec import KINDS, TASKS

TABLE_ORDER = [
    "digits",
    "fashion_mnist",
    "mnist",
    "cifar10",
    "imdb",
    "bbc_news",
    "iris",
    "breast_cancer",
    "diabetes",
    "co2",
    "sunspots",
]


def test_registry_lists_the_datasets_in_table_order():
    assert dataset_names() == TABLE_ORDER
    assert list(DATASETS) == TABLE_ORDER


@pytest.mark.parametrize("name", TABLE_ORDER)
def test_every_entry_describes_itself_and_its_availability(name):
    info = DATASETS[name]
    assert info.name == name and info.kind in KINDS and info.task in TASKS
    assert info.source and "\n" not in info.source
    available, where = info.availability()
    assert isinstance(available, bool)
    assert where and "\n" not in where


def test_unknown_dataset_error_names_valid_choices():
    with pytest.raises(UnknownNameError) as raised:
        load_dataset("fashion-mnist")
    message = str(raised.value)
    assert "'fashion-mnist'" in message
    for name in TABLE_ORDER:
        assert name in message
    assert "folder:DIR" in message and "csv:FILE" in message and "npz:FILE" in message


def test_unknown_option_error_lists_the_valid_options():
    with pytest.raises(
        ConfigError, match="co2: unknown option.*windw.*valid options: horizon, test_fraction, window"
    ):
        load_dataset("co2", windw=12)


def test_target_is_refused_outside_csv_data():
    with pytest.raises(ConfigError, match="target= only applies to csv:FILE"):
        load_dataset("iris", target="species")


def test_user_prefix_without_a_path_is_a_config_error():
    with pytest.raises(ConfigError, match="give a path after the prefix"):
        load_dataset("npz:")


@pytest.mark.parametrize("fraction", [0.0, 1.0, 2])
def test_validation_fraction_must_leave_both_sides(fraction):
    with pytest.raises(ConfigError, match="validation_fraction must be between 0 and 1"):
        load_dataset("iris", validation_fraction=fraction)


def test_negative_seed_is_a_config_error():
    with pytest.raises(ConfigError, match="seed must be a non-negative integer. Received: seed=-1"):
        load_dataset("iris", seed=-1)


def test_numpy_integer_seed_is_accepted():
    assert len(load_dataset("iris", seed=np.int64(3)).x_train) > 0
