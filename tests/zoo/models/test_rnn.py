"""The recurrent family (lstm, gru, bilstm) on image rows, sequences, windows and text."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.errors import ConfigError
from zoo.models import build_model

SMALL = {"units": 8, "embedding_dim": 8, "sequence_length": 6}


@pytest.mark.parametrize(
    "name, spec_name",
    [("lstm", "grayscale"), ("gru", "sequence"), ("bilstm", "timeseries"), ("lstm", "text")],
)
def test_rnn_trains_one_step(name, spec_name, specs, examples, fit_one_step):
    spec = specs[spec_name]
    x, y = examples(spec)
    model = build_model(name, spec, SMALL, adapt_data=x)
    assert np.isfinite(fit_one_step(model, spec, x, y))
    assert model.output_shape == (None, spec.num_outputs)


def test_images_are_read_row_by_row(specs):
    model = build_model("gru", specs["rgb"], SMALL)
    assert model.get_layer("image_rows").output.shape == (None, 32, 32 * 3)
    assert model.get_layer("normalization").output.shape == (None, 32, 96)


def test_timeseries_models_forecast_linear_values(specs):
    spec = specs["timeseries"]
    model = build_model("lstm", spec, SMALL)
    head = model.get_layer("values")
    assert head.units == spec.num_outputs and head.activation.__name__ == "linear"


def test_cell_and_direction_follow_the_registered_name(specs):
    layers = {name: build_model(name, specs["sequence"], SMALL).layers for name in ("lstm", "gru", "bilstm")}
    assert any(isinstance(layer, keras.layers.LSTM) for layer in layers["lstm"])
    assert any(isinstance(layer, keras.layers.GRU) for layer in layers["gru"])
    bidirectional = [layer for layer in layers["bilstm"] if isinstance(layer, keras.layers.Bidirectional)]
    assert len(bidirectional) == 1 and bidirectional[0].output.shape == (None, 2 * SMALL["units"])


def test_stacked_layers_pass_sequences_until_the_last(specs):
    model = build_model("gru", specs["sequence"], {**SMALL, "num_layers": 3})
    outputs = [model.get_layer(f"gru_{index}").output.shape for index in (1, 2, 3)]
    assert outputs == [(None, 10, 8), (None, 10, 8), (None, 8)]


def test_text_is_vectorised_with_a_vocabulary_from_the_training_strings(specs, examples):
    spec = specs["text"]
    x, _ = examples(spec, count=12)
    model = build_model("lstm", spec, {**SMALL, "max_tokens": 10}, adapt_data=x)
    vectorizer = model.get_layer("text_vectorization")
    assert vectorizer.vocabulary_size() == 10
    assert model.get_layer("embedding").input_dim == 10 and model.get_layer("embedding").mask_zero
    token_ids = keras.ops.convert_to_numpy(vectorizer(np.array(["the cat sat"], dtype=object)))
    assert token_ids.shape == (1, SMALL["sequence_length"]) and (token_ids[0, 3:] == 0).all()


def test_text_model_builds_and_trains_inside_a_distribution_strategy_scope(specs, examples):
    spec = specs["text"]
    x, y = examples(spec)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = build_model("gru", spec, SMALL, adapt_data=x)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    assert model.predict(x, verbose=0).shape == (len(x), spec.num_outputs)


def test_text_models_need_training_strings(specs):
    with pytest.raises(ValueError, match="Received: adapt_data=None"):
        build_model("lstm", specs["text"], SMALL)


def test_rnn_refuses_tabular_data(specs):
    with pytest.raises(ConfigError, match="reads images, sequences, time-series windows or text"):
        build_model("lstm", specs["tabular_classification"])


def test_text_model_round_trips_through_a_keras_file_with_its_vocabulary(specs, examples, tmp_path):
    spec = specs["text"]
    x, _ = examples(spec)
    model = build_model("lstm", spec, SMALL, adapt_data=x)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert restored.get_layer("text_vectorization").get_vocabulary() == (
        model.get_layer("text_vectorization").get_vocabulary()
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(restored(x)), keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-6
    )
