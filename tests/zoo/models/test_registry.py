"""The registry contract: names, entries, config validation and round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zoo.errors import ConfigError, UnknownNameError, ZooError
from zoo.models import MODELS, build_model, get_model_entry, model_names
from zoo.spec import DataSpec

REQUIRED_NAMES = {
    "mlp": "mlp",
    "cnn": "cnn",
    "lstm": "rnn",
    "gru": "rnn",
    "bilstm": "rnn",
    "vgg16": "transfer",
    "resnet50": "transfer",
    "inception_v3": "transfer",
    "mobilenet_v2": "transfer",
    "efficientnet_b0": "transfer",
    "efficientnet_lite0": "transfer",
}


def test_required_models_are_registered_in_their_families():
    assert {name: MODELS[name].family for name in REQUIRED_NAMES} == REQUIRED_NAMES
    assert model_names() == tuple(MODELS)
    assert all(entry.description and "\n" not in entry.description for entry in MODELS.values())


def test_unknown_model_error_names_valid_choices():
    with pytest.raises(UnknownNameError) as raised:
        get_model_entry("alexnet")
    message = str(raised.value)
    assert "'alexnet'" in message
    assert all(name in message for name in model_names())
    assert isinstance(raised.value, KeyError) and isinstance(raised.value, ZooError)


def test_build_model_with_unknown_name_raises_before_building(specs):
    with pytest.raises(UnknownNameError, match="Valid models: mlp, cnn"):
        build_model("alexnet", specs["digits"])


def test_unknown_config_key_error_names_valid_keys():
    with pytest.raises(ConfigError) as raised:
        get_model_entry("cnn").make_config({"filterz": [8], "dropout": 0.1})
    message = str(raised.value)
    assert "'filterz'" in message
    assert "Valid keys: filters, kernel_size, dense_units, dropout, batch_norm, l2" in message


@pytest.mark.parametrize(
    "name, key, value",
    [
        ("mlp", "hidden_units", [64, 0]),
        ("mlp", "hidden_units", []),
        ("mlp", "activation", "swish"),
        ("mlp", "dropout", 1.0),
        ("mlp", "l2", -0.1),
        ("mlp", "batch_norm", "yes"),
        ("cnn", "filters", 32),
        ("cnn", "kernel_size", 0),
        ("cnn", "dense_units", 2.5),
        ("lstm", "units", -3),
        ("lstm", "num_layers", True),
        ("lstm", "max_tokens", 2),
        ("gru", "dropout", "lots"),
        ("mobilenet_v2", "image_size", 16),
        ("mobilenet_v2", "weights", "model.pt"),
        ("mobilenet_v2", "augmentation", ["flip", "blur"]),
        ("mobilenet_v2", "augmentation", ["flip", "flip"]),
    ],
)
def test_bad_config_value_error_says_what_was_received(name, key, value):
    with pytest.raises(ConfigError, match=f"Received: {key}="):
        get_model_entry(name).make_config({key: value})


def test_config_error_is_a_value_error():
    with pytest.raises(ValueError, match="units must be a positive integer. Received: units=-3"):
        get_model_entry("lstm").make_config({"units": -3})


@pytest.mark.parametrize("name", model_names())
def test_config_round_trips_through_a_plain_dict(name):
    entry = get_model_entry(name)
    config = entry.make_config()
    as_json = json.loads(json.dumps(config.get_config()))
    assert entry.config_class.from_config(as_json) == config
    assert isinstance(config, entry.config_class)


def test_from_config_refuses_unknown_keys():
    config_class = get_model_entry("mlp").config_class
    with pytest.raises(ConfigError, match="Unknown config key 'units'"):
        config_class.from_config({"units": 3})


def test_yaml_style_values_are_normalised():
    """Lists become tuples, PyYAML's string '1e-4' is a number, null weights mean none."""
    mlp = get_model_entry("mlp").make_config({"hidden_units": [32, 16], "l2": "1e-4"})
    assert mlp.hidden_units == (32, 16) and mlp.l2 == pytest.approx(1e-4)
    transfer = get_model_entry("vgg16").make_config({"weights": None, "augmentation": ["flip", "zoom"]})
    assert transfer.weights == "none" and transfer.augmentation == ("flip", "zoom")


def test_overriding_a_value_that_defines_the_model_names_the_right_model():
    with pytest.raises(ConfigError, match="use model lstm or bilstm instead. Received: cell='lstm'"):
        get_model_entry("gru").make_config({"cell": "lstm"})
    with pytest.raises(ConfigError, match="use model resnet50 instead"):
        get_model_entry("vgg16").make_config({"backbone": "resnet50"})


def test_non_defining_values_of_a_preset_can_be_overridden():
    config = get_model_entry("gru").make_config({"bidirectional": True, "cell": "gru"})
    assert (config.cell, config.bidirectional) == ("gru", True)


def test_presets_differ_only_in_their_defining_values():
    lstm, gru, bilstm = (get_model_entry(name).make_config() for name in ("lstm", "gru", "bilstm"))
    assert (lstm.cell, gru.cell, bilstm.cell) == ("lstm", "gru", "lstm")
    assert (lstm.bidirectional, bilstm.bidirectional) == (False, True)
    assert lstm.units == gru.units == bilstm.units


@pytest.mark.parametrize("name", ["mlp", "cnn", "lstm", "mobilenet_v2"])
def test_default_spec_builds_a_model(name):
    entry = get_model_entry(name)
    spec = entry.default_spec()
    assert isinstance(spec, DataSpec)
    model = build_model(name, spec)
    assert model.input_shape == (None, *spec.input_shape)
    assert model.output_shape == (None, spec.num_outputs)


def test_built_model_records_name_family_and_config(specs):
    model = build_model("mlp", specs["tabular_classification"], {"hidden_units": [8], "dropout": 0.0})
    assert model.name == "mlp"
    assert model.zoo_config["model"] == "mlp" and model.zoo_config["family"] == "mlp"
    config_class = get_model_entry("mlp").config_class
    assert config_class.from_config(model.zoo_config["config"]) == config_class(hidden_units=(8,), dropout=0.0)


def test_adapt_data_must_match_the_spec(specs):
    with pytest.raises(ValueError, match=r"adapt_data must hold at least one example of shape \(5,\)"):
        build_model("mlp", specs["tabular_classification"], adapt_data=np.zeros((4, 6)))


def test_spec_must_be_a_dataspec():
    with pytest.raises(TypeError, match="spec must be a zoo.spec.DataSpec"):
        build_model("mlp", {"kind": "tabular"})
