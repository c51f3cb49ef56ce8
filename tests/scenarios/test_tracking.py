"""Plan tracking: deviations from the plan and the re-projection from the latest actual."""

from __future__ import annotations

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from carbontwin.core.errors import ValidationError
from carbontwin.scenarios import load_study, plan_deviation, project, rebase, reproject
from tests.scenarios.builders import one_industry


def test_deviation_absolute_and_relative():
    plan = pd.Series({2024: 100.0, 2025: 100.0, 2026: 95.0})
    actual = {2023: 90.0, 2024: 103.0, 2025: 108.0}
    dev = plan_deviation(actual, plan, warn_frac=0.05)
    assert list(dev.index) == [2024, 2025]
    assert_allclose(dev.deviation, [3.0, 8.0])
    assert_allclose(dev.deviation_frac, [0.03, 0.08], rtol=1e-12)
    assert dev.above_plan.tolist() == [True, True]
    assert dev.warning.tolist() == [False, True]
    with pytest.raises(ValidationError, match="no year"):
        plan_deviation({2020: 1.0}, plan)


def test_deviation_against_a_projection(demo_study):
    plan = project(demo_study).net_emissions_tco2e.sel(scenario="policy")
    actual = plan.sel(year=[2025, 2026]).to_series() * 1.1
    dev = plan_deviation(actual, plan)
    assert_allclose(dev.deviation_frac, 0.1, rtol=1e-9)


def test_reprojection_on_plan_follows_the_plan():
    doc = one_industry(horizon=2045)
    doc["study"]["scenarios"]["only"]["drivers"]["ccus_capture_frac"] = {
        "ind": {"values": {2030: 0.1, 2040: 0.5}}
    }
    doc["study"]["base"]["industries"]["ind"]["process_emissions_tco2e"] = 300.0
    study = load_study(doc)
    ref = project(study).sel(scenario="only")
    actual = {2027: float(ref.gross_emissions_tco2e.sel(year=2027)), 2026: 1.0}
    again = reproject(study, actual).sel(scenario="only")
    assert int(again.year[0]) == 2027 and again.attrs["actual_year"] == 2027
    # on plan, the re-projection is the plan from there on
    assert_allclose(
        again.net_emissions_tco2e, ref.net_emissions_tco2e.sel(year=slice(2027, None)), rtol=1e-9
    )


def test_reprojection_above_plan_scales_the_path():
    study = load_study(one_industry(horizon=2045))
    ref = project(study).sel(scenario="only")
    actual = {2028: 1.2 * float(ref.gross_emissions_tco2e.sel(year=2028))}
    again = reproject(study, actual).sel(scenario="only")
    assert_allclose(
        again.net_emissions_tco2e,
        1.2 * ref.net_emissions_tco2e.sel(year=slice(2028, None)),
        rtol=1e-9,
    )
    assert int(again.peak_year) == int(ref.peak_year)


def test_reproject_demo_and_bad_year(demo_study):
    again = reproject(demo_study, {2027: 2.6e6})
    assert list(again.scenario.values) == ["baseline", "policy", "enhanced"]
    assert_allclose(again.gross_emissions_tco2e.sel(year=2027), 2.6e6, rtol=1e-9)
    with pytest.raises(ValidationError, match="after the base year"):
        rebase(demo_study, "policy", 2025)
