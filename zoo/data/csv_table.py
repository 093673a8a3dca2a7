"""A user's CSV table (`csv:PATH`, `target=COLUMN`) as tabular classification or regression.

The header names the columns. Every column but the target must be numeric. The task follows
the target column: text, or integers with at most `MAX_INTEGER_CLASSES` distinct values, mean
classification; other numbers mean regression (`task=` overrides the guess).
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np

from zoo.data.errors import DataFormatError
from zoo.data.splits import DEFAULT_TEST_FRACTION, split_three_ways
from zoo.errors import ConfigError, DatasetUnavailableError
from zoo.spec import TASKS, Dataset, DataSpec

MAX_INTEGER_CLASSES = 20
MISSING_VALUES = ("", "na", "n/a", "nan", "null", "none", "?")


@dataclasses.dataclass(frozen=True)
class Table:
    """The cells of a CSV file as text, by column, with each data row's line number."""

    name: str
    header: list[str]
    columns: dict[str, list[str]]
    line_numbers: list[int]


def load_csv(
    path: str,
    *,
    target: str | None,
    seed: int,
    validation_fraction: float,
    task: str | None = None,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> Dataset:
    """Loads PATH with COLUMN as the target and the other (numeric) columns as float32 features.

    Args:
        path: a comma-separated file with a header row.
        target: the column to predict; required.
        task: "classification" or "regression" to override the guess from the target's values.
        test_fraction: the share held out (with a fixed seed) as the test split.
    """
    name = f"csv:{path}"
    if task is not None and task not in TASKS:
        raise ConfigError(f"task must be one of {TASKS}. Received: task={task!r}")
    file = Path(path).expanduser()
    if not file.is_file():
        raise DatasetUnavailableError(f"{name}: no such file; pass csv:FILE, a table with a header row")
    table = _read_table(name, file)
    if target is None or target not in table.header:
        given = "no target column was given" if target is None else f"there is no column {target!r}"
        raise ConfigError(f"{name}: {given}; pass target=COLUMN, one of: {', '.join(table.header)}")
    features = [column for column in table.header if column != target]
    if not features:
        raise DataFormatError(f"{name}: the table has no columns besides the target {target!r}")
    x = np.stack([_feature(table, column) for column in features], axis=1)
    y, class_names = _target(table, target, task)
    is_classification = bool(class_names)
    spec = DataSpec(
        name=name,
        kind="tabular",
        task="classification" if is_classification else "regression",
        input_shape=(len(features),),
        num_outputs=len(class_names) if is_classification else 1,
        class_names=class_names,
        feature_names=tuple(features),
        description=f"Table {file.name}, predicting column {target!r}.",
    )
    splits = split_three_ways(
        x,
        y,
        seed=seed,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
        stratify=is_classification,
    )
    return Dataset(spec, *splits, source=str(file.resolve()))


def _read_table(name: str, file: Path) -> Table:
    with file.open(newline="", encoding="utf-8-sig") as handle:
        rows = [
            (line, row) for line, row in enumerate(csv.reader(handle), start=1) if any(c.strip() for c in row)
        ]
    if len(rows) < 2:
        raise DataFormatError(f"{name}: needs a header row and at least one data row")
    header = [cell.strip() for cell in rows[0][1]]
    duplicates = sorted({column for column in header if header.count(column) > 1})
    if duplicates:
        raise DataFormatError(f"{name}: duplicate column names {duplicates}")
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise DataFormatError(
                f"{name}: line {line} has {len(row)} fields but the header has {len(header)}"
            )
    columns = {column: [row[i].strip() for _, row in rows[1:]] for i, column in enumerate(header)}
    return Table(name, header, columns, [line for line, _ in rows[1:]])


def _parse_numbers(table: Table, column: str) -> np.ndarray | None:
    """The column as float64, or None if some cell is not a number. Missing cells are an error."""
    values = table.columns[column]
    for line, value in zip(table.line_numbers, values, strict=True):
        if value.lower() in MISSING_VALUES:
            raise DataFormatError(
                f"{table.name}: column {column!r} has a missing value on line {line}; "
                "fill or drop missing values first"
            )
    try:
        return np.array([float(value) for value in values], dtype=np.float64)
    except ValueError:
        return None


def _feature(table: Table, column: str) -> np.ndarray:
    numbers = _parse_numbers(table, column)
    if numbers is None or not np.isfinite(numbers).all():
        line, value = _first_bad_cell(table, column)
        raise DataFormatError(
            f"{table.name}: feature column {column!r} is not numeric ({value!r} on line {line}); "
            "tabular models take numbers only: drop or encode that column first"
        )
    return numbers.astype(np.float32)


def _first_bad_cell(table: Table, column: str) -> tuple[int, str]:
    for line, value in zip(table.line_numbers, table.columns[column], strict=True):
        try:
            if np.isfinite(float(value)):
                continue
        except ValueError:
            pass
        return line, value
    raise AssertionError(f"column {column!r} has no bad cell")


def _target(table: Table, column: str, task: str | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Targets and class names: int64 class indices with names, or float32 (N, 1) with no names."""
    numbers = _parse_numbers(table, column)
    if numbers is not None and not np.isfinite(numbers).all():
        raise DataFormatError(f"{table.name}: target column {column!r} holds inf values")
    if task is None:
        few_integers = (
            numbers is not None
            and np.array_equal(numbers, np.round(numbers))
            and len(np.unique(numbers)) <= MAX_INTEGER_CLASSES
        )
        task = "classification" if numbers is None or few_integers else "regression"
    if task == "regression":
        if numbers is None:
            line, value = _first_bad_cell(table, column)
            raise DataFormatError(
                f"{table.name}: task='regression' needs a numeric target but column {column!r} "
                f"holds {value!r} on line {line}"
            )
        return numbers.astype(np.float32).reshape(-1, 1), ()
    if numbers is None:
        classes, y = np.unique(np.asarray(table.columns[column]), return_inverse=True)
        names = tuple(str(label) for label in classes)
    else:
        classes, y = np.unique(numbers, return_inverse=True)
        names = tuple(str(int(label)) if label.is_integer() else str(label) for label in classes)
    if len(names) < 2:
        raise DataFormatError(f"{table.name}: target column {column!r} has a single class {names[0]!r}")
    return y.astype(np.int64), names
