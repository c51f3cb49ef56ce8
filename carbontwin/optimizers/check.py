"""An independent check of a dispatch solution: objective recomputed, constraints measured.

:func:`check_solution` needs only the problem and the solution's arrays (from any tool:
the matrix path, the Pyomo reference, a rule-based plan): it recomputes the objective and
its parts from the arrays and reports the largest violation of every constraint family,
bounds included, and of the rule that a battery never charges and discharges in the same
step.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from carbontwin.core.errors import ConsistencyError
from carbontwin.optimizers.problem import DispatchProblem

__all__ = ["CheckReport", "asset_terms", "check_solution", "costs"]

#: Cost parts of the asset blocks, present when a problem has any asset [CNY].
ASSET_COSTS = ("fuel_cny", "fuel_carbon_cny", "discomfort_cny", "unmet_ev_cny")


def asset_terms(
    problem: DispatchProblem, assets: dict[str, dict[str, np.ndarray]] | None
) -> tuple[dict[str, float], np.ndarray, dict[str, float], float]:
    """Check every asset of ``problem`` against its arrays in ``assets``.

    Parameters
    ----------
    problem : DispatchProblem
        The problem.
    assets : dict of str to dict of str to numpy.ndarray
        Per asset field name its arrays (``DispatchResult.assets``): ``hvac``: ``temp_c``,
        ``cooling_kw``, ``heating_kw``; ``ev``: ``charge_kw``; ``shift``: ``start``;
        ``flexible``: ``power_kw``; ``thermal``: ``heat_kw``, ``on``, ``dump_kw``.

    Returns
    -------
    tuple
        Violations by family; the assets' electric load per step (CHP output negative)
        [kW]; the cost parts of :data:`ASSET_COSTS` recomputed from the arrays [CNY];
        fuel emissions [tCO2].

    Raises
    ------
    ConsistencyError
        When an asset of the problem has no arrays, or an array is missing or misshapen.
    """
    from carbontwin.optimizers.assets import ASSETS

    violations: dict[str, float] = {}
    load = np.zeros(problem.steps)
    parts = dict.fromkeys(ASSET_COSTS, 0.0)
    emissions = 0.0
    given = assets or {}
    for kind in ASSETS:
        asset = getattr(problem, kind.name)
        if asset is None:
            continue
        if kind.name not in given:
            msg = (
                f"the problem has {kind.name} assets but no {kind.name} arrays were given; "
                f"pass assets={{'{kind.name}': {{...}}}} (as DispatchResult.assets)"
            )
            raise ConsistencyError(msg)
        try:
            v, asset_load, p, e = kind.check(asset, given[kind.name], problem)
        except (KeyError, ValueError, IndexError) as exc:
            msg = f"{kind.name} arrays do not fit the problem: {exc}"
            raise ConsistencyError(msg) from exc
        if np.shape(asset_load) != (problem.steps,):
            msg = f"{kind.name} arrays have {np.shape(asset_load)} steps, not {problem.steps}"
            raise ConsistencyError(msg)
        violations.update(v)
        load += asset_load
        for key, val in p.items():
            parts[key] += val
        emissions += e
    return violations, load, parts, emissions


def costs(
    problem: DispatchProblem,
    import_kw: np.ndarray,
    export_kw: np.ndarray,
    charge_kw: np.ndarray,
    discharge_kw: np.ndarray,
    peak_kw: float,
    *,
    assets: dict[str, dict[str, np.ndarray]] | None = None,
) -> dict[str, float]:
    r"""Return the objective's parts recomputed from a solution's arrays [CNY].

    Parameters
    ----------
    problem : DispatchProblem
        The problem.
    import_kw, export_kw : numpy.ndarray, shape (T,)
        Grid import and export [kW].
    charge_kw, discharge_kw : numpy.ndarray, shape (n_b, T)
        Battery charge and discharge, AC side [kW].
    peak_kw : float
        The charged peak import [kW].
    assets : dict, optional
        The assets' arrays (see :func:`asset_terms`); needed when the problem has assets.

    Returns
    -------
    dict of str to float
        ``energy_cny`` (tariff on imports), ``carbon_cny`` (carbon price on import
        emissions), ``throughput_cny``, ``demand_charge_cny``, ``export_revenue_cny`` and
        ``objective_cny`` = energy + carbon + throughput + demand charge - export revenue;
        with assets also ``fuel_cny``, ``fuel_carbon_cny``, ``discomfort_cny`` and
        ``unmet_ev_cny``, added to the objective.

    Notes
    -----
    With ``dt`` the step [h]:

    .. math::

        J = \sum_t dt\,[(p_t + c_t e_t/1000)\,imp_t - x_t\,exp_t
            + \sum_b k_b (pc_{bt} + pd_{bt})] + d\,\hat p
            + J^{fuel} + J^{fuel\,CO_2} + J^{discomfort} + J^{unmet}
    """
    dt = problem.interval_h
    imp = np.asarray(import_kw, dtype=np.float64)
    exp = np.asarray(export_kw, dtype=np.float64)
    thr = problem.batteries.throughput_cost_cny_per_kwh
    parts = {
        "energy_cny": float(dt * (problem.import_price_cny_per_kwh @ imp)),
        "carbon_cny": float(
            dt
            * 1e-3
            * ((problem.carbon_price_cny_per_tco2 * problem.grid_factor_tco2_per_mwh) @ imp)
        ),
        "throughput_cny": float(
            dt * (thr @ (np.asarray(charge_kw).sum(axis=1) + np.asarray(discharge_kw).sum(axis=1)))
        ),
        "demand_charge_cny": float(problem.demand_charge_cny_per_kw * float(peak_kw)),
        "export_revenue_cny": float(dt * (problem.export_price_cny_per_kwh @ exp)),
    }
    parts["objective_cny"] = (
        parts["energy_cny"]
        + parts["carbon_cny"]
        + parts["throughput_cny"]
        + parts["demand_charge_cny"]
        - parts["export_revenue_cny"]
    )
    if problem.assets:
        extra = asset_terms(problem, assets)[2]
        parts.update(extra)
        parts["objective_cny"] += sum(extra.values())
    return parts


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_solution` found.

    Parameters
    ----------
    objective_cny : float
        The objective recomputed from the arrays [CNY].
    costs_cny : dict of str to float
        Its parts (see :func:`costs`) [CNY].
    emissions_tco2 : float
        Grid-import plus fuel emissions [tCO2].
    violations : dict of str to float
        Largest violation per constraint family [kW, kWh or tCO2]; 0 when satisfied.
    tol : float
        The tolerance the check used.
    """

    objective_cny: float
    costs_cny: dict[str, float]
    emissions_tco2: float
    violations: dict[str, float] = field(default_factory=dict)
    tol: float = 1e-6
    fuel_emissions_tco2: float = 0.0

    @property
    def grid_emissions_tco2(self) -> float:
        """Grid-import emissions [tCO2]."""
        return self.emissions_tco2 - self.fuel_emissions_tco2

    @property
    def max_violation(self) -> float:
        """The largest violation over every family [kW, kWh or tCO2]."""
        return max(self.violations.values(), default=0.0)

    @property
    def worst(self) -> str:
        """The family with the largest violation."""
        return max(self.violations, key=self.violations.__getitem__)

    @property
    def ok(self) -> bool:
        """Whether every violation is within ``tol``."""
        return self.max_violation <= self.tol

    def __str__(self) -> str:
        bad = {k: v for k, v in self.violations.items() if v > self.tol}
        if not bad:
            return (
                f"dispatch solution ok: objective {self.objective_cny:.6f} CNY, "
                f"largest violation {self.max_violation:.3g} ({self.worst}) <= {self.tol:g}"
            )
        listed = ", ".join(f"{k} {v:.3g}" for k, v in sorted(bad.items(), key=lambda kv: -kv[1]))
        return f"dispatch solution violates its constraints beyond {self.tol:g}: {listed}"


def _pos(x: np.ndarray | float) -> float:
    """Largest positive part of ``x`` (0 when none is positive)."""
    arr = np.asarray(x, dtype=np.float64)
    return float(max(0.0, arr.max())) if arr.size else 0.0


def check_solution(
    problem: DispatchProblem,
    import_kw: np.ndarray,
    export_kw: np.ndarray,
    charge_kw: np.ndarray,
    discharge_kw: np.ndarray,
    soc_kwh: np.ndarray,
    peak_kw: float | None = None,
    *,
    assets: dict[str, dict[str, np.ndarray]] | None = None,
    tol: float = 1e-6,
    strict: bool = False,
) -> CheckReport:
    """Check a dispatch solution against its problem, recomputing the objective.

    Parameters
    ----------
    problem : DispatchProblem
        The problem.
    import_kw, export_kw : array_like, shape (T,)
        Grid import and export [kW].
    charge_kw, discharge_kw : array_like, shape (n_b, T)
        Battery charge and discharge, AC side [kW].
    soc_kwh : array_like, shape (n_b, T)
        Stored energy at the end of each step [kWh].
    peak_kw : float, optional
        The charged peak [kW]; default ``max(peak_floor_kw, max(import_kw))``.
    assets : dict, optional
        The assets' arrays (see :func:`asset_terms`); needed when the problem has assets.
    tol : float
        Largest violation accepted [kW, kWh or tCO2]; default 1e-6.
    strict : bool
        Raise :class:`~carbontwin.core.errors.ConsistencyError` instead of warning when a
        violation exceeds ``tol``.

    Returns
    -------
    CheckReport
        The objective, its parts, the emissions and the violation per family:
        ``bounds`` (variable bounds incl. the import and export limits and the SOC band),
        ``balance`` (park power balance), ``soc_dynamics``, ``soc_end``, ``import_limit``,
        ``peak`` (the charged peak covers every import and the peak floor),
        ``simultaneous`` (``min(charge, discharge)`` of any battery and step) and, with a
        cap, ``emissions_cap`` (grid plus fuel emissions); with assets, their families
        (``hvac_*``, ``ev_*``, ``shift_*``, ``flex_*``, ``thermal_*``, ``heat_balance``).

    Raises
    ------
    ConsistencyError
        With ``strict=True``, when the solution violates a constraint beyond ``tol``.
    """
    n_b, steps = problem.n_b, problem.steps
    bat = problem.batteries
    dt = problem.interval_h
    arrays = {}
    for name, value, shape in (
        ("import_kw", import_kw, (steps,)),
        ("export_kw", export_kw, (steps,)),
        ("charge_kw", charge_kw, (n_b, steps)),
        ("discharge_kw", discharge_kw, (n_b, steps)),
        ("soc_kwh", soc_kwh, (n_b, steps)),
    ):
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != shape:
            msg = f"{name} has shape {arr.shape} but the problem needs {shape}"
            raise ConsistencyError(msg)
        arrays[name] = arr
    imp, exp = arrays["import_kw"], arrays["export_kw"]
    pc, pd, soc = arrays["charge_kw"], arrays["discharge_kw"], arrays["soc_kwh"]
    if peak_kw is None:
        peak_kw = max(problem.peak_floor_kw, float(imp.max()))
    peak = float(peak_kw)

    p_max = bat.power_kw[:, None]
    v: dict[str, float] = {}
    v["bounds"] = max(
        _pos(-imp),
        _pos(-exp),
        _pos(exp - problem.export_limit_kw),
        _pos(-pc),
        _pos(-pd),
        _pos(pc - p_max),
        _pos(pd - p_max),
        _pos(bat.soc_min_kwh[:, None] - soc),
        _pos(soc - bat.soc_max_kwh[:, None]),
    )
    asset_load = np.zeros(steps)
    fuel_emissions = 0.0
    if problem.assets:
        av, asset_load, _, fuel_emissions = asset_terms(problem, assets)
        v.update(av)
    v["balance"] = float(
        np.abs(imp - exp - (pc - pd).sum(axis=0) - asset_load - problem.net_kw).max()
    )
    prev = np.concatenate([bat.soc_start_kwh[:, None], soc[:, :-1]], axis=1)
    flow = dt * (
        bat.charge_efficiency_frac[:, None] * pc - pd / bat.discharge_efficiency_frac[:, None]
    )
    v["soc_dynamics"] = float(np.abs(soc - prev - flow).max()) if n_b else 0.0
    v["soc_end"] = float(np.abs(soc[:, -1] - bat.soc_end_kwh).max()) if n_b else 0.0
    v["import_limit"] = _pos(imp - problem.import_limit_kw)
    v["peak"] = max(_pos(imp - peak), _pos(problem.peak_floor_kw - peak))
    v["simultaneous"] = float(np.minimum(pc, pd).max()) if n_b else 0.0
    emissions = float(dt * 1e-3 * (problem.grid_factor_tco2_per_mwh @ imp)) + fuel_emissions
    if problem.emissions_cap_tco2 is not None:
        v["emissions_cap"] = _pos(emissions - problem.emissions_cap_tco2)
    parts = costs(problem, imp, exp, pc, pd, peak, assets=assets)
    report = CheckReport(
        objective_cny=parts.pop("objective_cny"),
        costs_cny=parts,
        emissions_tco2=emissions,
        violations={k: (val if math.isfinite(val) else math.inf) for k, val in v.items()},
        tol=tol,
        fuel_emissions_tco2=fuel_emissions,
    )
    if not report.ok:
        if strict:
            msg = str(report)
            raise ConsistencyError(msg)
        warnings.warn(str(report), stacklevel=2)
    return report
