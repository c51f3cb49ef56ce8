"""Optimisation models solved by HiGHS: dispatch, model-predictive control, reduction portfolios.

The park dispatch has a fast path (:func:`solve`: a vectorised sparse matrix passed to
HiGHS in one call, the LP relaxation first, binaries only where needed), a readable Pyomo
reference of the same formulation (:func:`solve_reference`), an independent checker
(:func:`check_solution`) and a rolling controller that updates one HiGHS model in place
(:class:`RollingDispatch`).
"""

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
    "MpcState",
    "RollingDispatch",
    "SolveStats",
    "WindowPlan",
    "baseline_rule",
    "build_reference",
    "check_solution",
    "costs",
    "solve",
    "solve_reference",
]
