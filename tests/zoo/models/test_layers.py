"""Shared layers: normalisation statistics from numpy, and the backbone preprocessing wrapper."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from zoo.models.layers import BackbonePreprocessing, feature_statistics, normalization_layer


def test_feature_statistics_match_numpy_across_chunks():
    # More rows than one chunk, uint8 like raw pixels, so the chunk merge is exercised.
    data = np.random.default_rng(0).integers(0, 256, size=(10_000, 2, 3), dtype=np.uint8)
    mean, variance = feature_statistics(data)
    flat = data.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(mean, flat.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(variance, flat.var(axis=0), rtol=1e-9)


def test_constant_feature_gets_unit_variance():
    data = np.stack([np.full(50, 7.0), np.arange(50.0)], axis=1)
    mean, variance = feature_statistics(data)
    assert mean[0] == 7.0 and variance[0] == 1.0
    assert variance[1] == pytest.approx(np.arange(50.0).var())


def test_normalization_layer_standardises_its_data():
    data = np.random.default_rng(1).normal(40.0, 9.0, size=(200, 4)).astype("float32")
    normalized = keras.ops.convert_to_numpy(normalization_layer(data, 4)(data))
    np.testing.assert_allclose(normalized.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(normalized.std(axis=0), 1.0, atol=1e-3)


def test_normalization_layer_without_data_is_identity():
    data = np.arange(12.0, dtype="float32").reshape(3, 4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(normalization_layer(None, 4)(data)), data)


def test_normalization_layer_refuses_data_with_other_feature_count():
    with pytest.raises(ValueError, match=r"Received: adapt_data.shape=\(3, 5\)"):
        normalization_layer(np.zeros((3, 5)), 4)


def test_normalization_layer_refuses_missing_values():
    data = np.ones((4, 3))
    data[2, 1] = np.nan
    with pytest.raises(ValueError, match="adapt_data must be finite.*infinite values in 1 of 3 features"):
        normalization_layer(data, 3)


def test_backbone_preprocessing_applies_the_backbone_function_and_round_trips():
    layer = BackbonePreprocessing("keras.applications.vgg16", name="pre")
    pixels = np.random.default_rng(2).uniform(0, 255, size=(2, 4, 4, 3)).astype("float32")
    expected = keras.applications.vgg16.preprocess_input(pixels.copy())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(pixels)), expected, rtol=1e-6)
    clone = BackbonePreprocessing.from_config(layer.get_config())
    assert clone.module == "keras.applications.vgg16" and clone.name == "pre"
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, BackbonePreprocessing)


def test_backbone_preprocessing_refuses_other_modules():
    with pytest.raises(ValueError, match="Received: module='os'"):
        BackbonePreprocessing("os")
