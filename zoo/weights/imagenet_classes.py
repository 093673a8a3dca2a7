"""The 1000 ImageNet class names, in the index order of the ImageNet classifier heads."""

from __future__ import annotations

import functools
from pathlib import Path

_CLASS_FILE = Path(__file__).with_name("imagenet_class_names.txt")
NUM_IMAGENET_CLASSES = 1000


@functools.lru_cache(maxsize=1)
def _read_classes() -> tuple[tuple[str, str], ...]:
    rows = []
    for line in _CLASS_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            wnid, name = line.split("\t")
            rows.append((wnid, name))
    assert len(rows) == NUM_IMAGENET_CLASSES, f"{_CLASS_FILE} has {len(rows)} classes"
    return tuple(rows)


def imagenet_class_names() -> list[str]:
    """Short English names, index i for class i (e.g. 0 'tench', 985 'daisy')."""
    return [name for _, name in _read_classes()]


def imagenet_wordnet_ids() -> list[str]:
    """WordNet ids (e.g. 'n01440764'), index i for class i; they are in sorted order."""
    return [wnid for wnid, _ in _read_classes()]
