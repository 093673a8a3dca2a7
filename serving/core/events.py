"""Version state changes as events, for whoever follows the manager (health checks, metrics).

TF Serving's ServableStateMonitor publishes each servable's state transitions on an event bus;
this is the same idea in a few lines: the manager collects events while it holds its lock and
hands them to the listeners after releasing it, so a listener may call back into the manager.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Callable, Iterable

logger = logging.getLogger("serving.core")

# A model's own events, beside its versions' START/LOADING/AVAILABLE/UNLOADING/END.
MODEL_ADDED = "MODEL_ADDED"
MODEL_REMOVED = "MODEL_REMOVED"


@dataclasses.dataclass(frozen=True)
class StateEvent:
    """`version` of `model` entered `state`; version None: the model joined or left the config."""

    model: str
    version: int | None
    state: str


class StateListeners:
    """The listeners of one manager; `publish` calls each in turn, in the publishing thread."""

    def __init__(self):
        self._listeners: list[Callable[[StateEvent], None]] = []
        self._lock = threading.Lock()

    def add(self, listener: Callable[[StateEvent], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def publish(self, events: Iterable[StateEvent]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for event in events:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:  # one broken listener must not stop loads or the others
                    logger.exception("event=state_listener_failed model=%s version=%s state=%s",
                                     event.model, event.version, event.state)
