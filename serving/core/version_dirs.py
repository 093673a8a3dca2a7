"""What is on disk under a model's base path: TF Serving's file-system storage path source.

Version directories are `base_path/<integer>`; anything else is ignored. A fingerprint of a version
directory's files lets the manager retry a failed version only once its files have changed,
instead of hammering a broken export with reloads on every poll.

One layout TF Serving refuses is served here: a base path that has no version directory but is a
SavedModel itself is version 1 (`BARE_VERSION`). KServe copies an InferenceService's `storageUri`
into `/mnt/models` and starts its TF Serving runtime with `--model_base_path=/mnt/models`, so a
storageUri naming an export's version folder (`.../models/mnist/1`) gives a bare SavedModel there;
TF Serving then waits forever with "No versions of servable ... found under base path"
(kserve/kserve#547, #563) and KServe documents the version folder as "required for tensorflow".
A base path holding version directories is read as TF Serving reads it, whatever else it holds.
"""

from __future__ import annotations

import logging
import os

from serving.contract import SAVED_MODEL_FILES

logger = logging.getLogger("serving.core")

# The version a bare SavedModel at the base path is served as.
BARE_VERSION = 1


def find_version_dirs(base_path: str) -> dict[int, str]:
    """Maps each version number under `base_path` to its directory.

    A version directory's name is a non-negative integer ("7", "0007"); files and other names are
    skipped. If two names give one number the one sorting last wins, with a warning. With no
    version directory, a SavedModel at `base_path` itself is {BARE_VERSION: base_path}.

    Raises:
        OSError (FileNotFoundError, NotADirectoryError, PermissionError): base_path cannot be
            listed.
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
    if not found and any(os.path.isfile(os.path.join(base_path, name)) for name in SAVED_MODEL_FILES):
        return {BARE_VERSION: base_path}
    return found


def version_dir_fingerprint(path: str) -> tuple:
    """The name, size and modification time of every file under `path`, in a fixed order.

    Two equal fingerprints mean nobody rewrote the export in between. A directory that cannot be
    read fingerprints as empty.
    """
    entries = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for file_name in sorted(files):
            file_path = os.path.join(root, file_name)
            try:
                stat = os.stat(file_path)
            except OSError:
                continue
            entries.append((os.path.relpath(file_path, path), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)
