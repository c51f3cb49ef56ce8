"""Optimisation models solved by HiGHS: dispatch, model-predictive control, reduction portfolios.

The park dispatch has a fast path (:func:`solve`: a vectorised sparse matrix passed to
HiGHS in one call, the LP relaxation first, binaries only where needed), a readable Pyomo
reference of the same formulation (:func:`solve_reference`), an independent checker
(:func:`check_solution`) and a rolling controller that updates one HiGHS model in place
(:class:`RollingDispatch`). Besides batteries, a problem may hold HVAC zones, EV charging
sessions, shiftable and rate-flexible process loads, and boilers and CHP
(:mod:`carbontwin.optimizers.assets`, one module per asset block).
"""

from carbontwin.optimizers.assets import (
    EvSessions,
    FlexibleLoads,
    HeatPlant,
    HvacZones,
    ShiftableLoads,
)
from carbontwin.optimizers.check import CheckReport, check_solution, costs
from carbontwin.optimizers.dispatch import DispatchResult, SolveStats, solve
from carbontwin.optimizers.mpc import MpcState, RollingDispatch, WindowPlan, baseline_rule
from carbontwin.optimizers.problem import Batteries, DispatchProblem
from carbontwin.optimizers.reference import build_reference, solve_reference

__all__ = [
    "Batteries",
    "CheckReport",
    "DispatchProblem",
    "DispatchResult",
    "EvSessions",
    "FlexibleLoads",
    "HeatPlant",
    "HvacZones",
    "MpcState",
    "RollingDispatch",
    "ShiftableLoads",
    "SolveStats",
    "WindowPlan",
    "baseline_rule",
    "build_reference",
    "check_solution",
    "costs",
    "solve",
    "solve_reference",
]
