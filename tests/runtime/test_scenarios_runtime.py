"""The park's scenario study: its base year from the stored accounting, runs and decoupling."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from carbontwin.core.errors import ValidationError
from carbontwin.runtime import integrity
from carbontwin.runtime import scenarios as R
from carbontwin.runtime import simulate as sim
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.overview import stored_lines
from carbontwin.store import Store

PARK = resolve_park("demo")


@pytest.fixture(scope="module")
def accounted(tmp_path_factory):
    """One simulated day in each month of 2025 and the twelve monthly inventories."""
    s = Store.open(f"sqlite:///{tmp_path_factory.mktemp('scen') / 'ct.db'}")
    for month in range(1, 13):
        sim.simulate_to_store(s, PARK, f"2025-{month:02d}-10", 1, recent_days=0)
        integrity.save_inventory(s, PARK, f"2025-{month:02d}", actor="test")
    yield s
    s.close()


@pytest.fixture
def empty(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'e.db'}")
    yield s
    s.close()


def test_industry_groups_follow_the_gbt4754_codes():
    assert R.industry_group("C2614") == "chemicals"
    assert R.industry_group("C3012") == "building_materials"
    assert R.industry_group("C3973") == "manufacturing"
    assert R.industry_group("I6450") == "services"
    assert R.industry_group("A0111") is None


def test_without_a_stored_year_the_shipped_base_is_used_and_said_so(empty):
    ps = R.load_park_study(empty, PARK)
    assert ps.base_source == "shipped"
    assert "0 of the 12 monthly inventories of 2025" in ps.notes[0]


def test_the_base_year_comes_from_the_stored_inventories(accounted):
    ps = R.load_park_study(accounted, PARK)
    assert ps.base_source == "accounting", ps.notes
    lines = stored_lines(accounted, PARK.id, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    em = lines[(lines.kind == "emission") & lines.scope.isin([1, 2])]
    group = {e.id: R.industry_group(e.industry) for e in PARK.enterprises}
    by = em.assign(g=em.enterprise.map(group)).groupby(["g", "scope"]).tco2e.sum()
    base = ps.study.base.industries
    for (g, scope), value in by.items():
        assert base[g].emissions_tco2e[int(scope)] == pytest.approx(value, rel=1e-9)
    # Value added: the demo statistics (10^4 CNY), E01 + E02 for the chemicals.
    assert base["chemicals"].value_added_1e4cny == pytest.approx(182_000 + 96_000)


def test_a_run_projects_draws_and_ranks_every_scenario(accounted):
    run = R.run_study(accounted, PARK, draws=500, sensitivity=True, seed=3)
    assert list(run.summary.index) == ["baseline", "policy", "enhanced"]
    for s, row in run.summary.iterrows():
        assert row.peak_year == int(run.projection.peak_year.sel(scenario=s))
        assert 0.0 <= row.p_peak_by <= 1.0
        assert row.peak_year_p05 <= row.peak_year_p50 <= row.peak_year_p95
    # The same seed gives the same draws.
    again = R.run_study(accounted, PARK, draws=500, seed=3)
    np.testing.assert_array_equal(run.draws.peak_year.values, again.draws.peak_year.values)
    d = run.to_dict()
    assert d["base_source"] == "accounting" and len(d["years"]) == 36
    assert set(d["peak_year_pmf"]) == {"baseline", "policy", "enhanced"}
    for pmf in d["peak_year_pmf"].values():
        assert sum(pmf.values()) == pytest.approx(1.0)
    assert all(len(v["en"]) and len(v["zh"]) for v in d["suggestions"].values())


def test_decoupling_of_the_projections(accounted):
    run = R.run_study(accounted, PARK, draws=0, scenarios=["enhanced"])
    table = R.decoupling_of(run)
    assert set(table.scenario) == {"enhanced"} and len(table) == 35
    assert table.state.notna().all()
    assert len(R.decoupling_of(run, level="industry")) == 35 * 4


def test_bad_requests_are_refused(accounted):
    with pytest.raises(ValidationError, match="unknown scenario"):
        R.run_study(accounted, PARK, scenarios=["hopeful"])
    with pytest.raises(ValidationError, match="draws"):
        R.run_study(accounted, PARK, draws=-1)
    with pytest.raises(ValidationError, match="level"):
        R.decoupling_of(R.run_study(accounted, PARK, draws=0), level="zone")


def test_plan_tracking_from_the_accounted_year(accounted, empty):
    years = R.accounted_years(accounted, PARK)
    assert list(years.index) == [2025] and years[2025] > 0
    out = R.track_plan(accounted, PARK, "policy")
    dev = out["deviation"]
    # The base year is the accounted year itself: on plan.
    assert list(dev.index) == [2025]
    assert dev.loc[2025, "deviation_frac"] == pytest.approx(0.0, abs=1e-9)
    assert "is the plan itself" in out["notes"][-1]
    assert int(out["reprojection"].peak_year.sel(scenario="policy")) >= 2025
    with pytest.raises(ValidationError, match="no complete accounted year"):
        R.track_plan(empty, PARK, "policy")
    with pytest.raises(ValidationError, match="unknown scenario"):
        R.track_plan(accounted, PARK, "hopeful")
