r"""Rate-flexible process lines: a fixed energy per period at a power between limits.

A line ``f`` must use ``E_f`` [kWh] over its period (by default the horizon) at a power
``P^min_ft <= p_ft <= P^max_ft`` [kW]: a continuous load, no binaries. A period that ends
after the horizon (``period_end_step > T``, as in a rolling window) needs within the
horizon only what cannot be done after it at full power, and at most what leaves the
minimum power possible after it:

.. math::

    E_f - dt\,P^{max}_f\,n_f \le \sum_t dt\,p_{ft} \le E_f - dt\,P^{min}_f\,n_f,
    \qquad n_f = \text{period\_end\_step}_f - T
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
    as_steps,
    as_units,
    nonneg,
    pos,
    pyomo_grid,
)

__all__ = ["FlexibleLoads", "add_flexible", "check_flexible", "flexible_block"]

_Array = np.ndarray


@dataclass(frozen=True, eq=False)
class FlexibleLoads:
    """Process lines with a fixed energy per period and a flexible rate.

    Parameters
    ----------
    energy_kwh : array_like, shape (n_f,)
        Energy the line must use over its period [kWh].
    power_min_kw, power_max_kw : array_like, per step
        Power limits (scalar, ``(n_f,)``, ``(T,)`` or ``(n_f, T)``) [kW].
    period_end_step : array_like of int, shape (n_f,), optional
        End of the period (exclusive) [step]; default the horizon's end ``T``; never
        before it.
    """

    energy_kwh: _Array
    power_min_kw: _Array | float
    power_max_kw: _Array | float
    period_end_step: _Array | None = None

    @property
    def n(self) -> int:
        """Number of lines [1]."""
        return int(np.asarray(self.energy_kwh).reshape(-1).shape[0])

    def validated(self, steps: int, interval_h: float) -> FlexibleLoads:
        """Return a copy with read-only arrays, validated."""
        n = self.n
        e = as_units("energy_kwh", np.asarray(self.energy_kwh).reshape(-1), n)
        lo = as_steps("power_min_kw", self.power_min_kw, n, steps)
        hi = as_steps("power_max_kw", self.power_max_kw, n, steps)
        end = as_index(
            "period_end_step", steps if self.period_end_step is None else self.period_end_step, n
        )
        nonneg("energy_kwh", e, "an energy")
        nonneg("power_min_kw", lo, "a power")
        if (lo > hi).any():
            f, t = (int(i) for i in np.argwhere(lo > hi)[0])
            msg = (
                f"power_min_kw(={lo[f, t]}) must be <= power_max_kw(={hi[f, t]}) for line {f} "
                f"at step {t}; swap or correct them"
            )
            raise ValidationError(msg)
        if (end < steps).any():
            f = int(np.flatnonzero(end < steps)[0])
            msg = (
                f"period_end_step(={end[f]}) of line {f} must be >= the horizon's {steps} "
                "steps; split the horizon at the period's end"
            )
            raise ValidationError(msg)
        new = dataclasses.replace(
            self, energy_kwh=e, power_min_kw=lo, power_max_kw=hi, period_end_step=end
        )
        req, most = new.energy_range_kwh(interval_h)
        room_lo = interval_h * lo.sum(axis=1)
        room_hi = interval_h * hi.sum(axis=1)
        bad = (req > room_hi + 1e-9) | (most < room_lo - 1e-9)
        if bad.any():
            f = int(np.flatnonzero(bad)[0])
            msg = (
                f"energy_kwh(={e[f]}) of line {f} cannot be met: between {room_lo[f]:.6g} "
                f"and {room_hi[f]:.6g} kWh fit in the horizon at power_min_kw..power_max_kw; "
                "correct the energy or the power limits"
            )
            raise ValidationError(msg)
        return new

    def energy_range_kwh(self, interval_h: float) -> tuple[_Array, _Array]:
        """Least and most energy within the horizon [kWh], per line."""
        lo, hi = self.power_min_kw, self.power_max_kw
        after = self.period_end_step - lo.shape[1]  # type: ignore[union-attr,operator]
        req = self.energy_kwh - interval_h * hi[:, -1] * after  # type: ignore[index]
        most = self.energy_kwh - interval_h * lo[:, -1] * after  # type: ignore[index]
        return np.maximum(req, 0.0), np.maximum(most, 0.0)

    def window(self, start: int, steps: int) -> FlexibleLoads:
        """Return the lines cut to steps ``start .. start+steps-1``."""
        cut = slice(start, start + steps)
        return dataclasses.replace(
            self,
            power_min_kw=self.power_min_kw[:, cut],  # type: ignore[index]
            power_max_kw=self.power_max_kw[:, cut],  # type: ignore[index]
            period_end_step=self.period_end_step - start,  # type: ignore[operator]
        )

    def with_done(self, done_kwh: _Array) -> FlexibleLoads:
        """Return a copy whose energies are reduced by the energy already used [kWh]."""
        d = np.asarray(done_kwh, dtype=np.float64)
        if d.shape != (self.n,) or not np.isfinite(d).all():
            msg = f"done_kwh(={done_kwh!r}) must be {self.n} finite values [kWh]"
            raise ValidationError(msg)
        return dataclasses.replace(self, energy_kwh=np.maximum(self.energy_kwh - d, 0.0))

    def structure(self) -> tuple[object, ...]:
        """Return what must not change for a model to be updated in place."""
        return (self.n,)


def flexible_block(fl: FlexibleLoads, ctx: Context) -> Block:
    """Build the lines' columns and rows for the matrix path.

    Columns ``power_kw`` ``(n_f, T)``; rows ``Flex-energy_kwh`` (one per line); entries -1 in
    ``Park-balance``.
    """
    n, steps, dt = fl.n, ctx.steps, ctx.interval_h
    b = BlockBuilder("flexible", ctx)
    p = b.var("power_kw", (n, steps), fl.power_min_kw, fl.power_max_kw)
    req, most = fl.energy_range_kwh(dt)
    rows = b.con("Flex-energy_kwh", n, req, most)
    b.entries(rows[:, None], p, dt)
    b.entries(np.broadcast_to(np.arange(steps), (n, steps)), p, -1.0)
    return b.build()


def add_flexible(m: Any, fl: FlexibleLoads, problem: Any) -> tuple[dict[int, Any], Any, Any]:
    """Add the lines to the Pyomo model ``m``; return (load by step, cost, emissions).

    Components: ``flex_power_kw`` over ``F x T``; constraint ``flex_energy``.
    """
    import pyomo.environ as pyo

    dt = problem.interval_h
    req, most = fl.energy_range_kwh(dt)
    m.F = pyo.RangeSet(0, fl.n - 1)
    m.flex_power_kw = pyo.Var(
        m.F,
        m.T,
        bounds=lambda m, f, t: (float(fl.power_min_kw[f, t]), float(fl.power_max_kw[f, t])),  # type: ignore[index]
    )

    @m.Constraint(m.F)
    def flex_energy(m: Any, f: int) -> Any:
        return (float(req[f]), sum(dt * m.flex_power_kw[f, t] for t in m.T), float(most[f]))

    return {t: sum(m.flex_power_kw[f, t] for f in m.F) for t in m.T}, 0.0, 0.0


def read_flexible(m: Any, fl: FlexibleLoads, steps: int) -> dict[str, _Array]:
    """Read the block's values from a solved Pyomo model."""
    return {"power_kw": pyomo_grid(m.flex_power_kw, fl.n, steps)}


def check_flexible(
    fl: FlexibleLoads, arrays: dict[str, _Array], problem: Any
) -> tuple[dict[str, float], _Array, dict[str, float], float]:
    """Check line powers (``power_kw``): bounds [kW] and the period's energy [kWh]."""
    p = np.asarray(arrays["power_kw"], dtype=np.float64)
    req, most = fl.energy_range_kwh(problem.interval_h)
    used = problem.interval_h * p.sum(axis=1)
    v = {
        "flex_bounds": max(pos(fl.power_min_kw - p), pos(p - fl.power_max_kw)),
        "flex_energy": max(pos(req - used), pos(used - most)),
    }
    return v, p.sum(axis=0), {}, 0.0


def baseline_flexible(fl: FlexibleLoads, problem: Any) -> dict[str, _Array]:
    """Run each line at a constant share of its least required energy, within its limits."""
    req = fl.energy_range_kwh(problem.interval_h)[0]
    flat = (req / (problem.interval_h * problem.steps))[:, None]
    return {
        "power_kw": np.clip(
            np.broadcast_to(flat, fl.power_min_kw.shape), fl.power_min_kw, fl.power_max_kw
        )
    }  # type: ignore[union-attr]
