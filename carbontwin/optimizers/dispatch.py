"""Day-ahead economic-carbon dispatch of a park's batteries: LP first, binaries only where needed.

:func:`solve` builds the model of a :class:`~carbontwin.optimizers.problem.DispatchProblem`
as one sparse matrix (:mod:`carbontwin.optimizers.matrix`), solves its LP relaxation with
HiGHS and checks every (building, step) for simultaneous charge and discharge. Only where a
battery does both does it add a binary that forbids it, and re-solves as a MILP; it
repeats until no battery does both. When the LP is clean — the usual case with round-trip
losses and import prices above the export price — the LP optimum is the MILP optimum and
no binary is ever built.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import highspy
import numpy as np

from carbontwin.core.errors import SolverError
from carbontwin.optimizers import matrix
from carbontwin.optimizers.check import CheckReport, asset_terms, check_solution, costs
from carbontwin.optimizers.problem import DispatchProblem

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["DispatchResult", "SolveStats", "solve"]

_OPTIMAL = highspy.HighsModelStatus.kOptimal

#: ``f(h, layout, problem)``: adds user rows or columns to the HiGHS model.
ExtraConstraints = Callable[[highspy.Highs, matrix.Layout, DispatchProblem], None]


@dataclass
class SolveStats:
    """How a solve went.

    Parameters
    ----------
    status : str
        HiGHS' model status of the last run (``"Optimal"`` when solved).
    build_s : float
        Model construction and ``passModel`` [s].
    solve_s : float
        Time inside HiGHS ``run()``, summed over runs [s].
    total_s : float
        Wall time of the whole call [s].
    runs : int
        HiGHS runs (1 when the LP was clean) [1].
    rounds : int
        Times binaries were added [1].
    num_col, num_row : int
        Size of the base model [1].
    num_binaries : int
        Battery binaries in the final model [1].
    num_integers : int
        Integer columns of the asset blocks (shift starts, on/off) [1].
    simplex_iterations, mip_nodes : int
        Summed over runs [1].
    """

    status: str = ""
    build_s: float = 0.0
    solve_s: float = 0.0
    total_s: float = 0.0
    runs: int = 0
    rounds: int = 0
    num_col: int = 0
    num_row: int = 0
    num_binaries: int = 0
    num_integers: int = 0
    simplex_iterations: int = 0
    mip_nodes: int = 0

    @property
    def overhead_s(self) -> float:
        """Wall time outside HiGHS ``run()`` [s]."""
        return self.total_s - self.solve_s


@dataclass
class DispatchResult:
    """An optimal dispatch.

    Parameters
    ----------
    import_kw, export_kw : numpy.ndarray, shape (T,)
        Grid import and export [kW].
    charge_kw, discharge_kw : numpy.ndarray, shape (n_b, T)
        Battery charge and discharge on the AC side [kW].
    soc_kwh : numpy.ndarray, shape (n_b, T)
        Stored energy at the end of each step [kWh].
    peak_kw : float
        The charged peak import [kW].
    objective_cny : float
        HiGHS' optimal objective [CNY].
    costs_cny : dict of str to float
        Parts recomputed from the arrays: ``energy_cny``, ``carbon_cny``,
        ``throughput_cny``, ``demand_charge_cny``, ``export_revenue_cny`` and, with
        assets, ``fuel_cny``, ``fuel_carbon_cny``, ``discomfort_cny``, ``unmet_ev_cny``
        [CNY].
    emissions_tco2 : float
        Grid-import plus fuel emissions [tCO2].
    binaries_needed : bool
        Whether the final model has binaries: with ``binaries="auto"``, whether the LP
        relaxation charged and discharged at once somewhere.
    binary_pairs : numpy.ndarray of int, shape (m, 2)
        The ``(building, step)`` pairs that got a binary.
    stats : SolveStats
        Timings and sizes.
    check : CheckReport
        The independent check of this solution.
    assets : dict of str to dict of str to numpy.ndarray
        Per asset block its arrays: ``hvac``: ``temp_c``, ``cooling_kw``, ``heating_kw``,
        ``power_kw`` (n_z, T) [°C, kW], ``discomfort_kh`` (n_z,) [K·h]; ``ev``:
        ``charge_kw`` (S, T), ``group_kw`` (G, T) [kW], ``delivered_kwh``, ``unmet_kwh``
        (S,) [kWh]; ``shift``: ``start`` (J, T) 0/1, ``start_step`` (J,) (NaN: not in
        the horizon), ``power_kw`` (J, T) [kW]; ``flexible``: ``power_kw`` (n_f, T) [kW];
        ``thermal``: ``heat_kw``, ``on``, ``fuel_kw``, ``electric_kw`` (U, T) [kW],
        ``dump_kw`` (T,) [kW].
    fuel_emissions_tco2 : float
        Emissions of the fuel burnt by boilers and CHP [tCO2]; the grid's are
        ``emissions_tco2 - fuel_emissions_tco2``.
    """

    import_kw: np.ndarray
    export_kw: np.ndarray
    charge_kw: np.ndarray
    discharge_kw: np.ndarray
    soc_kwh: np.ndarray
    peak_kw: float
    objective_cny: float
    costs_cny: dict[str, float]
    emissions_tco2: float
    binaries_needed: bool
    binary_pairs: np.ndarray
    stats: SolveStats = field(default_factory=SolveStats)
    check: CheckReport | None = None
    assets: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    fuel_emissions_tco2: float = 0.0

    @property
    def grid_emissions_tco2(self) -> float:
        """Grid-import emissions [tCO2]."""
        return self.emissions_tco2 - self.fuel_emissions_tco2

    def to_dataset(self, time: object = None, buildings: object = None) -> xr.Dataset:
        """Return the schedule as an :class:`xarray.Dataset` with dims ``building``, ``time``.

        Parameters
        ----------
        time : array_like, optional
            Labels of the steps (UTC interval starts); default ``0..T-1``.
        buildings : array_like, optional
            Labels of the buildings; default ``0..n_b-1``.
        """
        import xarray as xr

        n_b, steps = self.charge_kw.shape
        coords = {
            "time": np.arange(steps) if time is None else np.asarray(time),
            "building": np.arange(n_b) if buildings is None else np.asarray(buildings),
        }
        bt = ("building", "time")
        data: dict[str, object] = {
            "import_kw": ("time", self.import_kw),
            "export_kw": ("time", self.export_kw),
            "charge_kw": (bt, self.charge_kw),
            "discharge_kw": (bt, self.discharge_kw),
            "soc_kwh": (bt, self.soc_kwh),
        }
        entity = {"hvac": "zone", "ev": "session", "shift": "load", "flexible": "line"}
        for name, arrays in self.assets.items():
            for key, arr in arrays.items():
                dim = "ev_group" if key == "group_kw" else f"{name}_{entity.get(name, 'unit')}"
                if arr.ndim == 2:
                    data[f"{name}_{key}"] = ((dim, "time"), arr)
                elif arr.shape == (steps,) and key.endswith("_kw"):
                    data[f"{name}_{key}"] = ("time", arr)
                else:
                    data[f"{name}_{key}"] = (dim, arr)
        return xr.Dataset(
            data,  # type: ignore[arg-type]
            coords=coords,
            attrs={
                "peak_kw": self.peak_kw,
                "objective_cny": self.objective_cny,
                "emissions_tco2": self.emissions_tco2,
                **self.costs_cny,
            },
        )


@dataclass
class _Run:
    """The outcome of :func:`lp_first` on a model."""

    ok: bool
    status: str
    arrays: dict[str, np.ndarray]
    objective_cny: float
    pairs: np.ndarray  # flat k = b*T + t with binaries
    binary_cols: np.ndarray
    solve_s: float = 0.0
    runs: int = 0
    rounds: int = 0
    simplex_iterations: int = 0
    mip_nodes: int = 0
    x: np.ndarray | None = None


def _simultaneous(arrays: dict[str, np.ndarray], tol_kw: float) -> np.ndarray:
    return (np.minimum(arrays["charge_kw"], arrays["discharge_kw"]) > tol_kw).ravel()


def lp_first(
    h: highspy.Highs,
    problem: DispatchProblem,
    lay: matrix.Layout,
    *,
    tol_kw: float = 1e-6,
    max_rounds: int = 5,
    binaries: Literal["auto", "all", "none"] = "auto",
    time_limit_s: float | None = None,
) -> _Run:
    """Solve the base model in ``h``, adding binaries only where a battery charges and discharges.

    ``time_limit_s`` limits each HiGHS run [s]: HiGHS counts its ``time_limit`` against the
    run time a ``Highs`` object has accumulated over all its runs, so a model re-solved
    in place gets the limit as that total plus ``time_limit_s`` before each run.

    After a MILP run, the binaries' values are fixed (each pair may then only charge or only
    discharge) and the model is re-solved as an LP, so the returned schedule has exact
    zeros where a direction is forbidden. The binaries stay in ``h``; see
    :func:`remove_binaries`. The asset blocks' integers (shift starts, on/off) are
    treated the same way after every MILP run — fixed at their values for an LP re-solve
    — and are integer again when this returns.
    """
    p_k = np.repeat(problem.batteries.power_kw, problem.steps)
    nk = lay.nk
    mask = np.zeros(nk, dtype=bool)
    pairs = np.zeros(0, dtype=np.int64)
    bcols = np.zeros(0, dtype=np.int32)
    out = _Run(False, "", {}, float("nan"), pairs, bcols)
    icols = lay.integer_cols
    if icols.size:
        ilo = np.concatenate([b.col_lo[b.integer] for b in lay.blocks])
        ihi = np.concatenate([b.col_hi[b.integer] for b in lay.blocks])

    def run() -> str:
        if time_limit_s is not None:
            h.setOptionValue("time_limit", h.getRunTime() + time_limit_s)
        t0 = time.perf_counter()
        h.run()
        out.solve_s += time.perf_counter() - t0
        out.runs += 1
        info = h.getInfo()
        out.simplex_iterations += max(0, int(info.simplex_iteration_count))
        out.mip_nodes += max(0, int(info.mip_node_count))
        return h.modelStatusToString(h.getModelStatus())

    def fix_directions(x: np.ndarray) -> None:
        m = pairs.size
        u = (x[bcols] > 0.5).astype(np.float64)
        zero = np.zeros(m)
        h.changeColsBounds(m, (lay.charge + pairs).astype(np.int32), zero, u * p_k[pairs])
        h.changeColsBounds(m, (lay.discharge + pairs).astype(np.int32), zero, (1 - u) * p_k[pairs])
        h.changeColsIntegrality(m, bcols, np.zeros(m, dtype=np.uint8))
        h.changeColsBounds(m, bcols, u, u)

    def unfix() -> None:
        m = pairs.size
        zero = np.zeros(m)
        h.changeColsBounds(m, (lay.charge + pairs).astype(np.int32), zero, p_k[pairs])
        h.changeColsBounds(m, (lay.discharge + pairs).astype(np.int32), zero, p_k[pairs])
        h.changeColsIntegrality(m, bcols, np.ones(m, dtype=np.uint8))
        h.changeColsBounds(m, bcols, zero, np.ones(m))

    def fix_ints(x: np.ndarray) -> None:
        v = np.round(x[icols])
        h.changeColsIntegrality(icols.size, icols, np.zeros(icols.size, dtype=np.uint8))
        h.changeColsBounds(icols.size, icols, v, v)

    def unfix_ints() -> None:
        h.changeColsIntegrality(icols.size, icols, np.ones(icols.size, dtype=np.uint8))
        h.changeColsBounds(icols.size, icols, ilo, ihi)

    def add(new: np.ndarray) -> None:
        nonlocal pairs, bcols
        new_pairs = np.flatnonzero(new)
        cols = matrix.add_binaries(h, problem, lay, new_pairs)
        pairs = np.concatenate([pairs, new_pairs])
        bcols = np.concatenate([bcols, cols]).astype(np.int32)
        mask[new_pairs] = True
        out.rounds += 1

    if binaries == "all":
        add(p_k > 0)
    while True:
        out.status = run()
        if h.getModelStatus() != _OPTIMAL:
            break
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        if pairs.size or icols.size:
            if pairs.size:
                fix_directions(x)
            if icols.size:
                fix_ints(x)
            out.status = run()
            if h.getModelStatus() != _OPTIMAL:  # pragma: no cover - fixing keeps it feasible
                if icols.size:
                    unfix_ints()
                break
            x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        objective = float(h.getInfo().objective_function_value)
        if icols.size:
            unfix_ints()
        arrays = matrix.extract(h, lay, x)
        sim = _simultaneous(arrays, tol_kw)
        if binaries == "none" or not sim.any():
            out.ok = True
            out.arrays = arrays
            out.objective_cny = objective
            out.x = x
            break
        new = sim & ~mask
        if pairs.size:
            unfix()
        if not new.any() or out.rounds >= max_rounds:
            new = (p_k > 0) & ~mask
            if not new.any():  # pragma: no cover - every pair already has a binary
                out.status = "simultaneous charge and discharge persists with every binary"
                break
        add(new)
    out.pairs, out.binary_cols = pairs, bcols
    return out


def remove_binaries(
    h: highspy.Highs,
    problem: DispatchProblem,
    lay: matrix.Layout,
    base: tuple[int, int] | None = None,
) -> None:
    """Delete every binary and its rows from ``h``, restoring the base LP's bounds.

    ``base`` is ``(columns, rows)`` of the model before any binary (default the layout's;
    larger when user constraints were added), everything beyond it is deleted.
    """
    num_col, num_row = base if base is not None else (lay.num_col, lay.num_row)
    extra_cols = h.getNumCol() - num_col
    if extra_cols <= 0:
        return
    extra_rows = h.getNumRow() - num_row
    h.deleteRows(extra_rows, np.arange(num_row, num_row + extra_rows, dtype=np.int32))
    h.deleteCols(extra_cols, np.arange(num_col, num_col + extra_cols, dtype=np.int32))
    p_k = np.repeat(problem.batteries.power_kw, problem.steps)
    idx = np.arange(lay.nk, dtype=np.int32)
    zero = np.zeros(lay.nk)
    h.changeColsBounds(lay.nk, lay.charge + idx, zero, p_k)
    h.changeColsBounds(lay.nk, lay.discharge + idx, zero, p_k)


def _failure_message(problem: DispatchProblem, status: str) -> str:
    hint = "raise options['time_limit']" if "time" in status.lower() else None
    if hint is None:
        hint = (
            "check that import_kw can cover the net load: import_limit_kw (min "
            f"{float(problem.import_limit_kw.min()):.6g} kW) against the net load (max "
            f"{float(problem.net_kw.max()):.6g} kW) less the batteries' power, that "
            "export_limit_kw leaves room for PV surplus, that soc_end_frac is reachable "
            "from soc_start_frac, and that emissions_cap_tco2 is not below the unavoidable "
            "imports"
        )
        if problem.assets:
            hint += (
                "; with assets, also that heat_max_kw covers heat_demand_kw (less heat "
                "dumping), that EV group limits and shift start windows fit the horizon, "
                "and that flexible lines can use their energy_kwh"
            )
    return f"the dispatch has no optimal solution (HiGHS status {status!r}); {hint}"


def solve(
    problem: DispatchProblem,
    *,
    options: dict[str, object] | None = None,
    binaries: Literal["auto", "all", "none"] = "auto",
    simultaneous_tol_kw: float = 1e-6,
    max_rounds: int = 5,
    check: bool = True,
    extra_constraints: ExtraConstraints | None = None,
) -> DispatchResult:
    r"""Solve the dispatch: the LP relaxation first, binaries only where it needs them.

    Parameters
    ----------
    problem : DispatchProblem
        The problem.
    options : dict, optional
        HiGHS options over :data:`carbontwin.optimizers.matrix.HIGHS_OPTIONS`.
    binaries : {"auto", "all", "none"}
        ``"auto"``: add binaries only for the (building, step) pairs where the LP charges
        and discharges at once, and repeat until none does; ``"all"``: the full MILP, a
        binary for every battery and step; ``"none"``: the LP relaxation only (it may
        charge and discharge at once).
    simultaneous_tol_kw : float
        ``min(charge, discharge)`` above this counts as simultaneous [kW].
    max_rounds : int
        Rounds of adding binaries after which every pair gets one [1].
    check : bool
        Run :func:`~carbontwin.optimizers.check.check_solution` (warning on violations);
        not with ``binaries="none"``, which may charge and discharge at once.
    extra_constraints : callable, optional
        ``f(h, layout, problem)`` called once the base model is in HiGHS, to add rows or
        columns with highspy (``h.addRow``, ``h.addCols``); ``layout`` gives each
        variable's column (:class:`~carbontwin.optimizers.matrix.Layout`). The checker
        does not know about them.

    Returns
    -------
    DispatchResult
        The schedule, its costs, emissions, check and solve statistics.

    Raises
    ------
    SolverError
        When HiGHS finds no optimal solution (infeasible, time limit); the message says
        what to look at.

    Notes
    -----
    The model (PDCD-1 generalised), with ``dt`` the step [h], buildings ``b``, steps ``t``:

    .. math::

        \min \sum_t dt\,[(p_t + c_t e_t / 1000)\,imp_t - x_t\,exp_t
              + \sum_b k_b (pc_{bt} + pd_{bt})] + d\,\hat p

        imp_t - exp_t - \sum_b (pc_{bt} - pd_{bt}) = \sum_b (load_{bt} - pv_{bt})

        soc_{bt} = soc_{b,t-1} + dt\,(\eta^c_b pc_{bt} - pd_{bt}/\eta^d_b),\quad
        soc_{b,T-1} = soc^{end}_b

        imp_t \le \hat p,\quad \hat p \ge \hat p^{floor},\quad
        0 \le imp_t \le G^{imp}_t,\quad 0 \le exp_t \le G^{exp}_t

        pc_{bt} \le P_b u_{bt},\quad pd_{bt} \le P_b (1 - u_{bt})\quad
        \text{(only for pairs that need it)}

    See ``docs/optimisation.md`` for the full statement.

    Examples
    --------
    >>> import numpy as np
    >>> from carbontwin.optimizers import Batteries, DispatchProblem, solve
    >>> p = DispatchProblem(
    ...     interval_h=1.0,
    ...     load_kw=np.array([[10.0, 10.0, 30.0, 10.0]]),
    ...     pv_kw=np.zeros((1, 4)),
    ...     batteries=Batteries(energy_kwh=[20.0], power_kw=[10.0]),
    ...     import_price_cny_per_kwh=[0.3, 0.3, 1.2, 0.75],
    ...     demand_charge_cny_per_kw=1.0,
    ... )
    >>> r = solve(p)
    >>> bool(r.check.ok), r.binaries_needed
    (True, False)
    >>> round(r.peak_kw, 3) < 30.0
    True
    """
    t0 = time.perf_counter()
    h = matrix.new_highs(options)
    lay = matrix.pass_problem(h, problem)
    if extra_constraints is not None:
        extra_constraints(h, lay, problem)
    build_s = time.perf_counter() - t0
    run = lp_first(
        h, problem, lay, tol_kw=simultaneous_tol_kw, max_rounds=max_rounds, binaries=binaries
    )
    if not run.ok:
        msg = _failure_message(problem, run.status)
        raise SolverError(msg)
    a = run.arrays
    peak = float(a["peak_kw"])
    report = None
    arrays = (a["import_kw"], a["export_kw"], a["charge_kw"], a["discharge_kw"])
    asset_arrays = matrix.extract_assets(problem, lay, run.x) if lay.blocks else {}
    fuel = 0.0
    if check and binaries != "none":
        report = check_solution(problem, *arrays, a["soc_kwh"], peak, assets=asset_arrays or None)
        parts = dict(report.costs_cny)
        emissions = report.emissions_tco2
        fuel = report.fuel_emissions_tco2
    else:
        parts = costs(problem, *arrays, peak, assets=asset_arrays or None)
        parts.pop("objective_cny")
        if lay.blocks:
            fuel = asset_terms(problem, asset_arrays)[3]
        emissions = fuel + float(
            problem.interval_h * 1e-3 * (problem.grid_factor_tco2_per_mwh @ a["import_kw"])
        )
    pair_b, pair_t = np.divmod(run.pairs, problem.steps)
    stats = SolveStats(
        status=run.status,
        build_s=build_s,
        solve_s=run.solve_s,
        runs=run.runs,
        rounds=run.rounds,
        num_col=lay.num_col,
        num_row=lay.num_row,
        num_binaries=int(run.pairs.size),
        num_integers=int(lay.integer_cols.size),
        simplex_iterations=run.simplex_iterations,
        mip_nodes=run.mip_nodes,
    )
    result = DispatchResult(
        import_kw=a["import_kw"],
        export_kw=a["export_kw"],
        charge_kw=a["charge_kw"],
        discharge_kw=a["discharge_kw"],
        soc_kwh=a["soc_kwh"],
        peak_kw=peak,
        objective_cny=run.objective_cny,
        costs_cny=parts,
        emissions_tco2=emissions,
        binaries_needed=bool(run.pairs.size),
        binary_pairs=np.stack([pair_b, pair_t], axis=1),
        stats=stats,
        check=report,
        assets=asset_arrays,
        fuel_emissions_tco2=fuel,
    )
    stats.total_s = time.perf_counter() - t0
    return result
