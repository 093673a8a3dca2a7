"""The small datasets bundled with scikit-learn: digits (images), iris, breast_cancer, diabetes.

They load offline in milliseconds, which makes `digits` the demo's default dataset. None has a
test split of its own, so a fixed, seeded one is drawn (see `splits.split_three_ways`).
"""

from __future__ import annotations

import numpy as np

from zoo.data.packages import require_package
from zoo.data.splits import DEFAULT_TEST_FRACTION, split_three_ways
from zoo.spec import Dataset, DataSpec

SOURCE = "scikit-learn's bundled copy (sklearn.datasets.load_{name})"


def load_digits(
    *, seed: int, validation_fraction: float, test_fraction: float = DEFAULT_TEST_FRACTION
) -> Dataset:
    """1797 handwritten digits as (8, 8, 1) float32 images with values 0..16; 10 classes."""
    datasets = _sklearn_datasets("digits")
    bunch = datasets.load_digits()
    x = bunch.images.astype(np.float32)[..., np.newaxis]
    spec = DataSpec(
        name="digits",
        kind="image",
        task="classification",
        input_shape=x.shape[1:],
        num_outputs=10,
        class_names=tuple(str(digit) for digit in range(10)),
        description="8x8 grayscale handwritten digits, pixel values 0..16 (UCI optdigits).",
    )
    return _classification(spec, x, bunch.target, seed, validation_fraction, test_fraction)


def load_iris(
    *, seed: int, validation_fraction: float, test_fraction: float = DEFAULT_TEST_FRACTION
) -> Dataset:
    """150 flowers, 4 measurements in cm; 3 species."""
    bunch = _sklearn_datasets("iris").load_iris()
    spec = _tabular_classification_spec("iris", bunch, "Iris flowers: sepal and petal sizes in cm.")
    return _classification(
        spec, bunch.data.astype(np.float32), bunch.target, seed, validation_fraction, test_fraction
    )


def load_breast_cancer(
    *, seed: int, validation_fraction: float, test_fraction: float = DEFAULT_TEST_FRACTION
) -> Dataset:
    """569 tumours, 30 features computed from cell-nucleus images; malignant or benign."""
    bunch = _sklearn_datasets("breast_cancer").load_breast_cancer()
    spec = _tabular_classification_spec(
        "breast_cancer", bunch, "Wisconsin diagnostic breast cancer: 30 cell-nucleus features."
    )
    return _classification(
        spec, bunch.data.astype(np.float32), bunch.target, seed, validation_fraction, test_fraction
    )


def load_diabetes(
    *, seed: int, validation_fraction: float, test_fraction: float = DEFAULT_TEST_FRACTION
) -> Dataset:
    """442 patients, 10 raw (unscaled) baseline measurements; predicts disease progression."""
    # scaled=False: the raw values, since models normalise inside their graph.
    bunch = _sklearn_datasets("diabetes").load_diabetes(scaled=False)
    x = bunch.data.astype(np.float32)
    y = bunch.target.astype(np.float32).reshape(-1, 1)
    spec = DataSpec(
        name="diabetes",
        kind="tabular",
        task="regression",
        input_shape=x.shape[1:],
        num_outputs=1,
        feature_names=tuple(bunch.feature_names),
        description="Diabetes progression one year after baseline, from 10 raw measurements.",
    )
    splits = split_three_ways(
        x, y, seed=seed, validation_fraction=validation_fraction, test_fraction=test_fraction, stratify=False
    )
    return Dataset(spec, *splits, source=SOURCE.format(name="diabetes"))


def _sklearn_datasets(name: str):
    require_package(name, "sklearn", "scikit-learn")
    import sklearn.datasets

    return sklearn.datasets


def _tabular_classification_spec(name: str, bunch, description: str) -> DataSpec:
    return DataSpec(
        name=name,
        kind="tabular",
        task="classification",
        input_shape=(bunch.data.shape[1],),
        num_outputs=len(bunch.target_names),
        class_names=tuple(str(label) for label in bunch.target_names),
        feature_names=tuple(bunch.feature_names),
        description=description,
    )


def _classification(
    spec: DataSpec, x: np.ndarray, y: np.ndarray, seed: int, validation_fraction: float, test_fraction: float
) -> Dataset:
    splits = split_three_ways(
        x,
        y.astype(np.int64),
        seed=seed,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
        stratify=True,
    )
    return Dataset(spec, *splits, source=SOURCE.format(name=spec.name))
