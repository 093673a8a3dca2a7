"""ModelManager request handles: version selection, labels, not-found messages, status."""

import numpy as np
import pytest

from serving import errors
from serving.core import ModelConfig, VersionPolicy

ALL = VersionPolicy(kind="all")


def _models(fake_models, policy=VersionPolicy(), labels=None):
    return [ModelConfig("half", str(fake_models / "half"), policy, labels or {}),
            ModelConfig("other", str(fake_models / "other"))]


def _answer(servable):
    return servable.run("serving_default", {"x": np.array([2.0], np.float32)})["y"].tolist()


def test_no_version_means_latest_available_version(make_manager, fake_models):
    manager = make_manager(_models(fake_models, ALL))
    with manager.servable("half") as servable:
        assert (servable.version, _answer(servable)) == (2, [4.0])


def test_specific_version_is_served(make_manager, fake_models):
    manager = make_manager(_models(fake_models, ALL))
    with manager.servable("half", version=1) as servable:
        assert (servable.version, _answer(servable)) == (1, [3.0])


def test_unknown_model_is_not_found_with_latest_request(make_manager, fake_models):
    manager = make_manager(_models(fake_models))
    with pytest.raises(errors.NotFound) as caught:
        with manager.servable("nope"):
            pass
    assert caught.value.message == "Servable not found for request: Latest(nope)"


def test_unknown_version_is_not_found_with_specific_request(make_manager, fake_models):
    manager = make_manager(_models(fake_models))
    with pytest.raises(errors.NotFound) as caught:
        with manager.servable("half", version=3):
            pass
    assert caught.value.message == "Servable not found for request: Specific(half, 3)"


def test_version_not_in_policy_is_not_served(make_manager, fake_models):
    manager = make_manager(_models(fake_models))  # latest{1}: only version 2
    with pytest.raises(errors.NotFound, match=r"Specific\(half, 1\)"):
        with manager.servable("half", version=1):
            pass


def test_label_resolves_to_its_version(make_manager, fake_models):
    manager = make_manager(_models(fake_models, ALL, {"stable": 1, "canary": 2}))
    with manager.servable("half", label="stable") as servable:
        assert servable.version == 1
    with manager.servable("half", label="canary") as servable:
        assert servable.version == 2
    assert manager.labels("half") == {"stable": 1, "canary": 2}


def test_unknown_label_is_named_with_the_known_labels(make_manager, fake_models):
    manager = make_manager(_models(fake_models, ALL, {"stable": 1}))
    with pytest.raises(errors.InvalidArgument) as caught:
        with manager.servable("half", label="beta"):
            pass
    assert caught.value.message == (
        "Unrecognized servable version label: beta (model 'half' has labels: ['stable'])")


def test_version_and_label_together_are_invalid(make_manager, fake_models):
    manager = make_manager(_models(fake_models))
    with pytest.raises(errors.InvalidArgument, match="not both. Received: version=2, "
                                                     "version_label='stable'"):
        with manager.servable("half", version=2, label="stable"):
            pass


def test_label_on_a_version_that_is_not_loaded_fails_start(make_manager, fake_models):
    manager = make_manager(_models(fake_models, labels={"stable": 1}), start=False)
    with pytest.raises(errors.FailedPrecondition) as caught:
        manager.start()
    assert caught.value.message == ("Request to assign label to version 1 of model half, "
                                    "which is not currently available for inference")


def test_label_on_unavailable_version_allowed_by_flag(make_manager, fake_models):
    manager = make_manager(_models(fake_models, labels={"next": 7}),
                           allow_version_labels_for_unavailable_models=True)
    with pytest.raises(errors.NotFound, match=r"Specific\(half, 7\)"):
        with manager.servable("half", label="next"):
            pass


def test_status_lists_every_version_in_order(make_manager, fake_models):
    manager = make_manager(_models(fake_models, ALL))
    assert [(s.version, s.state, s.error_code) for s in manager.status("half")] == [
        (1, "AVAILABLE", None), (2, "AVAILABLE", None)]
    assert [s.version for s in manager.status("half", version=2)] == [2]


def test_status_of_unknown_model_or_version_is_not_found(make_manager, fake_models):
    manager = make_manager(_models(fake_models))
    with pytest.raises(errors.NotFound, match="Could not find any versions of model nope"):
        manager.status("nope")
    with pytest.raises(errors.NotFound, match="Could not find version 9 of model half"):
        manager.status("half", version=9)


def test_model_names_and_readiness(make_manager, fake_models):
    manager = make_manager(_models(fake_models))
    assert manager.model_names() == ["half", "other"]
    assert manager.is_ready("half") and manager.is_ready()
    assert not manager.is_ready("nope")


def test_stop_unloads_every_version(make_manager, fake_models, fake_loader):
    manager = make_manager(_models(fake_models, ALL))
    manager.stop()
    assert {s.state for s in manager.status("half")} == {"END"}
    assert not manager.is_ready("half") and not manager.is_ready()
    assert all(servable.backend.unloaded for servable in fake_loader.servables)
