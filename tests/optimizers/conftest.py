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
