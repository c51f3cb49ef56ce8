"""The fast matrix path: published optimum, agreement with the Pyomo reference, binaries only
where needed, generalisations (export limit, zero-size batteries, per-step carbon price, cap).

Every solve is real (HiGHS); every solution goes through the independent checker.
"""

import numpy as np
import pytest

from benchmarks import _pdcd
from carbontwin.core.errors import SolverError
from carbontwin.optimizers import check_solution, solve, solve_reference

from .conftest import random_problem

TOL = 1e-6  # the acceptance tolerance: constraint violations [kW, kWh] and relative objectives


def _assert_clean(problem, r):
    report = check_solution(
        problem,
        r.import_kw,
        r.export_kw,
        r.charge_kw,
        r.discharge_kw,
        r.soc_kwh,
        r.peak_kw,
        tol=TOL,
        strict=True,
    )
    assert report.violations["simultaneous"] <= TOL
    # HiGHS' objective and the one recomputed from the arrays agree (dual-feasibility tolerance)
    assert report.objective_cny == pytest.approx(r.objective_cny, rel=1e-9)
    return report


def test_d1_b10_matches_the_published_optimum(d1_b10):
    r = solve(d1_b10)
    _assert_clean(d1_b10, r)
    # PDCD-1 reference optimum, HiGHS 1.15.1 with gaps of 1e-9
    assert r.objective_cny == pytest.approx(_pdcd.OPTIMA["d1_b10"], rel=TOL)
    assert not r.binaries_needed and r.stats.runs == 1 and r.stats.num_binaries == 0
    assert r.stats.num_col == 3 * 10 * 96 + 2 * 96 + 1
    assert r.stats.status == "Optimal" and r.check.ok
    parts = r.costs_cny
    total = (
        parts["energy_cny"]
        + parts["carbon_cny"]
        + parts["throughput_cny"]
        + parts["demand_charge_cny"]
        - parts["export_revenue_cny"]
    )
    assert total == pytest.approx(r.objective_cny, rel=1e-9)
    assert r.emissions_tco2 > 0 and r.peak_kw == pytest.approx(r.import_kw.max(), rel=1e-9)


def test_d1_b10_matches_the_pyomo_reference(d1_b10):
    fast = solve(d1_b10)
    ref = solve_reference(d1_b10, binaries=True)  # the full MILP, a binary per battery and step
    _assert_clean(d1_b10, ref)
    assert fast.objective_cny == pytest.approx(ref.objective_cny, rel=TOL)


@pytest.mark.parametrize("seed", range(6))
def test_random_instances_match_the_reference(seed):
    problem = random_problem(seed, n_b=3, steps=24)
    fast = solve(problem)
    _assert_clean(problem, fast)
    ref = solve_reference(problem, binaries=True)
    _assert_clean(problem, ref)
    assert fast.objective_cny == pytest.approx(ref.objective_cny, rel=TOL)


def test_binaries_only_where_the_relaxation_needs_them(dump_problem):
    lp = solve(dump_problem, binaries="none")
    # the relaxation burns PV surplus in battery losses rather than pay 0.5 CNY/kWh to export
    both = np.minimum(lp.charge_kw, lp.discharge_kw)
    assert both.max() > 1.0
    auto = solve(dump_problem)
    full = solve(dump_problem, binaries="all")
    _assert_clean(dump_problem, auto)
    _assert_clean(dump_problem, full)
    assert auto.binaries_needed and auto.stats.num_binaries > 0
    # binaries only for some (building, step) pairs: fewer than the full MILP's
    assert auto.stats.num_binaries < full.stats.num_binaries == 2 * 12
    flagged = {tuple(x) for x in auto.binary_pairs}
    lp_pairs = {(int(b), int(t)) for b, t in zip(*np.nonzero(both > 1e-6), strict=True)}
    assert lp_pairs <= flagged
    assert auto.objective_cny == pytest.approx(full.objective_cny, rel=TOL)
    assert lp.objective_cny < auto.objective_cny  # the relaxation was really cheaper
    ref = solve_reference(dump_problem, binaries=True)
    assert auto.objective_cny == pytest.approx(ref.objective_cny, rel=TOL)


def test_export_limit_zero_size_batteries_and_carbon_price():
    base = random_problem(11, n_b=3, steps=24, export_price_cny_per_kwh=0.1)
    limited = base.replace(export_limit_kw=0.0)
    for problem in (base, limited):
        r = solve(problem)
        _assert_clean(problem, r)
        assert r.objective_cny == pytest.approx(solve_reference(problem).objective_cny, rel=TOL)
    r = solve(limited)
    assert r.export_kw.max() <= TOL
    # the empty battery of the last building never moves
    assert np.abs(r.charge_kw[-1]).max() <= TOL and np.abs(r.soc_kwh[-1]).max() <= TOL
    # a higher carbon price at some steps moves imports away from them
    dear = base.replace(carbon_price_cny_per_tco2=np.where(np.arange(24) < 12, 5000.0, 0.0))
    r0, r1 = solve(base), solve(dear)
    assert r1.import_kw[:12].sum() < r0.import_kw[:12].sum()


def test_emissions_cap_binds():
    free = random_problem(5, n_b=3, steps=24)
    r0 = solve(free)
    cap = 0.95 * r0.emissions_tco2
    capped = free.replace(emissions_cap_tco2=cap)
    r1 = solve(capped)
    _assert_clean(capped, r1)
    assert r1.emissions_tco2 <= cap + 1e-9
    assert r1.objective_cny >= r0.objective_cny
    assert r1.objective_cny == pytest.approx(solve_reference(capped).objective_cny, rel=TOL)


def test_peak_floor_is_a_lower_bound():
    p = random_problem(2, n_b=2, steps=24)
    r = solve(p.replace(peak_floor_kw=1000.0))
    assert r.peak_kw == pytest.approx(1000.0)
    assert r.costs_cny["demand_charge_cny"] == pytest.approx(1000.0 * p.demand_charge_cny_per_kw)


def test_infeasible_raises_solver_error_naming_the_limits():
    p = random_problem(1, n_b=2, steps=24, import_limit_kw=1.0)
    with pytest.raises(SolverError, match=r"Infeasible.*import_limit_kw"):
        solve(p)
    assert issubclass(SolverError, RuntimeError)


def test_to_dataset(d1_b10):
    ds = solve(d1_b10).to_dataset()
    assert dict(ds.sizes) == {"time": 96, "building": 10}
    assert ds.attrs["objective_cny"] == pytest.approx(_pdcd.OPTIMA["d1_b10"], rel=TOL)


def test_extra_constraints_hook_adds_rows():
    p = random_problem(7, n_b=3, steps=24)
    free = solve(p)
    step, limit = int(free.import_kw.argmax()), 0.99 * free.import_kw.max()

    def cap_one_step(h, lay, problem):
        h.addRow(-np.inf, limit, 1, np.array([lay.imp + step], dtype=np.int32), np.array([1.0]))

    hooked = solve(p, extra_constraints=cap_one_step)
    assert hooked.import_kw[step] <= limit + 1e-6
    limits = np.full(24, np.inf)
    limits[step] = limit
    same = solve(p.replace(import_limit_kw=limits))
    assert hooked.objective_cny == pytest.approx(same.objective_cny, rel=TOL)
