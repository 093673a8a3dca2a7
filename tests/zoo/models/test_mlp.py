"""The mlp family."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from zoo.errors import ConfigError
from zoo.models import build_model


@pytest.mark.parametrize("spec_name", ["tabular_classification", "tabular_regression", "digits"])
def test_mlp_trains_one_step(spec_name, specs, examples, fit_one_step):
    spec = specs[spec_name]
    x, y = examples(spec)
    model = build_model("mlp", spec, {"hidden_units": [16, 8]}, adapt_data=x)
    assert np.isfinite(fit_one_step(model, spec, x, y))
    head = model.get_layer("probabilities" if spec.is_classification else "values")
    assert head.units == spec.num_outputs
    assert model.input.name == spec.input_name and model.input_shape == (None, *spec.input_shape)


def test_classification_outputs_are_probabilities(specs, examples):
    spec = specs["tabular_classification"]
    x, _ = examples(spec)
    probabilities = keras.ops.convert_to_numpy(build_model("mlp", spec, adapt_data=x)(x))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_mlp_normalises_raw_inputs_with_training_statistics(specs, examples):
    spec = specs["digits"]  # images are flattened, then every pixel is standardised on its own
    x, _ = examples(spec, count=64)
    model = build_model("mlp", spec, adapt_data=x)
    normalized = keras.Model(model.input, model.get_layer("normalization").output)(x)
    normalized = keras.ops.convert_to_numpy(normalized)
    assert normalized.shape == (64, 64)
    np.testing.assert_allclose(normalized.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(normalized.std(axis=0), 1.0, atol=1e-3)


def test_mlp_options_add_batch_norm_activation_and_penalties(specs):
    config = {"hidden_units": [8, 4], "activation": "gelu", "batch_norm": True, "l1": 1e-4, "l2": 1e-3}
    model = build_model("mlp", specs["tabular_classification"], config)
    layer_types = [type(layer).__name__ for layer in model.layers]
    assert layer_types.count("BatchNormalization") == 2
    assert model.get_layer("gelu_1").activation.__name__ == "gelu"
    assert len(model.losses) == 2  # one kernel penalty per hidden layer


def test_mlp_without_dropout_has_no_dropout_layers(specs):
    model = build_model("mlp", specs["tabular_classification"], {"dropout": 0})
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)


def test_mlp_refuses_text(specs):
    with pytest.raises(ConfigError, match="needs numeric inputs"):
        build_model("mlp", specs["text"])
