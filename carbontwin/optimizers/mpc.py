"""Rolling (model-predictive) dispatch: one HiGHS model updated in place window after window.

:class:`RollingDispatch` builds the dispatch model of the first window once. Each later
window changes only numbers in that model — the balance right-hand sides (new load and PV
forecasts), the import and export costs (new prices), the import and export limits, the
initial stored energy (the measured state), the peak floor and the emissions budget — and
re-solves it warm, LP first with binaries only where needed, exactly as
:func:`~carbontwin.optimizers.dispatch.solve`.

State is carried across windows (:class:`MpcState`): stored energy, the peak import so far
(a lower bound on the charged peak, so the demand charge prices only a new peak), and the
energy, cost and emissions used so far (an emissions budget is pro-rated over what is
left of its period). With assets it also carries the zone temperatures, the energy each EV
session has received (its remaining need), the shiftable runs already started (committed:
a fixed load for the rest of their run), the energy each flexible line has used, and the
boilers' and CHP units' on/off state. All of these change only numbers in the model; a
window whose asset structure differs (another set of EV sessions, zones, loads or units)
rebuilds the model, and the plan says so (``WindowPlan.rebuilt``).

When a window cannot be solved (infeasible, or out of time), the controller does not
stop: it falls back to the last good plan shifted forward or, without one, to a baseline
rule (:func:`baseline_rule`), and the plan says which and why.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import highspy
import numpy as np

from carbontwin.core.errors import ValidationError
from carbontwin.optimizers import matrix
from carbontwin.optimizers.check import CheckReport, check_solution
from carbontwin.optimizers.dispatch import (
    ExtraConstraints,
    _failure_message,
    lp_first,
    remove_binaries,
)
from carbontwin.optimizers.problem import DispatchProblem

if TYPE_CHECKING:
    from carbontwin.optimizers.assets import Block

__all__ = ["MpcState", "RollingDispatch", "WindowPlan", "baseline_rule"]

_STRUCTURAL = (
    "energy_kwh",
    "power_kw",
    "charge_efficiency_frac",
    "discharge_efficiency_frac",
    "soc_min_frac",
    "soc_max_frac",
)


@dataclass
class MpcState:
    """What the controller carries from one window to the next.

    Parameters
    ----------
    step : int
        Steps executed so far [1].
    soc_kwh : numpy.ndarray, shape (n_b,)
        Stored energy now [kWh].
    peak_kw : float
        Highest grid import so far in the billing period [kW].
    import_kwh, export_kwh : float
        Grid energy imported and exported so far [kWh].
    cost_cny : float
        Energy, carbon and throughput cost less export revenue so far, without the
        demand charge (which is ``demand_charge * peak_kw`` at the end) [CNY].
    emissions_tco2 : float
        Grid-import and fuel emissions so far [tCO2].
    zone_temp_c : numpy.ndarray, shape (n_z,), optional
        Zone temperatures now [°C] (with HVAC zones).
    ev_delivered_kwh : numpy.ndarray, shape (S,), optional
        Energy each EV session has received so far [kWh].
    shift_start_step : numpy.ndarray, shape (J,), optional
        Absolute step each shiftable run was started at (committed); NaN while not.
    flex_done_kwh : numpy.ndarray, shape (n_f,), optional
        Energy each flexible line has used so far in its period [kWh].
    thermal_on : numpy.ndarray, shape (U,), optional
        On/off state of each boiler or CHP unit in the last step [1].
    thermal_on_steps : numpy.ndarray of int, shape (U,), optional
        Steps each unit has been on without a break (0: off) [step]; a unit within its
        minimum up-time stays on in the next window.
    """

    step: int
    soc_kwh: np.ndarray
    peak_kw: float = 0.0
    import_kwh: float = 0.0
    export_kwh: float = 0.0
    cost_cny: float = 0.0
    emissions_tco2: float = 0.0
    zone_temp_c: np.ndarray | None = None
    ev_delivered_kwh: np.ndarray | None = None
    shift_start_step: np.ndarray | None = None
    flex_done_kwh: np.ndarray | None = None
    thermal_on: np.ndarray | None = None
    thermal_on_steps: np.ndarray | None = None


@dataclass
class WindowPlan:
    """The plan for one window.

    Parameters
    ----------
    source : {"optimal", "shifted", "baseline"}
        ``"optimal"``: HiGHS solved the window; ``"shifted"``: the last good plan moved
        forward (its tail from the baseline rule); ``"baseline"``: the baseline rule.
    reason : str
        Why a fallback was used ("" when optimal).
    step : int
        The controller's step at the window's start [1].
    import_kw, export_kw : numpy.ndarray, shape (W,)
        Planned grid import and export [kW].
    charge_kw, discharge_kw, soc_kwh : numpy.ndarray, shape (n_b, W)
        Planned battery schedule [kW, kWh].
    peak_kw : float
        The planned charged peak [kW].
    objective_cny : float
        The window's objective (recomputed from the arrays for a fallback) [CNY].
    status : str
        HiGHS' status of the last run.
    solve_s : float
        Time inside HiGHS ``run()`` [s].
    total_s : float
        Wall time of :meth:`RollingDispatch.solve` [s].
    binaries_needed : bool
        Whether binaries were added for this window.
    check : CheckReport
        The independent check of the plan against the window.
    problem : DispatchProblem
        The window as solved (measured SOC, peak floor and budget applied).
    assets : dict
        The assets' planned arrays, as ``DispatchResult.assets``.
    rebuilt : str
        Why the model was rebuilt for this window ("" when updated in place).
    """

    source: Literal["optimal", "shifted", "baseline"]
    reason: str
    step: int
    import_kw: np.ndarray
    export_kw: np.ndarray
    charge_kw: np.ndarray
    discharge_kw: np.ndarray
    soc_kwh: np.ndarray
    peak_kw: float
    objective_cny: float
    status: str
    solve_s: float
    total_s: float
    binaries_needed: bool
    check: CheckReport
    problem: DispatchProblem = field(repr=False)
    assets: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)
    rebuilt: str = ""

    @property
    def overhead_s(self) -> float:
        """Wall time outside HiGHS: updating the model, extracting, checking [s]."""
        return self.total_s - self.solve_s

    @property
    def time_ratio(self) -> float:
        """Compute time per control step ÷ the step's length (BOPTEST ``time_rat``) [1]."""
        return self.total_s / (self.problem.interval_h * 3600.0)

    @property
    def setpoint_kw(self) -> np.ndarray:
        """Battery power to apply now, per building: charge positive [kW]."""
        return self.charge_kw[:, 0] - self.discharge_kw[:, 0]


def _requests(problem: DispatchProblem) -> tuple[np.ndarray, np.ndarray]:
    """Charge and discharge requests of the baseline rule, before SOC limits [kW]."""
    bat = problem.batteries
    price = problem.import_price_cny_per_kwh
    p = bat.power_kw
    total_p = float(p.sum())
    steps = problem.steps
    charge = np.zeros((problem.n_b, steps))
    discharge = np.zeros((problem.n_b, steps))
    if total_p <= 0:
        return charge, discharge
    net = problem.net_kw
    valley = price <= price.min() + 1e-9
    peak = (price >= price.max() - 1e-9) & ~valley
    # charge in the valley as far as the import limit allows
    room = np.clip((problem.import_limit_kw - net) / total_p, 0.0, 1.0)
    share = np.where(valley, room, 0.0)
    # charge any PV surplus
    surplus = np.clip(-net / total_p, 0.0, 1.0)
    share = np.maximum(share, surplus)
    # discharge at the peak tariff, no more than the park's net load (no export), and
    # wherever the net load exceeds the import limit
    dshare = np.where(peak & (share == 0), np.clip(net / total_p, 0.0, 1.0), 0.0)
    over = np.clip((net - problem.import_limit_kw) / total_p, 0.0, 1.0)
    dshare = np.where(share == 0, np.maximum(dshare, over), 0.0)
    charge[:] = p[:, None] * share[None, :]
    discharge[:] = p[:, None] * dshare[None, :]
    return charge, discharge


def _simulate(
    problem: DispatchProblem,
    charge_req: np.ndarray,
    discharge_req: np.ndarray,
    asset_kw: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Apply battery requests step by step within power and SOC limits; grid takes the rest.

    ``asset_kw`` is the assets' electric load per step [kW], added to the net load.
    """
    bat = problem.batteries
    dt = problem.interval_h
    eta_c, eta_d = bat.charge_efficiency_frac, bat.discharge_efficiency_frac
    lo, hi = bat.soc_min_kwh, bat.soc_max_kwh
    soc = bat.soc_start_kwh.copy()
    n_b, steps = problem.n_b, problem.steps
    pc = np.zeros((n_b, steps))
    pd = np.zeros((n_b, steps))
    socs = np.zeros((n_b, steps))
    for t in range(steps):
        c = np.clip(charge_req[:, t], 0.0, bat.power_kw)
        c = np.minimum(c, np.maximum(hi - soc, 0.0) / (dt * eta_c))
        d = np.where(c > 0, 0.0, np.clip(discharge_req[:, t], 0.0, bat.power_kw))
        d = np.minimum(d, np.maximum(soc - lo, 0.0) * eta_d / dt)
        soc = soc + dt * (eta_c * c - d / eta_d)
        pc[:, t], pd[:, t], socs[:, t] = c, d, soc
    grid = problem.net_kw + pc.sum(axis=0) - pd.sum(axis=0)
    if asset_kw is not None:
        grid = grid + asset_kw
    return {
        "import_kw": np.maximum(grid, 0.0),
        "export_kw": np.maximum(-grid, 0.0),
        "charge_kw": pc,
        "discharge_kw": pd,
        "soc_kwh": socs,
    }


def baseline_rule(problem: DispatchProblem) -> dict[str, np.ndarray]:
    """Return a rule-based schedule: charge in the valley and from PV surplus, discharge at peak.

    Charging in the lowest-tariff steps is limited by the import limit; discharging in the
    highest-tariff steps is limited to the park's net load (no export from storage), and
    batteries also discharge wherever the net load exceeds the import limit; every battery
    stays within its power and SOC limits. The end SOC is not enforced.

    Parameters
    ----------
    problem : DispatchProblem
        The window (its ``soc_start`` is the state now).

    Returns
    -------
    dict of str to numpy.ndarray
        ``import_kw``, ``export_kw`` (T,) and ``charge_kw``, ``discharge_kw``,
        ``soc_kwh`` (n_b, T) [kW, kWh].
    """
    return _simulate(problem, *_requests(problem))


class RollingDispatch:
    """A rolling-horizon dispatch that keeps one HiGHS model and updates it in place.

    Parameters
    ----------
    problem : DispatchProblem
        The first window; later windows must have the same buildings, batteries
        (capacities, power, efficiencies, SOC band), step length and number of steps.
    options : dict, optional
        HiGHS options over :data:`~carbontwin.optimizers.matrix.HIGHS_OPTIONS`.
    time_limit_s : float, optional
        HiGHS time limit per re-solve [s]; beyond it the window falls back.
    emissions_budget_tco2 : float, optional
        Grid-import emissions allowed over the budget period [tCO2].
    budget_steps : int, optional
        Length of the budget period in steps; default the window's length. Each window
        may use the remaining budget pro-rated: ``(budget - used) * W / max(W, left)``.
    simultaneous_tol_kw : float
        Tolerance of the simultaneous charge/discharge test [kW].
    extra_constraints : callable, optional
        ``f(h, layout, problem)`` called once after the first build, as in
        :func:`~carbontwin.optimizers.dispatch.solve`. Its rows stay for every window and
        are not updated: use it for structural constraints only.

    Examples
    --------
    >>> import numpy as np
    >>> from carbontwin.optimizers import Batteries, DispatchProblem, RollingDispatch
    >>> window = DispatchProblem(
    ...     interval_h=1.0,
    ...     load_kw=np.full((2, 6), 20.0),
    ...     pv_kw=np.zeros((2, 6)),
    ...     batteries=Batteries(energy_kwh=[40.0, 0.0], power_kw=[10.0, 0.0]),
    ...     import_price_cny_per_kwh=[0.3, 0.3, 1.2, 1.2, 0.75, 0.75],
    ... )
    >>> mpc = RollingDispatch(window)
    >>> plan = mpc.solve()
    >>> plan.source
    'optimal'
    >>> state = mpc.advance()
    >>> state.step
    1
    """

    def __init__(
        self,
        problem: DispatchProblem,
        *,
        options: dict[str, object] | None = None,
        time_limit_s: float | None = None,
        emissions_budget_tco2: float | None = None,
        budget_steps: int | None = None,
        simultaneous_tol_kw: float = 1e-6,
        extra_constraints: ExtraConstraints | None = None,
    ) -> None:
        opts = dict(options or {})
        if time_limit_s is not None:
            if not np.isfinite(time_limit_s) or time_limit_s <= 0:
                msg = f"time_limit_s(={time_limit_s!r}) must be a positive number of seconds"
                raise ValidationError(msg)
            opts["time_limit"] = float(time_limit_s)
        if emissions_budget_tco2 is not None and (
            not np.isfinite(emissions_budget_tco2) or emissions_budget_tco2 < 0
        ):
            msg = f"emissions_budget_tco2(={emissions_budget_tco2!r}) must be a number >= 0"
            raise ValidationError(msg)
        self.emissions_budget_tco2 = emissions_budget_tco2
        self.budget_steps = int(budget_steps) if budget_steps is not None else problem.steps
        if emissions_budget_tco2 is not None and problem.emissions_cap_tco2 is None:
            problem = problem.replace(emissions_cap_tco2=float(emissions_budget_tco2))
        self.tol_kw = simultaneous_tol_kw
        self.state = MpcState(
            step=0,
            soc_kwh=problem.batteries.soc_start_kwh.copy(),
            peak_kw=problem.peak_floor_kw,
            **_initial_asset_state(problem),
        )
        self._opts = opts
        self._time_limit_s = None if time_limit_s is None else float(time_limit_s)
        self._extra = extra_constraints
        self._build(problem)
        self._raw = problem  # the last window as given, before the state is applied
        self._plan: WindowPlan | None = None
        self._good: WindowPlan | None = None
        self.log: list[tuple[int, str, str]] = []  # (step, source, reason)

    def _build(self, problem: DispatchProblem) -> None:
        """Build the model of ``problem`` into a new HiGHS object."""
        self._highs = matrix.new_highs(self._opts)
        self._template = problem
        self.layout = matrix.pass_problem(self._highs, problem)
        if self._extra is not None:
            self._extra(self._highs, self.layout, problem)
        self._base = (self._highs.getNumCol(), self._highs.getNumRow())
        self._loaded = problem  # the numbers currently in the model

    @property
    def highs(self) -> highspy.Highs:
        """The HiGHS model, reused by every window (a new one only after a rebuild)."""
        return self._highs

    @property
    def plan(self) -> WindowPlan | None:
        """The latest plan."""
        return self._plan

    # -------------------------------------------------------------- windows
    def window_problem(self, window: DispatchProblem | None = None) -> DispatchProblem:
        """Return ``window`` with the controller's state applied.

        The initial stored energy is the state's, the peak floor is at least the peak so
        far, and with a budget the emissions cap is the pro-rated remaining budget. The
        assets start from the state: zone temperatures, EV needs less the energy
        delivered, committed shiftable runs, flexible energy less the energy used.
        """
        w = self._raw if window is None else window
        t = self._template
        if (w.n_b, w.steps) != (t.n_b, t.steps) or w.interval_h != t.interval_h:
            msg = (
                f"window has {w.n_b} buildings x {w.steps} steps of {w.interval_h} h but the "
                f"controller was built for {t.n_b} x {t.steps} of {t.interval_h} h; give "
                "windows of the same shape (or build a new RollingDispatch)"
            )
            raise ValidationError(msg)
        for name in _STRUCTURAL:
            if not np.array_equal(getattr(w.batteries, name), getattr(t.batteries, name)):
                msg = (
                    f"window batteries.{name} differs from the controller's; the matrix is "
                    "kept between windows, so build a new RollingDispatch when batteries change"
                )
                raise ValidationError(msg)
        changes: dict[str, object] = {
            "batteries": w.batteries.with_soc_start(self.state.soc_kwh),
            "peak_floor_kw": max(w.peak_floor_kw, self.state.peak_kw),
            **_asset_changes(w, self.state),
        }
        if self.emissions_budget_tco2 is not None:
            left = max(0.0, self.emissions_budget_tco2 - self.state.emissions_tco2)
            steps_left = max(w.steps, self.budget_steps - self.state.step)
            cap = left * w.steps / steps_left
            if w.emissions_cap_tco2 is not None:
                cap = min(cap, w.emissions_cap_tco2)
            changes["emissions_cap_tco2"] = cap
        elif (w.emissions_cap_tco2 is None) != (t.emissions_cap_tco2 is None):
            msg = (
                "window emissions_cap_tco2 must be given in every window or in none, as in "
                "the first; use emissions_budget_tco2 for a budget over the period"
            )
            raise ValidationError(msg)
        return w.replace(**changes)

    def _update(self, p: DispatchProblem) -> None:
        """Change the model's numbers to those of ``p`` (same structure), in place."""
        h, lay = self._highs, self.layout
        old = self._loaded
        steps, n_b = lay.steps, lay.n_b
        costs = matrix.column_costs(p)
        col_lo, col_hi = matrix.column_bounds(p)
        row_lo, row_hi = matrix.row_bounds(p)
        # columns: import, export, peak (costs and bounds); throughput only when changed
        idx = np.arange(lay.imp, lay.peak + 1, dtype=np.int32)
        if not np.array_equal(
            p.batteries.throughput_cost_cny_per_kwh, old.batteries.throughput_cost_cny_per_kwh
        ):
            idx = np.concatenate([np.arange(lay.soc, dtype=np.int32), idx])
        h.changeColsCost(idx.size, idx, costs[idx])
        last_soc = (lay.soc + np.arange(n_b) * steps + steps - 1).astype(np.int32)
        bidx = np.concatenate([last_soc, np.arange(lay.imp, lay.peak + 1, dtype=np.int32)])
        h.changeColsBounds(bidx.size, bidx, col_lo[bidx], col_hi[bidx])
        # rows: balance, the first SOC row of each battery, the cap
        first_soc = lay.soc_row + np.arange(n_b) * steps
        ridx = [np.arange(steps), first_soc]
        if lay.has_cap:
            ridx.append(np.array([lay.cap_row]))
            if not np.array_equal(p.grid_factor_tco2_per_mwh, old.grid_factor_tco2_per_mwh):
                coef = p.interval_h * 1e-3 * p.grid_factor_tco2_per_mwh
                for t in range(steps):
                    h.changeCoeff(lay.cap_row, lay.imp + t, float(coef[t]))
        rows = np.concatenate(ridx).astype(np.int32)
        h.changeRowsBounds(rows.size, rows, row_lo[rows], row_hi[rows])
        if lay.blocks:
            blocks = matrix.asset_blocks(p)
            for old_b, new_b in zip(lay.blocks, blocks, strict=True):
                _update_block(h, old_b, new_b)
            self.layout = dataclasses.replace(lay, blocks=blocks)
        self._loaded = p

    def _rebuild_reason(self, p: DispatchProblem) -> str:
        """Why ``p`` cannot be loaded in place ("" when it can)."""
        t = self._template
        if set(p.assets) != set(t.assets):
            return (
                f"the window's assets {sorted(p.assets)} differ from the model's {sorted(t.assets)}"
            )
        for name, asset in p.assets.items():
            if asset.structure() != t.assets[name].structure():
                return f"the window's {name} structure differs from the model's"
        return ""

    def solve(self, window: DispatchProblem | None = None) -> WindowPlan:
        """Update the model to ``window`` and the current state, solve, and return the plan.

        Parameters
        ----------
        window : DispatchProblem, optional
            Forecasts and prices for the next ``W`` steps from now; default the last
            window's numbers (with the new state).

        Returns
        -------
        WindowPlan
            ``source`` says whether it is optimal or which fallback was used, and why.
        """
        t0 = time.perf_counter()
        p = self.window_problem(window)
        if window is not None:
            self._raw = window
        rebuilt = self._rebuild_reason(p)
        if rebuilt:
            self._build(p)
        else:
            self._update(p)
        run = lp_first(
            self._highs, p, self.layout, tol_kw=self.tol_kw, time_limit_s=self._time_limit_s
        )
        binaries = bool(run.pairs.size)
        remove_binaries(self._highs, p, self.layout, self._base)
        if run.ok:
            arrays = run.arrays
            assets = matrix.extract_assets(p, self.layout, run.x) if self.layout.blocks else {}
            plan = self._plan_from(p, arrays, "optimal", "", run.status, run.objective_cny, assets)
            plan.binaries_needed = binaries
            self._good = plan
        else:
            plan = self._fallback(p, run.status)
        plan.rebuilt = rebuilt
        plan.solve_s = run.solve_s
        plan.total_s = time.perf_counter() - t0
        self._plan = plan
        self.log.append((self.state.step, plan.source, plan.reason))
        return plan

    def _plan_from(
        self,
        p: DispatchProblem,
        arrays: dict[str, np.ndarray],
        source: Literal["optimal", "shifted", "baseline"],
        reason: str,
        status: str,
        objective: float | None,
        assets: dict[str, dict[str, np.ndarray]] | None = None,
    ) -> WindowPlan:
        peak = float(arrays.get("peak_kw", max(p.peak_floor_kw, float(arrays["import_kw"].max()))))
        # a fallback's violations are reported in its plan, not warned about
        report = _check_plan(p, arrays, peak, quiet=source != "optimal", assets=assets)
        return WindowPlan(
            source=source,
            reason=reason,
            step=self.state.step,
            import_kw=arrays["import_kw"],
            export_kw=arrays["export_kw"],
            charge_kw=arrays["charge_kw"],
            discharge_kw=arrays["discharge_kw"],
            soc_kwh=arrays["soc_kwh"],
            peak_kw=peak,
            objective_cny=report.objective_cny if objective is None else objective,
            status=status,
            solve_s=0.0,
            total_s=0.0,
            binaries_needed=False,
            check=report,
            problem=p,
            assets=assets or {},
        )

    def _fallback(self, p: DispatchProblem, status: str) -> WindowPlan:
        why = _failure_message(p, status)
        charge_req, discharge_req = _requests(p)
        good = self._good
        shift = self.state.step - good.step if good is not None else p.steps
        if good is not None and 0 <= shift < p.steps:
            keep = p.steps - shift
            charge_req[:, :keep] = good.charge_kw[:, shift:]
            discharge_req[:, :keep] = good.discharge_kw[:, shift:]
            source: Literal["shifted", "baseline"] = "shifted"
            reason = f"{why}; using the plan of step {good.step} shifted by {shift} step(s)"
        else:
            source = "baseline"
            reason = f"{why}; no earlier plan covers this window, using the baseline rule"
        assets, asset_kw = _asset_baseline(p)
        if assets:
            reason += "; the other assets follow their baseline rules"
        arrays = _simulate(p, charge_req, discharge_req, asset_kw if assets else None)
        return self._plan_from(p, arrays, source, reason, status, None, assets)

    # -------------------------------------------------------------- state
    def advance(
        self,
        *,
        soc_kwh: np.ndarray | None = None,
        import_kw: float | None = None,
        export_kw: float | None = None,
        zone_temp_c: np.ndarray | None = None,
    ) -> MpcState:
        """Commit the first step of the latest plan and move the state one step on.

        The assets' step is committed too: zone temperatures (measured, or the plan's),
        the energy each EV session received and each flexible line used, the shiftable
        runs the plan starts now, and the units' on/off state (and how long they have been on,
        for their minimum up-time); fuel cost, fuel carbon and
        discomfort of the step go into the cost, fuel emissions into the emissions.

        Parameters
        ----------
        soc_kwh : array_like, optional
            Measured stored energy at the end of the step [kWh]; default the plan's.
        import_kw, export_kw : float, optional
            Measured mean grid import and export over the step [kW]; default the plan's.
        zone_temp_c : array_like, optional
            Measured zone temperatures at the end of the step [°C]; default the plan's.

        Returns
        -------
        MpcState
            The new state.
        """
        plan = self._plan
        if plan is None:
            msg = "advance() needs a plan: call solve() first"
            raise ValidationError(msg)
        p = plan.problem
        dt = p.interval_h
        s = self.state
        k = s.step - plan.step  # steps of this plan already committed
        if k >= p.steps:
            msg = f"the latest plan (step {plan.step}) is used up; call solve() for a new one"
            raise ValidationError(msg)
        imp = float(plan.import_kw[k] if import_kw is None else import_kw)
        exp = float(plan.export_kw[k] if export_kw is None else export_kw)
        if not (np.isfinite(imp) and np.isfinite(exp)) or imp < 0 or exp < 0:
            msg = f"import_kw(={imp}) and export_kw(={exp}) must be finite and >= 0 [kW]"
            raise ValidationError(msg)
        thr = p.batteries.throughput_cost_cny_per_kwh
        moved = plan.charge_kw[:, k] + plan.discharge_kw[:, k]
        new_soc = plan.soc_kwh[:, k] if soc_kwh is None else np.asarray(soc_kwh, dtype=np.float64)
        if new_soc.shape != s.soc_kwh.shape or not np.isfinite(new_soc).all():
            msg = (
                f"soc_kwh(={soc_kwh!r}) must be {s.soc_kwh.size} finite values [kWh], "
                "one per battery"
            )
            raise ValidationError(msg)
        asset_state, asset_cost, asset_tco2 = _commit_assets(plan, k, s, zone_temp_c)
        self.state = dataclasses.replace(
            s,
            **asset_state,
            step=s.step + 1,
            soc_kwh=np.array(new_soc, dtype=np.float64),
            peak_kw=max(s.peak_kw, imp),
            import_kwh=s.import_kwh + dt * imp,
            export_kwh=s.export_kwh + dt * exp,
            cost_cny=s.cost_cny
            + dt
            * (
                float(p.import_cost_cny_per_kwh[k]) * imp
                - float(p.export_price_cny_per_kwh[k]) * exp
                + float(thr @ moved)
            )
            + asset_cost,
            emissions_tco2=s.emissions_tco2
            + dt * 1e-3 * float(p.grid_factor_tco2_per_mwh[k]) * imp
            + asset_tco2,
        )
        return self.state


def _check_plan(
    p: DispatchProblem,
    arrays: dict[str, np.ndarray],
    peak: float,
    *,
    quiet: bool,
    assets: dict[str, dict[str, np.ndarray]] | None = None,
) -> CheckReport:
    """Check a plan against its window; ``quiet`` silences the checker's warning."""
    names = ("import_kw", "export_kw", "charge_kw", "discharge_kw", "soc_kwh")
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore")
        return check_solution(p, *(arrays[n] for n in names), peak, assets=assets or None)


# ------------------------------------------------------------------ assets
def _initial_asset_state(p: DispatchProblem) -> dict[str, np.ndarray]:
    """Return the asset part of the first :class:`MpcState`."""
    out: dict[str, np.ndarray] = {}
    if p.hvac is not None:
        out["zone_temp_c"] = p.hvac.temp_start_c.copy()
    if p.ev is not None:
        out["ev_delivered_kwh"] = np.zeros(p.ev.n)
    if p.shift is not None:
        out["shift_start_step"] = np.array(p.shift.committed_start_step, dtype=np.float64)
    if p.flexible is not None:
        out["flex_done_kwh"] = np.zeros(p.flexible.n)
    if p.thermal is not None:
        out["thermal_on_steps"] = np.array(p.thermal.on_steps_start, dtype=np.int64)
        out["thermal_on"] = (out["thermal_on_steps"] > 0).astype(float)
    return out


def _asset_changes(w: DispatchProblem, s: MpcState) -> dict[str, object]:
    """Return the window's assets with the controller's state applied."""
    out: dict[str, object] = {}
    if w.hvac is not None and s.zone_temp_c is not None:
        out["hvac"] = w.hvac.with_temp_start(s.zone_temp_c)
    if w.ev is not None and s.ev_delivered_kwh is not None:
        out["ev"] = w.ev.with_delivered(s.ev_delivered_kwh)
    if w.shift is not None and s.shift_start_step is not None:
        rel = s.shift_start_step - s.step
        out["shift"] = w.shift.with_committed(
            np.where(np.isnan(rel), w.shift.committed_start_step, rel)  # type: ignore[arg-type]
        )
    if w.flexible is not None and s.flex_done_kwh is not None:
        out["flexible"] = w.flexible.with_done(s.flex_done_kwh)
    if w.thermal is not None and s.thermal_on_steps is not None:
        out["thermal"] = w.thermal.with_on_steps(s.thermal_on_steps)
    return out


def _update_block(h: highspy.Highs, old: Block, new: Block) -> None:
    """Change a block's costs, bounds, row bounds and changed coefficients in place."""
    cols = np.arange(new.col0, new.col0 + new.num_col, dtype=np.int32)
    h.changeColsCost(cols.size, cols, new.cost)
    h.changeColsBounds(cols.size, cols, new.col_lo, new.col_hi)
    rows = np.arange(new.row0, new.row0 + new.num_row, dtype=np.int32)
    if rows.size:
        h.changeRowsBounds(rows.size, rows, new.row_lo, new.row_hi)
    changed = np.flatnonzero(old.coo[2] != new.coo[2])
    for i in changed:  # only coefficients that moved (per-step COPs)
        h.changeCoeff(int(new.coo[0][i]), int(new.coo[1][i]), float(new.coo[2][i]))


def _asset_baseline(p: DispatchProblem) -> tuple[dict[str, dict[str, np.ndarray]], np.ndarray]:
    """Rule-based schedules of every asset and their electric load per step [kW]."""
    from carbontwin.optimizers.assets import ASSETS

    out: dict[str, dict[str, np.ndarray]] = {}
    load = np.zeros(p.steps)
    for kind in ASSETS:
        asset = getattr(p, kind.name)
        if asset is None:
            continue
        values = kind.baseline(asset, p)
        out[kind.name] = kind.outputs(asset, values, p.interval_h)
        load += kind.check(asset, out[kind.name], p)[1]
    return out, load


def _commit_assets(
    plan: WindowPlan, k: int, s: MpcState, zone_temp_c: np.ndarray | None
) -> tuple[dict[str, object], float, float]:
    """Return the asset state after step ``k`` of ``plan``, its asset cost and fuel tCO2."""
    p, a, dt = plan.problem, plan.assets, plan.problem.interval_h
    out: dict[str, object] = {}
    cost = 0.0
    tco2 = 0.0
    if p.hvac is not None and "hvac" in a:
        z = p.hvac
        if zone_temp_c is None:
            temp = a["hvac"]["temp_c"][:, k]
        else:
            temp = np.asarray(zone_temp_c, dtype=np.float64)
            if temp.shape != (z.n,) or not np.isfinite(temp).all():
                msg = f"zone_temp_c(={zone_temp_c!r}) must be {z.n} finite temperatures [°C]"
                raise ValidationError(msg)
        out["zone_temp_c"] = np.array(temp, dtype=np.float64)
        plan_t = a["hvac"]["temp_c"][:, k]
        outside = np.maximum(z.comfort_min_c[:, k] - plan_t, 0) + np.maximum(
            plan_t - z.comfort_max_c[:, k], 0
        )
        cost += float(dt * (z.discomfort_penalty_cny_per_kh @ outside))
    if p.ev is not None and "ev" in a and s.ev_delivered_kwh is not None:
        out["ev_delivered_kwh"] = (
            s.ev_delivered_kwh + dt * p.ev.efficiency_frac * (a["ev"]["charge_kw"][:, k])
        )
    if p.shift is not None and "shift" in a and s.shift_start_step is not None:
        start = a["shift"]["start_step"]
        now = np.isnan(s.shift_start_step) & (start == k)
        out["shift_start_step"] = np.where(now, plan.step + k, s.shift_start_step)
    if p.flexible is not None and "flexible" in a and s.flex_done_kwh is not None:
        out["flex_done_kwh"] = s.flex_done_kwh + dt * a["flexible"]["power_kw"][:, k]
    if p.thermal is not None and "thermal" in a:
        hp = p.thermal
        q = a["thermal"]["heat_kw"][:, k]
        out["thermal_on"] = np.array(a["thermal"]["on"][:, k])
        if s.thermal_on_steps is not None:
            out["thermal_on_steps"] = np.where(out["thermal_on"] > 0.5, s.thermal_on_steps + 1, 0)
        unit = hp.heat_cost_cny_per_kwh(p.carbon_price_cny_per_tco2)[:, k]
        cost += float(dt * (unit @ q))
        tco2 += float(dt * 1e-3 * ((hp.fuel_factor_tco2_per_mwh / hp.efficiency_frac) @ q))  # type: ignore[operator]
    return out, cost, tco2
