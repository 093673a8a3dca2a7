import numpy as np
import pytest

from zoo.data.splits import holdout_indices, split_three_ways
from zoo.errors import ConfigError


def test_holdout_indices_are_disjoint_and_cover_every_example():
    labels = np.repeat(np.arange(3), [50, 30, 20])
    kept, held = holdout_indices(labels, 0.25, seed=4, stratify=True)
    assert len(held) == 25
    assert set(kept).isdisjoint(held)
    assert sorted(np.concatenate([kept, held])) == list(range(100))


def test_stratified_holdout_keeps_each_class_share():
    labels = np.repeat(np.arange(3), [50, 30, 20])
    _, held = holdout_indices(labels, 0.2, seed=0, stratify=True)
    assert np.bincount(labels[held]).tolist() == [10, 6, 4]


def test_holdout_is_deterministic_with_the_seed_and_varies_with_it():
    labels = np.arange(40) % 2
    first = holdout_indices(labels, 0.3, seed=7, stratify=True)[1]
    again = holdout_indices(labels, 0.3, seed=7, stratify=True)[1]
    other = holdout_indices(labels, 0.3, seed=8, stratify=True)[1]
    np.testing.assert_array_equal(first, again)
    assert set(first) != set(other)


def test_holdout_always_holds_out_and_keeps_at_least_one_example():
    kept, held = holdout_indices(np.arange(3), 0.01, seed=0, stratify=False)
    assert len(held) == 1 and len(kept) == 2


def test_test_split_does_not_move_with_the_training_seed():
    x = np.arange(100, dtype=np.float32).reshape(-1, 1)
    y = np.arange(100) % 4
    a = split_three_ways(x, y, seed=0, validation_fraction=0.1, test_fraction=0.2, stratify=True)
    b = split_three_ways(x, y, seed=1, validation_fraction=0.1, test_fraction=0.2, stratify=True)
    np.testing.assert_array_equal(np.sort(a.x_test[:, 0]), np.sort(b.x_test[:, 0]))
    assert set(a.x_val[:, 0]) != set(b.x_val[:, 0])


@pytest.mark.parametrize("fraction", [0, 1, -0.5, 1.5, "0.2", True])
def test_fraction_outside_zero_one_is_a_config_error(fraction):
    x, y = np.zeros((10, 1)), np.zeros(10)
    with pytest.raises(ConfigError, match="test_fraction must be between 0 and 1"):
        split_three_ways(x, y, seed=0, validation_fraction=0.1, test_fraction=fraction, stratify=False)
