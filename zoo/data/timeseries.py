"""Univariate time series from statsmodels (co2, sunspots) as forecasting windows.

Each example is a window of the last `window` values, shaped (window, 1), and its target the next
`horizon` values. Splits are chronological: train, then validation, then test, so a model is
always scored on a later period than it was fitted on. Windows whose targets would straddle two
splits are dropped, so no target value appears in two splits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from zoo.data.packages import package_availability, require_package
from zoo.data.splits import DEFAULT_TEST_FRACTION, Splits, check_fraction
from zoo.errors import ConfigError
from zoo.spec import Dataset, DataSpec

SPLITS = ("train", "val", "test")


@dataclasses.dataclass
class TimeseriesDataset(Dataset):
    """A forecasting `Dataset` that also knows its series' season length (in steps).

    `season_length` is what the seasonal-naive baseline repeats: 52 for weekly co2, 11 for the
    sunspot cycle; 1 makes that baseline the plain naive (last value) forecast.
    """

    season_length: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.season_length < 1:
            raise ValueError(f"season_length must be positive. Received: season_length={self.season_length}")


@dataclasses.dataclass(frozen=True)
class SeriesSource:
    """One statsmodels series and the defaults that suit it."""

    name: str
    description: str
    season_length: int
    read: Callable[[], np.ndarray]


def availability(data_dir: str | None = None) -> tuple[bool, str]:
    return package_availability("statsmodels", "statsmodels")


def load_co2(
    *,
    validation_fraction: float,
    window: int = 52,
    horizon: int = 1,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> TimeseriesDataset:
    """Weekly Mauna Loa CO2 (ppm), 1958-2001, with its 59 missing weeks interpolated."""
    return _load(CO2, window, horizon, validation_fraction, test_fraction)


def load_sunspots(
    *,
    validation_fraction: float,
    window: int = 24,
    horizon: int = 1,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> TimeseriesDataset:
    """Yearly sunspot activity, 1700-2008 (an ~11-year cycle)."""
    return _load(SUNSPOTS, window, horizon, validation_fraction, test_fraction)


def seasonal_naive_forecast(ds: Dataset, split: str = "test") -> np.ndarray:
    """The seasonal-naive baseline for a split: each target step gets the value one season earlier.

    For step h (1-based) of the horizon it is the value h - m*ceil(h/m) steps after the window's
    last one (m = season length), which lies inside the window when window >= m. Returns float32
    of the same shape as the split's targets, (N, horizon), so MAE against it is one subtraction.
    """
    if not isinstance(ds, TimeseriesDataset):
        raise ValueError(
            f"seasonal_naive_forecast needs a timeseries dataset (co2, sunspots). Received: {ds.spec.name!r}"
        )
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}. Received: split={split!r}")
    windows = getattr(ds, f"x_{split}")
    window, season, horizon = windows.shape[1], ds.season_length, ds.spec.num_outputs
    if window < season:
        raise ValueError(
            f"the seasonal-naive baseline needs window >= the season length ({season}). "
            f"Received: window={window}"
        )
    steps = np.arange(1, horizon + 1)
    seasons_back = (steps - 1) // season + 1
    positions = window - 1 + steps - season * seasons_back
    return windows[:, positions, 0].astype(np.float32)


def make_windows(series: np.ndarray, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """All (window, 1) inputs and (horizon,) targets of a 1-D series, in time order.

    Example i covers series[i : i + window] and predicts series[i + window : i + window + horizon].
    """
    spans = np.lib.stride_tricks.sliding_window_view(series.astype(np.float32), window + horizon)
    return spans[:, :window, np.newaxis].copy(), spans[:, window:].copy()


def chronological_splits(
    series: np.ndarray, window: int, horizon: int, validation_fraction: float, test_fraction: float
) -> Splits:
    """Cuts the series' target period into train, validation and test; windows follow their targets.

    The last `test_fraction` of the forecastable steps is the test period and the last
    `validation_fraction` of the rest is the validation period. A window belongs to the period
    that holds all its targets; its inputs may reach back into the previous period (that is the
    known past at forecast time).
    """
    if window + horizon > len(series):
        raise ConfigError(
            f"window={window} and horizon={horizon} need {window + horizon} steps but the series has "
            f"{len(series)}; use a shorter window or horizon"
        )
    x, y = make_windows(series, window, horizon)
    first_target = np.arange(len(x)) + window
    last_target = first_target + horizon - 1
    forecastable = len(series) - window
    test_start = window + round(forecastable * (1 - test_fraction))
    val_start = window + round((test_start - window) * (1 - validation_fraction))
    periods = {
        "train": last_target < val_start,
        "val": (first_target >= val_start) & (last_target < test_start),
        "test": first_target >= test_start,
    }
    empty = [name for name, members in periods.items() if not members.any()]
    if empty:
        raise ConfigError(
            f"window={window} and horizon={horizon} leave no {'/'.join(empty)} examples in a series of "
            f"{len(series)} steps; use a shorter window or horizon"
        )
    return Splits(*(array[periods[name]] for name in SPLITS for array in (x, y)))


def _load(
    source: SeriesSource, window: int, horizon: int, validation_fraction: float, test_fraction: float
) -> TimeseriesDataset:
    for option, value in (("window", window), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{option} must be a positive integer. Received: {option}={value!r}")
    check_fraction("test_fraction", test_fraction)
    require_package(source.name, "statsmodels", "statsmodels")
    series = source.read()
    splits = chronological_splits(series, window, horizon, validation_fraction, test_fraction)
    spec = DataSpec(
        name=source.name,
        kind="timeseries",
        task="regression",
        input_shape=(window, 1),
        num_outputs=horizon,
        feature_names=(source.name,),
        description=(
            f"{source.description} Predicts the next {horizon} value(s) from the last {window}; "
            f"season length {source.season_length} steps."
        ),
    )
    return TimeseriesDataset(
        spec, *splits, source=f"statsmodels.datasets.{source.name}", season_length=source.season_length
    )


def _read_co2() -> np.ndarray:
    from statsmodels.datasets import co2

    weekly = co2.load_pandas().data["co2"]
    return weekly.interpolate(limit_direction="both").to_numpy(dtype=np.float32)


def _read_sunspots() -> np.ndarray:
    from statsmodels.datasets import sunspots

    return sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(dtype=np.float32)


CO2 = SeriesSource(
    name="co2",
    description="Weekly atmospheric CO2 at Mauna Loa in ppm, 1958-2001.",
    season_length=52,
    read=_read_co2,
)
SUNSPOTS = SeriesSource(
    name="sunspots",
    description="Yearly mean sunspot activity, 1700-2008.",
    season_length=11,
    read=_read_sunspots,
)
