"""Meters: a register equals the integral of its power, intervals sum it, rollovers wrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

from carbontwin.accounting.validation import validate_readings
from carbontwin.core.units import conversion_factor
from carbontwin.twin import TwinState, simulate
from tests.twin.conftest import small_park


def bound(park):
    return {pid: (a.id, s) for a in park.assets for pid, s in a.meters.items()}


def steps_of(res, ts):
    start = res.clock.start.value // 1_000_000
    return ((pd.DatetimeIndex(ts).as_unit("ms").asi8 - start) // (res.clock.step_s * 1000)).astype(
        int
    )


def test_registers_equal_the_integral_of_their_power(demo_run, demo):
    dt_h = demo_run.clock.step_s / 3600
    signals = bound(demo)
    r = demo_run.readings
    checked = 0
    for p in demo.points:
        if p.kind != "cumulative" or p.id not in signals:
            continue
        asset, name = signals[p.id]
        flow = demo_run.trace.sel(signal=f"{asset}.{name}").values
        unit = str(demo_run.trace.sel(signal=f"{asset}.{name}").unit.values)
        integral = np.concatenate(([0.0], np.cumsum(flow) * dt_h)) * conversion_factor(unit, p.unit)
        mine = r[(r.point == p.id) & (r.fault == "none")].sort_values("ts")
        k = steps_of(demo_run, mine.ts)
        reg = mine.true_value.to_numpy()
        wrap = p.rollover or np.inf
        got = np.mod(np.diff(reg), wrap) if np.isfinite(wrap) else np.diff(reg)
        want = np.diff(integral[k])
        assert_allclose(got, want, rtol=1e-9, atol=1e-6 * max(1.0, wrap * 1e-9)), p.id
        checked += 1
    assert checked >= 40


def test_interval_and_instantaneous_points_report_the_signal(demo_run, demo):
    dt_h = demo_run.clock.step_s / 3600
    signals = bound(demo)
    r = demo_run.readings
    for pid in (
        "P-E04-PV",
        "P-E01-CHP-COAL",
        "P-E10-CEMS",
        "P-E03-KW",
        "P-E03-CLEAN-T",
        "P-E06-IT-KW",
        "P-E03-BESS-SOC",
    ):
        p = demo.point(pid)
        asset, name = signals[pid]
        values = demo_run.trace.sel(signal=f"{asset}.{name}")
        unit = str(values.unit.values)
        mine = r[r.point == pid].sort_values("ts")
        k = steps_of(demo_run, mine.ts)
        if p.kind == "interval":
            m = p.interval_s // demo_run.clock.step_s
            per = values.values[: len(values) // m * m].reshape(-1, m).sum(axis=1) * dt_h
            want = per[k // m] * conversion_factor(unit, p.unit)
            assert np.all(k % m == 0)  # labelled by the interval's start
        elif unit == "kWh":  # a flow's instantaneous value: its rate
            want = values.values[k] * conversion_factor(f"{unit}/h", p.unit)
        else:  # a state
            want = values.values[k] * conversion_factor(unit, p.unit)
        assert_allclose(mine.true_value.to_numpy(), want, rtol=1e-9, atol=1e-9)


def test_history_is_the_15_min_amount_and_sums_to_the_activity(demo_run):
    # The 15-min history of a fiscal meter integrates to the physics' activity.
    kwh = demo_run.intervals.sel(point="P-E03-ELEC").values.sum()
    assert_allclose(kwh, demo_run.kpis.activity["E03-ELEC"], rtol=1e-12)
    mwh = demo_run.intervals.sel(point="P-E06-ELEC").values.sum()
    assert_allclose(mwh * 1000, demo_run.kpis.activity["E06-ELEC"], rtol=1e-12)
    assert demo_run.intervals.attrs["timezone"] == "Asia/Shanghai"
    assert demo_run.intervals.sizes["time"] == 3 * 96


def test_a_small_rollover_wraps_and_is_recovered_downstream():
    load = {"id": "L", "kind": "load", "enterprise": "E1", "power_kw": 300.0, "noise_frac": 0.0}
    park = small_park(assets=[load])
    park.points[0].rollover = 1000.0
    res = simulate(park, "2025-03-01", 1, seed=3)
    r = res.readings[res.readings.point == "M-GRID"].sort_values("ts")
    assert r.value.max() < 1000.0 and (np.diff(r.value.to_numpy()) < 0).sum() >= 5  # wrapped
    total = res.kpis.activity["E1-ELEC"]
    assert_allclose(total, 300.0 * 24, rtol=1e-9)
    # The accounting's reading validation and the live state both unwrap it.
    data, found = validate_readings(park, r[["point", "ts", "value"]], today=pd.Timestamp("2026"))
    assert {f.rule for f in found.findings} == {"rollover"}
    assert_allclose(data.values.sum(), 300.0 * (24 - 0.25), rtol=1e-9)  # last interval open
    state = TwinState(park.points)
    state.update(r)
    snap = state.snapshot()
    assert_allclose(snap.loc["M-GRID", "energy"], 300.0 * (24 - 0.25), rtol=1e-9)
    assert_allclose(snap.loc["M-GRID", "power"], 300.0, rtol=1e-9)
    assert snap.loc["M-GRID", "rollovers"] >= 5
