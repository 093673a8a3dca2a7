"""ConfigFileWatcher: --model_config_file_poll_wait_seconds re-reads the file and reloads."""

import logging

import pytest

from serving.apis.tfs import model_config as config_lib
from serving.apis.tfs.config_watcher import ConfigFileWatcher


def _config_text(shared_models, *names):
    paths = {"half": "half_plus_two", "multi": "multi_io"}
    entries = "".join(
        f'config {{ name: "{name}" base_path: "{shared_models / paths[name]}" '
        f'model_version_policy {{ all {{}} }} }} '
        for name in names)
    return f"model_config_list {{ {entries} }}"


def test_watcher_applies_a_changed_config_file(make_manager, shared_models, tmp_path, wait_until):
    path = tmp_path / "models.config"
    path.write_text(_config_text(shared_models, "half"))
    manager = make_manager(config_lib.load_model_config_file(str(path)))
    watcher = ConfigFileWatcher(str(path), manager, poll_wait_seconds=0.1)
    watcher.start()
    try:
        path.write_text(_config_text(shared_models, "half", "multi"))
        wait_until(lambda: manager.is_ready("multi"), message="the new model from the changed file")
    finally:
        watcher.stop()
    assert manager.model_names() == ["half", "multi"]


def test_watcher_keeps_the_running_config_when_the_file_is_invalid(make_manager, shared_models,
                                                                   tmp_path, caplog):
    path = tmp_path / "models.config"
    path.write_text(_config_text(shared_models, "half"))
    manager = make_manager(config_lib.load_model_config_file(str(path)))
    watcher = ConfigFileWatcher(str(path), manager, poll_wait_seconds=60)
    path.write_text("model_config_list { config { name: ")
    assert watcher.poll_once() is False
    assert manager.model_names() == ["half"] and manager.is_ready("half")
    errors_logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "event=config_reload_failed" in errors_logged[-1].getMessage()
    assert str(path) in errors_logged[-1].getMessage()


def test_watcher_needs_a_positive_poll_interval(make_manager, shared_models, tmp_path):
    path = tmp_path / "models.config"
    path.write_text(_config_text(shared_models, "half"))
    with pytest.raises(ValueError, match="Received: poll_wait_seconds=0"):
        ConfigFileWatcher(str(path), manager=None, poll_wait_seconds=0)
