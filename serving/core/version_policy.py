"""Which versions of a model should be served, from its base path and its version policy.

This is TF Serving's file-system source: version directories are `base_path/<integer>`, anything
else under the base path is ignored, and `model_version_policy` picks the latest N, all, or a
specific list of them (`FileSystemStoragePathSourceConfig.ServableVersionPolicy`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Iterable

logger = logging.getLogger("serving.core")


@dataclasses.dataclass(frozen=True)
class VersionPolicy:
    """One of TF Serving's three version policies.

    kind: "latest" keeps the `num_versions` highest versions, "all" keeps every version,
    "specific" keeps exactly `versions` (those present on disk).
    """

    kind: str = "latest"
    num_versions: int = 1
    versions: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.kind not in ("latest", "all", "specific"):
            raise ValueError(
                f"kind must be 'latest', 'all' or 'specific'. Received: kind={self.kind!r}"
            )
        if self.num_versions < 1:
            raise ValueError(f"num_versions must be positive. Received: num_versions={self.num_versions}")

    @classmethod
    def from_proto(cls, proto) -> "VersionPolicy":
        """From a `ServableVersionPolicy` message; unset means latest{1}, as in TF Serving."""
        choice = proto.WhichOneof("policy_choice")
        if choice == "all":
            return cls(kind="all")
        if choice == "specific":
            return cls(kind="specific", versions=frozenset(proto.specific.versions))
        # TF Serving treats latest{num_versions: 0} as 1.
        return cls(kind="latest", num_versions=max(proto.latest.num_versions, 1))

    def select(self, on_disk: Iterable[int]) -> set[int]:
        """The versions to serve among the versions found on disk."""
        found = set(on_disk)
        if self.kind == "all":
            return found
        if self.kind == "specific":
            return found & self.versions
        return set(sorted(found)[-self.num_versions:])


def find_version_dirs(base_path: str) -> dict[int, str]:
    """Maps each version number under `base_path` to its directory.

    A version directory's name is a non-negative integer ("7", "0007"); files and other names are
    skipped. If two names give one number the one sorting last wins, with a warning.

    Raises:
        FileNotFoundError, NotADirectoryError, PermissionError: base_path cannot be listed.
    """
    found: dict[int, str] = {}
    for entry_name in sorted(os.listdir(base_path)):
        if not (entry_name.isascii() and entry_name.isdigit()):
            continue
        path = os.path.join(base_path, entry_name)
        if not os.path.isdir(path):
            continue
        version = int(entry_name)
        if version in found:
            logger.warning("event=duplicate_version_dir version=%d using=%s ignoring=%s",
                           version, path, found[version])
        found[version] = path
    return found
