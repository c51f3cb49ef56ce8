"""Rolling dispatch: one HiGHS model updated in place, state across windows, fallbacks."""

import numpy as np
import pytest

from benchmarks import _pdcd
from carbontwin.core.errors import ValidationError
from carbontwin.optimizers import RollingDispatch, baseline_rule, check_solution, solve

from .conftest import random_problem

W = 24  # window length [steps]


@pytest.fixture(scope="module")
def horizon():
    """Two days, 5 buildings, hourly: windows are cut from it."""
    return _pdcd.to_problem(_pdcd.make_data(2, 5, 1.0))


def test_in_place_update_reuses_the_model_and_equals_a_fresh_build(horizon):
    mpc = RollingDispatch(horizon.window(0, W))
    h0 = mpc.highs
    ncol, nrow = h0.getNumCol(), h0.getNumRow()
    rng = np.random.default_rng(3)
    for step in range(4):
        window = horizon.window(step, W)
        window = window.replace(load_kw=window.load_kw * (1 + 0.05 * rng.standard_normal((5, W))))
        plan = mpc.solve(window)
        assert plan.source == "optimal" and plan.check.ok
        assert mpc.highs is h0  # the same highspy object every window
        assert (h0.getNumCol(), h0.getNumRow()) == (ncol, nrow)  # no rebuild, no growth
        fresh = solve(mpc.window_problem(window))
        # same LP, warm-started: optima equal to solver tolerance
        assert plan.objective_cny == pytest.approx(fresh.objective_cny, rel=1e-9)
        assert plan.overhead_s >= 0 and plan.time_ratio > 0
        mpc.advance(soc_kwh=plan.soc_kwh[:, 0] * 0.98)  # measured a little below plan


def test_state_is_carried_across_windows(horizon):
    mpc = RollingDispatch(horizon.window(0, W))
    plan0 = mpc.solve()
    s1 = mpc.advance()
    np.testing.assert_allclose(s1.soc_kwh, plan0.soc_kwh[:, 0])
    assert s1.step == 1 and s1.peak_kw == pytest.approx(
        max(horizon.peak_floor_kw, plan0.import_kw[0])
    )
    assert s1.import_kwh == pytest.approx(plan0.import_kw[0] * horizon.interval_h)
    measured = np.full(5, 0.0)  # measured SOC at the band's floor: clipped to it
    s2 = mpc.advance(soc_kwh=measured, import_kw=500.0)
    assert s2.peak_kw == 500.0 and s2.step == 2
    plan2 = mpc.solve(horizon.window(2, W))
    p2 = plan2.problem
    np.testing.assert_allclose(p2.batteries.soc_start_kwh, horizon.batteries.soc_min_kwh)
    assert p2.peak_floor_kw == 500.0 and plan2.peak_kw >= 500.0
    # the first step of the new plan starts from the measured state
    b = horizon.batteries
    first = p2.batteries.soc_start_kwh + horizon.interval_h * (
        b.charge_efficiency_frac * plan2.charge_kw[:, 0]
        - plan2.discharge_kw[:, 0] / b.discharge_efficiency_frac
    )
    np.testing.assert_allclose(plan2.soc_kwh[:, 0], first, atol=1e-6)
    assert [s for s, _, _ in mpc.log] == [0, 2]
    cost = s2.cost_cny
    assert cost > 0 and s2.emissions_tco2 > 0


def test_infeasible_window_falls_back_to_the_shifted_plan(horizon):
    mpc = RollingDispatch(horizon.window(0, W))
    good = mpc.solve()
    mpc.advance()
    bad = horizon.window(1, W).replace(import_limit_kw=1.0)  # far below the net load
    plan = mpc.solve(bad)
    assert plan.source == "shifted"
    assert "Infeasible" in plan.reason and "import_limit_kw" in plan.reason
    assert "plan of step 0 shifted by 1" in plan.reason
    np.testing.assert_allclose(plan.charge_kw[:, : W - 1], good.charge_kw[:, 1:], atol=1e-9)
    # the fallback keeps batteries within their limits; the grid limit is what failed
    v = plan.check.violations
    assert v["bounds"] <= 1e-9 and v["soc_dynamics"] <= 1e-9 and v["simultaneous"] == 0.0
    assert v["import_limit"] > 0
    # the next feasible window is optimal again
    mpc.advance()
    assert mpc.solve(horizon.window(2, W)).source == "optimal"
    assert [src for _, src, _ in mpc.log] == ["optimal", "shifted", "optimal"]


def test_without_a_good_plan_the_baseline_rule_is_used(horizon):
    bad = horizon.window(0, W).replace(import_limit_kw=1.0)
    plan = RollingDispatch(bad).solve()
    assert plan.source == "baseline" and "baseline rule" in plan.reason


def test_time_out_falls_back_and_says_so():
    big = _pdcd.to_problem(_pdcd.case_data("d1_b100"))
    plan = RollingDispatch(big, time_limit_s=1e-4).solve()
    assert plan.source == "baseline"
    assert "Time limit" in plan.reason and "time_limit" in plan.reason


def test_baseline_rule_respects_limits(horizon):
    w = horizon.window(0, W)
    a = baseline_rule(w)
    b = w.batteries
    assert (a["charge_kw"] <= b.power_kw[:, None] + 1e-9).all()
    assert (a["soc_kwh"] >= b.soc_min_kwh[:, None] - 1e-9).all()
    assert (a["soc_kwh"] <= b.soc_max_kwh[:, None] + 1e-9).all()
    assert not (np.minimum(a["charge_kw"], a["discharge_kw"]) > 0).any()
    rep = check_solution(w, **a, tol=np.inf)
    assert rep.violations["balance"] <= 1e-9
    # charging never pushes imports over the limit; above it, batteries shave the peak
    assert (a["import_kw"] <= np.maximum(w.import_limit_kw, w.net_kw) + 1e-9).all()
    flat = w.replace(import_price_cny_per_kwh=0.5)  # no peak tariff: only shaving discharges
    f = baseline_rule(flat)
    over = w.net_kw > w.import_limit_kw
    assert over.any() and (f["import_kw"][over] < w.net_kw[over]).all()
    price = w.import_price_cny_per_kwh
    assert a["charge_kw"][:, price == price.min()].sum() > 0  # charges in the valley
    assert a["discharge_kw"][:, price == price.max()].sum() > 0  # discharges at the peak


def test_binaries_in_a_window_are_removed_afterwards(dump_problem):
    mpc = RollingDispatch(dump_problem)
    base = (mpc.highs.getNumCol(), mpc.highs.getNumRow())
    plan = mpc.solve()
    assert plan.binaries_needed and plan.source == "optimal"
    assert plan.check.violations["simultaneous"] <= 1e-6
    assert plan.objective_cny == pytest.approx(
        solve(dump_problem, binaries="all").objective_cny, rel=1e-6
    )
    assert (mpc.highs.getNumCol(), mpc.highs.getNumRow()) == base
    # and the restored LP solves the next window like a fresh build
    mpc.advance()
    again = mpc.solve()
    assert again.objective_cny == pytest.approx(solve(mpc.window_problem()).objective_cny, rel=1e-6)


def test_emissions_budget_is_pro_rated():
    p = random_problem(4, n_b=2, steps=W)
    free = solve(p)
    budget = 2 * 0.999 * free.emissions_tco2  # a little below the free emissions, two windows
    mpc = RollingDispatch(p, emissions_budget_tco2=budget, budget_steps=2 * W)
    plan = mpc.solve()
    assert plan.problem.emissions_cap_tco2 == pytest.approx(budget / 2)
    assert plan.source == "optimal" and plan.objective_cny > free.objective_cny
    assert plan.check.emissions_tco2 <= budget / 2 + 1e-9
    mpc.advance()
    used = mpc.state.emissions_tco2
    assert mpc.window_problem().emissions_cap_tco2 == pytest.approx(
        (budget - used) * W / (2 * W - 1)
    )


def test_windows_of_another_shape_are_refused(horizon):
    mpc = RollingDispatch(horizon.window(0, W))
    with pytest.raises(ValidationError, match="same shape"):
        mpc.solve(horizon.window(0, W - 1))
    other = horizon.window(0, W)
    other = other.replace(
        batteries=other.batteries.__class__(
            energy_kwh=other.batteries.energy_kwh * 2, power_kw=other.batteries.power_kw
        )
    )
    with pytest.raises(ValidationError, match="energy_kwh differs"):
        mpc.solve(other)
    with pytest.raises(ValidationError, match="call solve"):
        RollingDispatch(horizon.window(0, W)).advance()


def test_user_rows_survive_the_removal_of_binaries(dump_problem):
    def no_charge_first_step(h, lay, problem):
        col = np.array([lay.charge], dtype=np.int32)  # building 0, step 0
        h.addRow(-np.inf, 0.0, 1, col, np.array([1.0]))

    mpc = RollingDispatch(dump_problem, extra_constraints=no_charge_first_step)
    rows = mpc.highs.getNumRow()
    plan = mpc.solve()
    assert plan.binaries_needed and mpc.highs.getNumRow() == rows
    assert plan.charge_kw[0, 0] <= 1e-9


def test_the_time_limit_holds_for_each_window_not_the_model_s_life(d1_b10):
    # HiGHS counts time_limit against the run time a Highs object accumulates over all its
    # runs: each re-solve gets the time used so far plus the limit.
    from carbontwin.optimizers import RollingDispatch

    rd = RollingDispatch(d1_b10, time_limit_s=30.0)
    for _ in range(3):
        plan = rd.solve(d1_b10)
        assert plan.source == "optimal"
    _, limit = rd.highs.getOptionValue("time_limit")
    assert 30.0 < limit <= rd.highs.getRunTime() + 30.0  # not the bare 30 s of a fresh model
