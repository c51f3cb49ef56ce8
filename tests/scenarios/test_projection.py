"""Kaya projections against closed forms, and the bottom-up measures by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from carbontwin.scenarios import kaya, load_study, project
from tests.scenarios.builders import BASE_YEAR, one_industry


def closed_form_peak(g0, k, i, c, e0):
    """Peak of E_t = E0 Π_{τ<=t} (1 + g0 - k τ)(1 + i)(1 + c).

    E rises while the year's factor exceeds 1, i.e. while g_τ > g* = 1/((1+i)(1+c)) - 1;
    g_τ falls linearly, so the peak is at τ* = ceil((g0 - g*) / k) - 1 (the last τ with
    g_τ > g*).
    """
    g_star = 1.0 / ((1 + i) * (1 + c)) - 1.0
    tau = math.ceil((g0 - g_star) / k) - 1
    value = e0 * math.prod((1 + g0 - k * t) * (1 + i) * (1 + c) for t in range(1, tau + 1))
    return BASE_YEAR + tau, value


def test_kaya_identity():
    assert kaya(100_000.0, 0.5, 2.6) == pytest.approx(130_000.0, rel=1e-15)
    assert_allclose(kaya(np.array([1.0, 2.0]), 3.0, np.array([0.5, 0.25])), [1.5, 1.5])


def test_interior_peak_has_the_closed_form():
    g0, k, i, c = 0.08, 0.005, -0.03, -0.01
    ds = project(load_study(one_industry(g0=g0, k=k, i=i, c=c)))
    year, value = closed_form_peak(g0, k, i, c, 1000.0)
    assert year == 2032  # g* = 4.13 %/yr is crossed between τ = 7 and 8
    assert int(ds.peak_year.sel(scenario="only")) == year
    assert bool(ds.peaked.sel(scenario="only"))
    # float products of 7 factors: agreement to rounding
    assert float(ds.peak_tco2e.sel(scenario="only")) == pytest.approx(value, rel=1e-12)
    # every year follows the product, not only the peak
    t = np.arange(0, 26)
    f = np.concatenate([[1.0], (1 + g0 - k * t[1:]) * (1 + i) * (1 + c)])
    assert_allclose(ds.net_emissions_tco2e.sel(scenario="only"), 1000.0 * np.cumprod(f), rtol=1e-12)


@pytest.mark.parametrize(("g0", "k"), [(0.06, 0.004), (0.10, 0.003), (0.05, 0.02)])
def test_peak_year_follows_the_crossing(g0, k):
    i, c = -0.02, -0.005
    ds = project(load_study(one_industry(g0=g0, k=k, i=i, c=c, horizon=2070)))
    year, value = closed_form_peak(g0, k, i, c, 1000.0)
    assert int(ds.peak_year[0]) == year
    assert float(ds.peak_tco2e[0]) == pytest.approx(value, rel=1e-12)


def test_energy_and_value_added_follow_their_drivers():
    ds = project(load_study(one_industry())).sel(scenario="only", industry="ind")
    assert float(ds.value_added_1e4cny.sel(year=2026)) == pytest.approx(100 * 1.075, rel=1e-12)
    assert float(ds.energy_tce.sel(year=2026, scope=1)) == pytest.approx(
        400 * 1.075 * 0.97, rel=1e-12
    )
    assert float(ds.emissions_tco2e.sel(year=2026, scope=2)) == 0.0


def bottom_up_doc():
    doc = one_industry(g0=0.0, k=0.0, i=0.0, c=0.0, horizon=2030)
    ind = doc["study"]["base"]["industries"]["ind"]
    ind.update(
        {
            "energy_tce": {1: 400.0, 2: 122.9},  # 1,000 MWh of electricity
            "emissions_tco2e": {1: 1000.0, 2: 600.0},  # 500 t from power, 100 t from heat
            "process_emissions_tco2e": 200.0,
            "electricity_mwh": 1000.0,
        }
    )
    doc["study"]["base"]["pv_capacity_mw"] = 1.0
    doc["study"]["parameters"] = {
        "pv_yield_mwh_per_mw": 100.0,
        "pv_self_consumption_frac": 0.5,
        "storage_cycles_per_yr": 10.0,
        "storage_efficiency_frac": 0.8,
        "electrification_ratio": 0.5,
    }
    doc["study"]["scenarios"]["only"]["drivers"].update(
        {
            "ccus_capture_frac": {"ind": {"values": {2030: 0.5}}},
            "process_reduction_frac": {"ind": {"values": {2030: 0.2}}},
            "electrification_frac": {"ind": {"values": {2030: 0.1}}},
            "grid_factor_tco2_per_mwh": {"values": {2030: 0.4}},
            "pv_capacity_mw": {"values": {2030: 3.0}},
            "storage_capacity_mwh": {"values": {2030: 10.0}},
            "sinks_tco2e": {"values": {2030: 50.0}},
        }
    )
    return doc


def test_bottom_up_measures_by_hand():
    ds = project(load_study(bottom_up_doc())).sel(scenario="only", year=2030)
    d = ds.sel(industry="ind")
    # scope 1: combustion 800 × (1 - 0.1 electrified) + process 200 × (1 - 0.2) × (1 - 0.5)
    assert float(d.emissions_tco2e.sel(scope=1)) == pytest.approx(800 * 0.9 + 200 * 0.8 * 0.5)
    assert float(d.captured_tco2e) == pytest.approx(200 * 0.8 * 0.5)
    # electricity: 1,000 + 400 tce × 0.1 × 0.5 / 0.1229 MWh; new PV 2 MW × 100 MWh/MW,
    # 100 used directly, the other 100 up to 10 MWh × 10 cycles × 0.8 = 80 through storage
    moved_mwh = 400 * 0.1 * 0.5 / 0.1229
    displaced = 100 + 80
    assert float(ds.pv_displaced_mwh) == pytest.approx(displaced)
    assert float(d.electricity_mwh) == pytest.approx(1000 + moved_mwh - displaced)
    scope2 = 100 + (1000 + moved_mwh - displaced) * 0.4
    assert float(d.emissions_tco2e.sel(scope=2)) == pytest.approx(scope2)
    assert float(ds.net_emissions_tco2e) == pytest.approx(800 * 0.9 + 80 + scope2 - 50)
    energy = 400 * 0.9 + 122.9 + 400 * 0.1 * 0.5 - displaced * 0.1229
    assert float(ds.total_energy_tce) == pytest.approx(energy)
    # linear interpolation of value trajectories: half way in 2027 (+ 2/5 of the way)
    grid = project(load_study(bottom_up_doc())).grid_factor_tco2_per_mwh.sel(scenario="only")
    assert float(grid.sel(year=2027)) == pytest.approx(0.5 - 0.1 * 2 / 5)


def test_entry_and_exit_change_activity_from_their_year():
    doc = one_industry(g0=0.0, k=0.0, i=0.0, c=0.0, horizon=2030)
    doc["study"]["scenarios"]["only"]["events"] = [
        {"name": "new plant", "industry": "ind", "year": 2027, "value_added_1e4cny": 50.0},
        {"name": "closure", "industry": "ind", "year": 2029, "value_added_1e4cny": -30.0},
    ]
    ds = project(load_study(doc)).sel(scenario="only")
    assert_allclose(
        ds.net_emissions_tco2e, [1000, 1000, 1500, 1500, 1500 * 0.8, 1500 * 0.8], rtol=1e-12
    )


def test_demo_scenarios_are_ordered(demo_study):
    ds = project(demo_study)
    assert list(ds.scenario.values) == ["baseline", "policy", "enhanced"]
    assert ds.emissions_tco2e.dims == ("scenario", "year", "industry", "scope")
    net = ds.net_emissions_tco2e.sel(year=2040)
    assert float(net.sel(scenario="baseline")) > float(net.sel(scenario="policy"))
    assert float(net.sel(scenario="policy")) > float(net.sel(scenario="enhanced"))
    assert bool(ds.peaked.sel(scenario="policy"))
    base = ds.sel(year=2025)
    # the base year reproduces the base data
    assert float(base.gross_emissions_tco2e[0]) == pytest.approx(
        sum(sum(i.emissions_tco2e.values()) for i in demo_study.base.industries.values()),
        rel=1e-12,
    )
