import numpy as np
import pytest

from zoo.data import load_dataset


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


def test_digits_are_raw_8x8x1_float32_images_with_ten_named_classes(digits):
    assert digits.spec.kind == "image" and digits.spec.input_shape == (8, 8, 1)
    assert digits.spec.class_names == tuple("0123456789")
    for x, y in (
        (digits.x_train, digits.y_train),
        (digits.x_val, digits.y_val),
        (digits.x_test, digits.y_test),
    ):
        assert x.dtype == np.float32 and x.shape[1:] == (8, 8, 1)
        assert y.dtype == np.int64 and y.ndim == 1
    assert digits.x_train.min() == 0 and digits.x_train.max() == 16


def test_digits_split_sizes_are_20_percent_test_then_10_percent_validation(digits):
    assert len(digits.x_test) == round(1797 * 0.2)
    rest = 1797 - len(digits.x_test)
    assert len(digits.x_val) == round(rest * 0.1)
    assert len(digits.x_train) + len(digits.x_val) + len(digits.x_test) == 1797


def test_digits_splits_are_stratified(digits):
    overall = np.bincount(np.concatenate([digits.y_train, digits.y_val, digits.y_test])) / 1797
    for y in (digits.y_val, digits.y_test):
        share = np.bincount(y, minlength=10) / len(y)
        assert np.abs(share - overall).max() < 0.02


def test_loading_is_deterministic_with_the_seed(digits):
    again = load_dataset("digits", seed=0)
    other = load_dataset("digits", seed=1)
    np.testing.assert_array_equal(again.x_train, digits.x_train)
    np.testing.assert_array_equal(again.y_val, digits.y_val)
    np.testing.assert_array_equal(other.x_test, digits.x_test)  # the test split is fixed
    assert not np.array_equal(other.y_val, digits.y_val)


@pytest.mark.parametrize(
    "name, classes, first_feature",
    [
        ("iris", ("setosa", "versicolor", "virginica"), "sepal length (cm)"),
        ("breast_cancer", ("malignant", "benign"), "mean radius"),
    ],
)
def test_tabular_classification_keeps_class_and_feature_names(name, classes, first_feature):
    ds = load_dataset(name)
    assert ds.spec.kind == "tabular" and ds.spec.task == "classification"
    assert ds.spec.class_names == classes and ds.spec.num_outputs == len(classes)
    assert ds.spec.feature_names[0] == first_feature
    assert ds.x_train.dtype == np.float32 and ds.x_train.shape[1] == len(ds.spec.feature_names)
    assert set(np.unique(ds.y_test)) == set(range(len(classes)))


def test_diabetes_is_raw_regression_with_n_by_1_float_targets():
    ds = load_dataset("diabetes")
    assert ds.spec.task == "regression" and ds.spec.num_outputs == 1
    assert ds.spec.feature_names == ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
    assert ds.y_train.dtype == np.float32 and ds.y_train.shape == (len(ds.x_train), 1)
    assert ds.x_train[:, 0].max() > 20  # ages in years, not sklearn's scaled values
    assert len(ds.x_train) + len(ds.x_val) + len(ds.x_test) == 442
