"""The transfer family's `batch_norm_momentum` (added for the MobileNetV2-from-scratch recipe):
keras.applications fix BN momentum at 0.999, too slow for the running statistics to settle in a
short from-scratch run, so a recipe can set the backbone's momentum."""

from __future__ import annotations

import keras
import pytest

from zoo.errors import ConfigError
from zoo.models import build_model
from zoo.spec import DataSpec

IMAGES = DataSpec(name="tiny_images", kind="image", task="classification", input_shape=(28, 28, 1), num_outputs=3)
FROM_SCRATCH = {"weights": "none", "image_size": 32}


def backbone_momenta(model: keras.Model) -> set[float]:
    backbone = model.get_layer("backbone")
    return {layer.momentum for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)}


def test_batch_norm_momentum_sets_every_backbone_batch_norm_layer():
    model = build_model("mobilenet_v2", IMAGES, {**FROM_SCRATCH, "batch_norm_momentum": 0.9})
    assert backbone_momenta(model) == {0.9}


def test_without_it_the_backbone_keeps_its_own_momentum():
    assert backbone_momenta(build_model("mobilenet_v2", IMAGES, FROM_SCRATCH)) == {0.999}


def test_the_momentum_survives_a_keras_file_round_trip(tmp_path):
    model = build_model("mobilenet_v3_small", IMAGES, {**FROM_SCRATCH, "batch_norm_momentum": 0.95})
    model.save(tmp_path / "model.keras")
    assert backbone_momenta(keras.models.load_model(tmp_path / "model.keras")) == {0.95}


@pytest.mark.parametrize("momentum", [1.0, -0.1, "fast"])
def test_a_momentum_outside_0_to_1_is_refused(momentum):
    with pytest.raises(ConfigError, match="batch_norm_momentum must be a number in"):
        build_model("mobilenet_v2", IMAGES, {**FROM_SCRATCH, "batch_norm_momentum": momentum})
