import numpy as np
import pytest

from zoo.data import TimeseriesDataset, load_dataset, seasonal_naive_forecast
from zoo.data.timeseries import chronological_splits, make_windows
from zoo.errors import ConfigError
from zoo.spec import DataSpec


@pytest.mark.parametrize("name, window, season", [("co2", 52, 52), ("sunspots", 24, 11)])
def test_series_load_as_windows_with_the_next_value_as_target(name, window, season):
    ds = load_dataset(name)
    assert isinstance(ds, TimeseriesDataset) and ds.season_length == season
    assert ds.spec.kind == "timeseries" and ds.spec.task == "regression"
    assert ds.spec.input_shape == (window, 1) and ds.spec.num_outputs == 1
    for x, y in ((ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)):
        assert x.dtype == np.float32 and y.dtype == np.float32 and y.shape == (len(x), 1)
        assert np.isfinite(x).all() and np.isfinite(y).all()
    # Consecutive windows overlap: each window's next value is the following window's last input.
    np.testing.assert_array_equal(ds.y_train[:-1, 0], ds.x_train[1:, -1, 0])


def test_co2_missing_weeks_are_interpolated_and_all_weeks_are_used():
    ds = load_dataset("co2", window=52, horizon=1)
    assert len(ds.x_train) + len(ds.x_val) + len(ds.x_test) == 2284 - 52


def test_window_and_horizon_options_shape_the_examples():
    ds = load_dataset("sunspots", window=12, horizon=3)
    assert ds.x_test.shape[1:] == (12, 1) and ds.y_test.shape[1:] == (3,)
    assert ds.spec.num_outputs == 3


def test_splits_are_chronological_with_disjoint_targets():
    series = np.arange(200, dtype=np.float32)  # each value is its own time step
    splits = chronological_splits(series, window=10, horizon=3, validation_fraction=0.1, test_fraction=0.2)
    train, val, test = splits.y_train, splits.y_val, splits.y_test
    assert train.max() < val.min() and val.max() < test.min()
    assert test.max() == 199
    # Inputs are the steps right before the targets; they may reach into the previous period.
    np.testing.assert_array_equal(splits.x_val[0, :, 0], np.arange(val[0, 0] - 10, val[0, 0]))


def test_windows_that_straddle_two_splits_are_dropped():
    series = np.arange(100, dtype=np.float32)
    splits = chronological_splits(series, window=5, horizon=4, validation_fraction=0.2, test_fraction=0.2)
    targets = [set(y.ravel()) for y in (splits.y_train, splits.y_val, splits.y_test)]
    assert not targets[0] & targets[1] and not targets[1] & targets[2]
    windows, _ = make_windows(series, 5, 4)
    assert len(splits.x_train) + len(splits.x_val) + len(splits.x_test) == len(windows) - 2 * 3


def test_window_that_leaves_a_split_empty_is_a_config_error():
    with pytest.raises(ConfigError, match="window=308 and horizon=1 leave no val/test examples"):
        load_dataset("sunspots", window=308)


def test_window_longer_than_the_series_is_a_config_error():
    with pytest.raises(ConfigError, match="window=400 and horizon=1 need 401 steps but the series has 309"):
        load_dataset("sunspots", window=400)


@pytest.mark.parametrize("option, value", [("window", 0), ("horizon", -2), ("window", 2.5)])
def test_non_positive_window_or_horizon_is_a_config_error(option, value):
    with pytest.raises(ConfigError, match=f"{option} must be a positive integer"):
        load_dataset("co2", **{option: value})


def _periodic_dataset(window: int, horizon: int, season: int) -> TimeseriesDataset:
    """A purely periodic series, which the seasonal-naive forecast predicts exactly."""
    pattern = np.random.default_rng(0).normal(size=season).astype(np.float32)
    splits = chronological_splits(np.tile(pattern, 40), window, horizon, 0.1, 0.2)
    spec = DataSpec(
        name="periodic", kind="timeseries", task="regression", input_shape=(window, 1), num_outputs=horizon
    )
    return TimeseriesDataset(spec, *splits, season_length=season)


@pytest.mark.parametrize("horizon", [1, 3, 11])
def test_seasonal_naive_forecast_is_exact_on_a_periodic_series(horizon):
    ds = _periodic_dataset(window=15, horizon=horizon, season=7)
    for split in ("train", "val", "test"):
        forecast = seasonal_naive_forecast(ds, split)
        assert forecast.shape == getattr(ds, f"y_{split}").shape and forecast.dtype == np.float32
        np.testing.assert_array_equal(forecast, getattr(ds, f"y_{split}"))


def test_seasonal_naive_forecast_takes_the_value_one_season_before_the_target():
    ds = load_dataset("sunspots")  # window 24, season 11
    forecast = seasonal_naive_forecast(ds, "test")
    np.testing.assert_array_equal(forecast[:, 0], ds.x_test[:, 24 - 11, 0])


def test_seasonal_naive_forecast_still_works_after_subset():
    ds = load_dataset("co2").subset(100, seed=1)
    assert seasonal_naive_forecast(ds, "train").shape == (100, 1)


def test_seasonal_naive_forecast_needs_a_window_of_a_full_season():
    ds = load_dataset("co2", window=26)
    with pytest.raises(ValueError, match=r"needs window >= the season length \(52\). Received: window=26"):
        seasonal_naive_forecast(ds)


def test_seasonal_naive_forecast_refuses_non_timeseries_data_and_unknown_splits():
    with pytest.raises(ValueError, match="needs a timeseries dataset"):
        seasonal_naive_forecast(load_dataset("iris"))
    with pytest.raises(ValueError, match="split must be one of"):
        seasonal_naive_forecast(load_dataset("sunspots"), "validation")
