"""Hot swaps: a new version replaces the old one without failing a request, and an old version
is unloaded only after the requests holding it finish."""

import threading
import time

import numpy as np
from tests.support.fake_backends import write_version

from serving.core import ModelConfig


def _models(base_path):
    return [ModelConfig("m", str(base_path))]


def _states(manager):
    return {status.version: status.state for status in manager.status("m")}


def test_new_version_is_swapped_in_while_requests_keep_flowing(make_manager, tmp_path, wait_until):
    write_version(tmp_path, 1, offset=1.0)
    manager = make_manager(_models(tmp_path))
    answers, failures, done = [], [], threading.Event()

    def keep_calling():
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            try:
                with manager.servable("m") as servable:
                    outputs = servable.run("", {"x": np.array([0.0], np.float32)})
                answers.append(outputs["y"][0])
            except Exception as error:  # the assertion below reports every failure
                failures.append(error)

    caller = threading.Thread(target=keep_calling)
    caller.start()
    try:
        wait_until(lambda: len(answers) > 20, message="requests served by version 1")
        write_version(tmp_path, 2, offset=2.0)
        wait_until(lambda: _states(manager) == {1: "END", 2: "AVAILABLE"},
                   message="version 2 replaces version 1")
        served_before = len(answers)
        wait_until(lambda: len(answers) > served_before + 20, message="requests after the swap")
    finally:
        done.set()
        caller.join(timeout=60)
    assert failures == []
    first_new = answers.index(2.0)
    assert set(answers[:first_new]) == {1.0} and set(answers[first_new:]) == {2.0}


def test_old_version_is_unloaded_only_after_a_held_handle_is_released(make_manager, tmp_path,
                                                                     wait_until):
    write_version(tmp_path, 1, offset=1.0)
    manager = make_manager(_models(tmp_path))
    with manager.servable("m") as held:
        write_version(tmp_path, 2, offset=2.0)
        wait_until(lambda: _states(manager) == {1: "UNLOADING", 2: "AVAILABLE"},
                   message="version 1 waits for its handle")
        with manager.servable("m") as latest:
            assert latest.version == 2
        assert held.run("", {"x": np.array([0.0], np.float32)})["y"].tolist() == [1.0]
        assert not held.backend.unloaded
    assert _states(manager) == {1: "END", 2: "AVAILABLE"}
    assert held.backend.unloaded
