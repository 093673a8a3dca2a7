"""Resuming from a crash-recovery backup, or saying in one line why it cannot be done.

Keras' BackupAndRestore restores `latest.weights.h5` and `training_metadata.json` from the backup
directory when training starts. When either is damaged (a disk filled up, a copy was cut short,
the workdir holds another model's backup) it raises whatever h5py, json or the weight loader
raised, deep inside `fit`. Training must neither start over silently nor end in a traceback:
the user has to choose between repairing the backup and giving up its progress, so
`CheckedBackupAndRestore` turns the failure into a `BackupRestoreError` (a ZooError: `zoo train`
prints it as one line and exits 2) naming the file and both ways out.
"""

from __future__ import annotations

import json
import os

import keras

from zoo.errors import ZooError

WEIGHTS_FILE = "latest.weights.h5"
METADATA_FILE = "training_metadata.json"


class BackupRestoreError(ZooError):
    """A crash-recovery backup exists but cannot be restored."""


class CheckedBackupAndRestore(keras.callbacks.BackupAndRestore):
    """keras.callbacks.BackupAndRestore whose restore failures are a BackupRestoreError."""

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise restore_error(self.backup_dir, error) from None


def restore_error(backup_dir: str, error: Exception) -> BackupRestoreError:
    """The one-line error for a backup in `backup_dir` that failed to restore with `error`."""
    from_metadata = isinstance(error, (json.JSONDecodeError, UnicodeDecodeError, KeyError))
    damaged = METADATA_FILE if from_metadata else WEIGHTS_FILE
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return BackupRestoreError(
        f"cannot resume from the crash-recovery backup: {os.path.join(backup_dir, damaged)} is "
        f"damaged or belongs to another model ({type(error).__name__}: {reason}). Restore the "
        f"backup directory {backup_dir} from a copy to resume, or delete it to train from scratch"
    )
