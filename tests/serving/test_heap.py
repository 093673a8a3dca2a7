"""zoo-serve's heap freezing: loaded models are out of the cyclic collector's way, and a version
change frees the reference cycles that were frozen before it."""

import gc
import weakref

import pytest

from serving import heap
from serving.core.events import StateEvent
from serving.core.model_versions import AVAILABLE, END, LOADING, UNLOADING


class Listened:
    """The one part of ModelManager that HeapFreezer uses."""

    def __init__(self):
        self.listeners = []

    def add_listener(self, listener):
        self.listeners.append(listener)

    def publish(self, state: str):
        for listener in self.listeners:
            listener(StateEvent("model", 1, state))


class Cycle:
    def __init__(self):
        self.me = self


@pytest.fixture
def manager():
    listened = Listened()
    yield listened
    gc.unfreeze()  # give the test process its collector back


def frozen_cycle() -> weakref.ref:
    """A reference cycle frozen while alive, then dropped: only a refreeze can free it."""
    cycle = Cycle()
    gc.freeze()
    reference = weakref.ref(cycle)
    del cycle
    gc.collect()
    assert reference() is not None, "a frozen cycle outlives collections"
    return reference


def test_the_freezer_freezes_the_heap_at_once(manager):
    gc.unfreeze()

    heap.HeapFreezer(manager)

    assert gc.get_freeze_count() > 0


@pytest.mark.parametrize("state, frees", [(AVAILABLE, True), (END, True), (LOADING, False),
                                          (UNLOADING, False)])
def test_only_a_version_that_loads_or_ends_frees_the_cycles_frozen_before_it(manager, state,
                                                                              frees):
    heap.HeapFreezer(manager)
    reference = frozen_cycle()

    manager.publish(state)

    assert (reference() is None) == frees
    assert gc.get_freeze_count() > 0


def test_a_stopped_freezer_leaves_the_unloads_of_a_stopping_server_alone(manager):
    freezer = heap.HeapFreezer(manager)
    reference = frozen_cycle()

    freezer.stop()
    manager.publish(END)

    assert reference() is not None
