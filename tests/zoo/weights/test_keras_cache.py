"""The Keras cache that converted weights are kept in: found the way Keras finds it, at call time."""

from __future__ import annotations

from pathlib import Path

from zoo.weights import keras_cache_dir


def test_cache_dir_follows_keras_home_read_at_call_time(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "elsewhere"))

    assert keras_cache_dir() == tmp_path / "elsewhere" / "models"


def test_cache_dir_defaults_to_dot_keras_in_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))

    assert keras_cache_dir() == Path(tmp_path) / ".keras" / "models"
