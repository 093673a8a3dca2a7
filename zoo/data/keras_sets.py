"""Datasets only keras.datasets provides here: mnist, cifar10 and imdb (as review text).

They need the network the first time; after that keras' cache serves them offline. Offline and
uncached, loading fails in about a second with a one-line `DatasetUnavailableError`. `SPECS`
are known without the data, so a model can be built for one on a machine that lacks it.
"""

from __future__ import annotations

import numpy as np

from zoo.data.arrays import as_class_indices, as_images, as_text
from zoo.data.downloads import DEFAULT_DOWNLOAD_TIMEOUT, KerasSource, load_with_keras
from zoo.data.optional import hidden_note, optional_data_hidden
from zoo.data.splits import hold_out_validation
from zoo.spec import Dataset, DataSpec

GOOGLE_STORAGE = "storage.googleapis.com"
SOURCES = {
    "mnist": KerasSource("mnist", GOOGLE_STORAGE, ("mnist.npz",)),
    # keras names the downloaded archive "<fname>_archive" when it extracts it.
    "cifar10": KerasSource("cifar10", "www.cs.toronto.edu", ("cifar-10-batches-py-target_archive",)),
    "imdb": KerasSource("imdb", GOOGLE_STORAGE, ("imdb.npz", "imdb_word_index.json")),
}
CIFAR10_CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IMDB_CLASS_NAMES = ("negative", "positive")
IMDB_INDEX_FROM = 3  # keras.datasets.imdb shifts word indices by 3: 0 pad, 1 start, 2 unknown
SPECS = {
    "mnist": DataSpec(
        name="mnist",
        kind="image",
        task="classification",
        input_shape=(28, 28, 1),
        num_outputs=10,
        class_names=tuple(str(digit) for digit in range(10)),
        description="MNIST: 28x28 grayscale handwritten digits, pixel values 0..255.",
    ),
    "cifar10": DataSpec(
        name="cifar10",
        kind="image",
        task="classification",
        input_shape=(32, 32, 3),
        num_outputs=len(CIFAR10_CLASS_NAMES),
        class_names=CIFAR10_CLASS_NAMES,
        description="CIFAR-10: 32x32 RGB photos of 10 object classes, pixel values 0..255.",
    ),
    "imdb": DataSpec(
        name="imdb",
        kind="text",
        task="classification",
        input_shape=(),
        num_outputs=len(IMDB_CLASS_NAMES),
        input_dtype="string",
        class_names=IMDB_CLASS_NAMES,
        description="IMDB movie reviews (lower case, no punctuation) labelled by sentiment.",
    ),
}


def availability(name: str) -> tuple[bool, str]:
    source = SOURCES[name]
    paths = ", ".join(str(path) for path in source.cache_paths())
    if source.is_cached():
        return True, f"cached by keras.datasets in {paths}"
    if optional_data_hidden():
        return False, _not_cached(source)
    return False, f"{_not_cached(source)}; needs a download by keras.datasets (online)"


def load_mnist(
    *,
    seed: int,
    validation_fraction: float,
    download_origin: str | None = None,
    download_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
) -> Dataset:
    """70k 28x28 handwritten digits as (28, 28, 1) float32 images with values 0..255."""
    (x_train, y_train), (x_test, y_test) = _load("mnist", download_origin, download_timeout)
    return _image_dataset(SPECS["mnist"], x_train, y_train, x_test, y_test, seed, validation_fraction)


def load_cifar10(
    *,
    seed: int,
    validation_fraction: float,
    download_origin: str | None = None,
    download_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
) -> Dataset:
    """60k 32x32 colour photos as (32, 32, 3) float32 images with values 0..255; 10 classes."""
    (x_train, y_train), (x_test, y_test) = _load("cifar10", download_origin, download_timeout)
    return _image_dataset(SPECS["cifar10"], x_train, y_train, x_test, y_test, seed, validation_fraction)


def load_imdb(
    *,
    seed: int,
    validation_fraction: float,
    download_origin: str | None = None,
    download_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
) -> Dataset:
    """50k movie reviews as lower-case text (decoded from keras' word indices); positive or not."""
    ((x_train, y_train), (x_test, y_test)), word_index = _load(
        "imdb",
        download_origin,
        download_timeout,
        load=lambda module: (module.load_data(), module.get_word_index()),
    )
    splits = hold_out_validation(
        decode_reviews(x_train, word_index),
        as_class_indices(y_train, 2),
        decode_reviews(x_test, word_index),
        as_class_indices(y_test, 2),
        seed=seed,
        validation_fraction=validation_fraction,
        stratify=True,
    )
    return Dataset(SPECS["imdb"], *splits, source="keras.datasets.imdb")


def decode_reviews(sequences, word_index: dict[str, int]) -> np.ndarray:
    """Turns keras' imdb word-index sequences back into text, dropping the start/unknown marks."""
    words = {index + IMDB_INDEX_FROM: word for word, index in word_index.items()}
    return as_text([" ".join(words[i] for i in sequence if i in words) for sequence in sequences])


def _not_cached(source: KerasSource) -> str:
    cached = " and ".join(str(path) for path in source.cache_paths())
    if optional_data_hidden():
        return f"not loaded; {hidden_note(f'the keras cache ({cached})')}"
    return f"not in the keras cache ({cached})"


def _load(name: str, download_origin: str | None, download_timeout: float, **kwargs):
    source = SOURCES[name]
    return load_with_keras(
        name,
        source,
        not_found=_not_cached(source),
        how_to_get=(
            "Run it once with network access so keras caches it, "
            f"or copy {' and '.join(source.cache_files)} into {source.cache_paths()[0].parent}."
        ),
        download_origin=download_origin,
        download_timeout=download_timeout,
        **kwargs,
    )


def _image_dataset(spec, x_train, y_train, x_test, y_test, seed, validation_fraction) -> Dataset:
    splits = hold_out_validation(
        as_images(x_train),
        as_class_indices(y_train, spec.num_outputs),
        as_images(x_test),
        as_class_indices(y_test, spec.num_outputs),
        seed=seed,
        validation_fraction=validation_fraction,
        stratify=True,
    )
    return Dataset(spec, *splits, source=f"keras.datasets.{spec.name}")
