"""The simulator: its outputs, its checks, live pacing, weather, schedules and tariff."""

from __future__ import annotations

import time
import typing

import numpy as np
import pandas as pd
import pytest
import simpy.rt

from carbontwin.core import operation
from carbontwin.core.errors import ValidationError
from carbontwin.core.fields import field_unit
from carbontwin.core.operation import Schedule, Tariff
from carbontwin.twin import SimClock, Simulator, TwinState, simulate, typical_weather
from carbontwin.twin.schedules import schedule_frac
from carbontwin.twin.tariff import tou_price_cny_per_kwh
from carbontwin.twin.weather import weather_on_steps
from tests.twin.conftest import small_park


def test_demo_park_is_large_enough(demo):
    assert len(demo.enterprises) == 10
    assert len(demo.points) >= 100
    kinds = {a.kind for a in demo.assets}
    assert kinds >= {"chp", "boiler", "process", "hvac", "pv", "battery", "ev", "pump"}
    bound = {pid for a in demo.assets for pid in a.meters}
    assert bound == {p.id for p in demo.points}  # every point is simulated


def test_outputs_have_the_documented_shape(demo_run):
    r = demo_run.readings
    assert list(r.columns) == ["point", "ts", "value", "quality", "true_value", "fault"]
    assert str(r.ts.dt.tz) == "UTC" and r.ts.is_monotonic_increasing
    pv = r[(r.point == "P-E04-PV") & (r.fault != "skew")]
    assert (pv.ts.dt.minute % 15 == 0).all() and (pv.ts.dt.second == 0).all()
    assert (r.quality == 0).all()
    assert demo_run.intervals.dims == ("point", "time")
    acc = demo_run.accounting
    assert acc.interval_h == 0.25 and str(acc.index.tz) == "Asia/Shanghai"
    assert acc.index[0] == pd.Timestamp("2025-07-07", tz="Asia/Shanghai")
    assert "E03-ELEC" in acc.streams and "E03-HFC" not in acc.streams


def test_a_run_of_part_days_is_complete(demo):
    res = simulate(demo, "2025-07-01 06:00", 1.5, seed=1, keep_readings_days=0)
    assert res.steps == 2160 and res.intervals.sizes["time"] == 144
    assert (res.intervals.sel(point="P-E06-ELEC").values > 0).all()
    assert res.accounting.index[0] == pd.Timestamp("2025-07-01 06:00", tz="Asia/Shanghai")


def test_an_enterprise_that_left_draws_nothing(demo):
    res = simulate(demo, "2025-06-30", 2, seed=1, keep_readings_days=0)
    e09 = res.intervals.sel(point="P-E09-ELEC").values
    assert e09[:96].sum() > 0 and e09[96:].sum() == 0  # left on 2025-06-30


def test_bad_definitions_fail_early_and_say_why():
    with pytest.raises(ValidationError, match="no grid connection"):
        park = small_park(assets=[{"id": "L", "kind": "load", "enterprise": "E1", "power_kw": 1}])
        park.assets = park.assets[1:]
        Simulator(park, "2025-01-01", 1)
    with pytest.raises(ValidationError, match="no signal 'colour'"):
        Simulator(
            small_park(
                assets=[
                    {
                        "id": "L",
                        "kind": "load",
                        "enterprise": "E1",
                        "power_kw": 1,
                        "meters": {"M-GRID": "colour"},
                    }
                ]
            ),
            "2025-01-01",
            1,
        )
    with pytest.raises(ValidationError, match="latitude_deg"):
        park = small_park(assets=[{"id": "P", "kind": "pv", "enterprise": "E1", "capacity_kw": 1}])
        park.twin.latitude_deg = None
        Simulator(park, "2025-01-01", 1)
    with pytest.raises(ValidationError, match="multiple of the step"):
        park = small_park()
        park.points[0].interval_s = 90
        Simulator(park, "2025-01-01", 1)
    with pytest.raises(ValidationError, match="days"):
        Simulator(small_park(), "2025-01-01", 0)


def test_a_live_run_is_paced_by_the_wall_clock_and_feeds_the_twin_state():
    load = {"id": "L", "kind": "load", "enterprise": "E1", "power_kw": 100.0,
            "meters": {"M-KW": "electricity"}}  # fmt: skip
    kw = {"id": "M-KW", "enterprise": "E1", "carrier": "electricity", "unit": "kW",
          "kind": "instantaneous", "interval_s": 60}  # fmt: skip
    park = small_park(assets=[load], points=[kw])
    state = TwinState.for_park(park)
    chunks = []

    def feed(chunk):
        chunks.append(chunk)
        state.update(chunk.readings)

    # 30 simulated minutes at 3600 simulated seconds per wall second: half a second.
    sim = Simulator(park, "2025-01-01", 1 / 48, speed=3600.0, on_chunk=feed)
    t0 = time.perf_counter()
    sim.run()
    wall = time.perf_counter() - t0
    assert isinstance(sim.env, simpy.rt.RealtimeEnvironment)
    assert 0.4 < wall < 3.0
    assert len(chunks) == 2  # 15-min chunks in a live run
    snap = state.snapshot()
    assert snap.loc["M-KW", "value"] == pytest.approx(100.0, rel=0.1)
    assert not snap.loc["M-KW", "stale"]


def test_weather_typical_year_and_series():
    w = typical_weather()
    assert len(w) == 8760 and w.temp_air_c.between(-30, 50).all()
    clock = SimClock(pd.Timestamp("2025-01-01", tz="Asia/Shanghai"), 60)
    got = weather_on_steps(w, clock, 0, 120)
    # Step mid-points 00:00:30 … 01:59:30 local; hour means stand at half past.
    np.testing.assert_allclose(got["temp_air_c"][30], w.temp_air_c.iloc[0], rtol=1e-12)
    series = w.set_index(pd.date_range("2025-01-01", periods=8760, freq="h", tz="Asia/Shanghai"))
    np.testing.assert_allclose(weather_on_steps(series, clock, 0, 120)["temp_air_c"],
                               got["temp_air_c"], rtol=1e-12)  # fmt: skip
    with pytest.raises(ValidationError, match="covers"):
        weather_on_steps(series.iloc[:10], clock, 0, 120_000)


def test_schedules_and_tariff():
    hours = np.arange(24, dtype=float)
    night = Schedule(days="all", start_h=22, end_h=6)
    on = schedule_frac(night, hours, np.zeros(24, int), np.zeros(24, bool))
    assert on.tolist() == [1.0] * 6 + [0.0] * 16 + [1.0] * 2
    office = Schedule(days="mon-fri", start_h=8, end_h=18)
    sat = schedule_frac(office, hours, np.full(24, 5), np.zeros(24, bool))
    hol = schedule_frac(office, hours, np.zeros(24, int), np.ones(24, bool))
    assert sat.sum() == 0 and hol.sum() == 0
    # An hourly profile shapes the level, linear between whole hours, wrapping midnight.
    shape = [0.5] * 24
    shape[21] = 1.0
    shaped = Schedule(days="all", start_h=8, end_h=22, off_frac=0.4, profile=shape)
    got = schedule_frac(shaped, np.array([7.0, 20.5, 21.0, 21.5, 23.5]), np.zeros(5, int),
                        np.zeros(5, bool))  # fmt: skip
    np.testing.assert_allclose(got, [0.4 * 0.5, 0.75, 1.0, 0.75, 0.4 * 0.5], rtol=1e-12)
    with pytest.raises(ValueError, match="give 24"):
        Schedule(profile=[1.0] * 23)
    with pytest.raises(ValueError, match=">= 0"):
        Schedule(profile=[1.0] * 23 + [-0.1])
    t = Tariff(periods=[*Tariff().periods, {"name": "sharp", "price_cny_per_kwh": 2.0,
                                            "hours": "14-15", "months": "7"}])  # fmt: skip
    july = tou_price_cny_per_kwh(t, hours, np.full(24, 7))
    june = tou_price_cny_per_kwh(t, hours, np.full(24, 6))
    assert july[14] == 2.0 and june[14] == 0.65 and july[3] == 0.30 and july[9] == 1.05
    with pytest.raises(ValueError, match="hours"):
        operation.TouPeriod(name="x", price_cny_per_kwh=1, hours="25-26")


def _numeric(annotation) -> bool:
    args = typing.get_args(annotation)
    if args:
        return any(_numeric(a) for a in args if a is not type(None)) and not any(
            a is bool for a in args
        )
    return annotation in (int, float)


@pytest.mark.parametrize("model", [getattr(operation, n) for n in operation.__all__ if
                                   isinstance(getattr(operation, n), type)])  # fmt: skip
def test_operation_settings_declare_their_units(model):
    missing = [
        name
        for name, info in model.model_fields.items()
        if _numeric(info.annotation) and not field_unit(model, name)
    ]
    assert not missing, f"{model.__name__}: numeric fields without a unit: {missing}"
