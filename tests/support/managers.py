"""ModelManagers for tests: fast polling and retries, and every manager stopped after its test."""

from __future__ import annotations

from typing import Sequence

from serving.core import ModelConfig, ModelManager

# Fast polling and retries, so version changes show up within a fraction of a second.
FAST_OPTIONS = dict(file_system_poll_wait_seconds=0.1, load_retry_interval_seconds=0.05,
                    max_num_load_retries=1)


class ManagerFactory:
    """Makes ModelManagers with FAST_OPTIONS (a test's options override them) and stops them all
    in `stop_all`, which a fixture calls when its test ends."""

    def __init__(self):
        self._managers: list[ModelManager] = []

    def make(self, models: Sequence[ModelConfig], load, *, start: bool = True,
             **options) -> ModelManager:
        manager = ModelManager(models, load=load, **{**FAST_OPTIONS, **options})
        self._managers.append(manager)
        if start:
            manager.start()
        return manager

    def stop_all(self) -> None:
        for manager in self._managers:
            manager.stop()
