"""The Pyomo reference: its components, the LP form, and the extra_constraints hook."""

import pytest

from carbontwin.optimizers import build_reference, solve, solve_reference

from .conftest import random_problem


def test_components_are_named():
    p = random_problem(0, n_b=2, steps=6, emissions_cap_tco2=10.0)
    m = build_reference(p)
    names = {c.name for c in m.component_objects()}
    assert {
        "charge_kw",
        "discharge_kw",
        "soc_kwh",
        "import_kw",
        "export_kw",
        "peak_kw",
        "u",
        "park_balance",
        "soc_dynamics",
        "soc_end",
        "peak_cover",
        "charge_only_if_u",
        "discharge_only_if_not_u",
        "emissions_cap",
        "cost",
    } <= names
    assert "u" not in {c.name for c in build_reference(p, binaries=False).component_objects()}


def test_lp_form_equals_the_fast_relaxation(dump_problem):
    lp_ref = solve_reference(dump_problem, binaries=False)
    lp_fast = solve(dump_problem, binaries="none")
    assert lp_ref.objective_cny == pytest.approx(lp_fast.objective_cny, rel=1e-6)


def test_extra_constraints_hook():
    import dataclasses

    import pyomo.environ as pyo

    p = random_problem(3, n_b=2, steps=12)
    half = p.batteries.power_kw / 2

    def half_power(m, problem):
        m.half_charge = pyo.Constraint(m.B, m.T, rule=lambda m, b, t: m.charge_kw[b, t] <= half[b])
        m.half_discharge = pyo.Constraint(
            m.B, m.T, rule=lambda m, b, t: m.discharge_kw[b, t] <= half[b]
        )

    limited = solve_reference(p, extra_constraints=half_power)
    assert (limited.charge_kw <= half[:, None] + 1e-6).all()
    assert limited.objective_cny >= solve_reference(p).objective_cny - 1e-9
    # the same limit as the problem's own battery power gives the same optimum
    same = solve(p.replace(batteries=dataclasses.replace(p.batteries, power_kw=half)))
    assert same.objective_cny == pytest.approx(limited.objective_cny, rel=1e-6)
