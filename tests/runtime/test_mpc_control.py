"""The MPC battery controller in the twin's loop: limits, past data only, fallbacks, cost.

Unit tests drive ``decide`` with hand-made states and a stub forecaster (fast); one
closed-loop test warms the demo park up for the forecaster's 42 days under the baseline
and then runs four winter days under each controller from the same seed.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from carbontwin.core import demo_park_path, load_park
from carbontwin.core.errors import SolverError, ValidationError
from carbontwin.runtime.mpc_control import MpcController, ValleyPeakBaseline, default_forecaster
from carbontwin.twin import Simulator
from carbontwin.twin.control import BaselineController, ControlState

BAT, ENT = "A-E03-BESS", "E03"
START = "2025-07-01"
WINTER = "2025-01-06"


@pytest.fixture(scope="module")
def park():
    return load_park(demo_park_path())


def _history(park, end=START, days=42):
    idx = pd.date_range(
        pd.Timestamp(end).tz_localize(park.timezone) - pd.Timedelta(days=days),
        periods=days * 96,
        freq="15min",
    )
    day = (idx.hour >= 8) & (idx.hour < 22)
    return pd.Series(7200.0 + 800.0 * day, index=idx)


class StubForecaster:
    """Forecasts the mean of the hours it was given; records what it was given."""

    seen: ClassVar[list[tuple[str, pd.Timestamp, pd.Timestamp]]] = []

    def fit(self, history, exog=None):
        self.level = float(history.mean())
        StubForecaster.seen.append(("fit", history.index.max(), history.index.max()))
        return self

    def predict(self, origin, horizon=None, exog=None, history=None):
        idx = pd.date_range(origin, periods=48, freq="h")
        StubForecaster.seen.append(("predict", origin, history.index.max()))
        return pd.DataFrame({"forecast": np.full(48, self.level)}, index=idx)


def _state(park, t, *, demand=7500.0, soc=0.5):
    t = pd.Timestamp(t).tz_localize(park.timezone) if pd.Timestamp(t).tz is None else t
    zones = [a.id for a in park.assets if a.kind == "hvac"]
    from carbontwin.twin.tariff import tou_periods

    period = park.twin.tariff.periods[
        int(
            tou_periods(park.twin.tariff, np.array([t.hour + t.minute / 60]), np.array([t.month]))[
                0
            ]
        )
    ]
    return ControlState(
        t=t,
        hour=t.hour + t.minute / 60,
        weekday=t.weekday(),
        tou_period=period.name,
        price_cny_per_kwh=period.price_cny_per_kwh,
        temp_out_c=30.0,
        zone_temp_c=dict.fromkeys(zones, 24.0),
        occupancy=dict.fromkeys(zones, 1.0),
        occupancy_ahead=dict.fromkeys(zones, 1.0),
        soc_frac={BAT: soc},
        demand_kw={e.id: demand for e in park.enterprises},
        values={},
    )


def test_battery_decisions_stay_within_limits(park):
    mpc = MpcController(park, _history(park), forecaster=StubForecaster)
    lim = next(a.power_kw for a in park.assets if a.id == BAT)
    t = pd.Timestamp(START).tz_localize(park.timezone)
    soc = 0.5
    for k in range(96):
        now = t + pd.Timedelta(minutes=15 * k)
        out = mpc.decide(_state(park, now, demand=7000.0 + 2000.0 * (k % 7 == 0), soc=soc), now)
        p = out[f"{BAT}.power_kw"]
        assert -lim - 1e-9 <= p <= lim + 1e-9
        # follow the decision as the battery would (95 % each way), within its band
        de = -p * 0.25 / 0.95 if p > 0 else -p * 0.25 * 0.95
        soc = float(np.clip(soc + de / 2000.0, 0.1, 0.95))
    assert mpc.fallbacks == 0
    # charges in the valley (00-08 h), discharges somewhere in the peak hours
    assert mpc.refits == 1


def test_other_setpoints_are_the_baselines(park):
    mpc = MpcController(park, _history(park), forecaster=StubForecaster)
    t = pd.Timestamp(START).tz_localize(park.timezone) + pd.Timedelta(hours=9)
    state = _state(park, t)
    out = mpc.decide(state, t)
    base = BaselineController(park).decide(state, t)
    assert set(out) == set(base)
    assert {k: v for k, v in out.items() if k != f"{BAT}.power_kw"} == {
        k: v for k, v in base.items() if k != f"{BAT}.power_kw"
    }


def test_measured_soc_and_month_peak_enter_the_window(park):
    mpc = MpcController(park, _history(park), forecaster=StubForecaster)
    threshold = next(a.peak_threshold_kw for a in park.assets if a.id == BAT)
    t = pd.Timestamp(START).tz_localize(park.timezone) + pd.Timedelta(hours=10)
    mpc.decide(_state(park, t, demand=8000.0, soc=0.6), t)
    # the month's floor starts at the battery's threshold
    assert mpc._rolling.plan.problem.peak_floor_kw == threshold
    t2 = t + pd.Timedelta(minutes=15)
    mpc.decide(_state(park, t2, demand=9500.0, soc=0.55), t2)
    t3 = t2 + pd.Timedelta(minutes=15)
    mpc.decide(_state(park, t3, demand=8000.0, soc=0.5), t3)
    window = mpc._rolling.plan.problem
    assert window.batteries.soc_start_kwh[0] == pytest.approx(0.5 * 2000.0, abs=1e-6)
    assert window.batteries.soc_end_kwh[0] == pytest.approx(0.5 * 2000.0, abs=1e-6)
    # the last quarter's import: its demand less the discharge recovered from the SOC drop
    drop_kwh = (0.55 - 0.5) * 2000.0
    assert window.peak_floor_kw == pytest.approx(9500.0 - drop_kwh * 0.95 / 0.25, rel=1e-9)
    # a new month starts again from the threshold
    t4 = pd.Timestamp("2025-08-01").tz_localize(park.timezone)
    mpc.decide(_state(park, t4, demand=7000.0, soc=0.5), t4)
    assert mpc._rolling.plan.problem.peak_floor_kw == threshold


def test_shaving_keeps_the_import_below_the_months_peak(park):
    mpc = MpcController(park, _history(park), forecaster=StubForecaster)
    threshold = next(a.peak_threshold_kw for a in park.assets if a.id == BAT)
    t = pd.Timestamp(START).tz_localize(park.timezone) + pd.Timedelta(hours=3)  # valley
    out = mpc.decide(_state(park, t, demand=threshold + 150.0, soc=0.5), t)
    # in the valley the plan would charge; the rule discharges the excess and the headroom
    assert out[f"{BAT}.power_kw"] == pytest.approx(150.0 + mpc.headroom_kw, rel=1e-9)


def test_forecaster_sees_only_data_before_each_decision(park):
    """Every fit and forecast uses history strictly before its origin, the decision time."""
    StubForecaster.seen = []
    mpc = MpcController(park, _history(park), forecaster=StubForecaster)
    t0 = pd.Timestamp(START).tz_localize(park.timezone)
    for k in range(2 * 96 + 3):
        now = t0 + pd.Timedelta(minutes=15 * k)
        mpc.decide(_state(park, now, demand=7000.0 + k), now)
    assert mpc.refits == 3  # local midnights of 1, 2 and 3 July
    predicts = [(o, last) for kind, o, last in StubForecaster.seen if kind == "predict"]
    assert [o.hour for o, _ in predicts] == [0, 0, 0]
    for origin, last in predicts:
        assert last < origin  # hourly history labelled by start: the last hour ends at origin
        assert last + pd.Timedelta(hours=1) == origin
    # the history of the second refit holds the demand measured on 1 July
    assert mpc._history(predicts[1][0]).iloc[-1] == pytest.approx(7000.0 + 93.5, abs=1e-9)


def test_gbm_refit_uses_past_data_only(park):
    """The real forecaster: the GBM's fitted history ends before the origin."""
    seen = []

    def spy():
        model = default_forecaster()
        fit, predict = model.fit, model.predict

        def fit_spy(history, exog=None):
            seen.append(("fit", history.index.max()))
            return fit(history, exog)

        def predict_spy(origin, horizon=None, exog=None, history=None):
            seen.append(("predict", history.index.max(), pd.Timestamp(origin)))
            return predict(origin, horizon, exog, history=history)

        model.fit, model.predict = fit_spy, predict_spy
        return model

    rng = np.random.default_rng(0)
    hist = _history(park)
    hist = hist + rng.normal(0, 50.0, len(hist))
    mpc = MpcController(park, hist, forecaster=spy)
    t = pd.Timestamp(START).tz_localize(park.timezone)
    mpc.decide(_state(park, t), t)
    assert seen[0][1] < t and seen[1][1] < seen[1][2] == t
    assert mpc.fallbacks == 0


class FailingRolling:
    """A rolling dispatch whose every solve fails."""

    def __init__(self, window, **_):
        from carbontwin.optimizers import RollingDispatch

        self.inner = RollingDispatch(window)
        self.state = self.inner.state

    def solve(self, window):
        msg = "HiGHS status 'Infeasible' (a test)"
        raise SolverError(msg)


class NotOptimalRolling(FailingRolling):
    """A rolling dispatch whose plans are its own fallbacks."""

    def solve(self, window):
        import dataclasses

        plan = self.inner.solve(window)
        return dataclasses.replace(plan, source="baseline", reason="time limit (a test)")


@pytest.mark.parametrize("rolling", [FailingRolling, NotOptimalRolling])
def test_failing_window_falls_back_to_the_baseline(park, rolling):
    mpc = MpcController(park, _history(park), forecaster=StubForecaster, rolling=rolling)
    base = ValleyPeakBaseline(park)
    t0 = pd.Timestamp(START).tz_localize(park.timezone)
    n = 8
    for k in range(n):
        now = t0 + pd.Timedelta(hours=3 * k)
        state = _state(park, now, demand=8500.0 if k % 2 else 7000.0, soc=0.5)
        assert mpc.decide(state, now) == base.decide(state, now)
    assert mpc.fallbacks == n
    assert len(mpc.log) == n and "a test" in mpc.log[0][1]


def test_bad_input_fails_early(park):
    with pytest.raises(ValidationError, match="battery"):
        MpcController(park, _history(park), battery="NO-SUCH")
    naive = _history(park)
    naive.index = naive.index.tz_localize(None)
    with pytest.raises(ValidationError, match="timezone-aware"):
        MpcController(park, naive)
    with pytest.raises(ValidationError, match="horizon_steps"):
        MpcController(park, _history(park), horizon_steps=200)


def _site_demand_kw(result):
    """E03's import plus its battery's net discharge, 15-min means [kW]."""
    iv = result.intervals
    points = list(iv.point.values)

    def kwh(point):  # every one of these meters is in kWh
        assert str(iv.unit.values[points.index(point)]) == "kWh"
        return iv.values[points.index(point)]

    total = kwh("P-E03-ELEC") + kwh("P-E03-BESS-DIS") - kwh("P-E03-BESS-CH")
    index = pd.DatetimeIndex(iv.time.values).tz_localize("UTC").tz_convert(iv.attrs["timezone"])
    return pd.Series(total * 4.0, index=index)


def _site_cost(result):
    cost = result.kpis.cost_cny.loc[ENT]
    return float(cost["electricity"] + cost["demand"])


@pytest.fixture(scope="module")
def closed_loop(park):
    seed, start, days = 2025, WINTER, 4
    first = (pd.Timestamp(start) - pd.Timedelta(days=42)).date().isoformat()
    warm = Simulator(park, first, 42, seed=seed, keep_readings_days=0).run()
    history = _site_demand_kw(warm)
    run = {"seed": seed, "keep_readings_days": 0}
    base = Simulator(park, start, days, controller=ValleyPeakBaseline(park), **run).run()
    mpc = MpcController(park, history)
    res = Simulator(park, start, days, controller=mpc, **run).run()
    return base, res, mpc


def test_closed_loop_costs_no_more_than_the_baseline(closed_loop):
    base, res, mpc = closed_loop
    assert mpc.fallbacks == 0
    assert mpc.refits == 4
    assert _site_cost(res) <= _site_cost(base)
    # only the battery differs: comfort and every other enterprise are identical
    assert res.kpis.discomfort_kh.sum() == base.kpis.discomfort_kh.sum()
    others = [e for e in res.kpis.energy.index if e not in (ENT, "park")]
    assert np.array_equal(
        res.kpis.energy.loc[others, "grid_import_kwh"],
        base.kpis.energy.loc[others, "grid_import_kwh"],
    )
    soc = res.kpis.signal_totals  # the battery moved energy
    assert soc[f"{BAT}.discharge"] > 0 and soc[f"{BAT}.charge"] > 0
