import numpy as np
import pytest
import tensorflow as tf

from zoo.data import load_dataset, make_pipelines
from zoo.spec import Dataset, DataSpec


def _numbered_dataset(train: int = 50, task: str = "classification") -> Dataset:
    """A tabular dataset whose single feature is each example's row number."""
    spec = DataSpec(
        name="numbered",
        kind="tabular",
        task=task,
        input_shape=(1,),
        num_outputs=2 if task == "classification" else 1,
    )
    x = np.arange(train + 20, dtype=np.float32).reshape(-1, 1)
    y = (np.arange(train + 20) % 2).astype(np.int64) if task == "classification" else x[:, 0] * 2
    return Dataset(
        spec,
        x[:train],
        y[:train],
        x[train : train + 10],
        y[train : train + 10],
        x[train + 10 :],
        y[train + 10 :],
    )


def _rows(pipeline) -> list[float]:
    return [float(value) for x, _ in pipeline for value in x.numpy()[:, 0]]


def test_batches_have_the_global_batch_size_and_keras_shaped_targets():
    train, val, test = make_pipelines(load_dataset("digits"), batch_size=32)
    x, y = next(iter(train))
    assert x.shape == (32, 8, 8, 1) and x.dtype == tf.float32
    assert y.shape == (32,) and y.dtype == tf.int64
    assert sum(int(x.shape[0]) for x, _ in val) == len(load_dataset("digits").x_val)


def test_regression_targets_are_float_n_by_outputs():
    train, _, _ = make_pipelines(_numbered_dataset(task="regression"), batch_size=8)
    _, y = next(iter(train))
    assert y.shape == (8, 1) and y.dtype == tf.float32


def test_training_order_is_shuffled_every_epoch_and_repeatable_with_the_seed():
    train, _, _ = make_pipelines(_numbered_dataset(), batch_size=16, seed=3)
    first, second = _rows(train), _rows(train)
    assert sorted(first) == list(range(50)) and first != list(range(50))
    assert first != second
    again, _, _ = make_pipelines(_numbered_dataset(), batch_size=16, seed=3)
    assert _rows(again) == first


def test_validation_and_test_keep_their_order():
    _, val, test = make_pipelines(_numbered_dataset(), batch_size=4, seed=3)
    assert _rows(val) == list(range(50, 60)) and _rows(test) == list(range(60, 70))


def test_shuffle_false_keeps_the_training_order():
    train, _, _ = make_pipelines(_numbered_dataset(), batch_size=7, shuffle=False, cache=False)
    assert _rows(train) == list(range(50))


def test_last_batch_keeps_the_remainder():
    train, _, _ = make_pipelines(_numbered_dataset(), batch_size=16)
    assert [int(x.shape[0]) for x, _ in train] == [16, 16, 16, 2]


def test_pipelines_shard_by_data_for_multi_worker_training():
    for pipeline in make_pipelines(_numbered_dataset(), batch_size=8):
        assert (
            pipeline.options().experimental_distribute.auto_shard_policy
            == tf.data.experimental.AutoShardPolicy.DATA
        )


def test_text_batches_are_strings():
    texts = np.array([f"text {i}" for i in range(12)], dtype=object)
    spec = DataSpec(
        name="texts", kind="text", task="classification", input_shape=(), num_outputs=2, input_dtype="string"
    )
    labels = np.arange(12) % 2
    ds = Dataset(spec, texts, labels, texts[:2], labels[:2], texts[:2], labels[:2])
    x, _ = next(iter(make_pipelines(ds, batch_size=5)[0]))
    assert x.dtype == tf.string and x.shape == (5,)


@pytest.mark.parametrize("batch_size", [0, -4, 2.0, True])
def test_batch_size_must_be_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        make_pipelines(_numbered_dataset(), batch_size=batch_size)
