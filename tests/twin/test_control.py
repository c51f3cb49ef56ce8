"""The control interface: named setpoints, clipping, the baseline rules, held setpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbontwin.core.errors import ValidationError
from carbontwin.twin import BaselineController, FixedSetpoints, Simulator, setpoints, simulate


def test_every_controllable_input_is_a_named_setpoint(demo):
    sp = setpoints(demo)
    assert {"A-E05-HVAC.setpoint_c", "A-E05-HVAC.heating_setpoint_c", "A-E05-HVAC.dimming_frac",
            "A-E03-BESS.power_kw", "A-Z3-EV.limit_kw", "A-E01-MEOH.rate_frac",
            "A-E04-LINE.start_h"} <= set(sp)  # fmt: skip
    assert "A-E06-HALL.heating_setpoint_c" not in sp  # the data hall does not heat
    assert sp["A-Z3-EV.limit_kw"].hi == 7.0 and sp["A-E03-BESS.power_kw"].lo == -500.0
    assert sp["A-E05-HVAC.setpoint_c"].clip(99) == 32.0


def test_setpoints_are_clipped_and_unknown_ones_refused(demo):
    sim = Simulator(demo, "2025-07-01", 1)
    sim.apply({"A-E03-BESS.power_kw": 10_000.0, "A-Z3-EV.limit_kw": -3.0})
    assert sim.values["A-E03-BESS.power_kw"] == 500.0 and sim.bats.setpoint_kw[0] == 500.0
    assert sim.values["A-Z3-EV.limit_kw"] == 0.0 and sim.ports.limit_kw[:40].max() == 0.0
    with pytest.raises(ValidationError, match=r"A-NOPE\.power_kw"):
        sim.apply({"A-NOPE.power_kw": 1.0})
    with pytest.raises(ValidationError, match="not a setpoint"):
        FixedSetpoints(BaselineController(demo), {"X.y": 1.0}, setpoints(demo))


def test_baseline_charges_in_the_valley_and_shaves_the_peak(demo_run, demo):
    tr = demo_run.trace
    hours = demo_run.clock.index(0, tr.sizes["step"]).hour.to_numpy()
    p = tr.sel(signal="A-E03-BESS.discharge").values - tr.sel(signal="A-E03-BESS.charge").values
    valley = hours < 8
    assert (p[~valley] >= -1e-9).all()  # it charges only in the valley
    assert p[valley].min() < -100
    # It discharges only while E03 draws more than its threshold, to hold it there.
    bess = next(a for a in demo.assets if a.id == "A-E03-BESS")
    imp = tr.sel(signal="A-E03-GRID.import").values
    q = imp.reshape(-1, 15).mean(axis=1)
    on = p.reshape(-1, 15).max(axis=1) > 0
    assert on.any() and q[on].max() < bess.peak_threshold_kw + 300


def test_thermostats_set_back_and_lights_follow_occupancy(demo_run):
    tr = demo_run.trace
    sp = tr.sel(signal="A-E05-HVAC.setpoint_c").values
    occ = tr.sel(signal="A-E05-HVAC.occupancy").values
    light = tr.sel(signal="A-E05-HVAC.lighting").values
    assert set(np.unique(sp)) == {26.0, 30.0}
    assert (sp[occ > 0] == 26.0).all()
    assert light[occ > 0].min() > 5 * light[occ == 0].max() > 0


def test_a_held_setpoint_holds(demo):
    ctl = FixedSetpoints(BaselineController(demo), {"A-E05-HVAC.setpoint_c": 24.0})
    res = simulate(demo, "2025-07-01", 1, controller=ctl, trace=True, keep_readings_days=0)
    assert (res.trace.sel(signal="A-E05-HVAC.setpoint_c").values == 24.0).all()


def test_a_controller_sees_the_state():
    from tests.twin.conftest import small_park

    seen = []

    class Spy:
        def decide(self, state, t):
            seen.append(state)
            return {}

    zone = {"id": "Z", "kind": "hvac", "enterprise": "E1", "floor_area_m2": 500.0,
            "cooling_kw": 50.0, "occupancy": "always"}  # fmt: skip
    res = simulate(small_park(assets=[zone]), "2025-07-01", 1, controller=Spy())
    assert len(seen) == 96 + 1 or len(seen) == 96
    s = seen[40]
    assert s.t == pd.Timestamp("2025-07-01 10:00", tz="Asia/Shanghai")
    assert s.tou_period == "peak" and s.occupancy == {"Z": 1.0} and "E1" in s.demand_kw
    assert res.steps == 1440
