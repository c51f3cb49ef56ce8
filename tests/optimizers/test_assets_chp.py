"""Boilers and CHP: minimum load with on/off, heat balance, CHP power, fuel cost and carbon."""

import numpy as np
import pytest

from carbontwin.core.errors import SolverError, ValidationError
from carbontwin.optimizers import solve
from carbontwin.optimizers.assets import HeatPlant

from .conftest import assert_fast_equals_reference, flat_problem, random_problem

DEMAND = np.r_[np.full(4, 30.0), np.full(4, 80.0)]


def _plant(**changes):
    """Boiler 0: cheap (90 %), 50-100 kW when on; boiler 1: dear (60 %), 0-100 kW."""
    base = {
        "heat_demand_kw": DEMAND,
        "heat_max_kw": [100.0, 100.0],
        "heat_min_kw": [50.0, 0.0],
        "efficiency_frac": [0.9, 0.6],
        "fuel_price_cny_per_kwh": 0.3,
        "fuel_factor_tco2_per_mwh": 0.2,
    }
    return HeatPlant(**(base | changes))


def test_a_boiler_with_a_minimum_load_turns_off_rather_than_run_below_it():
    r = solve(flat_problem(steps=8, thermal=_plant()))
    a = r.assets["thermal"]
    # 30 kW is below boiler 0's 50 kW minimum: it is off and the dear boiler serves it
    np.testing.assert_array_equal(a["on"][0], [0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_allclose(a["heat_kw"][0], [0, 0, 0, 0, 80, 80, 80, 80], atol=1e-9)
    np.testing.assert_allclose(a["heat_kw"][1], [30, 30, 30, 30, 0, 0, 0, 0], atol=1e-9)
    np.testing.assert_allclose(a["fuel_kw"][1, :4], 50.0)  # 30 / 0.6
    # fuel: 4 h x 50 kW + 4 h x 80/0.9 kW at 0.3 CNY/kWh
    fuel_kwh = 4 * 50.0 + 4 * 80.0 / 0.9
    assert r.costs_cny["fuel_cny"] == pytest.approx(0.3 * fuel_kwh, rel=1e-9)
    assert r.fuel_emissions_tco2 == pytest.approx(0.2e-3 * fuel_kwh, rel=1e-9)
    assert r.costs_cny["fuel_carbon_cny"] == 0.0  # no carbon price


def test_with_dumping_the_cheap_boiler_runs_at_its_minimum():
    # dumping 20 kW lets boiler 0 run at 50 kW: 50/0.9 = 55.6 kWh of fuel against 30/0.6 = 50
    # for the dear boiler; with a dearer boiler 1 (40 %: 75 kWh) dumping wins
    r = solve(
        flat_problem(steps=8, thermal=_plant(efficiency_frac=[0.9, 0.4], heat_dump_max_kw=25.0))
    )
    a = r.assets["thermal"]
    np.testing.assert_allclose(a["heat_kw"][0, :4], 50.0, atol=1e-9)
    np.testing.assert_allclose(a["dump_kw"][:4], 20.0, atol=1e-9)


def test_chp_power_feeds_the_bus_and_carbon_prices_its_fuel():
    chp = HeatPlant(
        heat_demand_kw=np.full(8, 40.0),
        heat_max_kw=[60.0],
        heat_min_kw=[20.0],
        efficiency_frac=[0.5],
        electric_efficiency_frac=[0.35],
        fuel_price_cny_per_kwh=0.2,
        fuel_factor_tco2_per_mwh=0.2,
    )
    price = np.r_[np.full(4, 0.3), np.full(4, 1.5)]
    p = flat_problem(steps=8, price=price, thermal=chp, carbon_price_cny_per_tco2=100.0)
    r = solve(p)
    a = r.assets["thermal"]
    # 40 kW heat from 80 kW fuel makes 28 kW electric (0.35 x 80): imports 20 - 28 < 0
    np.testing.assert_allclose(a["electric_kw"][0], 28.0, atol=1e-9)
    np.testing.assert_allclose(r.export_kw, 8.0, atol=1e-9)
    tco2 = 0.2e-3 * 80.0 * 8
    assert r.fuel_emissions_tco2 == pytest.approx(tco2, rel=1e-9)
    assert r.costs_cny["fuel_carbon_cny"] == pytest.approx(100.0 * tco2, rel=1e-9)
    assert r.grid_emissions_tco2 == pytest.approx(0.0, abs=1e-12)


def test_the_emissions_cap_counts_fuel():
    p = random_problem(2, n_b=2, steps=24, thermal=_plant(heat_demand_kw=np.full(24, 60.0)))
    free = solve(p)
    assert free.fuel_emissions_tco2 > 0
    capped = p.replace(emissions_cap_tco2=0.99 * free.emissions_tco2)
    r, _ = assert_fast_equals_reference(capped)
    assert r.emissions_tco2 <= 0.99 * free.emissions_tco2 + 1e-9
    with pytest.raises(SolverError, match="heat_max_kw covers heat_demand_kw"):
        solve(p.replace(emissions_cap_tco2=0.5 * free.fuel_emissions_tco2))


@pytest.mark.parametrize("seed", range(3))
def test_fast_equals_reference(seed):
    rng = np.random.default_rng(seed)
    plant = HeatPlant(
        heat_demand_kw=rng.uniform(10.0, 140.0, 24),
        heat_max_kw=[100.0, 60.0, 40.0],
        heat_min_kw=[40.0, 15.0, 0.0],
        efficiency_frac=[0.92, 0.45, 0.8],
        fuel_price_cny_per_kwh=rng.uniform(0.2, 0.4, (3, 24)),
        power_to_heat_ratio=[0.0, 0.9, 0.0],
        heat_dump_max_kw=rng.uniform(0.0, 20.0),
    )
    p = random_problem(seed, n_b=2, steps=24, carbon_price_cny_per_tco2=80.0)
    assert_fast_equals_reference(p.replace(thermal=plant))


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"heat_min_kw": [150.0, 0.0]},
            r"heat_min_kw\(=150.0\) of unit 0 must be <= heat_max_kw\(=100.0\); the minimum "
            "load is above the capacity",
        ),
        ({"efficiency_frac": [0.0, 0.6]}, r"efficiency_frac\(=0.0\) of unit 0 must be in"),
        (
            {"power_to_heat_ratio": [1.0, 0.0], "electric_efficiency_frac": [0.3, 0.0]},
            "unit 0 gives both power_to_heat_ratio and electric_efficiency_frac",
        ),
        ({"heat_demand_kw": np.full(7, 1.0)}, r"heat_demand_kw has shape \(7,\)"),
        ({"heat_max_kw": [100.0, -1.0]}, r"heat_max_kw\(=-1.0\) must be >= 0"),
    ],
)
def test_bad_plant(changes, match):
    with pytest.raises(ValidationError, match=match):
        flat_problem(steps=8, thermal=_plant(**changes))


def _peaky(**changes):
    """Boiler 0: 90 %, 20-100 kW; boiler 1: 50 %, 0-100 kW; 30 kW of heat at steps 2-3 only."""
    base = {
        "heat_demand_kw": [0, 0, 30, 30, 0, 0, 0, 0],
        "heat_max_kw": [100.0, 100.0],
        "heat_min_kw": [20.0, 0.0],
        "efficiency_frac": [0.9, 0.5],
        "fuel_price_cny_per_kwh": 0.3,
        "heat_dump_max_kw": 30.0,
    }
    return HeatPlant(**(base | changes))


def test_minimum_up_time_keeps_a_started_boiler_on():
    free = solve(flat_problem(steps=8, thermal=_peaky())).assets["thermal"]
    np.testing.assert_array_equal(free["on"][0], [0, 0, 1, 1, 0, 0, 0, 0])
    # up for 4 steps once started: 2 more steps at 20 kW dumped cost (60+40)/0.9 = 111 kWh
    # of fuel, less than 60/0.5 = 120 kWh for the dear boiler, so boiler 0 still serves it
    # (heat may be dumped only after the peak, so the up-time runs on after it)
    dump = [0.0, 0.0, 30.0, 30.0, 30.0, 30.0, 0.0, 0.0]
    r = solve(flat_problem(steps=8, thermal=_peaky(min_up_steps=[4, 1], heat_dump_max_kw=dump)))
    a = r.assets["thermal"]
    np.testing.assert_array_equal(a["on"][0], [0, 0, 1, 1, 1, 1, 0, 0])
    np.testing.assert_allclose(a["dump_kw"][4:6], 20.0, atol=1e-9)
    assert r.costs_cny["fuel_cny"] == pytest.approx(0.3 * 100.0 / 0.9, rel=1e-9)
    # on for 1 step before the horizon with a 3-step up-time: on at steps 0 and 1
    r = solve(flat_problem(steps=8, thermal=_peaky(min_up_steps=[3, 1], on_steps_start=[1, 0])))
    assert r.assets["thermal"]["on"][0, :2].tolist() == [1.0, 1.0]
    assert r.check.violations["thermal_min_up"] == 0.0


def test_minimum_up_time_fast_equals_reference_and_is_checked():
    rng = np.random.default_rng(5)
    plant = _peaky(
        heat_demand_kw=rng.choice([0.0, 30.0, 90.0], 24),
        heat_max_kw=[100.0, 60.0],
        heat_min_kw=[30.0, 15.0],
        min_up_steps=[5, 3],
        on_steps_start=[2, 0],
    )
    fast, _ = assert_fast_equals_reference(random_problem(6, n_b=2, steps=24, thermal=plant))
    assert fast.assets["thermal"]["on"][0, :3].tolist() == [1.0, 1.0, 1.0]  # 5 - 2 steps left
    on = np.array(fast.assets["thermal"]["on"])
    on[0, 1] = 0.0  # off within the up-time left from before the horizon
    from carbontwin.optimizers.assets.thermal import check_thermal

    p = random_problem(6, n_b=2, steps=24, thermal=plant)
    violations = check_thermal(p.thermal, fast.assets["thermal"] | {"on": on}, p)[0]
    assert violations["thermal_min_up"] == pytest.approx(1.0)
