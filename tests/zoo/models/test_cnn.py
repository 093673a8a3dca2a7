"""The cnn family, including its accuracy on scikit-learn's digits."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from zoo.errors import ConfigError
from zoo.models import build_model


@pytest.mark.parametrize("spec_name", ["digits", "grayscale", "rgb"])
def test_cnn_trains_one_step_on_small_images(spec_name, specs, examples, fit_one_step):
    spec = specs[spec_name]
    x, y = examples(spec)
    model = build_model("cnn", spec, {"filters": [4, 8], "dense_units": 8}, adapt_data=x)
    assert np.isfinite(fit_one_step(model, spec, x, y))
    assert model.output_shape == (None, spec.num_outputs)


def test_cnn_normalises_each_channel(specs, examples):
    spec = specs["rgb"]
    x, _ = examples(spec, count=16)
    model = build_model("cnn", spec, adapt_data=x)
    normalization = model.get_layer("normalization")
    np.testing.assert_allclose(np.ravel(normalization.mean), x.reshape(-1, 3).mean(axis=0), rtol=1e-5)


def test_cnn_pools_only_while_the_feature_map_stays_at_least_two_pixels(specs):
    model = build_model("cnn", specs["digits"], {"filters": [4, 4, 4]})
    pools = [layer.name for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert pools == ["pool_1", "pool_2"]  # 8 -> 4 -> 2, then the 2x2 map is kept
    assert model.get_layer("conv_3").output.shape[1:3] == (2, 2)


def test_cnn_batch_norm_can_be_turned_off(specs):
    model = build_model("cnn", specs["digits"], {"batch_norm": False, "l2": 1e-4})
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    assert model.get_layer("conv_1").use_bias
    assert len(model.losses) == 3  # two convs and the dense layer


def test_cnn_refuses_data_that_is_not_images(specs):
    with pytest.raises(ConfigError, match="needs images of shape"):
        build_model("cnn", specs["sequence"])


@pytest.mark.slow
def test_cnn_reaches_95_percent_on_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from zoo.spec import DataSpec

    images, labels = load_digits(return_X_y=True)
    images = images.reshape(-1, 8, 8, 1).astype("float32")  # raw values 0..16
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.2, random_state=0, stratify=labels
    )
    spec = DataSpec(name="digits", kind="image", task="classification", input_shape=(8, 8, 1), num_outputs=10)
    keras.utils.set_random_seed(0)
    model = build_model("cnn", spec, adapt_data=x_train)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(x_train, y_train, epochs=15, batch_size=64, verbose=0)  # the trainer's default batch
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.95
