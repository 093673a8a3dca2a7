"""The transfer family: input adaptation, backbones, weights (none, ImageNet cache, local files)."""

from __future__ import annotations

import importlib.util
import time

import keras
import numpy as np
import pytest

from zoo.errors import ConfigError, ZooError
from zoo.models import build_model, get_model_entry, model_names
from zoo.models import transfer

SMALL = {"image_size": 32}
# Building these is enough (the brief's rule); a training step each would cost ~5-10 s.
BUILD_ONLY = {"resnet50", "inception_v3", "efficientnet_b0", "densenet121"}
KERAS_BACKBONES = [
    name
    for name in model_names()
    if get_model_entry(name).family == "transfer" and name != "efficientnet_lite0"
]


def smallest_config(name: str) -> dict:
    return {"image_size": transfer.BACKBONES[get_model_entry(name).fixed["backbone"]].min_size}


def backbone_weights(model: keras.Model) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(weight) for weight in model.get_layer("backbone").weights]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(KERAS_BACKBONES) - BUILD_ONLY))
def test_transfer_model_trains_one_step(name, specs, examples, fit_one_step):
    spec = specs["grayscale"]
    x, y = examples(spec, count=2)
    model = build_model(name, spec, smallest_config(name))
    assert np.isfinite(fit_one_step(model, spec, x, y, eager=True))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUILD_ONLY))
def test_large_transfer_model_builds_at_its_smallest_size(name, specs, examples):
    spec = specs["rgb"]
    x, _ = examples(spec, count=1)
    model = build_model(name, spec, smallest_config(name))
    assert model.get_layer("backbone").input_shape == (None, *(smallest_config(name)["image_size"],) * 2, 3)
    probabilities = keras.ops.convert_to_numpy(model(x, training=False))
    assert probabilities.shape == (1, spec.num_outputs)
    np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=1e-5)


def test_grayscale_input_is_resized_and_gets_three_channels(specs):
    model = build_model("mobilenet_v2", specs["grayscale"], SMALL)
    assert model.input_shape == (None, 28, 28, 1)
    assert model.get_layer("resize").output.shape == (None, 32, 32, 1)
    assert model.get_layer("grayscale_to_rgb").output.shape == (None, 32, 32, 3)
    assert model.get_layer("backbone").input_shape == (None, 32, 32, 3)


def test_input_already_at_image_size_is_not_resized(specs):
    model = build_model("mobilenet_v2", specs["rgb"], SMALL)
    layer_names = {layer.name for layer in model.layers}
    assert "resize" not in layer_names and "grayscale_to_rgb" not in layer_names


def test_head_sits_on_pooled_backbone_features(specs):
    model = build_model("vgg16", specs["rgb"], {**SMALL, "dropout": 0.3})
    names = [layer.name for layer in model.layers]
    assert names[-4:] == ["backbone", "pool", "dropout", "probabilities"]
    assert model.get_layer("dropout").rate == 0.3


def test_the_backbones_own_preprocessing_is_inside_the_model(specs, examples):
    spec = specs["rgb"]
    x, _ = examples(spec, count=2)
    model = build_model("resnet50", spec, SMALL)
    preprocessing = model.get_layer("backbone_preprocessing")
    assert preprocessing.module == "keras.applications.resnet50"
    expected = keras.applications.resnet50.preprocess_input(x.copy())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(preprocessing(x)), expected, rtol=1e-6)


def test_inception_v3_refuses_images_smaller_than_75():
    with pytest.raises(ConfigError, match="image_size must be at least 75 for the inception_v3 backbone"):
        get_model_entry("inception_v3").make_config({"image_size": 64})


def test_transfer_refuses_images_with_four_channels():
    from zoo.spec import DataSpec

    spec = DataSpec(name="rgba", kind="image", task="classification", input_shape=(32, 32, 4), num_outputs=2)
    with pytest.raises(ConfigError, match=r"grayscale or RGB images.*input_shape=\(32, 32, 4\)"):
        build_model("mobilenet_v2", spec, SMALL)


def test_augmentation_runs_before_the_backbone_and_only_in_training(specs, examples):
    spec = specs["rgb"]
    x, _ = examples(spec, count=2)
    model = build_model("mobilenet_v3_small", spec, {**SMALL, "augmentation": ["flip", "rotation", "zoom"]})
    names = [layer.name for layer in model.layers]
    assert names.index("random_zoom") < names.index("backbone_preprocessing") < names.index("backbone")
    augmentation = keras.Sequential([model.get_layer(name) for name in ("random_flip", "random_rotation")])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(augmentation(x, training=False)), x)
    assert not np.allclose(keras.ops.convert_to_numpy(augmentation(x, training=True)), x)


def test_imagenet_weights_offline_give_one_line_error_naming_the_file(specs, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    # A host under .invalid never resolves (RFC 2606): the test is offline even on a networked machine.
    monkeypatch.setattr(transfer, "WEIGHTS_HOST", "keras-weights.invalid")
    expected = tmp_path / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"
    started = time.monotonic()
    with pytest.raises(ZooError) as raised:
        build_model("mobilenet_v2", specs["grayscale"], {"weights": "imagenet"})
    message = str(raised.value)
    assert "\n" not in message
    assert f"place {expected.name} at {expected}" in message
    assert time.monotonic() - started < 10


def test_imagenet_weights_are_read_from_the_keras_cache(specs, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(transfer, "WEIGHTS_HOST", "keras-weights.invalid")
    # Keras' MobileNetV2 only has no-top weights at some sizes and uses the 224 file for the rest.
    cached = tmp_path / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    cached.parent.mkdir()
    seed_backbone = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3))
    seed_backbone.save(cached)  # legacy HDF5, the format of Keras' downloads
    model = build_model("mobilenet_v2", specs["grayscale"], {**SMALL, "weights": "imagenet"})
    for loaded, seeded in zip(backbone_weights(model), seed_backbone.get_weights()):
        np.testing.assert_array_equal(loaded, seeded)


def test_local_weights_file_is_loaded_into_the_backbone(specs, tmp_path):
    source = build_model("mobilenet_v3_small", specs["rgb"], SMALL)
    path = tmp_path / "backbone.weights.h5"
    source.get_layer("backbone").save_weights(path)
    model = build_model("mobilenet_v3_small", specs["grayscale"], {**SMALL, "weights": str(path)})
    for loaded, saved in zip(backbone_weights(model), backbone_weights(source)):
        np.testing.assert_array_equal(loaded, saved)


def test_missing_weights_file_is_a_config_error(specs, tmp_path):
    missing = tmp_path / "absent.weights.h5"
    with pytest.raises(ConfigError, match="does not exist. Received: weights="):
        build_model("mobilenet_v2", specs["rgb"], {**SMALL, "weights": str(missing)})


@pytest.mark.filterwarnings("ignore:Skipping nested container")
def test_weights_of_another_architecture_give_one_line_error(specs, tmp_path):
    path = tmp_path / "cnn.weights.h5"
    build_model("cnn", specs["rgb"], {"filters": [4]}).save_weights(path)
    with pytest.raises(ZooError) as raised:
        build_model("mobilenet_v2", specs["rgb"], {**SMALL, "weights": str(path)})
    message = str(raised.value)
    assert message.startswith(f"Could not load weights '{path}' into the mobilenet_v2 backbone: ")
    assert "\n" not in message and len(message) < 500


def test_transfer_model_round_trips_through_a_keras_file(specs, examples, tmp_path):
    spec = specs["grayscale"]
    x, _ = examples(spec, count=2)
    model = build_model("mobilenet_v3_small", spec, SMALL)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert restored.get_layer("backbone_preprocessing").module == "keras.applications.mobilenet_v3"
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(restored(x)), keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-6
    )


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("zoo.models.efficientnet_lite") is None,
    reason="zoo/models/efficientnet_lite.py (EfficientNet-Lite0) is not in this checkout yet",
)
def test_efficientnet_lite0_uses_its_own_backbone_and_preprocessing(specs, examples, fit_one_step):
    spec = specs["grayscale"]
    x, y = examples(spec, count=2)
    model = build_model("efficientnet_lite0", spec, {**SMALL, "weights": "none"})
    assert model.get_layer("backbone_preprocessing").module == "zoo.models.efficientnet_lite"
    assert model.get_layer("backbone").input_shape == (None, 32, 32, 3)
    assert np.isfinite(fit_one_step(model, spec, x, y, eager=True))
    assert get_model_entry("efficientnet_lite0").make_config().weights == "imagenet"
