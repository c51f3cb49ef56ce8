"""Thermal zones: the exact RC solution, thermostats, COP curves, a step response."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from carbontwin.twin import simulate
from carbontwin.twin.plants.zone import (
    Zones,
    chiller_cop,
    heat_pump_cop,
    rc_thermostat_step,
    rc_zone_step,
)
from tests.twin.conftest import calm_weather, small_park


def test_rc_step_is_the_exact_solution_whatever_the_step():
    # Ten steps of 0.1 τ land where one step of τ lands: the solution is exact, not Euler.
    r, c = 2.0, 5.0  # τ = 10 h
    t = 20.0
    for _ in range(10):
        t = rc_zone_step(t, 1.0, 30.0, r, c, 1.0)
    one = rc_zone_step(20.0, 1.0, 30.0, r, c, 10.0)
    assert_allclose(t, one, rtol=1e-12)  # exact arithmetic of the exponential solution
    teq = 30.0 + r * 1.0
    assert_allclose(one, teq + (20.0 - teq) * np.exp(-1.0), rtol=1e-12)


def test_thermostat_reaches_the_setpoint_within_capacity_and_no_further():
    temp = np.array([26.0, 26.0, 20.0, 23.0])
    teq = np.array([40.0, 80.0, 0.0, 23.0])
    decay = np.full(4, 0.9)
    r = np.ones(4)
    t, qc, qh = rc_thermostat_step(
        temp, teq, decay, r, np.full(4, 26.0), np.full(4, 20.0), np.full(4, 20.0), np.full(4, 5.0)
    )
    assert_allclose(t[0], 26.0, atol=1e-12)  # enough capacity: on the setpoint
    assert qc[1] == 20.0 and t[1] > 26.0  # too little: full capacity, zone warms
    assert qh[2] == 5.0 and qc[2] == 0.0  # heating limited too
    assert qc[3] == qh[3] == 0.0 and t[3] == 23.0  # in the band: off
    # The end temperature is the free response less R (1 - a) Q: the same exact solution.
    free = rc_zone_step(temp, 0.0, teq, r, -1.0 / np.log(decay), 1.0)
    assert_allclose(t, free - r * (1 - decay) * (qc - qh), rtol=1e-12)


def test_zones_step_matches_the_published_function(demo):
    zones = Zones([a for a in demo.assets if a.kind == "hvac"], 1 / 60)
    teq = np.linspace(10.0, 40.0, len(zones))
    expected = rc_thermostat_step(
        zones.temp_c, teq + zones.teq_light_now * zones.dimming_frac, zones.decay,
        zones.r_k_per_kw, zones.cooling_setpoint_c, zones.heating_setpoint_c,
        zones.cooling_now_kw, zones.heating_now_kw,
    )  # fmt: skip
    got = zones.step(teq)
    for a, b in zip(got, expected, strict=True):
        assert_allclose(a, b, rtol=1e-12)


def test_chiller_cop_falls_and_heat_pump_cop_rises_with_outdoor_temperature():
    t = np.linspace(-10, 45, 56)
    cop_c = chiller_cop(t, 3.5)
    cop_h = heat_pump_cop(t, 3.0)
    assert np.all(np.diff(cop_c) <= 0) and np.all(np.diff(cop_c[25:]) < 0)  # strictly above 15 °C
    assert np.all(np.diff(cop_h) >= 0)
    assert_allclose(chiller_cop(35.0, 3.5), 3.5)  # the rating point
    assert_allclose(heat_pump_cop(7.0, 3.0), 3.0)
    assert cop_c.min() >= 1.0 and cop_c.max() <= 2.5 * 3.5


def test_a_zone_responds_to_a_step_with_its_rc_time_constant():
    # A zone at 20 °C with no gains and its HVAC idle, outdoors a constant 30 °C: it must
    # reach 63.2 % of the 10 K step after one time constant R C.
    zone = {
        "id": "Z", "kind": "hvac", "enterprise": "E1", "floor_area_m2": 1000.0,
        "cooling_kw": 10.0, "setpoint_c": 32.0, "initial_temp_c": 20.0,
        "ua_w_per_m2_k": 2.0, "capacitance_wh_per_m2_k": 40.0, "people_w_per_m2": 0.0,
        "lighting_w_per_m2": 0.0, "plug_w_per_m2": 0.0, "fan_w_per_m2": 0.0,
        "solar_aperture_frac": 0.0, "setback_k": 0.0,
    }  # fmt: skip
    park = small_park(assets=[zone])
    res = simulate(park, "2025-01-01", 3, trace=True, weather=calm_weather(30.0), seed=1)
    temp = res.trace.sel(signal="Z.temp_c").values  # end of each 1-min step
    tau_h = (1 / 2.0) * 40.0  # R = 1/UA = 0.5 K/kW, C = 40 kWh/K → 20 h
    frac = (temp - 20.0) / 10.0
    k = np.arange(1, len(temp) + 1) / 60.0  # hours at the end of each step
    crossing = np.interp(1 - np.exp(-1), frac, k)
    assert abs(crossing - tau_h) / tau_h < 0.01  # the acceptance: τ to 1 %
    assert_allclose(frac, 1 - np.exp(-k / tau_h), atol=1e-9)  # and the whole exponential
