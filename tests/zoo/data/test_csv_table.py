import numpy as np
import pytest

from zoo.data import DataFormatError, load_dataset
from zoo.errors import ConfigError, DatasetUnavailableError


@pytest.fixture
def write_csv(tmp_path):
    def write(text: str, name: str = "table.csv"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def _rows(count: int, target) -> str:
    lines = ["id,size,colour_code,label"]
    lines += [f"{i},{i * 0.5},{i % 3},{target(i)}" for i in range(count)]
    return "\n".join(lines) + "\n"


def test_text_target_means_classification_with_sorted_class_names(write_csv):
    path = write_csv(_rows(40, lambda i: ["small", "big"][i % 2]))
    ds = load_dataset(f"csv:{path}", target="label")
    assert ds.spec.task == "classification" and ds.spec.class_names == ("big", "small")
    assert ds.spec.feature_names == ("id", "size", "colour_code")
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    by_id = {
        int(row[0]): label
        for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test))
        for row, label in zip(x, y, strict=True)
    }
    assert all(label == (1 if i % 2 == 0 else 0) for i, label in by_id.items())


def test_splits_are_disjoint_and_cover_every_row(write_csv):
    ds = load_dataset(f"csv:{write_csv(_rows(50, lambda i: i % 2))}", target="label")
    ids = [set(x[:, 0].astype(int)) for x in (ds.x_train, ds.x_val, ds.x_test)]
    assert sum(map(len, ids)) == 50 and set.union(*ids) == set(range(50))
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (36, 4, 10)


def test_integer_target_with_few_values_is_classification(write_csv):
    ds = load_dataset(f"csv:{write_csv(_rows(30, lambda i: 1_000_000 + i % 3))}", target="label")
    assert ds.spec.task == "classification" and ds.spec.class_names == ("1000000", "1000001", "1000002")


def test_real_valued_target_is_regression_with_n_by_1_floats(write_csv):
    ds = load_dataset(f"csv:{write_csv(_rows(30, lambda i: i * 1.25))}", target="label")
    assert ds.spec.task == "regression" and ds.spec.num_outputs == 1
    assert ds.y_train.dtype == np.float32 and ds.y_train.shape == (len(ds.x_train), 1)


def test_task_option_overrides_the_guess(write_csv):
    path = write_csv(_rows(30, lambda i: i % 3))
    assert load_dataset(f"csv:{path}", target="label", task="regression").spec.task == "regression"


def test_missing_target_error_lists_the_columns(write_csv):
    path = write_csv(_rows(10, lambda i: i % 2))
    with pytest.raises(
        ConfigError,
        match="no target column was given; pass target=COLUMN, one of: id, size, colour_code, label",
    ):
        load_dataset(f"csv:{path}")


def test_unknown_target_error_lists_the_columns(write_csv):
    path = write_csv(_rows(10, lambda i: i % 2))
    with pytest.raises(ConfigError, match="there is no column 'lable'; pass target=COLUMN, one of: id, size"):
        load_dataset(f"csv:{path}", target="lable")


def test_non_numeric_feature_column_is_named(write_csv):
    path = write_csv("city,size,label\nParis,1,0\nRome,2,1\n")
    with pytest.raises(DataFormatError, match=r"feature column 'city' is not numeric \('Paris' on line 2\)"):
        load_dataset(f"csv:{path}", target="label")


def test_missing_value_is_named_with_its_line(write_csv):
    path = write_csv("a,b,label\n1,2,0\n3,,1\n")
    with pytest.raises(DataFormatError, match="column 'b' has a missing value on line 3"):
        load_dataset(f"csv:{path}", target="label")


def test_ragged_row_is_a_format_error(write_csv):
    path = write_csv("a,b,label\n1,2,0\n3,4\n")
    with pytest.raises(DataFormatError, match="line 3 has 2 fields but the header has 3"):
        load_dataset(f"csv:{path}", target="label")


def test_missing_csv_file_is_one_line_unavailable_error(tmp_path):
    with pytest.raises(DatasetUnavailableError, match=r"^csv:.*absent.csv: no such file"):
        load_dataset(f"csv:{tmp_path / 'absent.csv'}", target="y")
