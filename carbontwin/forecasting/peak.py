"""Peak prediction: the next day's and the month's peak demand, P(exceeding a contract).

The probability is that of exceeding a contracted demand.

The peak of a forecast is the highest point forecast of the day and its time. The point
forecast is a conditional mean, whose maximum is biased low against the maximum of the
observations; the bias and the spread come from the forecaster's own out-of-sample
errors on its calibration window (``calibration_``): for every local day there,
``e = max(actual) - max(forecast)``. The peak estimate is ``max(forecast) + median(e)``,
its band ``max(forecast) + quantile(e)`` and ``P(peak > C) = mean(max(forecast) + e > C)``
(the empirical distribution of ``e``).

The month's peak is the largest of the peak observed so far in the month and the peaks of
the remaining days, each day drawn as ``max(forecast_d) + e`` with ``e`` resampled
independently per day (a seeded bootstrap); it needs a forecaster whose horizon reaches the
end of the month.

Values are in the unit of the series (an hourly kWh series gives mean kW over the hour).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carbontwin.core.errors import ValidationError
from carbontwin.forecasting.models import Forecaster

__all__ = [
    "daily_peak_errors",
    "peak_from_forecast",
    "predict_month_peak",
    "predict_peak",
]


def daily_peak_errors(calibration: pd.DataFrame | None) -> np.ndarray:
    """Errors of the daily peak in a calibration frame: ``max(actual) - max(forecast)``.

    Parameters
    ----------
    calibration : pandas.DataFrame
        ``origin``, ``actual`` and ``forecast`` by target time (a forecaster's
        ``calibration_``); days are local days of the targets, per origin.

    Returns
    -------
    numpy.ndarray
        One error per (origin, local day) with at least half a day of targets.

    Raises
    ------
    ValidationError
        If there is no calibration (e.g. :class:`~carbontwin.forecasting.models.Sarimax`).
    """
    if calibration is None or len(calibration) == 0:
        msg = (
            "the forecaster has no calibration errors (calibration_ is empty); use "
            "SeasonalNaive or GradientBoosting for peak prediction"
        )
        raise ValidationError(msg)
    days = calibration.index.tz_localize(None).normalize()
    frame = calibration.assign(day=days)
    grouped = frame.groupby(["origin", "day"])
    stats = grouped.agg(
        actual=("actual", "max"), forecast=("forecast", "max"), n=("actual", "size")
    )
    full = stats["n"] >= 0.5 * stats["n"].max()
    return (stats["actual"] - stats["forecast"])[full].to_numpy(dtype=float)


def peak_from_forecast(
    forecast: pd.DataFrame,
    errors: np.ndarray | None = None,
    contracted: float | None = None,
    quantiles: tuple[float, ...] = (0.1, 0.9),
    time_window_h: float = 1.0,
) -> pd.Series:
    """Return the peak of a forecast window, corrected by the daily peak ``errors``.

    The peak time is the centre of the highest ``±time_window_h`` moving mean of the
    point forecast (the highest point itself when the window holds one step): on a flat
    daily plateau the single highest hour of a forecast is mostly noise, while the centre
    of its highest 3-hour window is the best guess of a peak to be placed within ±1 h.

    Parameters
    ----------
    forecast : pandas.DataFrame
        A forecaster's output (column ``forecast``), one window (e.g. a day).
    errors : numpy.ndarray, optional
        Daily peak errors (:func:`daily_peak_errors`); without them no correction, no band
        and no probability.
    contracted : float, optional
        The contracted (maximum) demand [unit of the series].
    quantiles : tuple of float
        Quantiles of the peak band.
    time_window_h : float
        Half-width of the moving mean that places the peak [h]; 0 for the highest point.

    Returns
    -------
    pandas.Series
        ``peak`` [unit], ``peak_time`` (the target interval's start), ``peak_hour``
        (local hour), ``peak_q<tau>`` per quantile and ``p_exceed`` (NaN without
        ``contracted`` or ``errors``).
    """
    point = forecast["forecast"].to_numpy(dtype=float)
    top = float(point.max())
    k = _peak_position(forecast.index, point, time_window_h)
    have = errors is not None and len(errors) > 0
    out: dict[str, object] = {
        "peak": top + (float(np.median(errors)) if have else 0.0),
        "peak_time": forecast.index[k],
        "peak_hour": int(forecast.index[k].hour),
    }
    for tau in quantiles:
        out[f"peak_q{tau:g}"] = top + float(np.quantile(errors, tau)) if have else np.nan
    p = np.nan
    if contracted is not None and have:
        p = float(np.mean(top + np.asarray(errors) > contracted))
    out["p_exceed"] = p
    return pd.Series(out)


def _peak_position(index: pd.DatetimeIndex, point: np.ndarray, half_h: float) -> int:
    """Index of the centre of the highest centred moving mean of ``point``."""
    if len(index) < 2 or half_h <= 0:
        return int(np.argmax(point))
    step_h = (index[1] - index[0]) / pd.Timedelta(hours=1)
    half = int(half_h // step_h)
    if half == 0:
        return int(np.argmax(point))
    kernel = np.ones(2 * half + 1)
    sums = np.convolve(point, kernel, mode="same")
    counts = np.convolve(np.ones_like(point), kernel, mode="same")
    smooth = sums / counts
    tied = np.flatnonzero(smooth >= smooth.max() - 1e-12 * abs(smooth.max()))
    return int(tied[np.argmax(point[tied])])  # ties go to the highest point


def predict_peak(
    model: Forecaster,
    origin: pd.Timestamp | str,
    exog: pd.DataFrame | None = None,
    history: pd.Series | None = None,
    contracted: float | None = None,
) -> pd.Series:
    """Predict the peak of the day starting at ``origin`` (a day-ahead forecast).

    Parameters
    ----------
    model : Forecaster
        A fitted forecaster with a calibration window and a horizon of at least a day.
    origin : pandas.Timestamp or str
        The start of the day (local midnight for a day-ahead forecast), timezone-aware.
    exog, history : optional
        As for ``model.predict``.
    contracted : float, optional
        The contracted demand [unit of the series].

    Returns
    -------
    pandas.Series
        See :func:`peak_from_forecast`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from carbontwin.forecasting import SeasonalNaive
    >>> idx = pd.date_range("2025-01-01", periods=24 * 70, freq="h", tz="Asia/Shanghai")
    >>> y = pd.Series(100 + 20 * (idx.hour == 14), index=idx, dtype=float)
    >>> p = predict_peak(SeasonalNaive().fit(y), idx[-1] + pd.Timedelta("1h"), contracted=110)
    >>> float(p["peak"]), int(p["peak_hour"]), float(p["p_exceed"])
    (120.0, 14, 1.0)
    """
    fc = model.predict(origin, pd.Timedelta("1D"), exog=exog, history=history)
    return peak_from_forecast(fc, daily_peak_errors(model.calibration_), contracted)


def predict_month_peak(
    model: Forecaster,
    origin: pd.Timestamp | str,
    exog: pd.DataFrame | None = None,
    history: pd.Series | None = None,
    contracted: float | None = None,
    draws: int = 2000,
    seed: int = 0,
) -> pd.Series:
    """Predict the peak of the month that contains ``origin``.

    Parameters
    ----------
    model : Forecaster
        A fitted forecaster whose horizon reaches the end of the month from ``origin``.
    origin : pandas.Timestamp or str
        A local midnight inside the month, timezone-aware.
    exog, history : optional
        As for ``model.predict``; ``history`` (or the fitted one) gives the month so far.
    contracted : float, optional
        The contracted demand [unit of the series].
    draws, seed : int
        Bootstrap draws of the remaining days' peak errors, and their seed.

    Returns
    -------
    pandas.Series
        ``peak`` (median of the month's peak), ``peak_q0.1``/``peak_q0.9``,
        ``observed_peak`` (so far, NaN on the month's first day), ``forecast_peak_time``
        (the time of the highest remaining point forecast) and ``p_exceed``.

    Raises
    ------
    ValidationError
        If the model's horizon does not reach the end of the month.
    """
    series = model.history_ if history is None else history
    origin = pd.Timestamp(origin)
    if origin.tz is None:
        msg = f"origin(={origin}) must be timezone-aware"
        raise ValidationError(msg)
    origin = origin.tz_convert(series.index.tz)
    month_start = origin.normalize().replace(day=1)
    month_end = (month_start + pd.DateOffset(months=1)).normalize()
    horizon = month_end - origin
    if model.horizon is not None and horizon > model.horizon:
        msg = (
            f"the month ends {horizon} after {origin}; the model's horizon is {model.horizon}: "
            f"build it with horizon='{horizon.days + 1}D' for month peaks"
        )
        raise ValidationError(msg)
    fc = model.predict(origin, horizon, exog=exog, history=history)
    errors = daily_peak_errors(model.calibration_)
    so_far = series[(series.index >= month_start) & (series.index < origin)]
    observed = float(so_far.max()) if len(so_far) else -np.inf
    day_peaks = fc["forecast"].groupby(fc.index.tz_localize(None).normalize()).max().to_numpy()
    rng = np.random.default_rng(seed)
    sampled = day_peaks[None, :] + rng.choice(errors, size=(draws, len(day_peaks)))
    month = np.maximum(sampled.max(axis=1), observed)
    p = np.nan if contracted is None else float(np.mean(month > contracted))
    return pd.Series(
        {
            "peak": float(np.median(month)),
            "peak_q0.1": float(np.quantile(month, 0.1)),
            "peak_q0.9": float(np.quantile(month, 0.9)),
            "observed_peak": observed if np.isfinite(observed) else np.nan,
            "forecast_peak_time": fc.index[int(np.argmax(fc["forecast"].to_numpy()))],
            "p_exceed": p,
        }
    )
