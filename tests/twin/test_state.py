"""The live twin state: latest values, derived power and energy, staleness."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

from carbontwin.core.points import MeteringPoint
from carbontwin.twin import TwinState

T0 = pd.Timestamp("2025-01-01", tz="UTC")


def pt(pid, kind, unit="kWh", interval_s=900, rollover=None):
    return MeteringPoint(
        id=pid, enterprise="E", carrier="electricity", unit=unit, kind=kind,
        interval_s=interval_s, rollover=rollover,
    )  # fmt: skip


def frame(pid, minutes, values, quality=0):
    return pd.DataFrame(
        {
            "point": pid,
            "ts": [T0 + pd.Timedelta(minutes=m) for m in minutes],
            "value": values,
            "quality": quality,
        }
    )


def test_registers_give_power_and_energy_with_rollovers_and_resets():
    s = TwinState([pt("R", "cumulative", rollover=1000.0)])
    s.update(frame("R", [0, 15, 30], [980.0, 990.0, 2.5]))  # wraps at 1000
    snap = s.snapshot()
    assert_allclose(snap.loc["R", "power"], 12.5 / 0.25)
    assert_allclose(snap.loc["R", "energy"], 22.5)
    s.update(frame("R", [45, 60], [500.0, 10.0]))  # a reset mid-range: counts from 0
    snap = s.snapshot()
    assert snap.loc["R", "resets"] == 1 and snap.loc["R", "rollovers"] == 1
    assert_allclose(snap.loc["R", "energy"], 22.5 + 497.5 + 10.0)
    assert_allclose(snap.loc["R", "power"], 10.0 / 0.25)


def test_interval_and_instantaneous_points():
    s = TwinState([pt("I", "interval"), pt("K", "instantaneous", unit="kW", interval_s=60)])
    s.update(pd.concat([frame("I", [0, 15], [25.0, 30.0]), frame("K", [0, 1, 2], [60, 120, 0])]))
    snap = s.snapshot()
    assert_allclose(snap.loc["I", "power"], 120.0)  # 30 kWh in 15 min
    assert_allclose(snap.loc["I", "energy"], 55.0)
    assert_allclose(snap.loc["K", "energy"], (60 + 120) / 60)  # kW × h until the next one
    assert snap.loc["K", "power"] == 0.0


def test_late_duplicate_and_unknown_readings_change_nothing():
    s = TwinState([pt("R", "cumulative")])
    s.update(frame("R", [0, 15], [10.0, 20.0]))
    before = s.snapshot()
    s.update(pd.concat([frame("R", [15, 5], [99.0, 15.0]), frame("X", [30], [1.0])]))
    pd.testing.assert_frame_equal(s.snapshot(), before)
    assert s.late == 2 and s.unknown == 1


def test_staleness_is_k_intervals_without_a_reading():
    s = TwinState([pt("A", "cumulative"), pt("B", "instantaneous", "kW", 60), pt("C", "interval")])
    s.update(pd.concat([frame("A", [0], [1.0]), frame("B", [0, 30], [1.0, 2.0])]))
    assert s.stale() == ["C"]  # never seen; A is 30 min old, under 3 × 15 min
    now = T0 + pd.Timedelta(minutes=46)
    assert s.stale(now) == ["A", "B", "C"]  # B: 16 min > 3 × 1 min; A: 46 > 45 min
    assert not s.stale_mask(T0 + pd.Timedelta(minutes=31))[1]
    snap = s.snapshot(now)
    assert_allclose(snap.loc["A", "age_s"], 46 * 60)
    assert np.isnan(snap.loc["C", "age_s"]) and snap.loc["C", "quality"] == -1


def test_state_follows_the_simulated_park(demo_run, demo):
    s = TwinState.for_park(demo)
    # True values: the energy the state counts from E03's register is the physics'.
    clean = demo_run.readings.assign(value=demo_run.readings.true_value)
    assert s.update(clean) > 0.99 * len(clean)  # a few skewed ones arrive late
    snap = s.snapshot()
    r = clean[(clean.point == "P-E03-ELEC") & (clean.fault != "skew")]
    first, last = r.ts.min(), r.ts.max()
    tr = demo_run.trace.sel(signal="A-E03-GRID.import").values
    k0 = int((first - demo_run.clock.start).total_seconds() // 60)
    k1 = int((last - demo_run.clock.start).total_seconds() // 60)
    assert_allclose(snap.loc["P-E03-ELEC", "energy"], tr[k0:k1].sum() / 60, rtol=1e-9)
    assert not snap.stale.any()
    # With the faults as reported, the state still takes every point's latest reading.
    live = TwinState.for_park(demo)
    live.update(demo_run.readings)
    latest = demo_run.readings.groupby("point", observed=True).ts.max()
    got = live.snapshot().ts.reindex(latest.index)
    assert (got >= latest - pd.Timedelta(minutes=3)).all()
