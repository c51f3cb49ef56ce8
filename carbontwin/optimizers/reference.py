"""The dispatch as a readable Pyomo model: the reference formulation researchers extend.

:func:`build_reference` writes the same model as the fast matrix path of
:mod:`carbontwin.optimizers.dispatch`, one named Pyomo component per constraint family, in
the algebra of ``docs/optimisation.md``. It is 100 times slower to build than the matrix
path at park scale, so the control path does not use it; it is the cross-check (tests
compare the two optima to 1e-6) and the place to try a new constraint before it is
vectorised. Users add constraints through ``extra_constraints(model, problem)``.

:func:`solve_reference` solves it with HiGHS through ``pyomo.contrib.solver`` and returns
the same :class:`~carbontwin.optimizers.dispatch.DispatchResult`. Pyomo is imported only
when these functions are called.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from carbontwin.core.errors import SolverError
from carbontwin.optimizers.check import asset_terms, check_solution, costs
from carbontwin.optimizers.dispatch import DispatchResult, SolveStats
from carbontwin.optimizers.matrix import HIGHS_OPTIONS
from carbontwin.optimizers.problem import DispatchProblem

__all__ = ["build_reference", "solve_reference"]

_COST_ARGS = ("import_kw", "export_kw", "charge_kw", "discharge_kw")


def build_reference(
    problem: DispatchProblem,
    *,
    binaries: bool = True,
    extra_constraints: Callable[[Any, DispatchProblem], None] | None = None,
) -> Any:
    """Build the dispatch as a Pyomo ``ConcreteModel``.

    Parameters
    ----------
    problem : DispatchProblem
        The problem.
    binaries : bool
        Whether every battery and step gets the binary ``u`` that forbids charging and
        discharging at once (the full MILP); ``False`` gives the LP without them.
    extra_constraints : callable, optional
        ``f(model, problem)`` called last, to add components to the model.

    Returns
    -------
    pyomo.environ.ConcreteModel
        Sets ``B`` (buildings), ``T`` (steps); variables ``charge_kw``, ``discharge_kw``,
        ``soc_kwh`` over ``B x T``, ``import_kw``, ``export_kw`` over ``T``, ``peak_kw``
        and, with binaries, ``u``; constraints ``park_balance``, ``soc_dynamics``,
        ``soc_end``, ``peak_cover`` (and ``charge_only_if_u``, ``discharge_only_if_not_u``,
        ``emissions_cap``); objective ``cost``.
    """
    import pyomo.environ as pyo

    bat = problem.batteries
    dt = problem.interval_h
    m = pyo.ConcreteModel(name="park-dispatch")
    m.B = pyo.RangeSet(0, problem.n_b - 1)
    m.T = pyo.RangeSet(0, problem.steps - 1)
    last = problem.steps - 1

    def power_bounds(m: Any, b: int, t: int) -> tuple[float, float]:
        return (0.0, float(bat.power_kw[b]))

    def soc_bounds(m: Any, b: int, t: int) -> tuple[float, float]:
        return (float(bat.soc_min_kwh[b]), float(bat.soc_max_kwh[b]))

    def inf_to_none(x: float) -> float | None:
        return float(x) if np.isfinite(x) else None

    m.charge_kw = pyo.Var(m.B, m.T, bounds=power_bounds)
    m.discharge_kw = pyo.Var(m.B, m.T, bounds=power_bounds)
    m.soc_kwh = pyo.Var(m.B, m.T, bounds=soc_bounds)
    m.import_kw = pyo.Var(m.T, bounds=lambda m, t: (0.0, inf_to_none(problem.import_limit_kw[t])))
    m.export_kw = pyo.Var(m.T, bounds=lambda m, t: (0.0, inf_to_none(problem.export_limit_kw[t])))
    m.peak_kw = pyo.Var(bounds=(problem.peak_floor_kw, None))

    net = problem.net_kw
    # the other assets: each adds its components and returns its electric load per step,
    # its objective terms and its fuel emissions
    from carbontwin.optimizers.assets import ASSETS

    asset_load: dict[int, Any] = dict.fromkeys(range(problem.steps), 0.0)
    asset_cost: Any = 0.0
    fuel_emissions: Any = 0.0
    for kind in ASSETS:
        asset = getattr(problem, kind.name)
        if asset is None:
            continue
        load, cost, emissions = kind.add(m, asset, problem)
        for t in range(problem.steps):
            asset_load[t] = asset_load[t] + load[t]
        asset_cost = asset_cost + cost
        fuel_emissions = fuel_emissions + emissions

    @m.Constraint(m.T)
    def park_balance(m: Any, t: int) -> Any:
        return m.import_kw[t] - m.export_kw[t] - sum(
            m.charge_kw[b, t] - m.discharge_kw[b, t] for b in m.B
        ) - asset_load[t] == float(net[t])

    @m.Constraint(m.B, m.T)
    def soc_dynamics(m: Any, b: int, t: int) -> Any:
        before = m.soc_kwh[b, t - 1] if t > 0 else float(bat.soc_start_kwh[b])
        return m.soc_kwh[b, t] == before + dt * (
            float(bat.charge_efficiency_frac[b]) * m.charge_kw[b, t]
            - m.discharge_kw[b, t] / float(bat.discharge_efficiency_frac[b])
        )

    @m.Constraint(m.B)
    def soc_end(m: Any, b: int) -> Any:
        return m.soc_kwh[b, last] == float(bat.soc_end_kwh[b])

    @m.Constraint(m.T)
    def peak_cover(m: Any, t: int) -> Any:
        return m.import_kw[t] <= m.peak_kw

    if binaries:
        m.u = pyo.Var(m.B, m.T, domain=pyo.Binary)

        @m.Constraint(m.B, m.T)
        def charge_only_if_u(m: Any, b: int, t: int) -> Any:
            return m.charge_kw[b, t] <= float(bat.power_kw[b]) * m.u[b, t]

        @m.Constraint(m.B, m.T)
        def discharge_only_if_not_u(m: Any, b: int, t: int) -> Any:
            return m.discharge_kw[b, t] <= float(bat.power_kw[b]) * (1 - m.u[b, t])

    if problem.emissions_cap_tco2 is not None:
        m.emissions_cap = pyo.Constraint(
            expr=sum(
                dt * float(problem.grid_factor_tco2_per_mwh[t]) * 1e-3 * m.import_kw[t] for t in m.T
            )
            + fuel_emissions
            <= problem.emissions_cap_tco2
        )

    import_cost = problem.import_cost_cny_per_kwh
    m.cost = pyo.Objective(
        expr=sum(
            dt
            * (
                float(import_cost[t]) * m.import_kw[t]
                - float(problem.export_price_cny_per_kwh[t]) * m.export_kw[t]
                + sum(
                    float(bat.throughput_cost_cny_per_kwh[b])
                    * (m.charge_kw[b, t] + m.discharge_kw[b, t])
                    for b in m.B
                )
            )
            for t in m.T
        )
        + problem.demand_charge_cny_per_kw * m.peak_kw
        + asset_cost,
        sense=pyo.minimize,
    )
    if extra_constraints is not None:
        extra_constraints(m, problem)
    return m


def solve_reference(
    problem: DispatchProblem,
    *,
    binaries: bool = True,
    options: dict[str, object] | None = None,
    extra_constraints: Callable[[Any, DispatchProblem], None] | None = None,
) -> DispatchResult:
    """Build :func:`build_reference` and solve it with HiGHS (``pyomo.contrib.solver``).

    Parameters
    ----------
    problem : DispatchProblem
        The problem.
    binaries : bool
        The full MILP (default) or the LP without binaries.
    options : dict, optional
        HiGHS options over :data:`~carbontwin.optimizers.matrix.HIGHS_OPTIONS`.
    extra_constraints : callable, optional
        Passed to :func:`build_reference`.

    Returns
    -------
    DispatchResult
        The schedule (``binaries_needed`` tells whether the model had binaries).

    Raises
    ------
    SolverError
        When HiGHS finds no optimal solution.
    """
    from pyomo.contrib.solver.common.factory import SolverFactory
    from pyomo.contrib.solver.common.results import TerminationCondition

    t0 = time.perf_counter()
    m = build_reference(problem, binaries=binaries, extra_constraints=extra_constraints)
    build_s = time.perf_counter() - t0
    opts = {k: v for k, v in {**HIGHS_OPTIONS, **(options or {})}.items() if k != "output_flag"}
    solver = SolverFactory("highs")
    t1 = time.perf_counter()
    res = solver.solve(
        m,
        tee=False,
        solver_options=opts,
        raise_exception_on_nonoptimal_result=False,
        load_solutions=False,
    )
    solve_s = time.perf_counter() - t1
    if res.termination_condition != TerminationCondition.convergenceCriteriaSatisfied:
        msg = (
            f"the Pyomo reference dispatch has no optimal solution "
            f"(termination {res.termination_condition.name}); check the problem's limits"
        )
        raise SolverError(msg)
    res.solution_loader.load_vars()

    def grid(var: Any) -> np.ndarray:
        out = np.empty((problem.n_b, problem.steps))
        for (b, t), v in var.items():
            out[b, t] = v.value
        return out

    def series(var: Any) -> np.ndarray:
        return np.array([var[t].value for t in range(problem.steps)], dtype=np.float64)

    arrays = {
        "import_kw": series(m.import_kw),
        "export_kw": series(m.export_kw),
        "charge_kw": grid(m.charge_kw),
        "discharge_kw": grid(m.discharge_kw),
        "soc_kwh": grid(m.soc_kwh),
    }
    peak = float(m.peak_kw.value)
    from carbontwin.optimizers.assets import ASSETS

    asset_arrays = {
        kind.name: kind.outputs(
            getattr(problem, kind.name),
            kind.read(m, getattr(problem, kind.name), problem.steps),
            problem.interval_h,
        )
        for kind in ASSETS
        if getattr(problem, kind.name) is not None
    }
    given = asset_arrays or None
    report = check_solution(problem, **arrays, peak_kw=peak, assets=given) if binaries else None
    parts = costs(problem, *(arrays[k] for k in _COST_ARGS), peak, assets=given)
    parts.pop("objective_cny")
    fuel = asset_terms(problem, asset_arrays)[3] if asset_arrays else 0.0
    emissions = fuel + float(
        problem.interval_h * 1e-3 * (problem.grid_factor_tco2_per_mwh @ arrays["import_kw"])
    )
    stats = SolveStats(
        status="Optimal",
        build_s=build_s,
        solve_s=solve_s,
        total_s=time.perf_counter() - t0,
        runs=1,
        num_binaries=problem.n_b * problem.steps if binaries else 0,
    )
    return DispatchResult(
        **arrays,
        peak_kw=peak,
        objective_cny=float(res.incumbent_objective),
        costs_cny=parts,
        emissions_tco2=emissions,
        binaries_needed=binaries,
        binary_pairs=np.zeros((0, 2), dtype=np.int64),
        stats=stats,
        check=report,
        assets=asset_arrays,
        fuel_emissions_tco2=fuel,
    )
