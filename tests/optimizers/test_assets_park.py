"""A small park with every asset: fast == Pyomo, the checker, results, and rolling dispatch."""

import numpy as np
import pytest

from carbontwin.optimizers import RollingDispatch, build_reference, check_solution, solve
from carbontwin.optimizers.assets import EvSessions

from .conftest import TOL, assert_fast_equals_reference, small_park


@pytest.mark.parametrize("seed", range(3))
def test_small_park_fast_equals_reference(seed):
    p = small_park(seed)
    fast, _ = assert_fast_equals_reference(p)
    parts = fast.costs_cny
    total = (
        parts["energy_cny"]
        + parts["carbon_cny"]
        + parts["throughput_cny"]
        + parts["demand_charge_cny"]
        - parts["export_revenue_cny"]
        + parts["fuel_cny"]
        + parts["fuel_carbon_cny"]
        + parts["discomfort_cny"]
        + parts["unmet_ev_cny"]
    )
    assert total == pytest.approx(fast.objective_cny, rel=1e-7)
    assert fast.fuel_emissions_tco2 > 0
    assert fast.emissions_tco2 == pytest.approx(
        fast.grid_emissions_tco2 + fast.fuel_emissions_tco2, rel=1e-12
    )
    assert fast.stats.status == "Optimal" and fast.check.ok


def test_battery_only_model_is_unchanged_by_the_asset_code(d1_b10):
    from carbontwin.optimizers import matrix

    lp, lay = matrix.build_lp(d1_b10)
    assert lay.blocks == () and lay.num_col == lay.battery_num_col == 3 * 960 + 2 * 96 + 1
    assert lp.num_row_ == lay.battery_num_row
    assert not solve(d1_b10).assets


def test_layout_names_every_block():
    p = small_park(0)
    r = solve(p)
    from carbontwin.optimizers import matrix

    _, lay = matrix.build_lp(p)
    rows = lay.rows()
    for name in (
        "HVAC-temp_c-dynamics",
        "HVAC-comfort-lower",
        "EV-energy_kwh",
        "EV-group_kw",
        "Shift-start",
        "Flex-energy_kwh",
        "Heat-balance",
        "Thermal-heat_kw-upper",
        "Thermal-heat_kw-lower",
    ):
        assert name in rows
    cols = lay.cols()
    assert len(cols["shift.start"]) == 2 * 24 and len(cols["thermal.on"]) == 2 * 24
    assert sum(len(c) for c in cols.values()) == lay.num_col == r.stats.num_col
    assert lay.integer_cols.size == 2 * 24 + 2 * 24
    names = {c.name for c in build_reference(p).component_objects()}
    assert {"hvac_dynamics", "ev_energy", "shift_one_start", "flex_energy", "heat_balance"} <= names


def test_the_checker_catches_spoiled_asset_arrays():
    p = small_park(1)
    r = solve(p)
    args = (r.import_kw, r.export_kw, r.charge_kw, r.discharge_kw, r.soc_kwh, r.peak_kw)
    spoiled = {k: {kk: np.array(vv) for kk, vv in v.items()} for k, v in r.assets.items()}
    spoiled["hvac"]["temp_c"][0, 5] += 1.0
    spoiled["thermal"]["on"][0, :] = 1 - spoiled["thermal"]["on"][0, :]
    with pytest.warns(UserWarning, match="hvac_dynamics"):
        rep = check_solution(p, *args, assets=spoiled)
    assert rep.violations["hvac_dynamics"] > 0.5 and rep.violations["thermal_on"] > 1.0
    with pytest.raises(Exception, match="no hvac arrays"):
        check_solution(p, *args)


def test_to_dataset_carries_the_assets():
    ds = solve(small_park(2)).to_dataset()
    assert ds["hvac_temp_c"].dims == ("hvac_zone", "time")
    assert ds["ev_group_kw"].dims == ("ev_group", "time")
    assert ds["thermal_dump_kw"].dims == ("time",)
    assert ds["shift_start_step"].dims == ("shift_load",)


def test_rolling_dispatch_carries_asset_state_in_place():
    horizon = small_park(0, steps=36)
    w = 24
    mpc = RollingDispatch(horizon.window(0, w))
    h0 = mpc.highs
    size = (h0.getNumCol(), h0.getNumRow())
    committed = False
    for step in range(3):
        window = horizon.window(step, w)
        plan = mpc.solve(window)
        assert plan.source == "optimal" and plan.check.ok and plan.rebuilt == ""
        assert mpc.highs is h0 and (h0.getNumCol(), h0.getNumRow()) == size
        fresh = solve(mpc.window_problem(window))
        assert plan.objective_cny == pytest.approx(fresh.objective_cny, rel=TOL)
        state = mpc.advance(zone_temp_c=plan.assets["hvac"]["temp_c"][:, 0] + 0.2)
        committed |= bool(np.isfinite(state.shift_start_step).any())
        np.testing.assert_allclose(state.zone_temp_c, plan.assets["hvac"]["temp_c"][:, 0] + 0.2)
    s = mpc.state
    assert s.ev_delivered_kwh[0] > 0 and s.flex_done_kwh[0] > 0 and s.cost_cny > 0
    # the next window starts from the state: zone temperatures, EV needs less delivered
    p = mpc.window_problem(horizon.window(3, w))
    np.testing.assert_allclose(p.hvac.temp_start_c, s.zone_temp_c)
    np.testing.assert_allclose(
        p.ev.energy_kwh, np.maximum(horizon.ev.energy_kwh - s.ev_delivered_kwh, 0.0)
    )
    if committed:  # a run started: its start stays committed, as a fixed load
        j = int(np.flatnonzero(np.isfinite(s.shift_start_step))[0])
        assert p.shift.committed_start_step[j] == s.shift_start_step[j] - 3


def test_a_committed_shift_is_kept_and_new_sessions_rebuild():
    horizon = small_park(3, steps=30)
    mpc = RollingDispatch(horizon.window(0, 24))
    mpc.state.shift_start_step = np.array([1.0, np.nan])  # run 0 started at step 1
    mpc.state.step = 2
    plan = mpc.solve(horizon.window(2, 24))
    np.testing.assert_allclose(plan.assets["shift"]["power_kw"][0, :3], [60.0, 30.0, 0.0])
    assert plan.assets["shift"]["start"][0].sum() == 0 and plan.rebuilt == ""
    ev = horizon.ev
    more = EvSessions(
        group=[*ev.group, 0],
        arrival_step=[*ev.arrival_step, 5],
        departure_step=[*ev.departure_step, 9],
        energy_kwh=[*ev.energy_kwh, 10.0],
        power_max_kw=[*ev.power_max_kw, 7.0],
        group_power_max_kw=ev.group_power_max_kw,
    )
    mpc.state.ev_delivered_kwh = np.zeros(5)
    plan = mpc.solve(horizon.replace(ev=more).window(2, 24))
    assert "ev structure differs" in plan.rebuilt and plan.source == "optimal" and plan.check.ok


def test_an_infeasible_window_falls_back_with_asset_rules():
    horizon = small_park(4)
    bad = horizon.replace(
        thermal=horizon.thermal.__class__(
            heat_demand_kw=np.full(24, 500.0),  # beyond both units' capacity
            heat_max_kw=horizon.thermal.heat_max_kw,
            efficiency_frac=horizon.thermal.efficiency_frac,
            fuel_price_cny_per_kwh=horizon.thermal.fuel_price_cny_per_kwh,
            heat_min_kw=horizon.thermal.heat_min_kw,
            power_to_heat_ratio=horizon.thermal.power_to_heat_ratio,
        )
    )
    plan = RollingDispatch(bad).solve()
    assert plan.source == "baseline" and "baseline rules" in plan.reason
    assert plan.check.violations["heat_balance"] > 0
    assert plan.check.violations["ev_group"] <= 1e-9 and plan.check.violations["balance"] <= 1e-9
    assert set(plan.assets) == {"hvac", "ev", "shift", "flexible", "thermal"}


def test_battery_binaries_and_asset_integers_together(dump_problem):
    from carbontwin.optimizers.assets import HeatPlant, ShiftableLoads

    p = dump_problem.replace(
        thermal=HeatPlant(
            heat_demand_kw=np.r_[np.full(6, 30.0), np.full(6, 70.0)],
            heat_max_kw=[100.0, 60.0],
            heat_min_kw=[50.0, 10.0],
            efficiency_frac=[0.9, 0.5],
            power_to_heat_ratio=[0.0, 0.8],
            fuel_price_cny_per_kwh=0.3,
            min_up_steps=[3, 1],
        ),
        shift=ShiftableLoads(
            profile_kw=[[20.0, 20.0]], earliest_start_step=[0], deadline_step=[12]
        ),
    )
    fast, _ = assert_fast_equals_reference(p)
    assert fast.binaries_needed and fast.stats.num_integers == 2 * 12 + 12
    assert fast.check.violations["simultaneous"] <= TOL
    mpc = RollingDispatch(p)
    size = (mpc.highs.getNumCol(), mpc.highs.getNumRow())
    plan = mpc.solve()
    assert plan.binaries_needed and (mpc.highs.getNumCol(), mpc.highs.getNumRow()) == size
    assert plan.objective_cny == pytest.approx(fast.objective_cny, rel=TOL)
    on = plan.assets["thermal"]["on"][:, 0]
    state = mpc.advance()
    np.testing.assert_array_equal(state.thermal_on_steps, (on > 0.5).astype(int))
    again = mpc.solve()
    assert again.objective_cny == pytest.approx(solve(mpc.window_problem()).objective_cny, rel=TOL)
    np.testing.assert_array_equal(
        mpc.window_problem().thermal.on_steps_start, state.thermal_on_steps
    )
