"""Shared fixtures of the optimiser tests: PDCD-1's d1_b10 case and small random parks."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import _pdcd
from carbontwin.optimizers import Batteries, DispatchProblem


def random_problem(seed: int, n_b: int = 3, steps: int = 24, interval_h: float = 1.0, **changes):
    """A small random park: TOU-like prices, a PV bump, batteries of random size (one empty).

    The export price is drawn in [-0.3, 0.3] CNY/kWh, so some instances pay to export and
    make the LP relaxation charge and discharge at once.
    """
    rng = np.random.default_rng(seed)
    hour = (np.arange(steps) * interval_h + interval_h / 2) % 24
    sun = np.clip(np.sin(np.pi * (hour - 6) / 12), 0, None)
    load = rng.uniform(5.0, 30.0, (n_b, steps))
    pv = rng.uniform(0.0, 60.0, (n_b, 1)) * sun[None, :]
    energy = rng.uniform(10.0, 80.0, n_b)
    energy[-1] = 0.0  # one building without a battery
    power = energy * rng.uniform(0.25, 0.6, n_b)
    price = np.where((hour < 8) | (hour >= 23), 0.30, np.where(hour < 18, 0.75, 1.20))
    problem = DispatchProblem(
        interval_h=interval_h,
        load_kw=load,
        pv_kw=pv,
        batteries=Batteries(
            energy_kwh=energy,
            power_kw=power,
            charge_efficiency_frac=rng.uniform(0.85, 0.98, n_b),
            discharge_efficiency_frac=rng.uniform(0.85, 0.98, n_b),
            soc_start_frac=0.5,
            soc_end_frac=rng.uniform(0.3, 0.7, n_b),
            throughput_cost_cny_per_kwh=0.01,
        ),
        import_price_cny_per_kwh=price * rng.uniform(0.9, 1.1, steps),
        export_price_cny_per_kwh=rng.uniform(-0.3, 0.3),
        grid_factor_tco2_per_mwh=rng.uniform(0.4, 0.7, steps),
        carbon_price_cny_per_tco2=rng.uniform(0.0, 200.0, steps),
        demand_charge_cny_per_kw=rng.uniform(0.0, 2.0),
    )
    return problem.replace(**changes) if changes else problem


@pytest.fixture(scope="session")
def d1_b10():
    """PDCD-1's d1_b10 case as a DispatchProblem (10 buildings, one day at 15 min)."""
    return _pdcd.to_problem(_pdcd.case_data("d1_b10"))


@pytest.fixture
def dump_problem():
    """PV surplus that costs money to export: the LP relaxation burns it in battery losses."""
    steps = 12
    sun = np.r_[np.zeros(3), np.full(6, 40.0), np.zeros(3)]
    return DispatchProblem(
        interval_h=1.0,
        load_kw=np.full((3, steps), 10.0),
        pv_kw=np.tile(sun, (3, 1)),
        batteries=Batteries(
            energy_kwh=[50.0, 30.0, 0.0],
            power_kw=[20.0, 15.0, 0.0],
            throughput_cost_cny_per_kwh=0.01,
        ),
        import_price_cny_per_kwh=np.full(steps, 0.6),
        export_price_cny_per_kwh=-0.5,
        demand_charge_cny_per_kw=0.5,
    )


TOL = 1e-6  # acceptance: constraint violations [kW, kWh, K] and relative objectives


def assert_fast_equals_reference(problem):
    """Solve ``problem`` on both paths; both pass the checker, objectives agree to 1e-6."""
    from carbontwin.optimizers import check_solution, solve, solve_reference

    fast = solve(problem)
    ref = solve_reference(problem)
    for r in (fast, ref):
        report = check_solution(
            problem,
            r.import_kw,
            r.export_kw,
            r.charge_kw,
            r.discharge_kw,
            r.soc_kwh,
            r.peak_kw,
            assets=r.assets,
            tol=TOL,
            strict=True,
        )
        # HiGHS' objective and the one recomputed from the arrays (MIP gap 1e-9)
        assert report.objective_cny == pytest.approx(r.objective_cny, rel=1e-7)
    assert fast.objective_cny == pytest.approx(ref.objective_cny, rel=TOL)
    return fast, ref


def flat_problem(steps=24, price=None, n_b=1, **assets):
    """A park of ``n_b`` buildings at 20 kW each, no battery, hourly, given tariff."""
    price = np.full(steps, 0.6) if price is None else np.asarray(price, dtype=float)
    return DispatchProblem(
        interval_h=1.0,
        load_kw=np.full((n_b, steps), 20.0),
        pv_kw=np.zeros((n_b, steps)),
        batteries=Batteries.none(n_b),
        import_price_cny_per_kwh=price,
        **assets,
    )


def small_park(seed: int = 0, steps: int = 24, **changes):
    """A small park with every kind of asset: batteries, PV, two zones, EVs in two groups,
    two batch loads, a flexible line, a boiler with a minimum load and a CHP."""
    from carbontwin.optimizers.assets import (
        EvSessions,
        FlexibleLoads,
        HeatPlant,
        HvacZones,
        ShiftableLoads,
    )

    rng = np.random.default_rng(seed)
    base = random_problem(seed, n_b=3, steps=steps, export_price_cny_per_kwh=0.05)
    hour = (np.arange(steps) + 0.5) % 24
    occupied = (hour >= 8) & (hour < 18)
    hvac = HvacZones(
        capacitance_kwh_per_k=rng.uniform(5.0, 15.0, 2),
        resistance_k_per_kw=rng.uniform(2.0, 5.0, 2),
        temp_start_c=[24.0, 23.0],
        temp_out_c=29.0 + 5.0 * np.sin(np.pi * (hour - 9) / 12),
        comfort_min_c=np.where(occupied, 21.0, 18.0),
        comfort_max_c=np.where(occupied, 25.0, 28.0),
        cooling_power_max_kw=[6.0, 4.0],
        heating_power_max_kw=[2.0, 0.0],
        cooling_cop=3.0 + 0.3 * np.cos(np.pi * hour / 12),
        gains_kw=np.where(occupied, 1.5, 0.3),
    )
    ev = EvSessions(
        group=[0, 0, 1, 1],
        arrival_step=[0, 7, 9, steps - 6],
        departure_step=[8, 17, 18, steps + 6],
        energy_kwh=rng.uniform(10.0, 40.0, 4),
        power_max_kw=[7.0, 11.0, 22.0, 11.0],
        group_power_max_kw=[15.0, 25.0],
    )
    shift = ShiftableLoads(
        profile_kw=[[60.0, 60.0, 30.0], [20.0] * 4],
        earliest_start_step=[1, 6],
        deadline_step=[20, steps],
    )
    flexible = FlexibleLoads(energy_kwh=[150.0], power_min_kw=2.0, power_max_kw=15.0)
    thermal = HeatPlant(
        heat_demand_kw=np.where(occupied, 70.0, 25.0) * rng.uniform(0.9, 1.1, steps),
        heat_max_kw=[100.0, 50.0],
        efficiency_frac=[0.92, 0.45],
        fuel_price_cny_per_kwh=[0.28, 0.28],
        fuel_factor_tco2_per_mwh=0.2,
        heat_min_kw=[40.0, 20.0],
        power_to_heat_ratio=[0.0, 0.8],
        heat_dump_max_kw=15.0,
    )
    p = base.replace(hvac=hvac, ev=ev, shift=shift, flexible=flexible, thermal=thermal)
    return p.replace(**changes) if changes else p
