"""Rolling-origin backtests of forecasters, in process or on Dask.

For each origin ``o`` in turn, every model forecasts the ``horizon`` after ``o`` from the
observations before ``o`` only (and the exogenous inputs at the targets, the "forecast"
weather). Models are refitted every ``refit_every`` on the whole history before the first
origin of the period; between refits they forecast with the newer observations as
history. Each refit period is one task: run in process, or on a Dask cluster, where the
same function computes the same numbers.

The result is an :class:`xarray.Dataset` (times in UTC, the zone in
``attrs["timezone"]``):

- ``actual`` (origin, lead) and ``forecast`` (model, origin, lead), ``quantile_forecast``
  (model, origin, lead, quantile);
- ``scores`` (model, metric) over all origins and leads, and ``scores_by_origin``
  (model, origin, metric): :data:`BACKTEST_METRICS`;
- ``peak_actual`` (origin), ``peak_forecast`` and ``peak_hour_error_h`` (model, origin):
  the peak of each forecast window (a local day for day-ahead forecasts at midnight),
  corrected by the model's calibration errors (see :mod:`carbontwin.forecasting.peak`);
  ``p_exceed`` (model, origin) with a contracted demand;
- ``fit_seconds`` and ``predict_seconds`` (model): wall time of fitting and forecasting,
  summed over tasks (the only values that differ between runs).

Metrics follow ASHRAE Guideline 14 with ``p = 0`` (forecasts scored out of sample, no
parameters estimated on the scored data), see :mod:`carbontwin.forecasting.metrics`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from carbontwin.core.errors import ValidationError
from carbontwin.core.time import to_utc
from carbontwin.forecasting import metrics
from carbontwin.forecasting.features import check_series
from carbontwin.forecasting.models import Forecaster, quantile_column
from carbontwin.forecasting.peak import daily_peak_errors, peak_from_forecast

__all__ = ["BACKTEST_METRICS", "day_ahead_origins", "run"]

#: Metrics of ``scores``: accuracy, band and peak.
BACKTEST_METRICS = (
    "mape",
    "cv_rmse",
    "nmbe",
    "rmse",
    "mae",
    "pinball",
    "coverage",
    "peak_mape",
    "peak_hour_hit_rate",
)
#: A peak time counts as hit within this many hours.
PEAK_HOUR_TOLERANCE_H = 1.0


def day_ahead_origins(
    series: pd.Series, start: str | pd.Timestamp, end: str | pd.Timestamp | None = None
) -> pd.DatetimeIndex:
    """Local midnights from ``start`` whose whole next day is in ``series`` (up to ``end``).

    Naive ``start``/``end`` are taken in the series' zone.

    Examples
    --------
    >>> idx = pd.date_range("2025-01-01", periods=24 * 5, freq="h", tz="Asia/Shanghai")
    >>> day_ahead_origins(pd.Series(1.0, index=idx), "2025-01-03").strftime("%m-%d").tolist()
    ['01-03', '01-04', '01-05']
    """
    tz = series.index.tz
    first = _local(start, tz).normalize()
    last_full = (series.index[-1] + (series.index[1] - series.index[0])).normalize()
    stop = last_full - pd.Timedelta("1D")
    if end is not None:
        stop = min(stop, _local(end, tz))
    return pd.date_range(first, stop, freq="D", name="origin")


def _local(ts: str | pd.Timestamp, tz: Any) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize(tz) if t.tz is None else t.tz_convert(tz)


def _blocks(origins: pd.DatetimeIndex, refit_every: pd.Timedelta) -> list[pd.DatetimeIndex]:
    """Split the origins into refit periods."""
    out, current, start = [], [], None
    for o in origins:
        if start is None or o >= start + refit_every:
            if current:
                out.append(pd.DatetimeIndex(current))
            current, start = [], o
        current.append(o)
    if current:
        out.append(pd.DatetimeIndex(current))
    return out


def run_block(
    model: Forecaster,
    series: pd.Series,
    exog: pd.DataFrame | None,
    origins: pd.DatetimeIndex,
    horizon: pd.Timedelta,
    contracted: float | None = None,
) -> dict[str, Any]:
    """Fit ``model`` on the series before ``origins[0]`` and forecast from each origin.

    The unit of work of :func:`run` (in process and on Dask alike).

    Returns
    -------
    dict
        ``values`` (origin, lead, 1 + quantiles: the forecast then the quantiles),
        ``peak`` and ``peak_time_ns`` and ``p_exceed`` (origin), ``fit_s``, ``predict_s``.
    """
    fresh = model.clone()
    t0 = time.perf_counter()
    fresh.fit(series[series.index < origins[0]], exog)
    fit_s = time.perf_counter() - t0
    try:
        errors = daily_peak_errors(fresh.calibration_)
    except ValidationError:
        errors = None
    columns = ["forecast", *(quantile_column(q) for q in fresh.quantiles)]
    values, peaks, times, probs = [], [], [], []
    t0 = time.perf_counter()
    for o in origins:
        fc = fresh.predict(o, horizon, exog=exog, history=series)
        values.append(fc[columns].to_numpy(dtype=float))
        pk = peak_from_forecast(fc, errors, contracted)
        peaks.append(pk["peak"])
        times.append(pk["peak_time"].value)
        probs.append(pk["p_exceed"])
    predict_s = time.perf_counter() - t0
    return {
        "values": np.stack(values),
        "peak": np.asarray(peaks, dtype=float),
        "peak_time_ns": np.asarray(times, dtype=np.int64),
        "p_exceed": np.asarray(probs, dtype=float),
        "fit_s": fit_s,
        "predict_s": predict_s,
    }


def _execute(
    calls: list[tuple[Any, ...]],
    series: pd.Series,
    exog: pd.DataFrame | None,
    dask: Any,
) -> list[dict[str, Any]]:
    """Run every ``(model, origins, horizon, contracted)`` block, in process or on Dask."""
    if dask is None or dask is False:
        return [run_block(m, series, exog, o, h, c) for m, o, h, c in calls]
    from dask.distributed import Client, LocalCluster

    own: list[Any] = []
    if dask is True:
        cluster = LocalCluster(threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
        own += [client, cluster]
    elif isinstance(dask, str):
        client = Client(dask)
        own.append(client)
    elif isinstance(dask, Client):
        client = dask
    else:
        msg = (
            f"dask(={dask!r}) must be None/False (in process), True (a LocalCluster), "
            "a dask.distributed Client or a scheduler address"
        )
        raise ValidationError(msg)
    try:
        s_f = client.scatter(series, broadcast=True)
        e_f = None if exog is None else client.scatter(exog, broadcast=True)
        futures = [
            client.submit(run_block, m, s_f, e_f, o, h, c, pure=False) for m, o, h, c in calls
        ]
        return client.gather(futures)
    finally:
        for thing in own:
            thing.close()


def _scores(
    y: np.ndarray,
    point: np.ndarray,
    quant: np.ndarray,
    qs: Sequence[float],
    peak_ape: np.ndarray,
    peak_hit: np.ndarray,
) -> list[float]:
    """Return the :data:`BACKTEST_METRICS` of flattened observations and forecasts."""
    inside = (y >= quant[..., 0]) & (y <= quant[..., -1])
    return [
        metrics.mape(y, point),
        metrics.cv_rmse(y, point),
        metrics.nmbe(y, point),
        metrics.rmse(y, point),
        metrics.mae(y, point),
        float(np.mean([metrics.pinball(y, quant[..., j], q) for j, q in enumerate(qs)])),
        float(np.mean(inside)),
        float(np.mean(peak_ape)),
        float(np.mean(peak_hit)),
    ]


def run(
    models: Mapping[str, Forecaster],
    series: pd.Series,
    exog: pd.DataFrame | None = None,
    *,
    origins: pd.DatetimeIndex | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    horizon: str | pd.Timedelta = "24h",
    refit_every: str | pd.Timedelta = "7D",
    contracted: float | None = None,
    dask: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> xr.Dataset:
    """Backtest ``models`` on ``series`` from rolling origins.

    Parameters
    ----------
    models : mapping of str to Forecaster
        The models by name (unfitted templates; each block fits a clone).
    series : pandas.Series
        The observations (see :func:`~carbontwin.forecasting.features.check_series`).
    exog : pandas.DataFrame, optional
        Exogenous inputs over the whole period, used as the forecast at each origin.
    origins : pandas.DatetimeIndex, optional
        The origins; by default the local midnights from ``start`` to ``end``
        (:func:`day_ahead_origins`), day-ahead.
    start, end : str or pandas.Timestamp, optional
        The period of the default origins.
    horizon : str or pandas.Timedelta
        Forecast horizon from each origin.
    refit_every : str or pandas.Timedelta
        Models are refitted at the first origin of every such period.
    contracted : float, optional
        Contracted demand for ``p_exceed`` [unit of the series].
    dask : None, bool, dask.distributed.Client or str
        ``None``/``False``: in process; ``True``: a new ``LocalCluster``; a ``Client``; or a
        scheduler address. The numbers are the same either way.
    progress : callable, optional
        Called with (blocks done, blocks) in process.

    Returns
    -------
    xarray.Dataset
        See the module docstring.

    Raises
    ------
    ValidationError
        If the series is invalid, no origin is given or an origin's window leaves the data.
    """
    step = check_series(series, "series")
    if not models:
        msg = "models is empty; give at least one forecaster by name"
        raise ValidationError(msg)
    horizon = pd.Timedelta(horizon)
    if origins is None:
        if start is None:
            msg = "give origins= or start= (and end=) of the backtest"
            raise ValidationError(msg)
        origins = day_ahead_origins(series, start, end)
    origins = pd.DatetimeIndex(origins).tz_convert(series.index.tz)
    if len(origins) == 0:
        msg = "the backtest has no origin: start/end leave no whole forecast window in the series"
        raise ValidationError(msg)
    n_lead = int(horizon / step)
    if origins[0] <= series.index[0] or origins[-1] + horizon > series.index[-1] + step:
        msg = (
            f"origins {origins[0]}..{origins[-1]} with horizon {horizon} leave the series "
            f"{series.index[0]}..{series.index[-1]}"
        )
        raise ValidationError(msg)
    blocks = _blocks(origins, pd.Timedelta(refit_every))
    names = list(models)
    calls = [(models[n], b, horizon, contracted) for n in names for b in blocks]
    if progress is not None and not dask:
        done: list[dict[str, Any]] = []
        for k, (m, b, h, c) in enumerate(calls):
            done.append(run_block(m, series, exog, b, h, c))
            progress(k + 1, len(calls))
        results = done
    else:
        results = _execute(calls, series, exog, dask)
    return _dataset(names, models, results, len(blocks), series, origins, step, n_lead, horizon)


def _dataset(
    names: list[str],
    models: Mapping[str, Forecaster],
    results: list[dict[str, Any]],
    n_blocks: int,
    series: pd.Series,
    origins: pd.DatetimeIndex,
    step: pd.Timedelta,
    n_lead: int,
    horizon: pd.Timedelta,
) -> xr.Dataset:
    qs = sorted({q for m in models.values() for q in m.quantiles})
    values = np.full((len(names), len(origins), n_lead, 1 + len(qs)), np.nan)
    peak = np.full((len(names), len(origins)), np.nan)
    peak_ns = np.zeros((len(names), len(origins)), dtype=np.int64)
    p_exceed = np.full((len(names), len(origins)), np.nan)
    fit_s = np.zeros(len(names))
    pred_s = np.zeros(len(names))
    for i, name in enumerate(names):
        parts = results[i * n_blocks : (i + 1) * n_blocks]
        cols = [0, *(1 + qs.index(q) for q in models[name].quantiles)]
        v = np.concatenate([p["values"] for p in parts])
        values[i][..., cols] = v
        peak[i] = np.concatenate([p["peak"] for p in parts])
        peak_ns[i] = np.concatenate([p["peak_time_ns"] for p in parts])
        p_exceed[i] = np.concatenate([p["p_exceed"] for p in parts])
        fit_s[i] = sum(p["fit_s"] for p in parts)
        pred_s[i] = sum(p["predict_s"] for p in parts)
    offsets = np.arange(n_lead) * step.value
    o_ns = origins.as_unit("ns").asi8
    target_ns = o_ns[:, None] + offsets[None, :]
    t_index = pd.DatetimeIndex(pd.to_datetime(target_ns.ravel(), utc=True))
    actual = series.reindex(t_index.tz_convert(series.index.tz)).to_numpy().reshape(target_ns.shape)
    k_act = np.argmax(actual, axis=1)
    peak_actual = actual[np.arange(len(origins)), k_act]
    peak_actual_ns = target_ns[np.arange(len(origins)), k_act]
    peak_ape = np.abs(peak - peak_actual[None, :]) / np.abs(peak_actual[None, :])
    hour_err = (peak_ns - peak_actual_ns[None, :]) / 3.6e12
    hit = np.abs(hour_err) <= PEAK_HOUR_TOLERANCE_H

    scores = np.full((len(names), len(BACKTEST_METRICS)), np.nan)
    by_origin = np.full((len(names), len(origins), len(BACKTEST_METRICS)), np.nan)
    for i, name in enumerate(names):
        own = [0, *(1 + qs.index(q) for q in models[name].quantiles)]
        point, quant = values[i][..., 0], values[i][..., own[1:]]
        mq = models[name].quantiles
        scores[i] = _scores(actual, point, quant, mq, peak_ape[i], hit[i])
        for j in range(len(origins)):
            by_origin[i, j] = _scores(
                actual[j], point[j], quant[j], mq, peak_ape[i, j : j + 1], hit[i, j : j + 1]
            )
    utc, tz = to_utc(origins)
    coords = {
        "model": names,
        "origin": utc,
        "lead": pd.to_timedelta(offsets, unit="ns").to_numpy(),
        "quantile": np.asarray(qs, dtype=float),
        "metric": list(BACKTEST_METRICS),
    }
    peak_time = pd.to_datetime(peak_ns.ravel(), utc=True).tz_localize(None).to_numpy()
    return xr.Dataset(
        {
            "actual": (("origin", "lead"), actual),
            "forecast": (("model", "origin", "lead"), values[..., 0]),
            "quantile_forecast": (("model", "origin", "lead", "quantile"), values[..., 1:]),
            "scores": (("model", "metric"), scores),
            "scores_by_origin": (("model", "origin", "metric"), by_origin),
            "peak_actual": (("origin",), peak_actual),
            "peak_forecast": (("model", "origin"), peak),
            "peak_time_forecast": (("model", "origin"), peak_time.reshape(peak_ns.shape)),
            "peak_hour_error_h": (("model", "origin"), hour_err),
            "p_exceed": (("model", "origin"), p_exceed),
            "fit_seconds": (("model",), fit_s),
            "predict_seconds": (("model",), pred_s),
        },
        coords=coords,
        attrs={
            "timezone": tz,
            "horizon": str(horizon),
            "step": str(step),
            "metrics_p": 0,
            "peak_hour_tolerance_h": PEAK_HOUR_TOLERANCE_H,
        },
    )
