"""ModelManager and the file system: policies, missing paths, deleted and broken versions."""

import logging
import shutil
import threading

import grpc
import numpy as np
import pytest
from tests.support import savedmodels

from serving import errors
from serving.apis.tfs import model_config as config_lib


def _config(base_path, policy=""):
    return config_lib.parse_model_config_text(
        f'model_config_list {{ config {{ name: "m" base_path: "{base_path}" {policy} }} }}')


def _states(manager):
    return {status.version: status.state for status in manager.status("m")}


def _answer(manager, **request):
    with manager.servable("m", **request) as servable:
        return servable.run("", {"x": np.array([2.0], np.float32)})["y"].tolist()


@pytest.fixture(scope="module")
def three_versions(tmp_path_factory):
    base = tmp_path_factory.mktemp("three_versions")
    for version in (1, 2, 3):
        savedmodels.export_half_plus_two(base, version, offset=float(version))
    (base / "not_a_version").mkdir()
    return base


@pytest.mark.parametrize("policy, loaded", [
    ("", {3}),
    ("model_version_policy { latest { num_versions: 2 } }", {2, 3}),
    ("model_version_policy { all {} }", {1, 2, 3}),
    ("model_version_policy { specific { versions: 1 versions: 3 versions: 9 } }", {1, 3}),
])
def test_version_policy_decides_which_versions_load(make_manager, three_versions, policy, loaded):
    manager = make_manager(_config(three_versions, policy))
    assert _states(manager) == {version: "AVAILABLE" for version in loaded}


def test_missing_base_path_is_reported_and_polled_until_it_appears(make_manager, tmp_path,
                                                                  wait_until):
    base = tmp_path / "later"
    manager = make_manager(_config(base))
    with pytest.raises(errors.NotFound) as caught:
        manager.status("m")
    assert caught.value.message.startswith(
        f"Could not find any versions of model m: Could not find base path {base} for servable m")
    assert not manager.is_ready("m")
    savedmodels.export_half_plus_two(base, 1)
    wait_until(lambda: manager.is_ready("m"), message="model appears once its base path exists")
    assert _answer(manager) == [3.0]


def test_base_path_without_versions_says_how_to_name_them(make_manager, tmp_path):
    manager = make_manager(_config(tmp_path))
    with pytest.raises(errors.NotFound, match=r"Did you forget to name your leaf directory as a "
                                              r"number \(eg. '/1/'\)\?"):
        manager.status("m")


def test_deleted_version_dir_is_unloaded_and_others_keep_serving(make_manager, tmp_path,
                                                                 wait_until):
    for version in (1, 2):
        savedmodels.export_half_plus_two(tmp_path, version, offset=float(version))
    manager = make_manager(_config(tmp_path, "model_version_policy { all {} }"))
    shutil.rmtree(tmp_path / "2")
    wait_until(lambda: _states(manager) == {1: "AVAILABLE", 2: "END"},
               message="version 2 unloaded after its directory was deleted")
    assert _answer(manager) == [2.0]


def test_deleting_the_latest_version_falls_back_to_the_previous_one(make_manager, tmp_path,
                                                                    wait_until):
    for version in (1, 2):
        savedmodels.export_half_plus_two(tmp_path, version, offset=float(version))
    manager = make_manager(_config(tmp_path))
    assert _states(manager) == {2: "AVAILABLE"}
    shutil.rmtree(tmp_path / "2")
    wait_until(lambda: _states(manager) == {1: "AVAILABLE", 2: "END"},
               message="version 1 loaded and version 2 unloaded")
    assert _answer(manager) == [2.0]


def test_broken_version_is_reported_and_never_replaces_the_working_one(make_manager, tmp_path,
                                                                       wait_until, caplog):
    savedmodels.export_half_plus_two(tmp_path, 1)
    manager = make_manager(_config(tmp_path), max_num_load_retries=2)
    caplog.set_level(logging.INFO, logger="serving.core")
    savedmodels.export_broken_version(tmp_path, 2)
    wait_until(lambda: _states(manager).get(2) == "END", message="version 2 load gives up")
    (broken,) = manager.status("m", version=2)
    assert broken.error_code == grpc.StatusCode.DATA_LOSS
    assert f"Cannot parse the SavedModel in {tmp_path / '2'}" in broken.error_message
    assert _states(manager)[1] == "AVAILABLE"
    assert _answer(manager) == [3.0]
    failures = [r for r in caplog.records if "event=version_load_failed" in r.getMessage()]
    assert len(failures) == 3  # the first try and two retries


def test_broken_version_loads_once_its_files_are_fixed(make_manager, tmp_path, wait_until):
    savedmodels.export_half_plus_two(tmp_path, 1)
    manager = make_manager(_config(tmp_path))
    savedmodels.export_broken_version(tmp_path, 2)
    wait_until(lambda: _states(manager) == {1: "AVAILABLE", 2: "END"},
               message="version 2 fails while version 1 keeps serving")
    savedmodels.export_half_plus_two(tmp_path, 2, slope=1.0)
    wait_until(lambda: _states(manager) == {1: "END", 2: "AVAILABLE"},
               message="fixed version 2 loads and replaces version 1")
    assert manager.status("m", version=2)[0].error_code is None
    assert _answer(manager) == [4.0]


def test_version_stays_loading_while_retries_remain(make_manager, tmp_path, wait_until, caplog):
    savedmodels.export_broken_version(tmp_path, 1)
    manager = make_manager(_config(tmp_path), start=False, max_num_load_retries=1,
                           load_retry_interval_seconds=60.0)
    caplog.set_level(logging.INFO, logger="serving.core")
    starter = threading.Thread(target=manager.start)
    starter.start()
    wait_until(lambda: any("event=version_load_failed" in r.getMessage() for r in caplog.records),
               message="first load attempt fails")
    assert _states(manager) == {1: "LOADING"}  # waiting to retry, as TF Serving reports it
    manager.stop()  # cancels the pending retry, so start() returns at once
    starter.join(timeout=30)
    assert not starter.is_alive()
    (status,) = manager.status("m")
    assert (status.state, status.error_code) == ("END", grpc.StatusCode.DATA_LOSS)


def test_broken_version_is_not_retried_until_its_files_change(make_manager, tmp_path, wait_until,
                                                              caplog):
    savedmodels.export_half_plus_two(tmp_path, 1)
    savedmodels.export_broken_version(tmp_path, 2)
    caplog.set_level(logging.INFO, logger="serving.core")
    manager = make_manager(_config(tmp_path, "model_version_policy { all {} }"),
                           max_num_load_retries=0)
    assert _states(manager) == {1: "AVAILABLE", 2: "END"}
    savedmodels.export_half_plus_two(tmp_path, 3)
    wait_until(lambda: _states(manager).get(3) == "AVAILABLE", message="a later poll loads v3")
    failures = [r for r in caplog.records if "event=version_load_failed" in r.getMessage()]
    assert len(failures) == 1
