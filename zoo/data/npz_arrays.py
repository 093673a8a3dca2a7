"""A user's numpy archive (`npz:PATH`) with x_train/y_train and optional validation/test arrays.

The kind of data follows x's shape: (N, F) tabular, (N, T, F) sequence, (N, H, W, C) image, text
for string arrays; `kind=` overrides it. Integer targets mean classification; others regression.
Missing test or validation splits are held out of the training arrays.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from zoo.data.arrays import as_text
from zoo.data.errors import DataFormatError
from zoo.data.splits import (
    DEFAULT_TEST_FRACTION,
    TEST_SPLIT_SEED,
    Splits,
    check_fraction,
    hold_out_validation,
    holdout_indices,
    split_three_ways,
)
from zoo.errors import ConfigError, DatasetUnavailableError
from zoo.spec import KINDS, Dataset, DataSpec

SPLITS = ("train", "val", "test")
KIND_BY_NDIM = {2: "tabular", 3: "sequence", 4: "image"}
# Kinds whose examples need a trailing channel axis, and the example rank they need.
EXAMPLE_NDIM = {"tabular": 1, "sequence": 2, "timeseries": 2, "image": 3}


def load_npz(
    path: str,
    *,
    seed: int,
    validation_fraction: float,
    kind: str | None = None,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> Dataset:
    """Loads PATH's arrays; a missing test split is drawn with a fixed seed, validation with `seed`.

    Args:
        path: an .npz file (`np.savez`) with keys x_train, y_train and optionally x_val/y_val,
            x_test/y_test, and class_names (strings) for classification.
        kind: one of zoo.spec.KINDS to override the guess from x's shape; image, sequence and
            timeseries arrays missing their channel axis get one.
        validation_fraction: share of the training arrays held out when there is no x_val.
        test_fraction: share of the training arrays held out when there is no x_test.
    """
    name = f"npz:{path}"
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"kind must be one of {KINDS}. Received: kind={kind!r}")
    file = Path(path).expanduser()
    if not file.is_file():
        raise DatasetUnavailableError(f"{name}: no such file; pass npz:FILE saved with numpy.savez")
    arrays = _read_arrays(name, file)
    x = {split: arrays[f"x_{split}"] for split in SPLITS if f"x_{split}" in arrays}
    y = {split: arrays[f"y_{split}"] for split in SPLITS if f"y_{split}" in arrays}
    is_text = x["train"].dtype.kind in "US"
    kind = kind or ("text" if is_text else KIND_BY_NDIM.get(x["train"].ndim))
    if kind is None:
        raise DataFormatError(
            f"{name}: cannot tell the kind of x_train of shape {x['train'].shape}; pass kind=..."
        )
    is_classification = y["train"].dtype.kind in "iub"
    x = {split: _inputs(name, values, kind) for split, values in x.items()}
    y = {split: _targets(name, values, is_classification) for split, values in y.items()}
    for split in x:
        if x[split].shape[1:] != x["train"].shape[1:] or y[split].shape[1:] != y["train"].shape[1:]:
            raise DataFormatError(
                f"{name}: x_{split}/y_{split} examples have shapes {x[split].shape[1:]}/{y[split].shape[1:]} "
                f"but x_train/y_train have {x['train'].shape[1:]}/{y['train'].shape[1:]}"
            )
    num_classes = int(max(values.max(initial=0) for values in y.values())) + 1 if is_classification else 0
    if is_classification and num_classes < 2:
        raise DataFormatError(f"{name}: classification needs at least two classes; every y is 0")
    class_names = tuple(str(label) for label in arrays.get("class_names", ()))
    if is_classification and class_names and len(class_names) < num_classes:
        raise DataFormatError(
            f"{name}: {len(class_names)} class_names for class indices up to {num_classes - 1}"
        )
    spec = DataSpec(
        name=name,
        kind=kind,
        task="classification" if is_classification else "regression",
        input_shape=x["train"].shape[1:],
        num_outputs=(len(class_names) or num_classes) if is_classification else y["train"].shape[1],
        input_dtype="string" if kind == "text" else "float32",
        class_names=class_names if is_classification else (),
        description=f"Arrays from {file.name}.",
    )
    return Dataset(
        spec,
        *_splits(x, y, seed, validation_fraction, test_fraction, is_classification),
        source=str(file.resolve()),
    )


def _read_arrays(name: str, file: Path) -> dict[str, np.ndarray]:
    """Every array of the archive, checked for the x/y pairs the splits need."""
    try:
        archive = np.load(file, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise DataFormatError(f"{name}: holds a single .npy array; save the splits with numpy.savez")
        with archive:
            arrays = {key: archive[key] for key in archive.files}
    except ValueError as error:  # numpy refuses to unpickle: object arrays, or not numpy data at all
        raise DataFormatError(
            f"{name}: cannot be read without unpickling ({error}); save it with numpy.savez, "
            "text as str arrays and numbers as numeric arrays"
        ) from None
    except (OSError, zipfile.BadZipFile) as error:
        raise DataFormatError(f"{name}: not a readable .npz archive ({error})") from None
    if "x_train" not in arrays or "y_train" not in arrays:
        raise DataFormatError(f"{name}: needs arrays x_train and y_train; found {sorted(arrays)}")
    for split in SPLITS:
        has_x, has_y = f"x_{split}" in arrays, f"y_{split}" in arrays
        if has_x != has_y:
            raise DataFormatError(f"{name}: x_{split} and y_{split} must come together; found only one")
        if has_x and len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            x_count, y_count = len(arrays[f"x_{split}"]), len(arrays[f"y_{split}"])
            raise DataFormatError(f"{name}: x_{split} has {x_count} examples but y_{split} has {y_count}")
    return arrays


def _inputs(name: str, x: np.ndarray, kind: str) -> np.ndarray:
    if kind == "text":
        if x.dtype.kind not in "US" or x.ndim != 1:
            raise DataFormatError(
                f"{name}: text inputs must be a 1-D string array. Received: {x.dtype} {x.shape}"
            )
        return as_text(x)
    if x.dtype.kind not in "iufb":
        raise DataFormatError(f"{name}: {kind} inputs must be numeric. Received: dtype {x.dtype}")
    needed = EXAMPLE_NDIM[kind] + 1
    if x.ndim == needed - 1 and kind != "tabular":
        x = x[..., np.newaxis]
    if x.ndim != needed:
        raise DataFormatError(
            f"{name}: {kind} inputs need {needed} dimensions with the batch. Received: shape {x.shape}"
        )
    return x.astype(np.float32)


def _targets(name: str, y: np.ndarray, is_classification: bool) -> np.ndarray:
    if is_classification:
        if y.size and y.min() < 0:
            raise DataFormatError(f"{name}: class indices must be >= 0. Received: minimum {y.min()}")
        return y.reshape(-1).astype(np.int64)
    if y.dtype.kind != "f":
        raise DataFormatError(
            f"{name}: targets must be integer class indices or floats. Received: dtype {y.dtype}"
        )
    return y.reshape(len(y), -1).astype(np.float32)


def _splits(
    x: dict, y: dict, seed: int, validation_fraction: float, test_fraction: float, stratify: bool
) -> Splits:
    if "test" in x and "val" in x:
        return Splits(x["train"], y["train"], x["val"], y["val"], x["test"], y["test"])
    if "test" in x:
        return hold_out_validation(
            x["train"],
            y["train"],
            x["test"],
            y["test"],
            seed=seed,
            validation_fraction=validation_fraction,
            stratify=stratify,
        )
    if "val" in x:  # a validation split but no test split: the test split comes out of train
        check_fraction("test_fraction", test_fraction)
        kept, held = holdout_indices(y["train"], test_fraction, TEST_SPLIT_SEED, stratify=stratify)
        return Splits(
            x["train"][kept], y["train"][kept], x["val"], y["val"], x["train"][held], y["train"][held]
        )
    return split_three_ways(
        x["train"],
        y["train"],
        seed=seed,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
        stratify=stratify,
    )
