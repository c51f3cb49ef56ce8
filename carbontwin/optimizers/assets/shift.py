r"""Shiftable process loads: a fixed power profile started once within a start window.

A load ``j`` runs a batch with the power profile ``w_j[0..L_j-1]`` [kW per step of its
run]. It must start no earlier than ``e_j`` and finish by its deadline ``D_j`` (so start at
most at ``D_j - L_j``). A binary ``y_js`` per candidate start ``s`` chooses the start; the
load's power is the sum over starts of the shifted profiles,

.. math::

    P_{jt} = \sum_s y_{js}\,w_j[t - s],\qquad \sum_s y_{js} = 1,

built in one vectorised pass over (load, start, profile step). A deadline after the
horizon lets the run's tail fall beyond it (as in a rolling window), and a load whose
latest start lies beyond the horizon may start later (``sum_s y_js <= 1``). A load already
started (``committed_start_step``) is a fixed load for the rest of its run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from carbontwin.core.errors import ValidationError
from carbontwin.optimizers.assets._common import (
    Block,
    BlockBuilder,
    Context,
    as_index,
    pos,
    pyomo_grid,
)

__all__ = ["ShiftableLoads", "add_shift", "check_shift", "shift_block"]

_Array = np.ndarray


@dataclass(frozen=True, eq=False)
class ShiftableLoads:
    """Batch process loads with a fixed profile and a start window.

    Parameters
    ----------
    profile_kw : sequence of array_like
        Power of each load over the steps of its run [kW]; runs may differ in length
        (stored zero-padded as ``(J, L_max)``, with ``duration_steps``).
    earliest_start_step : array_like of int, shape (J,)
        First step the run may start [step].
    deadline_step : array_like of int, shape (J,)
        Step by which the run must have finished (exclusive) [step].
    committed_start_step : array_like, shape (J,), optional
        Start of a run already committed, relative to step 0 (negative: started
        earlier); NaN for none. Default none.
    duration_steps : array_like of int, optional
        Length of each run [step]; set on validation from ``profile_kw``.

    Examples
    --------
    A 3-step batch at 100 kW that may run in steps 1..7 starts in the cheap hours:

    >>> import numpy as np
    >>> from carbontwin.optimizers import Batteries, DispatchProblem, ShiftableLoads, solve
    >>> p = DispatchProblem(
    ...     interval_h=1.0,
    ...     load_kw=np.full((1, 8), 10.0),
    ...     pv_kw=np.zeros((1, 8)),
    ...     batteries=Batteries.none(1),
    ...     import_price_cny_per_kwh=[1.0, 1.0, 1.0, 0.3, 0.3, 0.3, 1.0, 1.0],
    ...     shift=ShiftableLoads(
    ...         profile_kw=[[100.0] * 3], earliest_start_step=[1], deadline_step=[8]
    ...     ),
    ... )
    >>> r = solve(p)
    >>> int(r.assets["shift"]["start_step"][0])
    3
    >>> r.assets["shift"]["power_kw"][0].tolist()
    [0.0, 0.0, 0.0, 100.0, 100.0, 100.0, 0.0, 0.0]
    """

    profile_kw: Any
    earliest_start_step: _Array
    deadline_step: _Array
    committed_start_step: _Array | None = None
    duration_steps: _Array | None = None

    @property
    def n(self) -> int:
        """Number of loads [1]."""
        return int(np.asarray(self.earliest_start_step).reshape(-1).shape[0])

    def validated(self, steps: int, interval_h: float) -> ShiftableLoads:
        """Return a copy with read-only arrays, validated."""
        prof = self.profile_kw
        if isinstance(prof, np.ndarray) and prof.ndim == 2 and self.duration_steps is not None:
            rows = [prof[j, : int(d)] for j, d in enumerate(self.duration_steps)]
        else:
            rows = [np.asarray(p, dtype=np.float64).reshape(-1) for p in prof]
        n = len(rows)
        if n == 0:
            msg = "profile_kw has no loads; give at least one profile or leave shift=None"
            raise ValidationError(msg)
        dur = np.array([r.size for r in rows], dtype=np.int64)
        if (dur == 0).any():
            j = int(np.flatnonzero(dur == 0)[0])
            msg = f"profile_kw of load {j} is empty; give its power for each step of the run"
            raise ValidationError(msg)
        padded = np.zeros((n, int(dur.max())))
        for j, r in enumerate(rows):
            padded[j, : r.size] = r
        if not np.isfinite(padded).all() or (padded < 0).any():
            j = int(np.argwhere(~np.isfinite(padded) | (padded < 0))[0][0])
            msg = f"profile_kw of load {j} must be finite powers >= 0 [kW]"
            raise ValidationError(msg)
        early = as_index("earliest_start_step", self.earliest_start_step, n)
        dead = as_index("deadline_step", self.deadline_step, n)
        if self.committed_start_step is None:
            com = np.full(n, np.nan)
        else:
            com = np.asarray(self.committed_start_step, dtype=np.float64).reshape(-1)
            if com.shape != (n,) or np.isinf(com).any():
                msg = f"committed_start_step must be {n} steps (NaN for not committed)"
                raise ValidationError(msg)
        short = (dead - early < dur) & np.isnan(com)
        if short.any():
            j = int(np.flatnonzero(short)[0])
            msg = (
                f"profile_kw of load {j} lasts {dur[j]} steps but its window from "
                f"earliest_start_step(={early[j]}) to deadline_step(={dead[j]}) has only "
                f"{dead[j] - early[j]}; the shift profile is longer than its window, widen "
                "the window or shorten the profile"
            )
            raise ValidationError(msg)
        late = (dead - dur < 0) & np.isnan(com)
        if late.any():
            j = int(np.flatnonzero(late)[0])
            msg = (
                f"load {j} must have started by step {dead[j] - dur[j]} to meet "
                f"deadline_step(={dead[j]}); commit its start or move the deadline"
            )
            raise ValidationError(msg)
        for arr in (padded, dur, com):
            arr.setflags(write=False)
        return dataclasses.replace(
            self,
            profile_kw=padded,
            duration_steps=dur,
            earliest_start_step=early,
            deadline_step=dead,
            committed_start_step=com,
        )

    @property
    def committed(self) -> _Array:
        """Which loads have a committed start."""
        return ~np.isnan(self.committed_start_step)  # type: ignore[arg-type]

    def allowed(self, steps: int) -> _Array:
        """``(J, T)`` mask of the candidate starts in the horizon."""
        s = np.arange(steps)[None, :]
        latest = (self.deadline_step - self.duration_steps)[:, None]  # type: ignore[operator]
        return (s >= self.earliest_start_step[:, None]) & (s <= latest) & ~self.committed[:, None]

    def must_start(self, steps: int) -> _Array:
        """Which loads must start within the horizon (their latest start lies in it)."""
        latest = self.deadline_step - self.duration_steps  # type: ignore[operator]
        return ~self.committed & (latest <= steps - 1)

    def shifted(self, start: _Array, steps: int) -> _Array:
        """``(J, T)`` power of each load run from ``start`` (NaN: not run) [kW]."""
        t = np.arange(steps)[None, :]
        k = t - np.nan_to_num(start, nan=-(10**9))[:, None].astype(np.int64)
        ok = (k >= 0) & (k < self.duration_steps[:, None]) & ~np.isnan(start)[:, None]  # type: ignore[index]
        kk = np.clip(k, 0, self.profile_kw.shape[1] - 1)
        return np.where(ok, np.take_along_axis(self.profile_kw, kk, axis=1), 0.0)

    def fixed_kw(self, steps: int) -> _Array:
        """Power of the committed runs per step, a fixed load [kW]."""
        return self.shifted(self.committed_start_step, steps).sum(axis=0)  # type: ignore[arg-type]

    def window(self, start: int, steps: int) -> ShiftableLoads:
        """Return the loads with their steps relative to ``start``."""
        return dataclasses.replace(
            self,
            earliest_start_step=self.earliest_start_step - start,
            deadline_step=self.deadline_step - start,
            committed_start_step=self.committed_start_step - start,  # type: ignore[operator]
        )

    def with_committed(self, start_step: _Array) -> ShiftableLoads:
        """Return a copy with the committed starts ``start_step`` (relative; NaN for none)."""
        c = np.array(start_step, dtype=np.float64).reshape(-1)
        if c.shape != (self.n,):
            msg = f"committed_start_step(={start_step!r}) must be {self.n} values (NaN for none)"
            raise ValidationError(msg)
        c.setflags(write=False)
        return dataclasses.replace(self, committed_start_step=c)

    def structure(self) -> tuple[object, ...]:
        """Return what must not change for a model to be updated in place."""
        return (self.n, self.profile_kw.tobytes(), self.duration_steps.tobytes())  # type: ignore[union-attr]


def shift_block(sh: ShiftableLoads, ctx: Context) -> Block:
    """Build the loads' start binaries and rows for the matrix path.

    Columns ``start`` ``(J, T)`` (binaries; upper bound 0 outside the start window); rows
    ``Shift-start`` (one per load: ``sum_s y_js`` in [1, 1], or [0, 1] when it may start
    after the horizon, [0, 0] once committed); entries ``-w_j[t-s]`` in ``Park-balance``.
    """
    n, steps = sh.n, ctx.steps
    b = BlockBuilder("shift", ctx)
    y = b.var("start", (n, steps), 0.0, sh.allowed(steps).astype(float), integer=True)
    lo = sh.must_start(steps).astype(float)
    hi = (~sh.committed).astype(float)
    rows = b.con("Shift-start", n, lo, hi)
    b.entries(rows[:, None], y, 1.0)
    length = sh.profile_kw.shape[1]
    j, s, k = np.meshgrid(np.arange(n), np.arange(steps), np.arange(length), indexing="ij")
    ok = (k < sh.duration_steps[j]) & (s + k < steps)  # type: ignore[index]
    b.entries((s + k)[ok], y[j[ok], s[ok]], -sh.profile_kw[j[ok], k[ok]])
    return b.build()


def shift_outputs(sh: ShiftableLoads, v: dict[str, _Array]) -> dict[str, _Array]:
    """Return result arrays: ``start`` (J, T) 0/1, ``start_step`` (J,), ``power_kw`` (J, T)."""
    y = np.round(v["start"])
    steps = y.shape[1]
    chosen = np.where(y.max(axis=1) > 0.5, y.argmax(axis=1).astype(float), np.nan)
    start = np.where(sh.committed, sh.committed_start_step, chosen)  # type: ignore[arg-type]
    return {"start": y, "start_step": start, "power_kw": sh.shifted(start, steps)}


def add_shift(m: Any, sh: ShiftableLoads, problem: Any) -> tuple[dict[int, Any], Any, Any]:
    """Add the loads to the Pyomo model ``m``; return (load by step, cost, emissions).

    Components: ``shift_start`` binaries over ``J x T``; constraint ``shift_one_start``.
    """
    import pyomo.environ as pyo

    steps = len(m.T)
    allowed = sh.allowed(steps)
    must = sh.must_start(steps)
    fixed = sh.fixed_kw(steps)
    m.J = pyo.RangeSet(0, sh.n - 1)
    m.shift_start = pyo.Var(
        m.J, m.T, domain=pyo.Binary, bounds=lambda m, j, s: (0, 1 if allowed[j, s] else 0)
    )

    @m.Constraint(m.J)
    def shift_one_start(m: Any, j: int) -> Any:
        total = sum(m.shift_start[j, s] for s in m.T)
        if sh.committed[j]:
            return total == 0
        return total == 1 if must[j] else total <= 1

    def power(t: int) -> Any:
        return float(fixed[t]) + sum(
            float(sh.profile_kw[j, t - s]) * m.shift_start[j, s]
            for j in m.J
            for s in m.T
            if 0 <= t - s < sh.duration_steps[j]  # type: ignore[index]
        )

    return {t: power(t) for t in m.T}, 0.0, 0.0


def read_shift(m: Any, sh: ShiftableLoads, steps: int) -> dict[str, _Array]:
    """Read the block's values from a solved Pyomo model."""
    return {"start": pyomo_grid(m.shift_start, sh.n, steps)}


def check_shift(
    sh: ShiftableLoads, arrays: dict[str, _Array], problem: Any
) -> tuple[dict[str, float], _Array, dict[str, float], float]:
    """Check the start binaries (``start``, (J, T)) against the loads.

    Returns
    -------
    tuple
        Violations ``shift_integrality`` (distance of a start from 0 or 1),
        ``shift_window`` (a start outside its window), ``shift_start`` (not exactly one
        start when one is due); the load per step from the chosen starts and the
        committed runs [kW]; no cost parts; no emissions.
    """
    y = np.asarray(arrays["start"], dtype=np.float64)
    steps = y.shape[1]
    total = y.sum(axis=1)
    must = sh.must_start(steps)
    free = ~sh.committed
    v = {
        "shift_integrality": float(np.abs(y - np.round(y)).max()) if y.size else 0.0,
        "shift_window": pos(np.where(sh.allowed(steps), 0.0, np.abs(y))),
        "shift_start": max(
            pos(np.where(must, np.abs(total - 1.0), 0.0)),
            pos(np.where(free, total - 1.0, np.abs(total))),
        ),
    }
    length = sh.profile_kw.shape[1]
    power = np.zeros((sh.n, steps))
    for k in range(min(length, steps)):  # over profile steps only, vectorised over loads and starts
        w = np.where(k < sh.duration_steps, sh.profile_kw[:, k], 0.0)  # type: ignore[operator]
        power[:, k:] += w[:, None] * y[:, : steps - k]
    load = power.sum(axis=0) + sh.fixed_kw(steps)
    return v, load, {}, 0.0


def baseline_shift(sh: ShiftableLoads, problem: Any) -> dict[str, _Array]:
    """Start every due run at its earliest allowed step. Returns ``{"start": (J, T)}``."""
    allowed = sh.allowed(problem.steps)
    y = np.zeros(allowed.shape)
    first = allowed.argmax(axis=1)
    due = allowed.any(axis=1)
    y[np.flatnonzero(due), first[due]] = 1.0
    return {"start": y}
