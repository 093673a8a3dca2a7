"""The rnn family's `forecast_from_last` (added for the co2 recipe): a univariate window is seen
relative to its last value and the forecast is that value plus a predicted change, so a series
that trends beyond its training range is still forecast at the right level."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from zoo.errors import ConfigError
from zoo.models import build_model
from zoo.spec import DataSpec

SERIES = DataSpec(name="tiny_series", kind="timeseries", task="regression", input_shape=(6, 1), num_outputs=2)
SMALL = {"units": 4, "forecast_from_last": True}


def trending_windows(count: int = 16, level: float = 300.0) -> np.ndarray:
    steps = np.arange(count)[:, None] + np.arange(6)[None, :]
    return (level + 0.5 * steps + np.sin(steps)).astype("float32")[..., None]


def test_forecast_is_the_last_value_plus_the_predicted_change():
    model = build_model("gru", SERIES, SMALL, adapt_data=trending_windows())
    windows = trending_windows(4)
    change = keras.Model(model.inputs, model.get_layer("values").output).predict(windows, verbose=0)
    forecast = model.predict(windows, verbose=0)
    np.testing.assert_allclose(forecast, windows[:, -1, :] + change, rtol=1e-6)


def test_shifting_a_window_by_a_constant_shifts_its_forecast_by_the_same_amount():
    model = build_model("lstm", SERIES, SMALL, adapt_data=trending_windows())
    windows = trending_windows(4)
    shifted = model.predict(windows + 1000.0, verbose=0)
    np.testing.assert_allclose(shifted, model.predict(windows, verbose=0) + 1000.0, rtol=1e-5)


def test_normalisation_statistics_are_taken_relative_to_the_last_value():
    data = trending_windows()
    model = build_model("gru", SERIES, SMALL, adapt_data=data)
    mean = np.asarray(model.get_layer("normalization").mean).reshape(-1)
    np.testing.assert_allclose(mean, [(data - data[:, -1:, :]).mean()], rtol=1e-5)


def test_a_forecast_from_last_model_round_trips_through_a_keras_file(tmp_path):
    model = build_model("gru", SERIES, SMALL, adapt_data=trending_windows())
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    windows = trending_windows(3)
    np.testing.assert_allclose(loaded.predict(windows, verbose=0), model.predict(windows, verbose=0), rtol=1e-6)


@pytest.mark.parametrize(
    "spec",
    [
        DataSpec(name="two_features", kind="timeseries", task="regression", input_shape=(6, 2), num_outputs=1),
        DataSpec(name="rows", kind="image", task="classification", input_shape=(8, 8, 1), num_outputs=3),
    ],
)
def test_forecast_from_last_is_refused_for_anything_but_a_univariate_series(spec):
    with pytest.raises(ConfigError, match="forecast_from_last needs a univariate time series"):
        build_model("gru", spec, SMALL)


def test_forecast_from_last_is_off_by_default():
    model = build_model("gru", SERIES, {"units": 4})
    assert "forecast" not in [layer.name for layer in model.layers]
