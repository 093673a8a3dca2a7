"""Replacing the model list: ModelManager.reload_config."""

import pytest

from serving import errors
from serving.core import ModelConfig, VersionPolicy


def _models(fake_models, *names, labels=None):
    return [ModelConfig(name, str(fake_models / name), VersionPolicy(kind="all"), labels or {})
            for name in names]


def test_reload_adds_new_models_and_unloads_removed_ones(make_manager, fake_models):
    manager = make_manager(_models(fake_models, "half"))
    manager.reload_config(_models(fake_models, "other"))
    assert manager.model_names() == ["other"]
    assert manager.is_ready("other")  # loaded by the time reload_config returns
    assert {status.state for status in manager.status("half")} == {"END"}
    with pytest.raises(errors.NotFound, match=r"Latest\(half\)"):
        with manager.servable("half"):
            pass


def test_reload_moves_a_label(make_manager, fake_models):
    manager = make_manager(_models(fake_models, "half", labels={"stable": 1}))
    manager.reload_config(_models(fake_models, "half", labels={"stable": 2}))
    with manager.servable("half", label="stable") as servable:
        assert servable.version == 2
