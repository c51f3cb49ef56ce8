"""Forecasters: seasonal naive, SARIMAX and gradient boosting, behind one interface.

Every forecaster is fitted on a history and then forecasts from an *origin*:

- ``fit(history, exog=None)``: ``history`` is a :class:`pandas.Series` indexed by
  timezone-aware interval starts at a fixed step (see
  :func:`~carbontwin.forecasting.features.check_series`); ``exog`` a frame of exogenous
  inputs (weather) on the same grid covering the history.
- ``predict(origin, horizon=None, exog=None, history=None)``: the forecast of the
  ``horizon`` after ``origin`` as a frame indexed by the target interval starts, with
  column ``forecast`` (the point forecast, a conditional mean) and one column per
  quantile (``q0.1``, ``q0.5``, ``q0.9`` by default). ``history`` gives observations newer
  than the fit (rolling use); values at or after the origin are cut off before anything
  is computed, so a forecast can never see what it forecasts. ``exog`` must cover the
  targets: for a real forecast that is the weather *forecast* issued at the origin.

Prediction intervals:

- :class:`SeasonalNaive` and :class:`GradientBoosting` add empirical quantiles of their
  own out-of-sample errors, by local hour of day, to the point forecast. The errors come
  from a calibration window (the last ``calibration`` of the history), forecast exactly
  as in use, by a model fitted on the history before that window; the model is then
  refitted on the whole history. This costs a second fit but no quantile models, and
  its bands are calibrated where three quantile regressions would each need tuning.
- :class:`Sarimax` uses the model's own Gaussian forecast errors.

Examples
--------
>>> import numpy as np, pandas as pd
>>> idx = pd.date_range("2025-01-01", periods=24 * 21, freq="h", tz="Asia/Shanghai")
>>> y = pd.Series(10 + np.sin(2 * np.pi * idx.hour / 24), index=idx)
>>> fc = SeasonalNaive(season="1D").fit(y).predict(idx[-1] + pd.Timedelta("1h"), "3h")
>>> fc["forecast"].round(3).tolist()
[10.0, 10.259, 10.5]
"""

from __future__ import annotations

import abc
import copy
import math
import warnings
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from carbontwin.core.errors import ValidationError
from carbontwin.forecasting.features import calendar_features, check_series, design_matrix

__all__ = [
    "DEFAULT_QUANTILES",
    "Forecaster",
    "GradientBoosting",
    "Sarimax",
    "SeasonalNaive",
    "quantile_column",
]

#: Quantiles every forecaster gives by default (a 80 % band and the median).
DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)
_DAY = pd.Timedelta("1D")


def quantile_column(tau: float) -> str:
    """Return the column name of the ``tau`` quantile, e.g. ``'q0.1'``.

    Examples
    --------
    >>> quantile_column(0.9)
    'q0.9'
    """
    return f"q{tau:g}"


def _timedelta(value: str | pd.Timedelta, what: str) -> pd.Timedelta:
    try:
        out = pd.Timedelta(value)
    except (TypeError, ValueError):
        msg = f"{what}(={value!r}) must be a duration such as '24h' or '7D'"
        raise ValidationError(msg) from None
    if out <= pd.Timedelta(0):
        msg = f"{what}(={value!r}) must be positive"
        raise ValidationError(msg)
    return out


def _check_quantiles(quantiles: Sequence[float]) -> tuple[float, ...]:
    qs = tuple(float(q) for q in quantiles)
    if any(not 0.0 < q < 1.0 for q in qs) or len(set(qs)) != len(qs):
        msg = f"quantiles(={qs}) must be distinct and strictly between 0 and 1"
        raise ValidationError(msg)
    return tuple(sorted(qs))


def _steps(duration: pd.Timedelta, step: pd.Timedelta, what: str) -> int:
    k = duration / step
    if k != int(k):
        msg = f"{what}(={duration}) must be a multiple of the series' step {step}"
        raise ValidationError(msg)
    return int(k)


def _local_hour(index: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(index.hour, dtype=np.int64)


def _residual_quantiles(calibration: pd.DataFrame, quantiles: Sequence[float]) -> pd.DataFrame:
    """Return quantiles of ``actual - forecast`` by local hour (24 rows).

    The overall quantile fills hours with fewer than 5 errors.
    """
    err = (calibration["actual"] - calibration["forecast"]).to_numpy()
    hours = _local_hour(calibration.index)
    table = pd.DataFrame(index=pd.RangeIndex(24, name="hour"), columns=list(quantiles), dtype=float)
    overall = np.quantile(err, quantiles)
    for h in range(24):
        sel = err[hours == h]
        table.loc[h] = np.quantile(sel, quantiles) if sel.size >= 5 else overall
    return table


class Forecaster(abc.ABC):
    """The common interface and checks of every forecaster (see the module docstring).

    Attributes set by ``fit``: ``history_`` (the series), ``step_`` (its step),
    ``exog_columns_`` (the exogenous columns used, or None) and ``calibration_`` (out-of-
    sample errors: ``origin``, ``actual``, ``forecast`` by target; None when the model
    has no calibration window).
    """

    #: Longest horizon the forecaster is built for; None when it has no limit.
    horizon: pd.Timedelta | None = None
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES

    history_: pd.Series
    step_: pd.Timedelta
    exog_columns_: list[str] | None
    calibration_: pd.DataFrame | None = None

    @abc.abstractmethod
    def fit(self, history: pd.Series, exog: pd.DataFrame | None = None) -> Self:
        """Fit on ``history`` (and ``exog`` over it); return the fitted forecaster."""

    @abc.abstractmethod
    def predict(
        self,
        origin: pd.Timestamp | str,
        horizon: pd.Timedelta | str | None = None,
        exog: pd.DataFrame | None = None,
        history: pd.Series | None = None,
    ) -> pd.DataFrame:
        """Forecast ``horizon`` after ``origin``; see the module docstring."""

    def clone(self) -> Self:
        """Return an unfitted copy with the same parameters."""
        new = copy.copy(self)
        for name in [k for k in vars(new) if k.endswith("_") and not k.startswith("_")]:
            delattr(new, name)
        return new

    # ------------------------------------------------------------------ shared checks
    def _start_fit(self, history: pd.Series, exog: pd.DataFrame | None) -> None:
        self.step_ = check_series(history)
        self.history_ = history.astype(float)
        self.exog_columns_ = None
        if exog is not None:
            self.exog_columns_ = self._check_exog(exog, history.index, "the history")

    @staticmethod
    def _check_exog(exog: pd.DataFrame, index: pd.DatetimeIndex, what: str) -> list[str]:
        if not isinstance(exog, pd.DataFrame):
            msg = f"exog must be a pandas DataFrame, not {type(exog).__name__}"
            raise ValidationError(msg)
        missing = index.difference(exog.index)
        if len(missing):
            msg = (
                f"exog does not cover {what}: {len(missing)} times missing (first "
                f"{missing[0]}); give exog on the series' grid"
            )
            raise ValidationError(msg)
        return [str(c) for c in exog.columns]

    def _check_fitted(self) -> None:
        if not hasattr(self, "history_"):
            msg = f"{type(self).__name__} is not fitted; call fit(history) first"
            raise ValidationError(msg)

    def _targets(
        self,
        origin: pd.Timestamp | str,
        horizon: pd.Timedelta | str | None,
        history: pd.Series | None,
    ) -> tuple[pd.Timestamp, pd.DatetimeIndex, pd.Series]:
        """Check the request; return the origin, the targets and the history before it."""
        self._check_fitted()
        tz = self.history_.index.tz
        origin = pd.Timestamp(origin)
        if origin.tz is None:
            msg = f"origin(={origin}) must be timezone-aware, e.g. pd.Timestamp(..., tz='{tz}')"
            raise ValidationError(msg)
        origin = origin.tz_convert(tz)
        if horizon is None:
            if self.horizon is None:
                msg = f"give a horizon: {type(self).__name__} has no default horizon"
                raise ValidationError(msg)
            horizon = self.horizon
        horizon = _timedelta(horizon, "horizon")
        if self.horizon is not None and horizon > self.horizon:
            msg = (
                f"horizon(={horizon}) exceeds the {self.horizon} this "
                f"{type(self).__name__} was built for; build one with horizon='{horizon}'"
            )
            raise ValidationError(msg)
        n = _steps(horizon, self.step_, "horizon")
        if history is None:
            history = self.history_
        else:
            check_series(history)
            history = history.astype(float)
        history = history[history.index < origin]  # nothing at or after the origin
        if len(history) == 0 or history.index[-1] != origin - self.step_:
            last = history.index[-1] if len(history) else None
            msg = (
                f"history must reach the origin: it ends at {last}, the origin {origin} needs "
                f"values up to {origin - self.step_}; pass history= with the newest values"
            )
            raise ValidationError(msg)
        targets = pd.date_range(origin, periods=n, freq=self.step_, name="time")
        return origin, targets, history

    def _future_exog(self, exog: pd.DataFrame | None, targets: pd.DatetimeIndex) -> None:
        if self.exog_columns_ is None:
            return
        if exog is None:
            msg = (
                f"{type(self).__name__} was fitted with exog {self.exog_columns_}; give exog "
                "(the forecast weather) for the targets"
            )
            raise ValidationError(msg)
        self._check_exog(exog, targets, "the forecast's targets")
        absent = [c for c in self.exog_columns_ if c not in exog.columns]
        if absent:
            msg = f"exog lacks the columns {absent} the model was fitted with"
            raise ValidationError(msg)

    def _frame(self, targets: pd.DatetimeIndex, point: np.ndarray, q: np.ndarray) -> pd.DataFrame:
        out = pd.DataFrame({"forecast": point}, index=targets)
        for j, tau in enumerate(self.quantiles):
            out[quantile_column(tau)] = q[:, j]
        return out

    def _with_residual_band(self, targets: pd.DatetimeIndex, point: np.ndarray) -> pd.DataFrame:
        table = self.residual_quantiles_.to_numpy(dtype=float)
        q = point[:, None] + table[_local_hour(targets)]
        q = np.maximum.accumulate(q, axis=1)  # quantiles never cross
        return self._frame(targets, point, q)


# --------------------------------------------------------------------- seasonal naive
class SeasonalNaive(Forecaster):
    """Seasonal naive forecast: the value one season earlier, ``y(t - m·season)``.

    ``m`` is the smallest whole number that puts ``t - m·season`` before the origin, so
    any horizon works (a week-long season repeats for horizons beyond a week).

    Parameters
    ----------
    season : str or pandas.Timedelta
        The season: ``"7D"`` (same hour a week earlier, the default) or ``"1D"``.
    quantiles : sequence of float
        Quantiles of the band.
    calibration : str or pandas.Timedelta
        Window of recent history whose seasonal differences give the band (by local hour).
    """

    def __init__(
        self,
        season: str | pd.Timedelta = "7D",
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        calibration: str | pd.Timedelta = "56D",
    ) -> None:
        self.season = _timedelta(season, "season")
        self.quantiles = _check_quantiles(quantiles)
        self.calibration = _timedelta(calibration, "calibration")

    def fit(self, history: pd.Series, exog: pd.DataFrame | None = None) -> Self:
        """Check the history and measure the band; ``exog`` is ignored.

        Raises
        ------
        ValidationError
            If the history is invalid or shorter than two seasons.
        """
        step = check_series(history)
        k = _steps(self.season, step, "season")
        if len(history) < 2 * k:
            msg = (
                f"history covers {len(history) * step}; SeasonalNaive(season={self.season}) "
                f"needs at least two seasons ({2 * self.season})"
            )
            raise ValidationError(msg)
        self._start_fit(history, None)
        values = self.history_.to_numpy()
        n_cal = min(len(values) - k, _steps(self.calibration, step, "calibration"))
        targets = self.history_.index[-n_cal:]
        self.calibration_ = pd.DataFrame(
            {
                "origin": targets.normalize(),
                "actual": values[-n_cal:],
                "forecast": values[len(values) - n_cal - k : len(values) - k],
            },
            index=targets,
        )
        self.residual_quantiles_ = _residual_quantiles(self.calibration_, self.quantiles)
        return self

    def predict(
        self,
        origin: pd.Timestamp | str,
        horizon: pd.Timedelta | str | None = None,
        exog: pd.DataFrame | None = None,
        history: pd.Series | None = None,
    ) -> pd.DataFrame:
        """Forecast ``horizon`` after ``origin``: the value one season (or more) earlier."""
        origin, targets, hist = self._targets(origin, horizon, history)
        k = _steps(self.season, self.step_, "season")
        if len(hist) < k:
            msg = f"history before {origin} is shorter than one season ({self.season})"
            raise ValidationError(msg)
        values = hist.to_numpy()
        ahead = np.arange(len(targets))  # steps after the origin
        back = k * (ahead // k + 1) - ahead  # steps before the origin, in 1..k
        point = values[len(values) - back]
        return self._with_residual_band(targets, point)


# ---------------------------------------------------------------------------- SARIMAX
class Sarimax(Forecaster):
    """SARIMAX baseline: ARMA errors around daily harmonics, day type and exogenous inputs.

    ``y_t = c + Σ_k (a_k sin + b_k cos)(2πk·hour/24) + d·weekend_t + e·holiday_t + β·x_t
    + η_t`` with ``η`` ARMA(p, q) (statsmodels ``SARIMAX``; the daily season enters as
    Fourier terms, a dynamic harmonic regression, because a seasonal ARMA with period 24
    is slow to fit for little gain). Fitted on the last ``window`` of the history; at
    prediction the fitted parameters filter the newest ``window`` before the origin.

    Parameters
    ----------
    order : tuple of int
        ARIMA order ``(p, d, q)``.
    harmonics : int
        Daily Fourier pairs.
    window : str or pandas.Timedelta
        History the model is fitted on (and filters before each origin).
    exog_columns : sequence of str, optional
        Columns of ``exog`` to use (all given columns when omitted).
    country, subdiv : str, optional
        Holidays (see :func:`~carbontwin.forecasting.features.calendar_features`).
    quantiles : sequence of float
        Quantiles of the Gaussian band.
    """

    def __init__(
        self,
        order: tuple[int, int, int] = (2, 0, 1),
        harmonics: int = 4,
        window: str | pd.Timedelta = "28D",
        exog_columns: Sequence[str] | None = None,
        country: str | None = "CN",
        subdiv: str | None = None,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
    ) -> None:
        self.order = tuple(int(v) for v in order)
        self.harmonics = int(harmonics)
        self.window = _timedelta(window, "window")
        self.exog_columns = None if exog_columns is None else list(exog_columns)
        self.country = country
        self.subdiv = subdiv
        self.quantiles = _check_quantiles(quantiles)

    def _regressors(self, index: pd.DatetimeIndex, exog: pd.DataFrame | None) -> np.ndarray:
        """Weekend, holiday, daily harmonics and exogenous columns at ``index``."""
        cal = calendar_features(index, self.country, self.subdiv)
        cols = [cal["weekend"].to_numpy(), cal["holiday"].to_numpy()]
        angle = 2 * np.pi * cal["hour"].to_numpy() / 24.0
        for k in range(1, self.harmonics + 1):
            cols += [np.sin(k * angle), np.cos(k * angle)]
        if self.exog_columns_:
            frame = exog.reindex(index)
            cols += [frame[c].to_numpy(dtype=float) for c in self.exog_columns_]
        return np.column_stack(cols)

    def fit(self, history: pd.Series, exog: pd.DataFrame | None = None) -> Self:
        """Fit the SARIMAX on the last ``window`` of ``history``.

        Raises
        ------
        ValidationError
            If the history is invalid or shorter than ``window``.
        """
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        self._start_fit(history, exog)
        if exog is not None and self.exog_columns is not None:
            absent = [c for c in self.exog_columns if c not in exog.columns]
            if absent:
                msg = f"exog lacks the columns {absent} given as exog_columns"
                raise ValidationError(msg)
            self.exog_columns_ = list(self.exog_columns)
        n = _steps(self.window, self.step_, "window")
        if len(history) < n:
            msg = f"history covers {len(history) * self.step_}; Sarimax needs window={self.window}"
            raise ValidationError(msg)
        part = self.history_.iloc[-n:]
        x = self._regressors(part.index, exog)
        # Only regressors that vary in the window (e.g. no holiday column without holidays).
        self.keep_ = x.std(axis=0) > 0
        x = x[:, self.keep_]
        # Fit on standardised data: large loads (10^4 kWh) make the likelihood ill-scaled.
        values = part.to_numpy()
        self.scale_ = (float(values.mean()), float(values.std()) or 1.0)
        self.x_scale_ = np.abs(x).max(axis=0)  # scaled, not centred: a zero column stays 0
        self.result_ = self._fit_scaled(SARIMAX, self._scaled(values), self._scaled_x(x))
        self.exog_ = None if exog is None else exog[self.exog_columns_].astype(float)
        self.window_steps_ = n
        return self

    def _scaled(self, values: np.ndarray) -> np.ndarray:
        mu, sd = self.scale_
        return (values - mu) / sd

    def _scaled_x(self, x: np.ndarray) -> np.ndarray:
        return x / self.x_scale_

    def _fit_scaled(self, sarimax: Any, endog: np.ndarray, x: np.ndarray) -> Any:
        """Fit, falling back to AR(1) errors when the ARMA's likelihood fails."""
        for order in (self.order, (1, 0, 0)):
            model = sarimax(endog, exog=x, order=order, trend="c")
            try:
                with warnings.catch_warnings(), threadpool_limits(limits=1):
                    warnings.simplefilter("ignore")
                    result = model.fit(disp=False, maxiter=200)
            except np.linalg.LinAlgError:
                continue
            self.order_ = order
            return result
        msg = f"SARIMAX{self.order} could not be fitted on the last {self.window} of history"
        raise ValidationError(msg)

    def predict(
        self,
        origin: pd.Timestamp | str,
        horizon: pd.Timedelta | str | None = None,
        exog: pd.DataFrame | None = None,
        history: pd.Series | None = None,
    ) -> pd.DataFrame:
        """Forecast ``horizon`` after ``origin`` with Gaussian quantiles.

        The fitted parameters filter the last ``window`` before ``origin`` first.
        """
        origin, targets, hist = self._targets(origin, horizon, history)
        self._future_exog(exog, targets)
        part = hist.iloc[-self.window_steps_ :]
        past_exog = self.exog_
        if self.exog_columns_ and exog is not None:
            newer = exog[self.exog_columns_].astype(float)
            past_exog = newer if past_exog is None else newer.combine_first(past_exog)
        if self.exog_columns_:
            self._check_exog(past_exog, part.index, "the window before the origin")
        x_past = self._scaled_x(self._regressors(part.index, past_exog)[:, self.keep_])
        x_next = self._scaled_x(self._regressors(targets, past_exog)[:, self.keep_])
        with warnings.catch_warnings(), threadpool_limits(limits=1):  # small matrices
            warnings.simplefilter("ignore")
            res = self.result_.apply(self._scaled(part.to_numpy()), exog=x_past)
            fc = res.get_forecast(len(targets), exog=x_next)
        mu, sd = self.scale_
        mean = mu + sd * np.asarray(fc.predicted_mean, dtype=float)
        se = sd * np.sqrt(np.clip(np.asarray(fc.var_pred_mean, dtype=float), 0.0, None))
        z = np.array([NormalDist().inv_cdf(q) for q in self.quantiles])
        return self._frame(targets, mean, mean[:, None] + se[:, None] * z[None, :])


# ------------------------------------------------------------------ gradient boosting
def _default_lags(horizon: pd.Timedelta) -> list[pd.Timedelta]:
    """Return the default lags: those of the horizon, 1 and 2 days, a week not below it.

    The horizon is rounded up to whole hours.
    """
    first = pd.Timedelta(hours=math.ceil(horizon / pd.Timedelta(hours=1)))
    lags = {first, _DAY, 2 * _DAY, 7 * _DAY}
    return sorted(lag for lag in lags if lag >= horizon)


class GradientBoosting(Forecaster):
    """Gradient boosting over calendar, holiday, weather and lag features.

    A direct multi-horizon model: one :class:`~sklearn.ensemble.HistGradientBoostingRegressor`
    (squared error) maps the features of an (origin, target) pair to the target's value.
    Features (:func:`~carbontwin.forecasting.features.design_matrix`): local hour, weekday,
    weekend, holiday, yearly cycle; the lead; the last value and the means over
    ``windows`` before the origin; the values ``lags`` before the target; the exogenous
    (forecast weather) columns at the target and their local-day means.

    Every lag is at least the horizon, so each lag of every target lies before the
    origin: for a day-ahead forecast issued at midnight, the same hour yesterday, two
    days and a week ago. Training pairs tile the history with origins every
    ``origin_every`` (local midnight for day multiples), one pair per target.

    Parameters
    ----------
    horizon : str or pandas.Timedelta
        Longest forecast horizon (``"24h"`` for day-ahead, ``"4h"`` for intraday).
    lags : sequence of str or pandas.Timedelta, optional
        Lags of the target; each must be >= ``horizon``. Default: the horizon (in whole
        hours), 1, 2 and 7 days, those not shorter than the horizon.
    windows : sequence of str or pandas.Timedelta
        Windows of the mean levels before the origin.
    origin_every : str or pandas.Timedelta, optional
        Spacing of the training origins; the horizon by default.
    country, subdiv : str, optional
        Public holidays (``holidays`` package): China by default.
    quantiles : sequence of float
        Quantiles of the band (empirical, see the module docstring).
    calibration : str or pandas.Timedelta
        The recent window whose out-of-sample errors give the band and the peak errors.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Of the regressor.
    random_state : int
        Seed of the regressor (results are reproducible).
    n_threads : int, optional
        OpenMP threads of the regressor; 1 by default, which is fastest on a shared
        machine and when backtests run in parallel (Dask); None for all cores.
    """

    def __init__(
        self,
        horizon: str | pd.Timedelta = "24h",
        lags: Sequence[str | pd.Timedelta] | None = None,
        windows: Sequence[str | pd.Timedelta] = ("1D", "7D"),
        origin_every: str | pd.Timedelta | None = None,
        country: str | None = "CN",
        subdiv: str | None = None,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        calibration: str | pd.Timedelta = "56D",
        max_iter: int = 300,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 20,
        l2_regularization: float = 0.0,
        random_state: int = 0,
        n_threads: int | None = 1,
    ) -> None:
        self.horizon = _timedelta(horizon, "horizon")
        self.n_threads = n_threads
        if lags is None:
            self.lags = _default_lags(self.horizon)
        else:
            self.lags = sorted(_timedelta(lag, "lag") for lag in lags)
        short = [str(lag) for lag in self.lags if lag < self.horizon]
        if short:
            msg = (
                f"lags {short} are shorter than the horizon {self.horizon}: their values "
                "would not be known at the origin; use lags >= the horizon"
            )
            raise ValidationError(msg)
        self.windows = [_timedelta(w, "window") for w in windows]
        self.origin_every = _timedelta(origin_every or self.horizon, "origin_every")
        self.country = country
        self.subdiv = subdiv
        self.quantiles = _check_quantiles(quantiles)
        self.calibration = _timedelta(calibration, "calibration")
        self.params = {
            "max_iter": int(max_iter),
            "learning_rate": float(learning_rate),
            "max_leaf_nodes": int(max_leaf_nodes),
            "min_samples_leaf": int(min_samples_leaf),
            "l2_regularization": float(l2_regularization),
            "random_state": int(random_state),
            "early_stopping": False,
        }

    @property
    def lookback(self) -> pd.Timedelta:
        """History needed before a target's origin by the lags and windows."""
        return max([*self.lags, *self.windows])

    @property
    def min_history(self) -> pd.Timedelta:
        """Shortest history ``fit`` accepts: lookback, 28 days to learn, calibration."""
        return self.lookback + pd.Timedelta("28D") + self.calibration

    def _training_origins(self, index: pd.DatetimeIndex) -> pd.DatetimeIndex:
        first = index[0] + self.lookback
        last = index[-1]
        if self.origin_every % _DAY == pd.Timedelta(0):  # local midnights, also across DST
            return pd.date_range(
                _local_ceil_day(first), last, freq=pd.DateOffset(days=self.origin_every.days)
            )
        return pd.date_range(first, last, freq=self.origin_every)

    def _pairs(self, origins: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
        n = _steps(self.horizon, self.step_, "horizon")
        o = np.repeat(origins.as_unit("ns").asi8, n)
        t = o + np.tile(np.arange(n, dtype=np.int64) * self.step_.value, len(origins))
        tz = self.history_.index.tz
        return (
            pd.DatetimeIndex(pd.to_datetime(t, utc=True)).tz_convert(tz),
            pd.DatetimeIndex(pd.to_datetime(o, utc=True)).tz_convert(tz),
        )

    def _design(
        self,
        history: pd.Series,
        targets: pd.DatetimeIndex,
        origins: pd.DatetimeIndex,
        exog: pd.DataFrame | None,
    ) -> pd.DataFrame:
        ex = None if self.exog_columns_ is None else exog[self.exog_columns_]
        return design_matrix(
            history,
            targets,
            origins,
            step=self.step_,
            lags=self.lags,
            windows=self.windows,
            exog=ex,
            country=self.country,
            subdiv=self.subdiv,
        )

    def _regressor(self, x: pd.DataFrame, y: np.ndarray) -> HistGradientBoostingRegressor:
        model = HistGradientBoostingRegressor(**self.params)
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            return model.fit(x.to_numpy(dtype=float), y)

    def _predict_with(self, model: HistGradientBoostingRegressor, x: pd.DataFrame) -> np.ndarray:
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            return model.predict(x.to_numpy(dtype=float))

    def fit(self, history: pd.Series, exog: pd.DataFrame | None = None) -> Self:
        """Fit the regressor on every training pair of ``history``.

        The band is measured first, on the calibration window, with a model fitted on the
        pairs before it.

        Raises
        ------
        ValidationError
            If the history is invalid or shorter than :attr:`min_history`, or exog does not
            cover it.
        """
        self._start_fit(history, exog)
        _steps(self.horizon, self.step_, "horizon")
        for lag in [*self.lags, *self.windows, self.origin_every]:
            _steps(lag, self.step_, "lag/window/origin_every")
        span = len(history) * self.step_
        if span < self.min_history:
            msg = (
                f"history covers {span}; GradientBoosting needs at least {self.min_history} "
                f"(lookback {self.lookback} + 28 days to learn + calibration "
                f"{self.calibration})"
            )
            raise ValidationError(msg)
        origins = self._training_origins(history.index)
        targets, pair_origins = self._pairs(origins)
        known = np.asarray(targets <= history.index[-1])  # the last window may be partial
        targets, pair_origins = targets[known], pair_origins[known]
        x = self._design(self.history_, targets, pair_origins, exog)
        y = self.history_.reindex(targets).to_numpy()
        self.feature_names_ = list(x.columns)
        # Calibration pairs: targets in the last `calibration`, forecast by a model fitted
        # on the pairs whose targets precede it (their features end at their origins).
        cut = history.index[-1] + self.step_ - self.calibration
        early = np.asarray(targets < cut)
        late = ~early
        if not late.any() or early.sum() < 100:  # pragma: no cover - min_history prevents it
            msg = f"history too short for a calibration window of {self.calibration}"
            raise ValidationError(msg)
        first = self._regressor(x[early], y[early])
        self.calibration_ = pd.DataFrame(
            {
                "origin": pair_origins[late],
                "actual": y[late],
                "forecast": self._predict_with(first, x[late]),
            },
            index=targets[late],
        )
        self.residual_quantiles_ = _residual_quantiles(self.calibration_, self.quantiles)
        self.model_ = self._regressor(x, y)
        return self

    def predict(
        self,
        origin: pd.Timestamp | str,
        horizon: pd.Timedelta | str | None = None,
        exog: pd.DataFrame | None = None,
        history: pd.Series | None = None,
    ) -> pd.DataFrame:
        """Forecast ``horizon`` (at most the model's) after ``origin`` with its band."""
        origin, targets, hist = self._targets(origin, horizon, history)
        self._future_exog(exog, targets)
        origins = pd.DatetimeIndex([origin] * len(targets))
        x = self._design(hist, targets, origins, exog)
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            point = self.model_.predict(x[self.feature_names_].to_numpy(dtype=float))
        return self._with_residual_band(targets, point)


def _local_ceil_day(ts: pd.Timestamp) -> pd.Timestamp:
    """Return the first local midnight at or after ``ts``."""
    day = ts.normalize()
    return day if day == ts else (day + _DAY).normalize()
