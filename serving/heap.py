"""Keeps the loaded models out of Python's cyclic garbage collector, in zoo-serve's process.

With TensorFlow imported and a model loaded, the process holds about 300,000 Python objects that
live as long as the model. CPython's collector walks every one of them in each full collection,
and under load full collections come often: measured serving the CNN at 32 calls in flight, one
every 5 s or so, taking 130-140 ms, during which no request moves (the collector holds the GIL).

`gc.freeze()` moves every object alive into a permanent generation the collector never walks:
after it, the same full collections take 2-6 ms. A frozen object is still freed by reference
counting, but never as part of a reference cycle, and the objects of an unloaded version are full
of cycles. So after every load or unload the heap is unfrozen, collected once (freeing what the
load or the unload left behind) and frozen again: one full collection per version change instead
of one every few seconds. Not while the server stops: each unload would walk the heap for nothing.

Only zoo-serve's `main` does this: a program that embeds ModelServer owns its process's collector.
"""

from __future__ import annotations

import gc
import logging
import time

from serving.core.events import StateEvent
from serving.core.model_versions import AVAILABLE, END

logger = logging.getLogger("serving.heap")


class HeapFreezer:
    """Freezes the heap now (make it once the first loads have finished) and again after every
    version that `manager` (a ModelManager) loads or lets go of, until `stop()`."""

    def __init__(self, manager):
        self._stopped = False
        refreeze()
        manager.add_listener(self._refreeze_on_version_change)

    def stop(self) -> None:
        """No more refreezing: call it before the server stops, whose unloads would each walk
        the whole heap again for nothing."""
        self._stopped = True

    def _refreeze_on_version_change(self, event: StateEvent) -> None:
        if not self._stopped and event.state in (AVAILABLE, END):
            refreeze()


def refreeze() -> None:
    """Collects everything, the frozen objects included, then freezes what is left."""
    started = time.monotonic()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    logger.info("event=heap_frozen objects=%d seconds=%.3f", gc.get_freeze_count(),
                time.monotonic() - started)
