"""Scenario definitions: the demo study, trajectories, inheritance and clear errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from carbontwin.core.fields import field_unit
from carbontwin.scenarios import (
    BaseData,
    EnterpriseEvent,
    IndustryBase,
    ModelParameters,
    RatePeriod,
    ScenarioDefinitionError,
    Uncertainty,
    compile_scenario,
    load_study,
)
from tests.scenarios.builders import one_industry


def test_demo_study_loads(demo_study):
    assert demo_study.base_year == 2025 and demo_study.horizon == 2060
    assert list(demo_study.scenarios) == ["baseline", "policy", "enhanced"]
    policy = demo_study.scenarios["policy"]
    # inherited from baseline, overridden per industry
    assert "services" in policy.drivers["value_added_1e4cny"]
    ei = policy.drivers["energy_intensity_tce_per_1e4cny"]["chemicals"]
    assert ei.periods[0].rate_frac_per_yr == -0.035
    assert ei.periods[0].start == 2026 and ei.periods[0].end == 2030
    assert len(policy.events) == 2


def test_numeric_fields_declare_units():
    for model in (
        Uncertainty,
        RatePeriod,
        EnterpriseEvent,
        IndustryBase,
        BaseData,
        ModelParameters,
    ):
        for name, info in model.model_fields.items():
            if info.annotation in (int, float, float | None):
                assert field_unit(model, name), f"{model.__name__}.{name} has no unit"


def test_base_values_can_be_overridden(demo_doc):
    base = copy.deepcopy(demo_doc["study"]["base"])
    base["industries"]["chemicals"]["value_added_1e4cny"] = 2_000_000
    study = load_study(demo_doc, overrides={"base": BaseData.model_validate(base), "horizon": 2040})
    assert study.base.industries["chemicals"].value_added_1e4cny == 2_000_000
    assert study.years[-1] == 2040


def test_last_rate_holds_and_values_interpolate():
    doc = one_industry(horizon=2030)
    doc["study"]["scenarios"]["only"]["drivers"]["value_added_1e4cny"] = {
        "ind": {"periods": {"2026-2027": 0.1}}
    }
    doc["study"]["scenarios"]["only"]["drivers"]["pv_capacity_mw"] = {
        "values": {2027: 10, 2029: 20}
    }
    comp = compile_scenario(load_study(doc), "only")
    np.testing.assert_allclose(
        comp.paths["value_added_1e4cny:ind"].nominal, 100 * 1.1 ** np.arange(6), rtol=1e-12
    )
    np.testing.assert_allclose(comp.paths["pv_capacity_mw"].nominal, [0, 5, 10, 15, 20, 20])


def problems_of(doc):
    with pytest.raises(ScenarioDefinitionError) as info:
        load_study(doc)
    return str(info.value)


def test_unknown_driver():
    doc = one_industry()
    doc["study"]["scenarios"]["only"]["drivers"]["gdp_growth"] = {"ind": 0.05}
    msg = problems_of(doc)
    assert "unknown driver 'gdp_growth'" in msg and "value_added_1e4cny" in msg
    assert "scenarios.only.drivers" in msg


def test_horizon_before_base_year():
    doc = one_industry()
    doc["study"]["horizon"] = 2020
    msg = problems_of(doc)
    assert "horizon(=2020) must be after base_year(=2025)" in msg


def test_negative_spread():
    doc = one_industry(va_uncertainty={"dist": "normal", "spread": -0.01})
    msg = problems_of(doc)
    assert "spread(=-0.01) must be >= 0" in msg and "uncertainty.spread" in msg


def test_missing_base_data_for_an_industry():
    doc = one_industry()
    doc["study"]["scenarios"]["only"]["drivers"]["energy_intensity_tce_per_1e4cny"]["steel"] = {
        "periods": {"2026-2030": -0.02}
    }
    msg = problems_of(doc)
    assert "industry 'steel' has no base data" in msg and "base.industries has ind" in msg
    doc = one_industry()
    doc["study"]["scenarios"]["only"]["events"] = [
        {"name": "x", "industry": "steel", "year": 2030, "value_added_1e4cny": 1.0}
    ]
    assert "industry 'steel' has no base data" in problems_of(doc)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            lambda d: d["study"]["scenarios"]["only"]["drivers"].update(
                {"pv_capacity_mw": {"periods": {"2026-2030": 0.1, "2032-2040": 0.0}}}
            ),
            "without gap",
        ),
        (
            lambda d: d["study"]["scenarios"]["only"]["drivers"].update(
                {"pv_capacity_mw": {"periods": {"2028-2040": 0.1}}}
            ),
            "must cover every year from 2026",
        ),
        (
            lambda d: d["study"]["scenarios"]["only"]["drivers"].update(
                {"ccus_capture_frac": {"ind": {"periods": {"2026-2040": 0.1}}}}
            ),
            "give it as values",
        ),
        (
            lambda d: d["study"]["scenarios"]["only"]["drivers"].update(
                {"ccus_capture_frac": {"ind": {"values": {2030: 1.5}}}}
            ),
            "fractions in [0, 1)",
        ),
        (
            lambda d: d["study"]["scenarios"]["only"]["drivers"].update(
                {"pv_capacity_mw": {"values": {2020: 5}}}
            ),
            "not after the base year 2025",
        ),
        (
            lambda d: d["study"]["scenarios"]["only"]["drivers"].update(
                {"pv_capacity_mw": {"periods": {"2026-2030": 0.1}, "values": {2030: 1}}}
            ),
            "not both",
        ),
        (
            lambda d: d["study"]["scenarios"]["only"]["drivers"].update(
                {"pv_capacity_mw": {"periods": {"26-30": 0.1}}}
            ),
            "'YYYY-YYYY'",
        ),
        (
            lambda d: d["study"]["scenarios"]["only"]["drivers"].update(
                {"value_added_1e4cny": {"periods": {"2026-2030": 0.1}}}
            ),
            "set per industry",
        ),
        (lambda d: d["study"]["scenarios"]["only"].update({"extends": "other"}), "extends 'other'"),
        (
            lambda d: d["study"]["base"]["industries"]["ind"].update(
                {"process_emissions_tco2e": 5000}
            ),
            "exceeds the scope-1 emissions",
        ),
        (
            lambda d: d["study"]["base"]["industries"]["ind"].update({"colour": "red"}),
            "unknown field",
        ),
        (
            lambda d: d["study"]["scenarios"]["only"].update(
                {
                    "events": [
                        {"name": "x", "industry": "ind", "year": 2020, "value_added_1e4cny": 1}
                    ]
                }
            ),
            "after the base year",
        ),
    ],
)
def test_other_problems_are_named(change, needle):
    doc = one_industry()
    change(doc)
    assert needle in problems_of(doc)


def test_exit_larger_than_the_industry():
    doc = one_industry(horizon=2030)
    doc["study"]["scenarios"]["only"]["events"] = [
        {"name": "all gone", "industry": "ind", "year": 2028, "value_added_1e4cny": -1e9}
    ]
    with pytest.raises(ValueError, match="removes more than the industry"):
        compile_scenario(load_study(doc), "only")


def test_every_problem_is_reported_at_once():
    doc = one_industry()
    drivers = doc["study"]["scenarios"]["only"]["drivers"]
    drivers["energy_intensity_tce_per_1e4cny"]["steel"] = {"periods": {"2026-2030": -0.02}}
    drivers["pv_capacity_mw"] = {"values": {2020: 5}}
    msg = problems_of(doc)
    assert "industry 'steel' has no base data" in msg and "not after the base year" in msg


def test_base_from_an_accounted_frame(demo_doc):
    import pandas as pd

    from carbontwin.scenarios import base_from_frame

    rows = pd.DataFrame(
        {
            "enterprise": ["E01", "E02", "E01", "E10", "E10", "E01"],
            "industry": ["chem", "chem", "chem", "lime", "lime", "chem"],
            "scope": [1, 1, 2, 1, 2, 3],
            "energy_tce": [300.0, 100.0, 50.0, 55.0, 3.0, 0.0],
            "emissions_tco2e": [900.0, 300.0, 200.0, 350.0, 15.0, 999.0],
        }
    )
    base = base_from_frame(
        rows,
        {"chem": 1000.0, "lime": 60.0},
        grid_factor_tco2_per_mwh=0.5617,
        process_emissions_tco2e={"lime": 200.0},
        names={"chem": ("Chemicals", "化工")},
    )
    chem = base.industries["chem"]
    assert chem.energy_tce == {1: 400.0, 2: 50.0} and chem.emissions_tco2e == {1: 1200.0, 2: 200.0}
    assert chem.name_zh == "化工" and base.industries["lime"].process_emissions_tco2e == 200.0
    with pytest.raises(ScenarioDefinitionError, match="no value added"):
        base_from_frame(rows, {"chem": 1.0}, grid_factor_tco2_per_mwh=0.5)
    with pytest.raises(ScenarioDefinitionError, match=r"base\.grid_factor_tco2_per_mwh"):
        base_from_frame(rows, {"chem": 1.0, "lime": 1.0}, grid_factor_tco2_per_mwh=-1)


def test_a_short_horizon_ignores_later_events(demo_doc):
    from carbontwin.scenarios import project

    study = load_study(demo_doc, overrides={"horizon": 2026})
    ds = project(study)
    assert list(ds.year.values) == [2025, 2026]
