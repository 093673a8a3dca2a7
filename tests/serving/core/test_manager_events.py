"""State events: what a listener of the manager sees, in order, through each version's life."""

import logging
import threading

import grpc
from tests.support.fake_backends import write_version

from serving.core import ModelConfig, StateEvent


def _models(root, *names):
    return [ModelConfig(name, str(root / name)) for name in names]


def _life(events, model, version):
    """The states `version` of `model` went through, as the listener saw them."""
    return [event.state for event in events if (event.model, event.version) == (model, version)]


def test_replaced_version_goes_from_loading_to_end_in_order(make_manager, tmp_path, wait_until):
    write_version(tmp_path / "m", 1)
    manager = make_manager(_models(tmp_path, "m"), start=False)
    events = []
    manager.add_listener(events.append)
    manager.start()
    write_version(tmp_path / "m", 2)
    wait_until(lambda: len(events) >= 7, message="version 2 replaces version 1")
    assert events == [
        StateEvent("m", None, "MODEL_ADDED"),
        StateEvent("m", 1, "LOADING"), StateEvent("m", 1, "AVAILABLE"),
        StateEvent("m", 2, "LOADING"), StateEvent("m", 2, "AVAILABLE"),
        StateEvent("m", 1, "UNLOADING"), StateEvent("m", 1, "END"),
    ]


def test_reload_publishes_added_and_removed_models_and_their_versions(make_manager, tmp_path,
                                                                      wait_until):
    write_version(tmp_path / "m", 1)
    write_version(tmp_path / "other", 1)
    manager = make_manager(_models(tmp_path, "m"), start=False)
    events = []
    manager.add_listener(events.append)
    manager.start()
    # start() returns once version 1 is AVAILABLE; the event may reach listeners just after.
    wait_until(lambda: StateEvent("m", 1, "AVAILABLE") in events, message="m is loaded")
    events.clear()
    manager.reload_config(_models(tmp_path, "other"))
    wait_until(lambda: len(events) >= 6, message="other loaded, m unloaded")
    assert events == [
        StateEvent("other", None, "MODEL_ADDED"),
        StateEvent("m", None, "MODEL_REMOVED"),
        StateEvent("m", 1, "UNLOADING"), StateEvent("m", 1, "END"),
        StateEvent("other", 1, "LOADING"), StateEvent("other", 1, "AVAILABLE"),
    ]


def test_failed_load_goes_from_loading_to_end_once_retries_are_spent(make_manager, tmp_path,
                                                                      wait_until):
    write_version(tmp_path / "m", 1, fail=grpc.StatusCode.DATA_LOSS)
    manager = make_manager(_models(tmp_path, "m"), start=False, max_num_load_retries=2)
    events = []
    manager.add_listener(events.append)
    manager.start()
    wait_until(lambda: len(events) >= 3, message="the load gives up")
    assert _life(events, "m", 1) == ["LOADING", "END"]  # retries publish nothing


def test_events_of_a_version_stay_in_order_when_a_listener_is_slow(make_manager, tmp_path,
                                                                   wait_until):
    # The replacement's AVAILABLE and the old version's UNLOADING are published by the loading
    # thread; the old version's END by the request that lets go of it. While a slow listener
    # holds the first thread, the END must wait its turn.
    write_version(tmp_path / "m", 1)
    manager = make_manager(_models(tmp_path, "m"), start=False)
    in_slow_listener, go_on = threading.Event(), threading.Event()

    def slow_on_version_2(event):
        if event == StateEvent("m", 2, "AVAILABLE"):
            in_slow_listener.set()
            go_on.wait(timeout=30)

    events = []
    manager.add_listener(slow_on_version_2)
    manager.add_listener(events.append)
    manager.start()
    try:
        with manager.servable("m"):
            write_version(tmp_path / "m", 2)
            assert in_slow_listener.wait(timeout=30), "version 2 never became AVAILABLE"
    finally:
        go_on.set()
    wait_until(lambda: "END" in _life(events, "m", 1), message="version 1 ends")
    assert _life(events, "m", 1) == ["LOADING", "AVAILABLE", "UNLOADING", "END"]
    assert _life(events, "m", 2) == ["LOADING", "AVAILABLE"]


def test_listener_that_raises_is_logged_and_loads_go_on(make_manager, tmp_path, caplog,
                                                        wait_until):
    write_version(tmp_path / "m", 1)
    manager = make_manager(_models(tmp_path, "m"), start=False)
    events = []

    def broken_listener(event):
        raise RuntimeError("listener bug")

    manager.add_listener(broken_listener)
    manager.add_listener(events.append)
    caplog.set_level(logging.ERROR, logger="serving.core")
    manager.start()
    assert manager.is_ready("m")
    wait_until(lambda: StateEvent("m", 1, "AVAILABLE") in events,
               message="the next listener still hears every event")
    failures = [record for record in caplog.records
                if "event=state_listener_failed" in record.getMessage()]
    assert "model=m version=1 state=LOADING" in failures[1].getMessage()
    assert failures[1].exc_info[1].args == ("listener bug",)
