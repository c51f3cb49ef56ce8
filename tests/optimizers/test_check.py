"""The independent checker: objective recomputation and each constraint family's violation."""

import warnings

import pytest

from benchmarks import _pdcd
from carbontwin.core.errors import ConsistencyError
from carbontwin.optimizers import check_solution, solve


@pytest.fixture(scope="module")
def solved(d1_b10):
    r = solve(d1_b10)
    return d1_b10, r


def _arrays(r):
    return {
        "import_kw": r.import_kw.copy(),
        "export_kw": r.export_kw.copy(),
        "charge_kw": r.charge_kw.copy(),
        "discharge_kw": r.discharge_kw.copy(),
        "soc_kwh": r.soc_kwh.copy(),
    }


def test_objective_matches_the_benchmark_formula(solved):
    problem, r = solved
    rep = check_solution(problem, **_arrays(r), peak_kw=r.peak_kw, strict=True)
    d = _pdcd.case_data("d1_b10")
    expected = _pdcd.objective(d, r.import_kw, r.export_kw, r.charge_kw, r.discharge_kw, r.peak_kw)
    assert rep.objective_cny == pytest.approx(expected, rel=1e-12)  # same sums, reordered
    assert rep.ok and rep.max_violation < 1e-9 and "ok" in str(rep)
    # default peak: the largest import
    rep2 = check_solution(problem, **_arrays(r))
    assert rep2.objective_cny == pytest.approx(rep.objective_cny, rel=1e-9)


@pytest.mark.parametrize(
    ("family", "spoil"),
    [
        ("balance", lambda a: a["import_kw"].__setitem__(3, a["import_kw"][3] + 1.0)),
        ("soc_dynamics", lambda a: a["soc_kwh"].__setitem__((0, 10), a["soc_kwh"][0, 10] + 0.5)),
        ("soc_end", lambda a: a["soc_kwh"].__setitem__((2, -1), a["soc_kwh"][2, -1] + 0.5)),
        ("bounds", lambda a: a["charge_kw"].__setitem__((1, 5), -0.5)),
        (
            "simultaneous",
            lambda a: (
                a["charge_kw"].__setitem__((1, 5), a["charge_kw"][1, 5] + 0.3),
                a["discharge_kw"].__setitem__((1, 5), a["discharge_kw"][1, 5] + 0.3),
            ),
        ),
    ],
)
def test_each_family_is_detected(solved, family, spoil):
    problem, r = solved
    a = _arrays(r)
    spoil(a)
    with pytest.warns(UserWarning, match=family):
        rep = check_solution(problem, **a, peak_kw=r.peak_kw)
    assert rep.violations[family] > 0.1 and not rep.ok
    with pytest.raises(ConsistencyError, match=family):
        check_solution(problem, **a, peak_kw=r.peak_kw, strict=True)


def test_import_limit_peak_and_cap(solved):
    problem, r = solved
    a = _arrays(r)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = check_solution(problem, **a, peak_kw=r.peak_kw - 5.0)
        assert rep.violations["peak"] == pytest.approx(5.0, rel=1e-9)
        tight = problem.replace(import_limit_kw=r.import_kw.max() - 2.0)
        assert check_solution(tight, **a).violations["import_limit"] == pytest.approx(2.0, rel=1e-9)
        rep = check_solution(problem, **a)
        capped = problem.replace(emissions_cap_tco2=rep.emissions_tco2 - 0.1)
        assert check_solution(capped, **a).violations["emissions_cap"] == pytest.approx(
            0.1, rel=1e-6
        )


def test_wrong_shapes_are_refused(solved):
    problem, r = solved
    a = _arrays(r)
    a["soc_kwh"] = a["soc_kwh"][:, :-1]
    with pytest.raises(ConsistencyError, match=r"soc_kwh has shape \(10, 95\)"):
        check_solution(problem, **a)


def test_checker_is_independent_of_the_model():
    """A hand schedule: one battery, two steps, checked exactly."""
    from carbontwin.optimizers import Batteries, DispatchProblem

    p = DispatchProblem(
        interval_h=1.0,
        load_kw=[[10.0, 10.0]],
        pv_kw=[[0.0, 0.0]],
        batteries=Batteries(
            energy_kwh=[10.0],
            power_kw=[5.0],
            charge_efficiency_frac=1.0,
            discharge_efficiency_frac=1.0,
            soc_min_frac=0.0,
            soc_max_frac=1.0,
            soc_start_frac=0.5,
            throughput_cost_cny_per_kwh=0.1,
        ),
        import_price_cny_per_kwh=[1.0, 2.0],
        demand_charge_cny_per_kw=1.0,
    )
    # charge 5 kW at step 0 (import 15), discharge 5 kW at step 1 (import 5); SOC 10, then 5
    rep = check_solution(
        p, [15.0, 5.0], [0.0, 0.0], [[5.0, 0.0]], [[0.0, 5.0]], [[10.0, 5.0]], strict=True
    )
    # energy 15*1 + 5*2 = 25, throughput 0.1*(5+5) = 1, peak 15*1 = 15: 41 CNY
    assert rep.objective_cny == pytest.approx(41.0, rel=1e-12)
    assert rep.max_violation == 0.0
