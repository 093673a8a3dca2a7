"""The manager's bookkeeping for each model and version, and the decisions made from it.

Records here are plain mutable objects guarded by the ModelManager's lock; nothing in this
module loads, sleeps or locks. `ModelRecord.plan_loads` and `plan_unloads` are TF Serving's
availability-preserving policy: load every wanted version that is new, and unload a version
that left the policy only when another wanted version is serving (or none is wanted at all),
so a model never goes dark while its replacement loads or if the replacement is broken.
"""

from __future__ import annotations

import dataclasses
import threading

import grpc

from serving.core.version_policy import VersionPolicy

START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"


@dataclasses.dataclass(frozen=True)
class VersionStatus:
    """One row of GetModelStatus: a version, its state and the error that ended it, if any."""

    version: int
    state: str  # "START" | "LOADING" | "AVAILABLE" | "UNLOADING" | "END"
    error_code: grpc.StatusCode | None  # None == OK
    error_message: str


class VersionRecord:
    """One version of one model through its life: START -> LOADING -> AVAILABLE -> UNLOADING -> END.

    A failed load goes from LOADING straight to END with `error_code` set; `failed_fingerprint`
    remembers the files that failed so a later poll retries only once they change. `handles`
    counts requests holding the servable: an UNLOADING version is released when it drops to 0.
    """

    def __init__(self, model_name: str, version: int, path: str):
        self.model_name = model_name
        self.version = version
        self.path = path
        self.state = START
        self.servable = None
        self.error_code: grpc.StatusCode | None = None
        self.error_message = ""
        self.failed_fingerprint: tuple | None = None
        self.handles = 0
        # Set when no more load attempts will be made (the version is AVAILABLE or END).
        self.settled = threading.Event()
        # Set when the version is no longer wanted: pending load retries are skipped.
        self.cancelled = threading.Event()

    @property
    def failed(self) -> bool:
        return self.state == END and self.error_code is not None

    def status(self) -> VersionStatus:
        return VersionStatus(self.version, self.state, self.error_code, self.error_message)


class ModelRecord:
    """A model's config (base path, policy, labels) and every version the manager has seen.

    `wanted` maps the versions the policy selected at the last successful poll to their
    directories; `source_error` says why the last poll could not list the base path.
    """

    def __init__(self, name: str):
        self.name = name
        self.base_path = ""
        self.policy = VersionPolicy()
        self.configured = False
        self.labels: dict[str, int] = {}
        self.wanted: dict[int, str] = {}
        self.source_error = ""
        self.versions: dict[int, VersionRecord] = {}

    def latest_available(self) -> VersionRecord | None:
        available = [record for record in self.versions.values() if record.state == AVAILABLE]
        return max(available, key=lambda record: record.version, default=None)

    def has_available(self) -> bool:
        return any(record.state == AVAILABLE for record in self.versions.values())

    def failed_wanted_versions(self) -> dict[int, str]:
        """Wanted versions whose last load failed: candidates for a retry if their files changed."""
        return {version: path for version, path in self.wanted.items()
                if version in self.versions and self.versions[version].failed}

    def plan_loads(self, fingerprints: dict[int, tuple]) -> list[VersionRecord]:
        """Moves every wanted version that should be (re)loaded now to LOADING and returns them.

        A new version loads; a version whose last load failed loads again only if its files
        changed since (`fingerprints` holds the current fingerprint of each failed wanted
        version); a version that was unloaded and is wanted again loads again.
        """
        to_load = []
        for version, path in sorted(self.wanted.items(), reverse=True):
            record = self.versions.get(version)
            if record is not None and record.state != END:
                continue
            if record is not None and record.failed and (
                    fingerprints.get(version) == record.failed_fingerprint):
                continue  # same broken files as last time: wait until they change
            record = VersionRecord(self.name, version, path)
            record.state = LOADING
            self.versions[version] = record
            to_load.append(record)
        return to_load

    def plan_unloads(self) -> list[VersionRecord]:
        """Moves the versions to let go of now to UNLOADING and returns them.

        Pending load retries of unwanted versions are cancelled. An unwanted AVAILABLE version is
        unloaded if a wanted version is AVAILABLE or nothing is wanted; otherwise (the wanted
        ones are still loading, or broken) the newest unwanted one keeps serving.
        """
        for version, record in self.versions.items():
            if version not in self.wanted and record.state in (START, LOADING):
                record.cancelled.set()
        unwanted_available = sorted(
            (record for version, record in self.versions.items()
             if record.state == AVAILABLE and version not in self.wanted),
            key=lambda record: record.version)
        wanted_available = any(self.versions[version].state == AVAILABLE
                               for version in self.wanted if version in self.versions)
        if self.wanted and not wanted_available:
            unwanted_available = unwanted_available[:-1]
        for record in unwanted_available:
            record.state = UNLOADING
        return unwanted_available
