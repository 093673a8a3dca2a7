"""Crash recovery for multi-worker training: every worker resumes from the chief's backup.

Keras' BackupAndRestore reads and writes one directory. Given one directory per worker, a
restarted cluster could resume its workers at different epochs (a worker killed between the
chief's save and its own resumes one epoch behind), and their collectives would no longer match.
So, as tf.keras did for multi-worker runs: all workers restore from the chief's backup directory,
only the chief writes there, and the other workers write their own backups to a temporary
directory that is removed when training ends (they still save, so that saving stays symmetric if
it ever needs a collective).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import keras

from zoo.train.backup_restore import CheckedBackupAndRestore


class ClusterBackupAndRestore(keras.callbacks.BackupAndRestore):
    """A non-chief worker's backup: restore from `restore_dir` (the chief's), save to `write_dir`."""

    def __init__(self, restore_dir: str | Path, write_dir: str | Path):
        super().__init__(str(write_dir), save_freq="epoch", delete_checkpoint=True)
        self.restore_dir = str(restore_dir)
        self._chief_backup = CheckedBackupAndRestore(self.restore_dir, save_freq="epoch",
                                                     delete_checkpoint=False)

    def on_train_begin(self, logs=None):
        self._chief_backup.set_model(self.model)
        self._chief_backup.on_train_begin(logs)


def backup_callback(backup_dir: Path, *, is_chief: bool, task_name: str = "worker") -> keras.callbacks.Callback:
    """The chief backs up to `backup_dir`; any other worker restores from it, writes to a temp dir."""
    if is_chief:
        return CheckedBackupAndRestore(str(backup_dir), save_freq="epoch", delete_checkpoint=True)
    write_dir = tempfile.mkdtemp(prefix=f"zoo-{Path(backup_dir).name}-{task_name}-")
    return ClusterBackupAndRestore(backup_dir, write_dir)
