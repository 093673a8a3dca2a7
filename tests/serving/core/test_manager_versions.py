"""ModelManager and the file system: policies, missing paths, deleted and broken versions."""

import logging
import shutil
import threading
import time

import grpc
import numpy as np
import pytest
from tests.support.fake_backends import write_version

from serving import errors
from serving.core import ModelConfig, VersionPolicy

ALL = VersionPolicy(kind="all")


def _models(base_path, policy=VersionPolicy()):
    return [ModelConfig("m", str(base_path), policy)]


def _states(manager):
    return {status.version: status.state for status in manager.status("m")}


def _answer(manager, **request):
    with manager.servable("m", **request) as servable:
        return servable.run("", {"x": np.array([2.0], np.float32)})["y"].tolist()


def _load_failures(caplog):
    return [r for r in caplog.records if "event=version_load_failed" in r.getMessage()]


@pytest.fixture(scope="module")
def three_versions(tmp_path_factory):
    base = tmp_path_factory.mktemp("three_versions")
    for version in (1, 2, 3):
        write_version(base, version, offset=float(version))
    (base / "not_a_version").mkdir()
    return base


@pytest.mark.parametrize("policy, loaded", [
    (VersionPolicy(), {3}),
    (VersionPolicy(kind="latest", num_versions=2), {2, 3}),
    (ALL, {1, 2, 3}),
    (VersionPolicy(kind="specific", versions=frozenset({1, 3, 9})), {1, 3}),
], ids=["latest_1_by_default", "latest_2", "all", "specific"])
def test_version_policy_decides_which_versions_load(make_manager, three_versions, policy, loaded):
    manager = make_manager(_models(three_versions, policy))
    assert _states(manager) == {version: "AVAILABLE" for version in loaded}


def test_available_versions_are_listed_in_order_and_empty_for_unknown_models(
        make_manager, three_versions):
    manager = make_manager(_models(three_versions, VersionPolicy(
        kind="specific", versions=frozenset({3, 1, 9}))))
    assert manager.available_versions("m") == [1, 3]
    assert manager.available_versions("unknown") == []


def test_missing_base_path_is_reported_and_polled_until_it_appears(make_manager, tmp_path,
                                                                  wait_until):
    base = tmp_path / "later"
    manager = make_manager(_models(base))
    with pytest.raises(errors.NotFound) as caught:
        manager.status("m")
    assert caught.value.message.startswith(
        f"Could not find any versions of model m: Could not find base path {base} for servable m")
    assert not manager.is_ready("m") and manager.available_versions("m") == []
    write_version(base, 1)
    wait_until(lambda: manager.is_ready("m"), message="model appears once its base path exists")
    assert _answer(manager) == [3.0]


def test_base_path_without_versions_says_how_to_name_them(make_manager, tmp_path):
    manager = make_manager(_models(tmp_path))
    with pytest.raises(errors.NotFound, match=r"Did you forget to name your leaf directory as a "
                                              r"number \(eg. '/1/'\)\?"):
        manager.status("m")


def test_a_bare_saved_model_is_served_as_version_1_with_one_log_line(make_manager, tmp_path, caplog):
    """KServe's /mnt/models when storageUri names a version folder (serving/core/version_dirs.py)."""
    version_dir = write_version(tmp_path / "export", 4, slope=1.0)
    shutil.copytree(version_dir, tmp_path / "mnt-models")
    (tmp_path / "mnt-models" / "saved_model.pb").write_bytes(b"")
    caplog.set_level(logging.INFO, logger="serving.core")
    manager = make_manager(_models(tmp_path / "mnt-models"))
    assert _states(manager) == {1: "AVAILABLE"}
    assert _answer(manager) == [4.0]
    time.sleep(0.35)  # a few more polls (every 0.1 s) find the same layout: no second line
    notes = [r.getMessage() for r in caplog.records if "event=bare_saved_model" in r.getMessage()]
    assert len(notes) == 1 and "served as version 1" in notes[0] and str(tmp_path / "mnt-models") in notes[0]


def test_deleted_version_dir_is_unloaded_and_others_keep_serving(make_manager, tmp_path,
                                                                 wait_until):
    for version in (1, 2):
        write_version(tmp_path, version, offset=float(version))
    manager = make_manager(_models(tmp_path, ALL))
    shutil.rmtree(tmp_path / "2")
    wait_until(lambda: _states(manager) == {1: "AVAILABLE", 2: "END"},
               message="version 2 unloaded after its directory was deleted")
    assert _answer(manager) == [2.0]


def test_deleting_the_latest_version_falls_back_to_the_previous_one(make_manager, tmp_path,
                                                                    wait_until):
    for version in (1, 2):
        write_version(tmp_path, version, offset=float(version))
    manager = make_manager(_models(tmp_path))
    assert _states(manager) == {2: "AVAILABLE"}
    shutil.rmtree(tmp_path / "2")
    wait_until(lambda: _states(manager) == {1: "AVAILABLE", 2: "END"},
               message="version 1 loaded and version 2 unloaded")
    assert _answer(manager) == [2.0]


def test_broken_version_is_reported_and_never_replaces_the_working_one(make_manager, tmp_path,
                                                                       wait_until, caplog,
                                                                       fake_loader):
    write_version(tmp_path, 1)
    manager = make_manager(_models(tmp_path), max_num_load_retries=2)
    caplog.set_level(logging.INFO, logger="serving.core")
    write_version(tmp_path, 2, fail=grpc.StatusCode.DATA_LOSS)
    wait_until(lambda: _states(manager).get(2) == "END", message="version 2 load gives up")
    (broken,) = manager.status("m", version=2)
    assert broken.error_code == grpc.StatusCode.DATA_LOSS
    assert broken.error_message == f"Fake load failure of {tmp_path / '2'}"
    assert _states(manager)[1] == "AVAILABLE"
    assert _answer(manager) == [3.0]
    assert len(_load_failures(caplog)) == 3  # the first try and two retries
    assert fake_loader.loads.count(("m", 2)) == 3


def test_broken_version_loads_once_its_files_are_fixed(make_manager, tmp_path, wait_until):
    write_version(tmp_path, 1)
    manager = make_manager(_models(tmp_path))
    write_version(tmp_path, 2, fail=grpc.StatusCode.DATA_LOSS)
    wait_until(lambda: _states(manager) == {1: "AVAILABLE", 2: "END"},
               message="version 2 fails while version 1 keeps serving")
    write_version(tmp_path, 2, slope=1.0)
    wait_until(lambda: _states(manager) == {1: "END", 2: "AVAILABLE"},
               message="fixed version 2 loads and replaces version 1")
    assert manager.status("m", version=2)[0].error_code is None
    assert _answer(manager) == [4.0]


def test_version_stays_loading_while_retries_remain(make_manager, tmp_path, wait_until, caplog):
    write_version(tmp_path, 1, fail=grpc.StatusCode.DATA_LOSS)
    manager = make_manager(_models(tmp_path), start=False, max_num_load_retries=1,
                           load_retry_interval_seconds=60.0)
    caplog.set_level(logging.INFO, logger="serving.core")
    starter = threading.Thread(target=manager.start)
    starter.start()
    wait_until(lambda: _load_failures(caplog), message="first load attempt fails")
    assert _states(manager) == {1: "LOADING"}  # waiting to retry, as TF Serving reports it
    manager.stop()  # cancels the pending retry, so start() returns at once
    starter.join(timeout=30)
    assert not starter.is_alive()
    (status,) = manager.status("m")
    assert (status.state, status.error_code) == ("END", grpc.StatusCode.DATA_LOSS)


def test_broken_version_is_not_retried_until_its_files_change(make_manager, tmp_path, wait_until,
                                                              caplog, fake_loader):
    write_version(tmp_path, 1)
    write_version(tmp_path, 2, fail=grpc.StatusCode.DATA_LOSS)
    caplog.set_level(logging.INFO, logger="serving.core")
    manager = make_manager(_models(tmp_path, ALL), max_num_load_retries=0)
    assert _states(manager) == {1: "AVAILABLE", 2: "END"}
    write_version(tmp_path, 3)
    wait_until(lambda: _states(manager).get(3) == "AVAILABLE", message="a later poll loads v3")
    assert len(_load_failures(caplog)) == 1
    assert fake_loader.loads.count(("m", 2)) == 1
