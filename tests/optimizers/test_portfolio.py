"""Reduction portfolio: annualised cost, MACC, MILP choice, suggestions, input checks.

Every solve is a real HiGHS solve; the expected optima are worked out by hand in each
docstring (or by enumerating all subsets).
"""

from __future__ import annotations

import itertools
import math
from importlib import resources

import numpy as np
import pyomo.environ as pyo
import pytest
import yaml
from numpy.testing import assert_allclose

from carbontwin.core import demo_park_path, load_park
from carbontwin.core.errors import ValidationError
from carbontwin.optimizers.portfolio import (
    KINDS,
    Measure,
    SolverError,
    annualised_cost_cny_per_yr,
    build_portfolio_model,
    capital_recovery_factor,
    choose_portfolio,
    load_measures,
    marginal_abatement_cost,
    suggestions,
)


def measure(mid: str, capex: float, abate: float, **kw: object) -> Measure:
    """An efficiency measure with a 10-year life and no running cost unless given."""
    fields = {
        "id": mid,
        "name": f"measure {mid}",
        "kind": "efficiency",
        "capex_cny": capex,
        "lifetime_yr": 10,
        "abatement_tco2e_per_yr": abate,
    }
    fields.update(kw)
    return Measure(**fields)


@pytest.fixture
def abc() -> list[Measure]:
    """Three binary measures; at a 0 % discount rate CRF = 1/10, so per year

    A: capex 100, cost 10, abates 10 t  ->  1.000 CNY/t
    B: capex 300, cost 30, abates 20 t  ->  1.500 CNY/t
    C: capex 200, cost 20, abates 15 t  ->  1.333 CNY/t
    """
    return [measure("A", 100, 10), measure("B", 300, 20), measure("C", 200, 15)]


# --- annualised cost ---------------------------------------------------------------------


def test_capital_recovery_factor_hand_values():
    # 1.06**25 = 4.29187071; CRF = 0.06 * 4.29187071 / 3.29187071 = 0.07822672
    assert_allclose(capital_recovery_factor(0.06, 25), 0.0782267182, rtol=1e-9)
    # 1.08**10 = 2.15892500; CRF = 0.08 * 2.158925 / 1.158925 = 0.14902949
    assert_allclose(capital_recovery_factor(0.08, 10), 0.1490294887, rtol=1e-9)
    assert capital_recovery_factor(0.0, 8) == 0.125  # r = 0: straight-line 1/n
    # Small r tends to 1/n (no cancellation trouble).
    assert_allclose(capital_recovery_factor(1e-9, 20), 0.05, rtol=1e-6)


def test_annualised_cost_of_rooftop_pv():
    """3.5 million CNY per MWp over 25 years at 6 %: 3.5e6 x 0.0782267 = 273,793.5 a year,
    minus the 665,000 CNY saved each year = -391,206.5 CNY/yr."""
    pv = Measure(
        id="PV",
        name="rooftop PV",
        kind="pv",
        capex_cny=3.5e6,
        opex_cny_per_yr=-665_000,
        lifetime_yr=25,
        abatement_tco2e_per_yr=618,
    )
    assert_allclose(annualised_cost_cny_per_yr(pv, 0.06), 273_793.514 - 665_000, rtol=1e-8)


def test_bad_discount_rate_and_lifetime_are_named():
    with pytest.raises(ValidationError, match=r"discount_rate\(=-0.1\)"):
        capital_recovery_factor(-0.1, 10)
    with pytest.raises(ValidationError, match=r"lifetime_yr\(=0\)"):
        capital_recovery_factor(0.05, 0)


# --- MACC --------------------------------------------------------------------------------


def test_macc_sorted_with_cumulative_sums(abc):
    extra = measure("Z", 50, 0, kind="storage")  # abates nothing: no cost per tonne, last
    macc = marginal_abatement_cost([*abc, extra], 0.0)
    assert macc.index.tolist() == ["A", "C", "B", "Z"]
    assert_allclose(macc["cost_cny_per_tco2e"].iloc[:3], [1.0, 20 / 15, 1.5], rtol=1e-12)
    assert math.isnan(macc.loc["Z", "cost_cny_per_tco2e"])
    assert macc["cumulative_abatement_tco2e_per_yr"].tolist() == [10, 25, 45, 45]
    assert macc["cumulative_capex_cny"].tolist() == [100, 300, 600, 650]


def test_macc_uses_full_size_of_divisible_measures():
    pv = measure("PV", 100, 10, kind="pv", divisibility="integer", max_units=3, unit="MWp")
    row = marginal_abatement_cost([pv], 0.0).loc["PV"]
    assert row["abatement_tco2e_per_yr"] == 30
    assert row["capex_cny"] == 300
    assert row["cost_cny_per_tco2e"] == 1.0  # per tonne does not depend on size


# --- the MILP ----------------------------------------------------------------------------


def test_three_measures_target_25(abc):
    """Target 25 t, budget 400: A+C abates 25 for 30 CNY/yr (capex 300); A+B abates 30 for
    40; B+C and A+B+C exceed the budget. Optimum A+C, cost 30.

    Target 26: only A+B (30 t, cost 40) fits, so the marginal tonne costs 40 - 30 = 10.
    LP relaxation: A and C whole with the target exactly met, a degenerate vertex: a tonne
    more costs 1.5 (from B), a tonne less saves 4/3 (from C), and any dual in between is
    valid. B is left out for the budget (300 + 300 > 400)."""
    r = choose_portfolio(abc, 25, 400, 0.0)
    assert r.units == {"A": 1.0, "C": 1.0}
    assert_allclose(r.annualised_cost_cny_per_yr, 30, rtol=1e-9)
    assert r.abatement_tco2e_per_yr == 25
    assert r.capex_cny == 300
    assert_allclose(r.marginal_cost_cny_per_tco2e, 10, rtol=1e-6)
    assert 4 / 3 - 1e-9 <= r.shadow_price_lp_cny_per_tco2e <= 1.5 + 1e-9
    assert r.left_out.loc["B", "reason"] == "over_budget"


def test_three_measures_target_28_beats_the_macc_order(abc):
    """Target 28, budget 400: the MACC order (A, C, B) would take A+C (25 t, short) and then
    B (over budget). A+B (30 t, cost 40, capex 400) is the only feasible set."""
    r = choose_portfolio(abc, 28, 400, 0.0)
    assert r.units == {"A": 1.0, "B": 1.0}
    assert_allclose(r.annualised_cost_cny_per_yr, 40, rtol=1e-9)
    assert r.capex_cny == 400
    assert r.marginal_cost_cny_per_tco2e == pytest.approx(0.0, abs=1e-6)  # 29 t still A+B


def test_infeasible_target_names_the_reachable_maximum(abc):
    """Budget 400 reaches at most A+B = 30 t; with no budget, all three = 45 t."""
    with pytest.raises(SolverError, match=r"at most 30 tCO2e/yr under this budget") as info:
        choose_portfolio(abc, 31, 400, 0.0)
    assert "45 tCO2e/yr with no budget limit" in str(info.value)
    assert "target_tco2e_per_yr(=31)" in str(info.value)
    with pytest.raises(SolverError, match=r"at most 45 tCO2e/yr"):
        choose_portfolio(abc, 50, None, 0.0)


def test_max_abatement_without_target(abc):
    """Budget 400: A+B (30 t) abates most. Budget 350: A+C (25 t) beats B (20 t)."""
    r = choose_portfolio(abc, None, 400, 0.0)
    assert r.objective == "max_abatement"
    assert r.units == {"A": 1.0, "B": 1.0}
    assert r.max_abatement_tco2e_per_yr == pytest.approx(30)
    assert choose_portfolio(abc, None, 350, 0.0).units == {"A": 1.0, "C": 1.0}


def test_exclusion_respected(abc):
    """A excludes C: target 25, budget 400 leaves A+B (30 t, cost 40); C is excluded by A."""
    a, b, c = abc
    a = a.model_copy(update={"excludes": ["C"]})
    r = choose_portfolio([a, b, c], 25, 400, 0.0)
    assert r.units == {"A": 1.0, "B": 1.0}
    assert (r.left_out.loc["C", "reason"], r.left_out.loc["C", "reason_ref"]) == ("excluded", "A")


def test_prerequisite_respected(abc):
    """C requires D (capex 1,000, abates 1 t: 100 CNY/t). Target 25, budget 600: A+C alone
    is not allowed and A+C+D is over budget, so A+B (cost 40). Target 40, budget 2,000:
    B+C+D abates 36, A+B 30, A+B+C is not allowed: all four (46 t)."""
    a, b, c = abc
    c = c.model_copy(update={"requires": ["D"]})
    d = measure("D", 1000, 1)
    r = choose_portfolio([a, b, c, d], 25, 600, 0.0)
    assert r.units == {"A": 1.0, "B": 1.0}
    assert tuple(r.left_out.loc["C", ["reason", "reason_ref"]]) == ("prerequisite", "D")
    r = choose_portfolio([a, b, c, d], 40, 2000, 0.0)
    assert r.units == {"A": 1.0, "B": 1.0, "C": 1.0, "D": 1.0}


def test_prerequisite_not_on_offer_blocks_the_measure(abc):
    a, b, c = abc
    b = b.model_copy(update={"start_year": 2030})
    c = c.model_copy(update={"requires": ["B"]})
    r = choose_portfolio([a, b, c], 10, None, 0.0, year=2026)
    assert r.units == {"A": 1.0}
    assert r.left_out.loc["B", "reason"] == "not_available"
    assert r.left_out.loc["C", "reason"] == "prerequisite"


def test_continuous_green_power_fraction():
    """A (10 t at 1 CNY/t) plus green power G at 50 CNY/MWh abating 0.5 t/MWh (100 CNY/t),
    up to 100 MWh. Target 30: A and 40 MWh of G, cost 10 + 2,000 = 2,010; one more tonne
    is 2 MWh more of G, 100 CNY, in the MILP and in its LP relaxation."""
    a = measure("A", 100, 10)
    g = Measure(
        id="G",
        name="green power",
        kind="green_power",
        unit="MWh",
        divisibility="continuous",
        max_units=100,
        capex_cny=0,
        opex_cny_per_yr=50,
        lifetime_yr=1,
        abatement_tco2e_per_yr=0.5,
    )
    r = choose_portfolio([a, g], 30, None, 0.0)
    assert_allclose(r.units["G"], 40, rtol=1e-9)
    assert_allclose(r.annualised_cost_cny_per_yr, 2010, rtol=1e-9)
    assert_allclose(r.marginal_cost_cny_per_tco2e, 100, rtol=1e-6)
    assert_allclose(r.shadow_price_lp_cny_per_tco2e, 100, rtol=1e-6)


def test_integer_units():
    """PV in whole MWp, 10 t and 10 CNY/yr each: target 25 needs 3 units."""
    pv = measure("PV", 100, 10, kind="pv", divisibility="integer", max_units=5, unit="MWp")
    r = choose_portfolio([pv], 25, None, 0.0)
    assert r.units == {"PV": 3.0}
    assert r.table.loc["PV", "abatement_tco2e_per_yr"] == 30


def test_no_regret_measures_go_beyond_the_target(abc):
    """N saves 50 a year on a capex of 100 over 10 years: -40 CNY/yr, chosen at target 0."""
    n = measure("N", 100, 1, opex_cny_per_yr=-50)
    r = choose_portfolio([*abc, n], 0, None, 0.0)
    assert r.units == {"N": 1.0}
    assert_allclose(r.annualised_cost_cny_per_yr, -40, rtol=1e-9)


def test_exclude_kinds_and_extra_constraints(abc):
    """Without A (forbidden by the hook), target 25 under budget 600 needs B+C (cost 50)."""
    offset = measure("O", 0, 100, kind="offset", opex_cny_per_yr=10, lifetime_yr=1)

    def no_a(model: pyo.ConcreteModel) -> None:
        model.add_component("no-A", pyo.Constraint(expr=model.units["A"] == 0))

    r = choose_portfolio(
        [*abc, offset], 25, 600, 0.0, exclude_kinds=("offset",), extra_constraints=no_a
    )
    assert r.units == {"B": 1.0, "C": 1.0}
    assert r.left_out.loc["O", "reason"] == "kind_excluded"


def test_agrees_with_enumeration_of_all_subsets():
    """Random binary catalogues with exclusions: the MILP optimum equals the best subset."""
    rng = np.random.default_rng(7)
    for _ in range(3):
        ms = []
        for i in range(8):
            ms.append(
                measure(
                    f"M{i}",
                    float(rng.integers(50, 500)),
                    float(rng.integers(5, 60)),
                    opex_cny_per_yr=float(rng.integers(-40, 40)),
                    lifetime_yr=float(rng.integers(5, 25)),
                )
            )
        ms[1] = ms[1].model_copy(update={"excludes": ["M2"]})
        ms[5] = ms[5].model_copy(update={"requires": ["M4"]})
        target, budget, rate = 120.0, 1200.0, 0.05
        best = math.inf
        for pick in itertools.product((0, 1), repeat=8):
            chosen = [m for m, p in zip(ms, pick, strict=True) if p]
            ids = {m.id for m in chosen}
            if {"M1", "M2"} <= ids or ("M5" in ids and "M4" not in ids):
                continue
            if sum(m.capex_cny for m in chosen) > budget:
                continue
            if sum(m.abatement_tco2e_per_yr for m in chosen) < target:
                continue
            best = min(best, sum(annualised_cost_cny_per_yr(m, rate) for m in chosen))
        r = choose_portfolio(ms, target, budget, rate)
        assert_allclose(r.annualised_cost_cny_per_yr, best, rtol=1e-9, atol=1e-9)


def test_model_has_findable_constraint_names(abc):
    model = build_portfolio_model(abc, 0.05, target_tco2e_per_yr=10, budget_cny=500)
    for name in (
        "Portfolio-abatement_tco2e_per_yr-lower",
        "Portfolio-capex_cny-upper",
        "Measure-units-upper",
        "Measure-exclusion",
        "Measure-prerequisite",
    ):
        assert model.component(name) is not None, name


# --- suggestions -------------------------------------------------------------------------


def test_suggestions_in_both_languages_carry_the_numbers(abc):
    """2 MWp of PV, 725 t/MWp, at 0 %: capex/25 + opex = -87,000 CNY/yr per MWp, i.e.
    -120 CNY/t; capex = 6.2 x yearly saving gives a 6.2-year payback."""
    opex = -87_000 / (1 - 6.2 / 25)
    pv = Measure(
        id="PV-E03",
        name="rooftop PV",
        name_zh="屋顶光伏",
        kind="pv",
        enterprise="E03",
        unit="MWp",
        divisibility="integer",
        max_units=2,
        capex_cny=-6.2 * opex,
        opex_cny_per_yr=opex,
        lifetime_yr=25,
        abatement_tco2e_per_yr=725,
    )
    big = measure("D", 10_000, 5, name="heat recovery", name_zh="余热回收", enterprise="E01")
    r = choose_portfolio([pv, big], 1000, 2e6, 0.0)
    en = suggestions(r, "en")
    zh = suggestions(r, "zh")
    assert (
        "Install 2 MWp of rooftop PV at E03: 1,450 t CO2e a year at \u2212120 CNY/t; "
        "pays back in 6.2 years" in "\n".join(en)
    )
    assert (
        "在E03安装屋顶光伏 2 MWp：每年减排 1,450 t CO2e，"
        "减排成本 \u2212120 元/t；6.2 年收回投资" in "\n".join(zh)
    )
    # The dear measure is left out, with its cost per tonne (10,000 / 10 / 5 = 200 CNY/t).
    assert any("Left out: heat recovery at E01" in s and "200 CNY/t" in s for s in en)
    assert any(s.startswith("未选：在E01余热回收") and "200 元/t" in s for s in zh)
    assert len(en) == len(zh)


def test_suggestions_name_the_reasons(abc):
    a, b, c = abc
    a = a.model_copy(update={"excludes": ["C"]})
    r = choose_portfolio([a, b, c], 25, 400, 0.0)
    en = "\n".join(suggestions(r, "en"))
    zh = "\n".join(suggestions(r, "zh"))
    assert "alternative to measure A (A)" in en
    assert "互斥" in zh
    assert "30 t CO2e a year (target 25)" in en
    with pytest.raises(ValidationError, match=r"lang\(='fr'\)"):
        suggestions(r, "fr")


# --- input checks ------------------------------------------------------------------------

BASE = {
    "id": "M1",
    "name": "rooftop PV",
    "kind": "pv",
    "capex_cny": 3.5e6,
    "opex_cny_per_yr": -6e5,
    "lifetime_yr": 25,
    "abatement_tco2e_per_yr": 600,
}


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        ({"lifetime_yr": -5}, r"measures\[0\]: lifetime_yr\(=-5.0\) must be > 0 for measure M1"),
        (
            {"abatement_tco2e_per_yr": -10},
            r"abatement_tco2e_per_yr\(=-10.0\) must be >= 0 for measure M1 of kind pv; "
            r"only kind 'other'",
        ),
        ({"kind": "solar"}, r"kind\(='solar'\) is not a known measure kind .* use one of pv,"),
        ({"capex_cny": -1}, r"capex_cny\(=-1.0\) must be >= 0"),
        ({"max_units": 3}, r"max_units\(=3.0\) must be 1 for binary measure M1"),
        ({"divisibility": "integer", "max_units": 2.5}, r"must be a whole number"),
        ({"excludes": ["M1"]}, r"cannot exclude or require itself"),
        ({"colour": "red"}, r"measures\[0\]\.colour: Extra inputs are not permitted"),
    ],
)
def test_bad_measures_are_named(change, pattern):
    with pytest.raises(ValidationError, match=pattern):
        load_measures({"measures": [{**BASE, **change}]})


def test_other_kind_may_add_emissions():
    (m,) = load_measures([{**BASE, "kind": "other", "abatement_tco2e_per_yr": -10}])
    assert m.abatement_tco2e_per_yr == -10


def test_catalogue_references_are_checked():
    with pytest.raises(ValidationError, match=r"id\(='M1'\) appears twice"):
        load_measures([BASE, BASE])
    with pytest.raises(ValidationError, match=r"requires\(='M9'\) of measure M1 names no"):
        load_measures([{**BASE, "requires": ["M9"]}])
    green = {**BASE, "id": "G", "kind": "green_power", "divisibility": "continuous"}
    with pytest.raises(ValidationError, match=r"give G a min_units > 0"):
        load_measures([green, {**BASE, "requires": ["G"]}])
    with pytest.raises(ValidationError, match=r"measures: key missing"):
        load_measures({"items": []})


def test_bad_target_and_budget(abc):
    with pytest.raises(ValidationError, match=r"target_tco2e_per_yr\(=-1\)"):
        choose_portfolio(abc, -1, None)
    with pytest.raises(ValidationError, match=r"budget_cny\(=-5\)"):
        choose_portfolio(abc, 10, -5)
    with pytest.raises(ValidationError, match=r"exclude_kinds"):
        choose_portfolio(abc, 10, None, exclude_kinds=("solar",))


# --- the demo catalogue ------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> list[Measure]:
    text = (
        resources.files("carbontwin.data")
        .joinpath("measures/demo_measures.yaml")
        .read_text(encoding="utf-8")
    )
    return load_measures(yaml.safe_load(text))


def test_demo_catalogue_is_complete(demo):
    assert 10 <= len(demo) <= 15
    park = load_park(demo_park_path())
    enterprises = {e.id for e in park.enterprises}
    assert {m.enterprise for m in demo} <= enterprises
    assert {"pv", "storage", "efficiency", "electrification", "heat_recovery"} <= {
        m.kind for m in demo
    }
    assert {"green_power", "ccus", "process"} <= {m.kind for m in demo}
    assert {m.kind for m in demo} <= set(KINDS)
    assert all(m.source for m in demo)


def test_demo_portfolio_meets_target_and_rules(demo):
    """A 2026 target of 150,000 t under 200 million CNY; CCUS cannot start before 2028."""
    r = choose_portfolio(demo, 150_000, 200e6, 0.06, year=2026)
    assert r.abatement_tco2e_per_yr >= 150_000
    assert r.capex_cny <= 200e6
    chosen = set(r.units)
    by_id = {m.id: m for m in demo}
    for i in chosen:
        assert not set(by_id[i].excludes) & chosen
        assert set(by_id[i].requires) <= chosen
    assert r.left_out.loc["M15-E10-CCUS", "reason"] == "not_available"
    for lang in ("en", "zh"):
        lines = suggestions(r, lang)
        assert len(lines) == 2 + len(demo)
    # A deeper target later on needs green power and CCUS.
    deep = choose_portfolio(demo, 300_000, 500e6, 0.06, year=2030)
    assert {"M13-E06-GREENPOWER", "M15-E10-CCUS"} <= set(deep.units)
    assert deep.marginal_cost_cny_per_tco2e >= 0


def test_the_capital_recovery_factor_of_a_vanishing_rate_is_one_over_the_life():
    from carbontwin.optimizers.portfolio import capital_recovery_factor

    assert capital_recovery_factor(5e-324, 25) == pytest.approx(1 / 25)
    assert capital_recovery_factor(1e-12, 10) == pytest.approx(0.1, rel=1e-9)
