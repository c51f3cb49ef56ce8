"""Model-predictive control of a battery in the closed loop of the twin.

:class:`MpcController` is a controller of the twin (:class:`carbontwin.twin.control.Controller`):
the simulator calls ``decide(state, t)`` every control interval (15 min in the demo park)
and the controller answers with setpoint values. For one battery it re-plans, at every
call, the next ``horizon_steps`` quarter-hours (96: a day ahead) with one
:class:`~carbontwin.optimizers.RollingDispatch` whose HiGHS model is updated in place,
and applies the plan's first step as ``<battery>.power_kw``. Every other setpoint is what
the rule-based :class:`~carbontwin.twin.control.BaselineController` decides.
:class:`ValleyPeakBaseline` is the reference it is measured against: the baseline's rules
with batteries that charge in the valley, discharge at the peak and shave peaks.

Each window is built from what a site controller knows at ``t`` and nothing later:

- the **measured** state: the battery's state of charge (``ControlState.soc_frac``) and
  the enterprise's demand before the battery (``ControlState.demand_kw``);
- a **load forecast** by :class:`~carbontwin.forecasting.GradientBoosting`, refitted at
  every local midnight on the history seen so far (a warm-up history given at
  construction, then the demand the controller itself measured, one sample per control
  interval, all strictly before the origin), hourly means held over their quarter-hours,
  48 h ahead so that any 24-h window of the day is covered. The weather is the twin's
  typical year (the weather the twin runs on), used as a perfect weather forecast;
- an **intraday correction**: the forecast error measured now, blended out linearly over
  the next ``blend_steps`` quarter-hours (persistence); the current quarter-hour is the
  measured demand;
- a **peak reserve** of stored energy: the plan keeps the state of charge ``reserve_frac``
  above the battery's lowest, and that reserve is spent only by the **real-time shaving**
  rule on top of the plan: whenever the measured demand less the planned power would
  come within ``headroom_kw`` of the month's peak so far, charging is cut back and, if
  needed, the battery discharges the excess (within its power; the twin stops it at its
  lowest state of charge). The plan is made with point forecasts, which never show the
  random quarter-hour spikes that set a month's peak; the reserve is what is left to shave them
  when the arbitrage has emptied the rest. Optionally (``peak_quantile``) the load of
  the later steps can be raised by the forecast's upper band instead; measured on the
  demo park, that reserve in power costs more than it saves (``docs/control.md``);
- the tariff (time-of-use price, plus the carbon price on the grid factor of the park's
  accounting), and the demand charge on any rise of the month's peak so far (the peak
  floor), with no export from the battery. Each billing month the floor starts at the
  battery's ``peak_threshold_kw``, the demand its operator accepts (0 without one):
  starting from zero, the first day's plan would spend the battery flattening the night;
- a cyclic end: the window ends with the state of charge it starts from (the window is a
  day, the tariff repeats daily).

If a window cannot be solved (infeasible, out of time, an error in forecasting or in the
solver) the battery gets :class:`ValleyPeakBaseline`'s decision for that interval, and the
fallback is counted with its reason (:attr:`MpcController.fallbacks`,
:attr:`MpcController.log`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from carbontwin.accounting.factors import FactorLibrary
from carbontwin.core.assets import Battery
from carbontwin.core.errors import SolverError, ValidationError
from carbontwin.core.park import Park
from carbontwin.forecasting import GradientBoosting
from carbontwin.optimizers import Batteries, DispatchProblem, RollingDispatch
from carbontwin.runtime.forecast import park_weather
from carbontwin.twin.control import BaselineController, ControlState
from carbontwin.twin.tariff import tou_price_cny_per_kwh

__all__ = [
    "STEP_S",
    "MpcController",
    "ValleyPeakBaseline",
    "default_forecaster",
    "grid_factor_tco2_per_mwh",
]

#: Step of the plan and of the demand history [s].
STEP_S = 900
_DT_H = STEP_S / 3600.0
_QUARTER = pd.Timedelta(seconds=STEP_S)
#: Forecast length of each midnight refit: a day-ahead window starting at any time of day.
FORECAST_H = 48


def default_forecaster() -> GradientBoosting:
    """Return the load forecaster: gradient boosting, 48 h ahead, refitted daily.

    Origins every 24 h (local midnight), China's holidays, a 7-day calibration window for
    the band (the history then needs 42 days: a week of lags, 28 days to learn, the
    calibration).
    """
    return GradientBoosting(horizon=f"{FORECAST_H}h", origin_every="24h", calibration="7D")


def grid_factor_tco2_per_mwh(park: Park) -> float:
    """Return the grid emission factor of the park's accounting [tCO2/MWh]."""
    acc = park.accounting
    return float(FactorLibrary.builtin().get(acc.grid_factor, acc.factor_set, acc.gwp_set).value)


class ValleyPeakBaseline(BaselineController):
    """The operator's rules, with batteries that shave peaks *and* shift energy to the peak.

    Every setpoint but the batteries' is :class:`BaselineController`'s. Each battery, at
    each decision, in this order:

    1. **peak shaving**: if the enterprise's demand exceeds ``peak_threshold_kw``,
       discharge the excess (from any energy left, the reserve included);
    2. **valley charge**: at the valley price, charge at full power, but never so much
       that the demand with the charge exceeds the threshold;
    3. **peak discharge**: at the peak price or above, discharge the energy above the
       reserve (``reserve_frac`` of the capacity above the lowest state of charge) evenly
       over the peak-price quarter-hours left in the day, at most at full power;
    4. rest otherwise.

    A battery without a threshold does 2–4 with no limit from a threshold.

    Parameters
    ----------
    park : Park
        The park.
    reserve_frac : float
        State of charge kept for peak shaving during peak discharge [frac].
    """

    def __init__(self, park: Park, reserve_frac: float = 0.1) -> None:
        super().__init__(park)
        self.reserve_frac = float(reserve_frac)
        self.tariff = park.twin.tariff

    def _peak_steps_left(self, t: pd.Timestamp) -> int:
        """Return the quarter-hours at the peak price or above from ``t`` to midnight [1]."""
        end = (t + pd.Timedelta(days=1)).normalize()
        idx = pd.date_range(t, end, freq=_QUARTER, inclusive="left")
        hour = (idx.hour + idx.minute / 60.0).to_numpy(dtype=float)
        price = tou_price_cny_per_kwh(self.tariff, hour, idx.month.to_numpy())
        return int((price >= self.peak_price - 1e-9).sum())

    def decide(self, state: ControlState, t: pd.Timestamp) -> dict[str, float]:
        """Return the baseline's setpoints with the batteries' valley/peak rule."""
        out = super().decide(state, t)
        price = state.price_cny_per_kwh
        for b in self.batteries:
            demand = state.demand_kw.get(b.enterprise or "", 0.0)
            limit = math.inf if b.peak_threshold_kw is None else float(b.peak_threshold_kw)
            if demand > limit:
                p = demand - limit
            elif price <= self.valley_price:
                p = -min(float(b.power_kw), limit - demand)
            elif price >= self.peak_price - 1e-9:
                cap = float(b.energy_kwh)
                floor = min(b.soc_min_frac + self.reserve_frac, b.soc_max_frac) * cap
                avail = max(state.soc_frac.get(b.id, 0.0) * cap - floor, 0.0)
                steps = max(self._peak_steps_left(pd.Timestamp(t)), 1)
                p = min(float(b.power_kw), avail * b.discharge_efficiency_frac / (steps * _DT_H))
            else:
                p = 0.0
            out[f"{b.id}.power_kw"] = p
        return out


class MpcController:
    """Rolling-horizon battery dispatch with forecasts from past data, for the twin.

    Parameters
    ----------
    park : Park
        The simulated park.
    history_kw : pandas.Series
        The enterprise's demand before its battery, 15-min means [kW], indexed by local
        interval start (timezone-aware), ending at or before the first decision. At least
        42 days for the default forecaster (a warm-up run gives it).
    battery : str, optional
        Id of the battery driven; the park's first battery of an enterprise by default.
    horizon_steps : int
        Length of each window [quarter-hours]; at most 96 + 1 with the 48-h forecast.
    throughput_cost_cny_per_kwh : float
        Cost per kWh charged and per kWh discharged in the plan (wear; keeps the plan
        from cycling for nothing) [CNY/kWh].
    peak_quantile : float or None
        Quantile of the forecast band (and of the quarter-hours' spread around their
        hourly mean) by which the window's load is raised, from its second step on (its
        first by the spread only); ``None`` (the default) for none.
    reserve_frac : float
        State of charge kept above the battery's lowest by the plan, for real-time
        shaving only [frac].
    shave : bool
        Apply the real-time shaving rule over the plan's first step.
    headroom_kw : float
        The shaving rule keeps the measured demand less the battery's power this far
        below the month's peak so far (the quarter-hour's mean drifts from its first
        sample when loads ramp) [kW].
    blend_steps : int
        Quarter-hours over which the error measured now is blended out [1].
    history_days : int
        Days of history each refit uses (the most recent) [d].
    time_limit_s : float
        HiGHS time limit per window; beyond it the interval falls back [s].
    peak_floor_kw : float
        The month's peak before the first decision (a run starting mid-month) [kW]; the
        floor is at least the battery's ``peak_threshold_kw``.
    reserve_band : bool
        With ``peak_quantile``: include the forecast's band (else only the spread).
    forecaster : callable, optional
        Returns a new (unfitted) forecaster with ``fit(history, exog)`` and
        ``predict(origin, horizon, exog, history=...)``; :func:`default_forecaster`.
    rolling : callable, optional
        Builds the rolling dispatch from the first window; :class:`RollingDispatch`.

    Attributes
    ----------
    fallbacks : int
        Intervals decided by the baseline rule because a window failed.
    log : list of (pandas.Timestamp, str)
        When and why each fallback happened.
    compute_s : float
        Wall time spent in :meth:`decide` [s] (forecasting, solving, everything).
    forecast_s, solve_s : float
        Of which refitting and forecasting, and :meth:`RollingDispatch.solve` [s].
    refits : int
        Forecaster refits.
    forecasts : list of pandas.DataFrame
        Each refit's forecast (``forecast`` and band columns, hourly) [kW].

    Examples
    --------
    >>> from carbontwin.core import load_park, demo_park_path
    >>> park = load_park(demo_park_path())
    >>> idx = pd.date_range("2025-05-20", periods=42 * 96, freq="15min", tz=park.timezone)
    >>> history = pd.Series(7500.0 + 500.0 * ((idx.hour >= 8) & (idx.hour < 22)), index=idx)
    >>> mpc = MpcController(park, history)
    >>> mpc.battery.id, mpc.enterprise
    ('A-E03-BESS', 'E03')
    """

    def __init__(
        self,
        park: Park,
        history_kw: pd.Series,
        *,
        battery: str | None = None,
        horizon_steps: int = 96,
        throughput_cost_cny_per_kwh: float = 0.01,
        peak_quantile: float | None = None,
        blend_steps: int = 4,
        history_days: int = 56,
        time_limit_s: float = 2.0,
        peak_floor_kw: float = 0.0,
        reserve_band: bool = True,
        reserve_frac: float = 0.1,
        shave: bool = True,
        headroom_kw: float = 100.0,
        forecaster: Callable[[], Any] | None = None,
        rolling: Callable[..., Any] | None = None,
    ) -> None:
        batteries = [a for a in park.assets if isinstance(a, Battery) and a.enterprise]
        if battery is not None:
            batteries = [a for a in batteries if a.id == battery]
        if not batteries:
            known = [a.id for a in park.assets if isinstance(a, Battery)]
            msg = (
                f"battery(={battery!r}) is not a battery of an enterprise in park {park.id}; "
                f"known: {', '.join(known) or 'none'}"
            )
            raise ValidationError(msg)
        if not 1 <= horizon_steps <= FORECAST_H * 3600 // STEP_S // 2 + 1:
            msg = f"horizon_steps(={horizon_steps}) must be between 1 and 97 quarter-hours"
            raise ValidationError(msg)
        if peak_quantile is not None and not 0.5 <= peak_quantile < 1.0:
            msg = f"peak_quantile(={peak_quantile}) must be in [0.5, 1) or None"
            raise ValidationError(msg)
        self.park = park
        self.battery: Battery = batteries[0]
        self.enterprise: str = str(self.battery.enterprise)
        self.setpoint = f"{self.battery.id}.power_kw"
        self.baseline = ValleyPeakBaseline(park, reserve_frac)
        self.horizon_steps = int(horizon_steps)
        self.throughput = float(throughput_cost_cny_per_kwh)
        self.peak_quantile = peak_quantile
        self.blend_steps = int(blend_steps)
        self.reserve_band = bool(reserve_band)
        self.reserve_frac = float(reserve_frac)
        self.shave = bool(shave)
        self.headroom_kw = float(headroom_kw)
        self.history_days = int(history_days)
        self.time_limit_s = float(time_limit_s)
        self.tariff = park.twin.tariff
        self.factor = grid_factor_tco2_per_mwh(park)
        self._new_forecaster = forecaster or default_forecaster
        self._new_rolling = rolling or functools.partial(
            RollingDispatch, time_limit_s=self.time_limit_s
        )
        hist = pd.Series(history_kw, dtype=float).dropna()
        if not isinstance(hist.index, pd.DatetimeIndex) or hist.index.tz is None:
            msg = "history_kw must be indexed by timezone-aware local interval starts"
            raise ValidationError(msg)
        self._samples: dict[pd.Timestamp, float] = dict(
            zip(hist.index.tz_convert(park.timezone), hist.to_numpy(), strict=True)
        )
        self._rolling: Any = None
        self._fc: dict[str, np.ndarray] | None = None  # the refit's forecast at 15 min
        self._fc_origin: pd.Timestamp | None = None
        self._prev: tuple[pd.Timestamp, float, float] | None = None  # (t, demand, soc kWh)
        self._month: tuple[int, int] | None = None
        threshold = self.battery.peak_threshold_kw
        self.month_floor_kw = 0.0 if threshold is None else float(threshold)
        self._peak_kw = max(float(peak_floor_kw), self.month_floor_kw)
        self._spread_kw = 0.0
        self.fallbacks = 0
        self.log: list[tuple[pd.Timestamp, str]] = []
        self.compute_s = 0.0
        self.forecast_s = 0.0
        self.solve_s = 0.0
        self.refits = 0
        self.decisions = 0
        self.forecasts: list[pd.DataFrame] = []

    # ---------------------------------------------------------------- the protocol
    def decide(self, state: ControlState, t: pd.Timestamp) -> dict[str, float]:
        """Return the baseline's setpoints with the battery's from the rolling plan."""
        t0 = time.perf_counter()
        out = self.baseline.decide(state, t)
        self.decisions += 1
        try:
            power = self._battery_power(state, pd.Timestamp(t))
        except (SolverError, ValidationError, ValueError, ArithmeticError) as exc:
            power = None
            self._fallback(pd.Timestamp(t), f"{type(exc).__name__}: {exc}")
        if power is not None:
            lim = float(self.battery.power_kw)
            out[self.setpoint] = min(max(power, -lim), lim)
        self.compute_s += time.perf_counter() - t0
        return out

    # ---------------------------------------------------------------- internals
    def _fallback(self, t: pd.Timestamp, reason: str) -> None:
        self.fallbacks += 1
        self.log.append((t, reason))

    def _observe(self, t: pd.Timestamp, demand_kw: float, soc_kwh: float) -> float | None:
        """Record the measured demand of the quarter starting ``t``; return the last import.

        The import of the previous quarter is its measured demand less the battery's
        power, recovered from the change of stored energy [kW].
        """
        self._samples[t.floor(_QUARTER)] = float(demand_kw)
        prev = self._prev
        if prev is not None and t <= prev[0]:  # asked again for the same interval
            return None
        self._prev = (t, float(demand_kw), float(soc_kwh))
        if prev is None:
            return None
        t_prev, demand_prev, soc_prev = prev
        dt_h = (t - t_prev).total_seconds() / 3600.0
        de = soc_kwh - soc_prev
        b = self.battery
        power = (
            -de / (b.charge_efficiency_frac * dt_h)
            if de > 0
            else -de * (b.discharge_efficiency_frac / dt_h)
        )
        return max(demand_prev - power, 0.0)

    def _history(self, before: pd.Timestamp) -> pd.Series:
        """Hourly mean demand of the complete hours before ``before`` [kW]."""
        start = before - pd.Timedelta(days=self.history_days)
        keys = sorted(k for k in self._samples if start <= k < before)
        if not keys:
            msg = f"no demand history of {self.enterprise} before {before}; give history_kw"
            raise ValidationError(msg)
        quarter = pd.Series([self._samples[k] for k in keys], index=pd.DatetimeIndex(keys))
        full = pd.date_range(quarter.index[0].floor("h"), before, freq=_QUARTER, inclusive="left")
        quarter = quarter.reindex(full).interpolate(limit_direction="both")
        self._spread_kw = self._quarter_spread(quarter)
        return quarter.resample("h").mean().rename("energy_kwh")

    def _quarter_spread(self, quarter: pd.Series) -> float:
        """Return the ``peak_quantile`` of quarter-hours above their hourly mean [kW]."""
        if self.peak_quantile is None:
            return 0.0
        dev = quarter - quarter.groupby(quarter.index.floor("h")).transform("mean")
        return float(max(np.quantile(dev.to_numpy(), self.peak_quantile), 0.0))

    def _refit(self, origin: pd.Timestamp) -> None:
        """Fit a new forecaster on the history before ``origin``; forecast 48 h from it."""
        t0 = time.perf_counter()
        hourly = self._history(origin)
        idx = pd.date_range(
            hourly.index[0], origin + pd.Timedelta(hours=FORECAST_H), freq="h", inclusive="left"
        )
        weather = park_weather(self.park, idx)
        model = self._new_forecaster()
        model.fit(hourly, weather.loc[hourly.index])
        frame = model.predict(origin, f"{FORECAST_H}h", weather, history=hourly)
        point = np.maximum(frame["forecast"].to_numpy(dtype=float), 0.0)
        reps = 3600 // STEP_S
        margin = np.zeros_like(point)
        if self.peak_quantile is not None:
            col = f"q{self.peak_quantile:g}"
            if self.reserve_band and col in frame:
                margin = np.maximum(frame[col].to_numpy(dtype=float) - point, 0.0)
            margin = margin + self._spread_kw
        self._fc = {"point": np.repeat(point, reps), "margin": np.repeat(margin, reps)}
        self._fc_origin = origin
        self.refits += 1
        self.forecasts.append(frame)
        self.forecast_s += time.perf_counter() - t0

    def _window_load(self, t: pd.Timestamp, demand_kw: float) -> np.ndarray:
        """Return the window's load: forecast, corrected by the error now, raised [kW]."""
        assert self._fc is not None and self._fc_origin is not None
        k = int((t - self._fc_origin) / _QUARTER)
        w = self.horizon_steps
        point = self._fc["point"][k : k + w].copy()
        if len(point) < w:
            msg = f"the forecast from {self._fc_origin} does not cover {w} steps from {t}"
            raise ValidationError(msg)
        margin = self._fc["margin"][k : k + w].copy()
        err = demand_kw - point[0]
        n = min(max(self.blend_steps, 1), w)
        point[:n] += err * (1.0 - np.arange(n) / n)
        # The current quarter-hour is measured at its start; its mean may still drift
        # (loads ramp within it): keep the quarter-hours' spread as headroom.
        margin[0] = self._spread_kw
        return np.maximum(point + margin, 0.0)

    def _prices(self, t: pd.Timestamp) -> np.ndarray:
        idx = pd.date_range(t, periods=self.horizon_steps, freq=_QUARTER)
        hour = (idx.hour + idx.minute / 60.0).to_numpy(dtype=float)
        return tou_price_cny_per_kwh(self.tariff, hour, idx.month.to_numpy())

    def _battery_power(self, state: ControlState, t: pd.Timestamp) -> float | None:
        """Return the battery's power now [kW, discharge positive]; None to fall back."""
        b = self.battery
        cap = float(b.energy_kwh)
        soc_frac = float(state.soc_frac[b.id])
        demand = float(state.demand_kw[self.enterprise])
        last_import = self._observe(t, demand, soc_frac * cap)
        month = (t.year, t.month)
        if last_import is not None and self._month == month:
            self._peak_kw = max(self._peak_kw, last_import)
        if self._month is not None and month != self._month:
            self._peak_kw = self.month_floor_kw  # a new billing month
        self._month = month
        if self._fc_origin is None or t.normalize() != self._fc_origin.normalize():
            self._refit(t.floor("h"))
        soc_lo = min(b.soc_min_frac + self.reserve_frac, b.soc_max_frac)
        soc = min(max(soc_frac, soc_lo), b.soc_max_frac)
        w = self.horizon_steps
        window = DispatchProblem(
            interval_h=_DT_H,
            load_kw=self._window_load(t, demand)[None, :],
            pv_kw=np.zeros((1, w)),
            batteries=Batteries(
                energy_kwh=np.array([cap]),
                power_kw=np.array([float(b.power_kw)]),
                charge_efficiency_frac=b.charge_efficiency_frac,
                discharge_efficiency_frac=b.discharge_efficiency_frac,
                soc_min_frac=soc_lo,
                soc_max_frac=b.soc_max_frac,
                soc_start_frac=soc,
                soc_end_frac=soc,
                throughput_cost_cny_per_kwh=self.throughput,
            ),
            import_price_cny_per_kwh=self._prices(t),
            export_price_cny_per_kwh=self.tariff.export_price_cny_per_kwh,
            grid_factor_tco2_per_mwh=np.full(w, self.factor),
            carbon_price_cny_per_tco2=self.tariff.carbon_price_cny_per_tco2,
            demand_charge_cny_per_kw=self.tariff.demand_charge_cny_per_kw_month,
            export_limit_kw=0.0,
            peak_floor_kw=self._peak_kw,
        )
        t0 = time.perf_counter()
        if self._rolling is None:
            self._rolling = self._new_rolling(window)
        else:
            self._rolling.state = dataclasses.replace(
                self._rolling.state,
                step=self._rolling.state.step + 1,
                soc_kwh=np.array([soc * cap]),
                peak_kw=self._peak_kw,
            )
        plan = self._rolling.solve(window)
        self.solve_s += time.perf_counter() - t0
        if plan.source != "optimal":
            self._fallback(t, plan.reason or f"window not optimal ({plan.source})")
            return None
        power = float(plan.discharge_kw[0, 0] - plan.charge_kw[0, 0])
        if not math.isfinite(power):
            self._fallback(t, f"the plan's power is not finite ({power})")
            return None
        peak = self._peak_kw
        target = peak - self.headroom_kw
        if self.shave and peak > 0 and demand - power > target:
            # keep the quarter-hour's import below the month's peak so far, with headroom
            # for the drift within it: charge less, or discharge the excess (the reserve)
            power = demand - target
        return power
