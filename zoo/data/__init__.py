"""The zoo's datasets: named, offline-first loaders plus user data, and tf.data pipelines.

    from zoo.data import load_dataset, make_pipelines
    ds = load_dataset("digits", seed=0)
    train, val, test = make_pipelines(ds, batch_size=64)

Importing this package is cheap: scikit-learn, statsmodels, Pillow, keras and TensorFlow are
imported by the loaders that need them.
"""

from zoo.data.errors import DataFormatError
from zoo.data.idx import read_idx
from zoo.data.pipelines import make_pipelines
from zoo.data.registry import DATASETS, DatasetInfo, dataset_names, dataset_spec, load_dataset
from zoo.data.timeseries import TimeseriesDataset, seasonal_naive_forecast

__all__ = [
    "DATASETS",
    "DataFormatError",
    "DatasetInfo",
    "TimeseriesDataset",
    "dataset_names",
    "dataset_spec",
    "load_dataset",
    "make_pipelines",
    "read_idx",
    "seasonal_naive_forecast",
]
