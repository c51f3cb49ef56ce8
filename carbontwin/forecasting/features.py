"""Features of the forecasters: calendar and holidays, weather, lags and levels at the origin.

A forecast is issued at an *origin* ``o`` for *targets* ``t >= o`` (interval starts). A
feature of a target may use observations strictly before its origin only; this module
enforces that rule itself: every lag ``y(t - L)`` with ``t - L >= o`` is masked (NaN),
whatever lags are asked for, and the levels at the origin are means of values before
``o``. Forecasters choose lags ``L >= horizon`` so that no lag is ever masked.

Calendar features are computed in the series' own time zone (local hour, weekday,
holidays of the given country from the ``holidays`` package).

Examples
--------
>>> import pandas as pd
>>> idx = pd.date_range("2025-10-01", periods=3, freq="h", tz="Asia/Shanghai")
>>> calendar_features(idx)[["hour", "day_of_week", "holiday"]].to_numpy().tolist()
[[0.0, 2.0, 1.0], [1.0, 2.0, 1.0], [2.0, 2.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import holidays as holidays_lib
import numpy as np
import pandas as pd

from carbontwin.core.errors import ValidationError
from carbontwin.core.time import require_aware

__all__ = [
    "calendar_features",
    "check_series",
    "design_matrix",
    "lag_features",
    "origin_features",
    "weather_features",
]


def check_series(series: pd.Series, what: str = "history") -> pd.Timedelta:
    """Check a series for forecasting and return its step.

    The series must be indexed by a timezone-aware, strictly increasing and regular
    DatetimeIndex (interval starts) and hold finite numbers.

    Parameters
    ----------
    series : pandas.Series
        The series.
    what : str
        Its name in error messages.

    Returns
    -------
    pandas.Timedelta
        The step between consecutive values.

    Raises
    ------
    ValidationError
        Naming what is wrong and how to fix it.
    """
    if not isinstance(series, pd.Series):
        msg = f"{what} must be a pandas Series, not {type(series).__name__}"
        raise ValidationError(msg)
    require_aware(series.index, f"{what}.index")
    if len(series) < 2:
        msg = f"{what} has {len(series)} values; a forecaster needs a history"
        raise ValidationError(msg)
    index = series.index
    if not index.is_monotonic_increasing or not index.is_unique:
        msg = (
            f"{what}.index must be strictly increasing without duplicates; "
            "sort it and drop duplicate timestamps (series.sort_index(), "
            "series[~series.index.duplicated()])"
        )
        raise ValidationError(msg)
    diffs = np.diff(index.as_unit("ns").asi8)
    if diffs.min() != diffs.max():
        k = int(np.flatnonzero(diffs != diffs[0])[0])
        msg = (
            f"{what}.index is not regular: the step {pd.Timedelta(int(diffs[0]), 'ns')} "
            f"changes after {index[k + 1]}; reindex it to a fixed step (series.asfreq(step)) "
            "and fill the gaps"
        )
        raise ValidationError(msg)
    values = series.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        msg = (
            f"{what} has {int(bad.sum())} missing or non-finite values (first at "
            f"{index[int(np.flatnonzero(bad)[0])]}); fill them first, e.g. "
            "series.interpolate(limit=4), or cut the history after the gap"
        )
        raise ValidationError(msg)
    return pd.Timedelta(int(diffs[0]), "ns")


def calendar_features(
    index: pd.DatetimeIndex, country: str | None = "CN", subdiv: str | None = None
) -> pd.DataFrame:
    """Calendar features of each timestamp, in the index's local time.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Timezone-aware interval starts.
    country : str or None
        ISO 3166 code of the public holidays (``holidays`` package); none when ``None``.
    subdiv : str, optional
        Subdivision (state, province) of the holidays.

    Returns
    -------
    pandas.DataFrame
        ``hour`` (local hour of day, fractional [h]), ``day_of_week`` (0 = Monday),
        ``weekend`` and ``holiday`` (0/1), ``hour_sin``/``hour_cos`` and
        ``year_sin``/``year_cos`` (daily and yearly cycles), ``day_of_year``.
    """
    require_aware(index, "index")
    hour = index.hour + index.minute / 60.0
    dow = index.day_of_week
    doy = index.day_of_year
    holiday = np.zeros(len(index))
    if country is not None and len(index):
        years = range(int(index.year.min()), int(index.year.max()) + 1)
        days = holidays_lib.country_holidays(country, subdiv=subdiv, years=years)
        dates = np.array(sorted(days), dtype="datetime64[D]")
        local_days = index.tz_localize(None).normalize().to_numpy().astype("datetime64[D]")
        holiday = np.isin(local_days, dates).astype(float)
    return pd.DataFrame(
        {
            "hour": np.asarray(hour, dtype=float),
            "day_of_week": np.asarray(dow, dtype=float),
            "weekend": np.asarray(dow >= 5, dtype=float),
            "holiday": holiday,
            "hour_sin": np.sin(2 * np.pi * np.asarray(hour) / 24.0),
            "hour_cos": np.cos(2 * np.pi * np.asarray(hour) / 24.0),
            "year_sin": np.sin(2 * np.pi * np.asarray(doy) / 365.25),
            "year_cos": np.cos(2 * np.pi * np.asarray(doy) / 365.25),
            "day_of_year": np.asarray(doy, dtype=float),
        },
        index=index,
    )


def _positions(series: pd.Series, stamps: pd.DatetimeIndex, step: pd.Timedelta) -> np.ndarray:
    """Integer position of each timestamp on the series' grid (may lie outside it)."""
    offset = stamps.as_unit("ns").asi8 - series.index[0].as_unit("ns").value
    pos, rem = np.divmod(offset, step.value)
    if np.any(rem != 0):
        msg = f"timestamps must lie on the series' {step} grid from {series.index[0]}"
        raise ValidationError(msg)
    return pos.astype(np.int64)


def lag_features(
    series: pd.Series,
    targets: pd.DatetimeIndex,
    origins: pd.DatetimeIndex,
    lags: Sequence[pd.Timedelta],
    step: pd.Timedelta,
) -> pd.DataFrame:
    """Lagged values ``y(t - L)`` of each target, masked where not known at the origin.

    Parameters
    ----------
    series : pandas.Series
        The observed history (regular, see :func:`check_series`).
    targets, origins : pandas.DatetimeIndex
        Each target and the origin its forecast is issued at (same length).
    lags : sequence of pandas.Timedelta
        The lags, multiples of ``step``.
    step : pandas.Timedelta
        The series' step.

    Returns
    -------
    pandas.DataFrame
        One column ``lag_<hours>h`` per lag; NaN where ``t - L >= origin`` or outside the
        history.
    """
    values = series.to_numpy(dtype=float)
    n = len(values)
    t_pos = _positions(series, targets, step)
    o_pos = _positions(series, origins, step)
    out = {}
    for lag in lags:
        k = int(lag / step)
        src = t_pos - k
        ok = (src >= 0) & (src < n) & (src < o_pos)
        col = np.full(len(targets), np.nan)
        col[ok] = values[src[ok]]
        out[f"lag_{lag / pd.Timedelta(hours=1):g}h"] = col
    return pd.DataFrame(out, index=targets)


def origin_features(
    series: pd.Series,
    targets: pd.DatetimeIndex,
    origins: pd.DatetimeIndex,
    windows: Sequence[pd.Timedelta],
    step: pd.Timedelta,
) -> pd.DataFrame:
    """Levels known at each target's origin, and the lead.

    Returns
    -------
    pandas.DataFrame
        ``last`` (the value just before the origin), ``mean_<hours>h`` (mean over each
        window ending at the origin; NaN where the history is shorter) and ``lead_h``
        (target minus origin [h]).
    """
    values = series.to_numpy(dtype=float)
    n = len(values)
    csum = np.concatenate([[0.0], np.cumsum(values)])
    o_pos = _positions(series, origins, step)
    end = np.minimum(o_pos, n)  # values [.., end) are known
    last = np.full(len(origins), np.nan)
    ok = (end >= 1) & (o_pos <= n)
    last[ok] = values[end[ok] - 1]
    out = {"last": last}
    for w in windows:
        k = int(w / step)
        col = np.full(len(origins), np.nan)
        good = ok & (end - k >= 0)
        col[good] = (csum[end[good]] - csum[end[good] - k]) / k
        out[f"mean_{w / pd.Timedelta(hours=1):g}h"] = col
    out["lead_h"] = (targets.as_unit("ns").asi8 - origins.as_unit("ns").asi8) / 3.6e12
    return pd.DataFrame(out, index=targets)


def weather_features(
    exog: pd.DataFrame, targets: pd.DatetimeIndex, daily_means: bool = True
) -> pd.DataFrame:
    """Return the exogenous (forecast weather) columns at each target and local-day means.

    Parameters
    ----------
    exog : pandas.DataFrame
        Indexed by timezone-aware timestamps on the targets' grid; numeric columns.
    targets : pandas.DatetimeIndex
        The targets.
    daily_means : bool
        Add ``<column>_day_mean``: the mean of the column over the target's local day
        (a day-ahead weather forecast gives the whole day).

    Raises
    ------
    ValidationError
        If exog does not cover the targets or has missing values there.
    """
    require_aware(exog.index, "exog.index")
    missing = targets.difference(exog.index)
    if len(missing):
        msg = (
            f"exog has no row for {len(missing)} target times (first {missing[0]}); give the "
            "(forecast) weather for every time forecast"
        )
        raise ValidationError(msg)
    frame = exog.astype(float)
    at = frame.reindex(targets)
    if at.isna().to_numpy().any():
        col = at.columns[at.isna().any()][0]
        msg = f"exog column {col!r} is missing values at target times; fill them first"
        raise ValidationError(msg)
    parts = [at]
    if daily_means:
        local = frame.index.tz_convert(targets.tz)
        days = local.tz_localize(None).normalize()
        means = frame.groupby(days).transform("mean")
        means.index = frame.index
        means.columns = [f"{c}_day_mean" for c in frame.columns]
        parts.append(means.reindex(targets))
    return pd.concat(parts, axis=1)


def design_matrix(
    series: pd.Series,
    targets: pd.DatetimeIndex,
    origins: pd.DatetimeIndex,
    *,
    step: pd.Timedelta,
    lags: Sequence[pd.Timedelta],
    windows: Sequence[pd.Timedelta],
    exog: pd.DataFrame | None = None,
    country: str | None = "CN",
    subdiv: str | None = None,
) -> pd.DataFrame:
    """All features of each (origin, target) pair: calendar, origin levels, lags, weather.

    Targets are taken in the series' time zone for the calendar.
    """
    targets = targets.tz_convert(series.index.tz)
    parts = [
        calendar_features(targets, country, subdiv),
        origin_features(series, targets, origins, windows, step),
        lag_features(series, targets, origins, lags, step),
    ]
    if exog is not None:
        parts.append(weather_features(exog, targets))
    frame = pd.concat(parts, axis=1)
    lag_cols = [c for c in frame.columns if c.startswith("lag_")]
    if lag_cols:
        frame["lag_mean"] = frame[lag_cols].mean(axis=1)
    return frame
