"""Forecast the park's electric demand from what the store holds, for the API, CLI, dashboard.

:func:`park_demand` reads the stored 15-min history of the metering points of the park's
purchased-electricity sources (grid and the CHP plant's supply to the enterprises) and sums
it to local hours [kWh per hour = mean kW]. :func:`forecast_day` fits a forecaster on the
weeks before a day and forecasts the day (issued at local midnight: day-ahead), with its
quantile band, the actual demand where it is stored, and the day's peak with the
probability of exceeding the park's contracted demand. The weather is the twin's typical
year, the weather the virtual park runs on (a deployment passes its weather forecast).
Answers are kept per (park, day, model), since fitting takes a second or two.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.forecasting import (
    GradientBoosting,
    Sarimax,
    SeasonalNaive,
    peak_from_forecast,
    predict_peak,
)
from carbontwin.runtime.simulate import load_interval_history
from carbontwin.store import Store
from carbontwin.twin import typical_weather

__all__ = ["MODELS", "DayForecast", "forecast_day", "park_demand", "park_weather"]

#: Weather columns the forecasters use.
WEATHER = ["temp_air_c", "relative_humidity_pct", "dhi_w_per_m2", "dni_w_per_m2"]
#: Days of history a forecast is fitted on.
HISTORY_DAYS = 56
#: The days a forecast may be asked for.
FIRST_DAY, LAST_DAY = dt.date(1990, 1, 1), dt.date(2100, 12, 31)


def _models() -> dict[str, Any]:
    return {
        "gbm": GradientBoosting(horizon="24h", country="CN", calibration="14D"),
        "seasonal_naive": SeasonalNaive(season="7D", calibration="14D"),
        "sarimax": Sarimax(exog_columns=["temp_air_c"], country="CN"),
    }


#: The forecasters by name.
MODELS: tuple[str, ...] = tuple(_models())


def _electricity_streams(park: Park) -> set[str]:
    return {
        s.id
        for s in park.sources
        if s.carrier == "electricity" and s.category == "purchased_electricity"
    }


def park_demand(store: Store, park: Park, start: dt.date, end: dt.date) -> pd.Series:
    """Return the park's hourly electric demand [kWh per hour], local days ``start``..``end``.

    Hours without stored history count as zero, as in the inventory; the series is indexed
    by local interval start.
    """
    data = load_interval_history(store, park, start, end)
    wanted = _electricity_streams(park)
    rows = [i for i, k in enumerate(data.streams) if k.split(":", 1)[0] in wanted]
    values = data.values[rows].sum(axis=0) if rows else np.zeros(len(data.index))
    quarter = pd.Series(values, index=data.index, name="energy_kwh")
    return quarter.resample("h").sum()


def park_weather(park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Return the twin's typical-year weather on ``index`` (local hours of any year)."""
    year = typical_weather()[WEATHER]
    local = index.tz_convert(park.timezone)
    hour_of_year = np.minimum((local.day_of_year - 1) * 24 + local.hour, len(year) - 1)
    return pd.DataFrame(year.to_numpy()[hour_of_year], index=index, columns=WEATHER)


@dataclass(frozen=True)
class DayForecast:
    """A day-ahead forecast of the park's demand, with the day's actuals where stored.

    Attributes
    ----------
    frame : pandas.DataFrame
        By local hour: ``forecast``, the quantile columns (``q0.1`` …) and ``actual``
        (NaN where the store has no history yet) [kWh per hour].
    peak : dict
        ``peak`` [kW], ``peak_time``, ``peak_hour``, the band and ``p_exceed`` (the
        probability of exceeding ``contracted_kw``; None without one).
    """

    park: str
    day: dt.date
    model: str
    frame: pd.DataFrame
    peak: dict[str, Any]
    contracted_kw: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return the forecast as JSON-ready data."""

        def num(x: float) -> float | None:
            return None if x is None or not np.isfinite(x) else float(x)

        return {
            "park": self.park,
            "day": self.day.isoformat(),
            "model": self.model,
            "unit": "kWh per hour",
            "contracted_kw": self.contracted_kw,
            "hours": [
                {"time": ts.isoformat(), **{c: num(v) for c, v in row.items()}}
                for ts, row in self.frame.iterrows()
            ],
            "peak": {
                k: (
                    v.isoformat()
                    if isinstance(v, pd.Timestamp)
                    else num(v)
                    if k != "peak_hour"
                    else int(v)
                )
                for k, v in self.peak.items()
            },
        }


_kept: dict[tuple[str, dt.date, str, Any], DayForecast] = {}
_lock = threading.Lock()


def forecast_day(
    store: Store,
    park: Park,
    day: dt.date | str,
    *,
    model: str = "gbm",
    contracted_kw: float | None = None,
    history_days: int = HISTORY_DAYS,
    revision: Any = None,
) -> DayForecast:
    """Forecast the park's electric demand of local ``day``, issued at its midnight.

    Parameters
    ----------
    store, park : Store, Park
        The history and the park.
    day : date or str
        The day forecast.
    model : str
        One of :data:`MODELS`.
    contracted_kw : float, optional
        The park's contracted demand [kW], for the probability of exceeding it.
    history_days : int
        Days of history before ``day`` the model is fitted on.
    revision : hashable, optional
        Part of the key answers are kept under (pass what changes when history is added).

    Raises
    ------
    ValidationError
        For an unknown model, or too little stored history before ``day``.
    """
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    if not FIRST_DAY <= day <= LAST_DAY:
        msg = f"day {day} is outside {FIRST_DAY}..{LAST_DAY}; forecast a day of the park's life"
        raise ValidationError(msg)
    if model not in MODELS:
        msg = f"unknown forecast model {model!r}; choose one of {', '.join(MODELS)}"
        raise ValidationError(msg)
    key = (park.id, day, model, (contracted_kw, history_days, revision))
    with _lock:
        if key in _kept:
            return _kept[key]
    start = day - dt.timedelta(days=history_days)
    demand = park_demand(store, park, start, day)
    history = demand[demand.index < pd.Timestamp(day).tz_localize(park.timezone)]
    stored_days = int((history.resample("D").sum() > 0).sum())
    if stored_days < history_days * 0.75:
        msg = (
            f"the store holds {stored_days} day(s) of electricity history in the "
            f"{history_days} days before {day}; a forecast needs at least "
            f"{int(history_days * 0.75)} (run 'carbontwin demo' or ingest more history)"
        )
        raise ValidationError(msg)
    weather = park_weather(park, demand.index)
    forecaster = _models()[model].fit(history, weather.loc[history.index])
    origin = pd.Timestamp(day).tz_localize(park.timezone)
    frame = forecaster.predict(origin, "24h", weather, history=history)
    actual = demand.reindex(frame.index)
    has_actual = actual.groupby(actual.index.date).transform("sum") > 0
    frame = frame.assign(actual=actual.where(has_actual))
    if forecaster.calibration_ is not None and len(forecaster.calibration_):
        peak = predict_peak(forecaster, origin, weather, history, contracted=contracted_kw)
    else:  # no out-of-sample errors to correct the peak by (SARIMAX): the forecast's own
        peak = peak_from_forecast(frame, None, contracted_kw)
    answer = DayForecast(
        park.id, day, model, frame, {str(k): v for k, v in peak.items()}, contracted_kw
    )
    with _lock:
        if len(_kept) > 256:
            _kept.clear()
        _kept[key] = answer
    return answer
