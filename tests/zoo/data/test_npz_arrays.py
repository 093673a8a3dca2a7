import numpy as np
import pytest

from zoo.data import DataFormatError, load_dataset
from zoo.errors import ConfigError, DatasetUnavailableError


@pytest.fixture
def save_npz(tmp_path):
    def save(**arrays):
        path = tmp_path / "arrays.npz"
        np.savez(path, **arrays)
        return path

    return save


def test_given_splits_are_used_as_they_are(save_npz):
    rng = np.random.default_rng(0)
    arrays = {
        f"{part}_{split}": values
        for split, count in (("train", 20), ("val", 5), ("test", 7))
        for part, values in (("x", rng.normal(size=(count, 3))), ("y", np.arange(count) % 3))
    }
    ds = load_dataset(f"npz:{save_npz(**arrays, class_names=np.array(['a', 'b', 'c']))}")
    assert ds.spec.kind == "tabular" and ds.spec.task == "classification"
    assert ds.spec.class_names == ("a", "b", "c") and ds.spec.num_outputs == 3
    np.testing.assert_array_equal(ds.x_val, arrays["x_val"].astype(np.float32))
    np.testing.assert_array_equal(ds.y_test, arrays["y_test"])
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64


def test_train_only_archive_is_split_three_ways(save_npz):
    ds = load_dataset(f"npz:{save_npz(x_train=np.arange(100.0).reshape(50, 2), y_train=np.arange(50) % 2)}")
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (36, 4, 10)
    rows = [set(x[:, 0]) for x in (ds.x_train, ds.x_val, ds.x_test)]
    assert sum(map(len, rows)) == len(set.union(*rows)) == 50


def test_missing_test_split_is_held_out_of_train_when_val_is_given(save_npz):
    path = save_npz(
        x_train=np.zeros((40, 2)), y_train=np.arange(40) % 2, x_val=np.ones((6, 2)), y_val=np.arange(6) % 2
    )
    ds = load_dataset(f"npz:{path}")
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (32, 6, 8)
    assert (ds.x_val == 1).all()


def test_float_targets_mean_regression_shaped_n_by_outputs(save_npz):
    ds = load_dataset(f"npz:{save_npz(x_train=np.zeros((30, 4)), y_train=np.linspace(0, 1, 30))}")
    assert ds.spec.task == "regression" and ds.spec.num_outputs == 1
    assert ds.y_train.shape == (len(ds.x_train), 1) and ds.y_train.dtype == np.float32


def test_kind_follows_the_shape_of_x(save_npz):
    images = load_dataset(f"npz:{save_npz(x_train=np.zeros((20, 4, 4, 3)), y_train=np.arange(20) % 2)}")
    sequences = load_dataset(f"npz:{save_npz(x_train=np.zeros((20, 6, 2)), y_train=np.arange(20) % 2)}")
    assert images.spec.kind == "image" and images.spec.input_shape == (4, 4, 3)
    assert sequences.spec.kind == "sequence" and sequences.spec.input_shape == (6, 2)


def test_kind_option_adds_the_missing_channel_axis(save_npz):
    ds = load_dataset(
        f"npz:{save_npz(x_train=np.zeros((20, 5, 5)), y_train=np.arange(20) % 2)}", kind="image"
    )
    assert ds.spec.kind == "image" and ds.x_train.shape[1:] == (5, 5, 1)


def test_string_inputs_are_text(save_npz):
    texts = np.array([f"review number {i}" for i in range(20)])
    ds = load_dataset(f"npz:{save_npz(x_train=texts, y_train=np.arange(20) % 2)}")
    assert ds.spec.kind == "text" and ds.spec.input_dtype == "string" and ds.spec.input_shape == ()
    assert ds.x_train.dtype == object and ds.x_train[0].startswith("review number")


def test_pickled_object_arrays_are_refused(save_npz):
    path = save_npz(x_train=np.array([{"a": 1}] * 4, dtype=object), y_train=np.zeros(4, int))
    with pytest.raises(DataFormatError, match="cannot be read without unpickling"):
        load_dataset(f"npz:{path}")


def test_a_single_npy_array_is_refused(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(DataFormatError, match="holds a single .npy array; save the splits with numpy.savez"):
        load_dataset(f"npz:{path}")


def test_a_file_that_is_not_numpy_data_is_a_format_error(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("just some notes")
    with pytest.raises(DataFormatError, match="^npz:.*notes.npz: "):
        load_dataset(f"npz:{path}")


def test_unpaired_split_arrays_are_refused(save_npz):
    with pytest.raises(DataFormatError, match="x_test and y_test must come together"):
        load_dataset(
            f"npz:{save_npz(x_train=np.zeros((4, 2)), y_train=np.zeros(4, int), x_test=np.zeros((2, 2)))}"
        )


def test_archive_without_training_arrays_lists_what_it_holds(save_npz):
    with pytest.raises(DataFormatError, match=r"needs arrays x_train and y_train; found \['features'\]"):
        load_dataset(f"npz:{save_npz(features=np.zeros(3))}")


def test_unknown_kind_is_a_config_error(save_npz):
    with pytest.raises(ConfigError, match="kind must be one of"):
        load_dataset(f"npz:{save_npz(x_train=np.zeros((4, 2)), y_train=np.zeros(4, int))}", kind="video")


def test_missing_npz_file_is_one_line_unavailable_error(tmp_path):
    with pytest.raises(DatasetUnavailableError, match=r"^npz:.*gone.npz: no such file"):
        load_dataset(f"npz:{tmp_path / 'gone.npz'}")
