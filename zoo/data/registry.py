"""The registry of named datasets, and `load_dataset`, which also takes user data by prefix."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable

import numpy as np

from zoo.data import bbc_news, fashion_mnist, keras_sets, sklearn_sets, timeseries
from zoo.data.csv_table import load_csv
from zoo.data.image_folder import load_image_folder
from zoo.data.npz_arrays import load_npz
from zoo.data.packages import package_availability
from zoo.data.splits import check_fraction
from zoo.errors import ConfigError, UnknownNameError
from zoo.spec import Dataset, DataSpec

# Arguments `load_dataset` hands to every loader that takes them; the rest are its options.
COMMON_ARGUMENTS = ("data_dir", "target", "seed", "validation_fraction")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """One named dataset: what it is, where it comes from, and whether it can load offline now."""

    name: str
    kind: str
    task: str
    source: str  # where the data comes from, in one line
    load: Callable[..., Dataset]
    check: Callable[[str | None], tuple[bool, str]]
    # The spec, where it is known without the data: for the datasets a machine may lack (see
    # zoo/data/optional.py), so that a model can be built for one there. The others come with
    # their pip packages, so loading them is always possible.
    spec: DataSpec | None = None

    def availability(self, data_dir: str | None = None) -> tuple[bool, str]:
        """(available offline now?, where it is or why not, in one line)."""
        return self.check(data_dir)


def _sklearn_availability(data_dir: str | None = None) -> tuple[bool, str]:
    return package_availability("sklearn", "scikit-learn")


def _keras_availability(name: str) -> Callable[[str | None], tuple[bool, str]]:
    return lambda data_dir=None: keras_sets.availability(name)


SKLEARN = sklearn_sets.SOURCE
# In the order `zoo datasets` lists them: images, text, tabular, time series.
DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            name="digits",
            kind="image",
            task="classification",
            source=SKLEARN.format(name="digits"),
            load=sklearn_sets.load_digits,
            check=_sklearn_availability,
        ),
        DatasetInfo(
            name="fashion_mnist",
            kind="image",
            task="classification",
            source=fashion_mnist.SOURCE,
            load=fashion_mnist.load_fashion_mnist,
            check=fashion_mnist.availability,
            spec=fashion_mnist.SPEC,
        ),
        DatasetInfo(
            name="mnist",
            kind="image",
            task="classification",
            source="keras.datasets.mnist (downloads once, online)",
            load=keras_sets.load_mnist,
            check=_keras_availability("mnist"),
            spec=keras_sets.SPECS["mnist"],
        ),
        DatasetInfo(
            name="cifar10",
            kind="image",
            task="classification",
            source="keras.datasets.cifar10 (downloads once, online)",
            load=keras_sets.load_cifar10,
            check=_keras_availability("cifar10"),
            spec=keras_sets.SPECS["cifar10"],
        ),
        DatasetInfo(
            name="imdb",
            kind="text",
            task="classification",
            source="keras.datasets.imdb, decoded to text (downloads once, online)",
            load=keras_sets.load_imdb,
            check=_keras_availability("imdb"),
            spec=keras_sets.SPECS["imdb"],
        ),
        DatasetInfo(
            name="bbc_news",
            kind="text",
            task="classification",
            source=bbc_news.SOURCE,
            load=bbc_news.load_bbc_news,
            check=bbc_news.availability,
        ),
        DatasetInfo(
            name="iris",
            kind="tabular",
            task="classification",
            source=SKLEARN.format(name="iris"),
            load=sklearn_sets.load_iris,
            check=_sklearn_availability,
        ),
        DatasetInfo(
            name="breast_cancer",
            kind="tabular",
            task="classification",
            source=SKLEARN.format(name="breast_cancer"),
            load=sklearn_sets.load_breast_cancer,
            check=_sklearn_availability,
        ),
        DatasetInfo(
            name="diabetes",
            kind="tabular",
            task="regression",
            source=SKLEARN.format(name="diabetes"),
            load=sklearn_sets.load_diabetes,
            check=_sklearn_availability,
        ),
        DatasetInfo(
            name="co2",
            kind="timeseries",
            task="regression",
            source="statsmodels.datasets.co2 (weekly Mauna Loa CO2, 1958-2001)",
            load=timeseries.load_co2,
            check=timeseries.availability,
        ),
        DatasetInfo(
            name="sunspots",
            kind="timeseries",
            task="regression",
            source="statsmodels.datasets.sunspots (yearly, 1700-2008)",
            load=timeseries.load_sunspots,
            check=timeseries.availability,
        ),
    )
}

# User data, by prefix: "folder:DIR", "csv:FILE", "npz:FILE".
USER_LOADERS: dict[str, Callable[..., Dataset]] = {
    "folder": load_image_folder,
    "csv": load_csv,
    "npz": load_npz,
}
USER_FORMS = "folder:DIR (one sub-folder of images per class), csv:FILE (with target=COLUMN) or npz:FILE"


def dataset_names() -> list[str]:
    """The registered dataset names, in registry order (user data prefixes are not included)."""
    return list(DATASETS)


def load_dataset(
    name: str,
    *,
    data_dir: str | None = None,
    target: str | None = None,
    seed: int = 0,
    validation_fraction: float = 0.1,
    **options,
) -> Dataset:
    """Loads a registered dataset, or user data given as folder:DIR, csv:FILE or npz:FILE.

    Args:
        name: a name from `dataset_names()`, or a user-data form above.
        data_dir: where to look first for datasets that are read from files (fashion_mnist).
        target: the column to predict, for csv:FILE (required there, refused elsewhere).
        seed: seeds the validation split (test splits use a fixed seed, so they never change).
        validation_fraction: the share of the training data held out for validation.
        **options: the dataset's own options, e.g. window= and horizon= for co2 and sunspots,
            image_size= for folder:DIR, test_fraction= where the source has no test split.

    Raises:
        UnknownNameError: `name` is neither registered nor a user-data form.
        DatasetUnavailableError: the data cannot be loaded here (offline, not installed, no such path).
        ConfigError: an unknown option, or an invalid value.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"name must be a dataset name. Received: name={name!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer. Received: seed={seed!r}")
    check_fraction("validation_fraction", validation_fraction)
    loader = _loader(name)
    accepted = inspect.signature(loader).parameters
    if target is not None and "target" not in accepted:
        raise ConfigError(f"{name}: target= only applies to csv:FILE datasets. Received: target={target!r}")
    valid_options = sorted(set(accepted) - set(COMMON_ARGUMENTS) - {"path"})
    unknown = sorted(set(options) - set(valid_options))
    if unknown:
        raise ConfigError(
            f"{name}: unknown option(s) {', '.join(unknown)}; "
            f"valid options: {', '.join(valid_options) or 'none'}"
        )
    given = {"data_dir": data_dir, "target": target, "seed": seed, "validation_fraction": validation_fraction}
    return loader(**{key: value for key, value in given.items() if key in accepted}, **options)


def dataset_spec(name: str, **arguments) -> DataSpec:
    """What a model needs to know about a dataset (input shape, task, classes), loading no data
    where the registry knows it; otherwise the dataset is loaded with `load_dataset(name,
    **arguments)` and its spec returned (the spec of co2's windows, for one, depends on options).
    """
    info = DATASETS.get(name)
    if info is not None and info.spec is not None:
        return info.spec
    return load_dataset(name, **arguments).spec


def _loader(name: str) -> Callable[..., Dataset]:
    """The loader for `name`, with a user-data path already bound."""
    prefix, colon, path = name.partition(":")
    if colon and prefix in USER_LOADERS:
        if not path:
            raise ConfigError(f"{name}: give a path after the prefix, e.g. {prefix}:/data/my_set")
        return functools.partial(USER_LOADERS[prefix], path)
    if name in DATASETS:
        return DATASETS[name].load
    raise UnknownNameError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}, or {USER_FORMS}")
