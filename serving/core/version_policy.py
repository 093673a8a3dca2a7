"""Which of a model's versions on disk should be served: TF Serving's `ServableVersionPolicy`.

`model_version_policy` in the model config picks the latest N, all, or a specific list of the
version directories found under the base path (`FileSystemStoragePathSourceConfig`); reading it
from TF Serving's config is serving.apis.tfs.model_config's job.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable


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
            raise ValueError(
                f"num_versions must be positive. Received: num_versions={self.num_versions}")

    def select(self, on_disk: Iterable[int]) -> set[int]:
        """The versions to serve among the versions found on disk."""
        found = set(on_disk)
        if self.kind == "all":
            return found
        if self.kind == "specific":
            return found & self.versions
        return set(sorted(found)[-self.num_versions:])
