"""Fashion-MNIST: 70k 28x28 grayscale clothing images in 10 classes, read from IDX files.

Looked for, in order: `data_dir`, Debian's `dataset-fashion-mnist` package, and the keras cache;
only when none has the files does keras.datasets download them (online). With
ZOO_NO_OPTIONAL_DATA set (zoo/data/optional.py) only `data_dir` is searched. `SPEC` is known
without the data, so a model can be built for it on a machine that lacks it.
"""

from __future__ import annotations

from pathlib import Path

from zoo.data.arrays import as_class_indices, as_images
from zoo.data.downloads import DEFAULT_DOWNLOAD_TIMEOUT, KerasSource, keras_cache_dir, load_with_keras
from zoo.data.errors import DataFormatError
from zoo.data.idx import read_idx
from zoo.data.optional import hidden_note, optional_data_hidden
from zoo.data.splits import hold_out_validation
from zoo.spec import Dataset, DataSpec

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
SOURCE = "Zalando's IDX files: --data-dir, Debian dataset-fashion-mnist, or keras.datasets (online)"
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
# The four files by the split array they hold; each may be gzipped (".gz") or not.
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
KERAS_SOURCE = KerasSource(
    module="fashion_mnist",
    host="storage.googleapis.com",
    cache_files=tuple(f"fashion-mnist/{name}.gz" for name in IDX_FILES.values()),
)
SPEC = DataSpec(
    name="fashion_mnist",
    kind="image",
    task="classification",
    input_shape=(28, 28, 1),
    num_outputs=len(CLASS_NAMES),
    class_names=CLASS_NAMES,
    description="Fashion-MNIST: 28x28 grayscale Zalando article images, pixel values 0..255.",
)
HOW_TO_GET = (
    "Install it with `apt-get install dataset-fashion-mnist` "
    "or pass --data-dir DIR holding the four IDX .gz files."
)


def availability(data_dir: str | None = None) -> tuple[bool, str]:
    for folder in _search_dirs(data_dir):
        if _idx_paths(folder):
            return True, f"IDX files in {folder}"
    if optional_data_hidden():
        return False, f"{_not_found(data_dir)}. {HOW_TO_GET}"
    return False, f"{_not_found(data_dir)}; needs a download by keras.datasets. {HOW_TO_GET}"


def load_fashion_mnist(
    *,
    seed: int,
    validation_fraction: float,
    data_dir: str | None = None,
    download_origin: str | None = None,
    download_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
) -> Dataset:
    """Loads the official 60k/10k split as (28, 28, 1) float32 images with values 0..255.

    Validation is a stratified, seeded share of the 60k training images.
    """
    for folder in _search_dirs(data_dir):
        paths = _idx_paths(folder)
        if paths:
            arrays = {key: read_idx(path) for key, path in paths.items()}
            source = f"IDX files in {folder}"
            break
    else:
        (x_train, y_train), (x_test, y_test) = load_with_keras(
            "fashion_mnist",
            KERAS_SOURCE,
            not_found=_not_found(data_dir),
            how_to_get=HOW_TO_GET,
            download_origin=download_origin,
            download_timeout=download_timeout,
        )
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
        source = "keras.datasets.fashion_mnist (downloaded)"
    _check_shapes(arrays, source)
    splits = hold_out_validation(
        as_images(arrays["x_train"]),
        as_class_indices(arrays["y_train"], len(CLASS_NAMES)),
        as_images(arrays["x_test"]),
        as_class_indices(arrays["y_test"], len(CLASS_NAMES)),
        seed=seed,
        validation_fraction=validation_fraction,
        stratify=True,
    )
    return Dataset(SPEC, *splits, source=source)


def _search_dirs(data_dir: str | None) -> list[Path]:
    folders = [Path(data_dir)] if data_dir else []
    if optional_data_hidden():
        return folders
    return folders + _optional_dirs()


def _optional_dirs() -> list[Path]:
    return [DEBIAN_DIR, keras_cache_dir() / "fashion-mnist"]


def _idx_paths(folder: Path) -> dict[str, Path] | None:
    """The four IDX files in `folder`, gzipped or not; None unless all four are there."""
    paths = {}
    for key, name in IDX_FILES.items():
        found = [path for path in (folder / f"{name}.gz", folder / name) if path.is_file()]
        if not found:
            return None
        paths[key] = found[0]
    return paths


def _not_found(data_dir: str | None) -> str:
    given = [f"--data-dir {data_dir}"] if data_dir else []
    debian, keras_cache = _optional_dirs()
    optional = [str(debian), f"the keras cache ({keras_cache})"]
    if optional_data_hidden():
        where = f" in {given[0]}" if given else ""
        return f"not found{where}; {hidden_note(' and '.join(optional))}"
    places = given + optional
    return "not found in " + ", ".join(places[:-1]) + " or " + places[-1]


def _check_shapes(arrays: dict, source: str) -> None:
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (len(images),):
            raise DataFormatError(
                f"fashion_mnist: {split} files in {source} hold images of shape {images.shape} and "
                f"labels of shape {labels.shape}; expected (N, 28, 28) and (N,)"
            )
        if labels.size and labels.max() >= len(CLASS_NAMES):
            raise DataFormatError(
                f"fashion_mnist: {split} labels in {source} go up to {labels.max()}; expected 0..9"
            )
