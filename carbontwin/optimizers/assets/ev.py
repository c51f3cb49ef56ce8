r"""EV charging: sessions per charger group, energy due by departure, group power limits.

A session ``s`` plugs into group ``g_s`` at step ``a_s`` and leaves at step ``d_s``
(exclusive: plugged during steps ``a_s .. d_s - 1``), needs ``E_s`` [kWh] and charges at
most ``P_s`` [kW] while plugged. Each group's chargers share a limit ``G_g`` [kW].
Energy short of the need at departure costs a penalty per kWh and is reported as unmet.
A session leaving after the horizon must get, within it, only what it could not still
get after it at full power.
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
    as_units,
    nonneg,
    pos,
    pyomo_grid,
    pyomo_series,
    required_within,
)

__all__ = ["EvSessions", "add_ev", "check_ev", "ev_block"]

_Array = np.ndarray


@dataclass(frozen=True, eq=False)
class EvSessions:
    r"""Charging sessions of a park's EV charger groups.

    Parameters
    ----------
    group : array_like of int, shape (S,)
        Charger group of each session (index into ``group_power_max_kw``).
    arrival_step, departure_step : array_like of int, shape (S,)
        First plugged step and the step the vehicle leaves (exclusive) [step]; relative to
        the horizon's step 0, so an arrival before it (negative) means already plugged.
    energy_kwh : array_like, shape (S,)
        Energy still needed by departure, into the vehicle [kWh].
    power_max_kw : array_like, shape (S,)
        Largest charging power of the session (vehicle and charger) [kW].
    group_power_max_kw : array_like, shape (G,)
        Largest total power of each charger group [kW].
    efficiency_frac : array_like, shape (S,)
        Charging efficiency, grid to vehicle [frac]; default 1.
    unmet_penalty_cny_per_kwh : array_like, shape (S,)
        Penalty per kWh short at departure [CNY/kWh]; default 10.

    Notes
    -----
    With ``m_st = 1`` while plugged, charge power ``p_st`` [kW] and shortfall ``u_s`` [kWh]:

    .. math::

        0 \le p_{st} \le P_s m_{st},\quad \sum_{s \in g} p_{st} \le G_g,\quad
        E^{req}_s \le \sum_t dt\,\eta_s p_{st} + u_s \le E_s

    where ``E^req_s = E_s`` for a departure within the horizon, else
    ``max(0, E_s - dt eta_s P_s (d_s - max(a_s, T)))``.
    """

    group: _Array
    arrival_step: _Array
    departure_step: _Array
    energy_kwh: _Array
    power_max_kw: _Array
    group_power_max_kw: _Array
    efficiency_frac: _Array | float = 1.0
    unmet_penalty_cny_per_kwh: _Array | float = 10.0

    @property
    def n(self) -> int:
        """Number of sessions [1]."""
        return int(np.asarray(self.energy_kwh).shape[0])

    @property
    def n_groups(self) -> int:
        """Number of charger groups [1]."""
        return int(np.asarray(self.group_power_max_kw).shape[0])

    def validated(self, steps: int, interval_h: float) -> EvSessions:
        """Return a copy with read-only arrays, validated."""
        e = np.asarray(self.energy_kwh, dtype=np.float64)
        g = np.asarray(self.group_power_max_kw, dtype=np.float64)
        if e.ndim != 1 or g.ndim != 1:
            msg = "energy_kwh (one per session) and group_power_max_kw (one per group) must be 1-d"
            raise ValidationError(msg)
        n = e.shape[0]
        ch: dict[str, object] = {
            "group": as_index("group", self.group, n),
            "arrival_step": as_index("arrival_step", self.arrival_step, n),
            "departure_step": as_index("departure_step", self.departure_step, n),
            "group_power_max_kw": as_units("group_power_max_kw", g, g.shape[0]),
        }
        for name in ("energy_kwh", "power_max_kw", "efficiency_frac", "unmet_penalty_cny_per_kwh"):
            ch[name] = as_units(name, getattr(self, name), n)
        grp = ch["group"]
        bad = (grp < 0) | (grp >= g.shape[0])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = (
                f"group(={grp[i]}) of session {i} must name one of the {g.shape[0]} charger "
                "groups (0-based index into group_power_max_kw)"
            )
            raise ValidationError(msg)
        arr, dep = ch["arrival_step"], ch["departure_step"]
        bad = dep <= arr
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = (
                f"departure_step(={dep[i]}) of session {i} must be after arrival_step"
                f"(={arr[i]}); the vehicle leaves before it arrives, correct the session"
            )
            raise ValidationError(msg)
        nonneg("energy_kwh", ch["energy_kwh"], "an energy need")
        nonneg("power_max_kw", ch["power_max_kw"], "a power limit")
        nonneg("group_power_max_kw", ch["group_power_max_kw"], "a power limit")
        nonneg("unmet_penalty_cny_per_kwh", ch["unmet_penalty_cny_per_kwh"], "a penalty")
        eff = ch["efficiency_frac"]
        if ((eff <= 0) | (eff > 1)).any():
            i = int(np.flatnonzero((eff <= 0) | (eff > 1))[0])
            msg = f"efficiency_frac(={eff[i]}) of session {i} must be in (0, 1]; give a fraction"
            raise ValidationError(msg)
        return dataclasses.replace(self, **ch)

    def plugged(self, steps: int) -> _Array:
        """``(S, T)`` mask of the steps each vehicle is plugged in."""
        t = np.arange(steps)[None, :]
        return (t >= self.arrival_step[:, None]) & (t < self.departure_step[:, None])

    def required_kwh(self, steps: int, interval_h: float) -> tuple[_Array, _Array]:
        """Energy required within the horizon and the most allowed [kWh], per session."""
        active = self.departure_step > 0
        need = np.where(active, self.energy_kwh, 0.0)
        rate = interval_h * self.efficiency_frac * self.power_max_kw
        req = required_within(need, rate, self.arrival_step, self.departure_step, steps)
        return req, need

    def window(self, start: int, steps: int) -> EvSessions:
        """Return the sessions with their steps relative to ``start``."""
        return dataclasses.replace(
            self,
            arrival_step=self.arrival_step - start,
            departure_step=self.departure_step - start,
        )

    def with_delivered(self, delivered_kwh: _Array) -> EvSessions:
        """Return a copy whose needs are reduced by the energy already delivered [kWh]."""
        d = np.asarray(delivered_kwh, dtype=np.float64)
        if d.shape != (self.n,) or not np.isfinite(d).all():
            msg = f"delivered_kwh(={delivered_kwh!r}) must be {self.n} finite values [kWh]"
            raise ValidationError(msg)
        e = np.maximum(self.energy_kwh - d, 0.0)
        e.setflags(write=False)
        return dataclasses.replace(self, energy_kwh=e)

    def structure(self) -> tuple[object, ...]:
        """Return what must not change for a model to be updated in place."""
        return (self.n, self.n_groups, tuple(self.group))


def ev_block(ev: EvSessions, ctx: Context) -> Block:
    """Build the sessions' columns and rows for the matrix path.

    Columns ``charge_kw`` ``(S, T)`` (upper bound 0 while unplugged) and ``unmet_kwh``
    ``(S,)``; rows ``EV-energy_kwh`` (one per session) and ``EV-group_kw`` ``(G, T)``;
    entries -1 in ``Park-balance``.
    """
    n, steps, dt = ev.n, ctx.steps, ctx.interval_h
    b = BlockBuilder("ev", ctx)
    hi = np.where(ev.plugged(steps), ev.power_max_kw[:, None], 0.0)
    p = b.var("charge_kw", (n, steps), 0.0, hi)
    unmet = b.var("unmet_kwh", (n,), 0.0, np.inf, ev.unmet_penalty_cny_per_kwh)
    req, need = ev.required_kwh(steps, dt)
    rows = b.con("EV-energy_kwh", n, req, need)
    b.entries(rows[:, None], p, dt * ev.efficiency_frac[:, None])
    b.entries(rows, unmet, 1.0)
    grp = b.con(
        "EV-group_kw", ev.n_groups * steps, -np.inf, np.repeat(ev.group_power_max_kw, steps)
    )
    b.entries(grp[(ev.group * steps)[:, None] + np.arange(steps)[None, :]], p, 1.0)
    b.entries(np.broadcast_to(np.arange(steps), (n, steps)), p, -1.0)
    return b.build()


def ev_outputs(ev: EvSessions, v: dict[str, _Array], interval_h: float) -> dict[str, _Array]:
    """Return result arrays: ``charge_kw``, ``group_kw``, ``delivered_kwh``, ``unmet_kwh``.

    Shapes ``(S, T)``, ``(G, T)``, ``(S,)``, ``(S,)`` [kW, kWh].
    """
    p = v["charge_kw"]
    group = np.zeros((ev.n_groups, p.shape[1]))
    np.add.at(group, ev.group, p)
    return {
        "charge_kw": p,
        "group_kw": group,
        "delivered_kwh": interval_h * ev.efficiency_frac * p.sum(axis=1),
        "unmet_kwh": v["unmet_kwh"],
    }


def add_ev(m: Any, ev: EvSessions, problem: Any) -> tuple[dict[int, Any], Any, Any]:
    """Add the sessions to the Pyomo model ``m``; return (load by step, cost).

    Components: ``ev_charge_kw`` over ``S x T``, ``ev_unmet_kwh`` over ``S``; constraints
    ``ev_energy`` and ``ev_group_limit``.
    """
    import pyomo.environ as pyo

    dt = problem.interval_h
    steps = len(m.T)
    plugged = ev.plugged(steps)
    req, need = ev.required_kwh(steps, dt)
    m.S = pyo.RangeSet(0, ev.n - 1)
    m.G = pyo.RangeSet(0, ev.n_groups - 1)

    def power_bounds(m: Any, s: int, t: int) -> tuple[float, float]:
        return (0.0, float(ev.power_max_kw[s]) if plugged[s, t] else 0.0)

    m.ev_charge_kw = pyo.Var(m.S, m.T, bounds=power_bounds)
    m.ev_unmet_kwh = pyo.Var(m.S, domain=pyo.NonNegativeReals)

    @m.Constraint(m.S)
    def ev_energy(m: Any, s: int) -> Any:
        delivered = sum(dt * float(ev.efficiency_frac[s]) * m.ev_charge_kw[s, t] for t in m.T)
        return (float(req[s]), delivered + m.ev_unmet_kwh[s], float(need[s]))

    @m.Constraint(m.G, m.T)
    def ev_group_limit(m: Any, g: int, t: int) -> Any:
        members = [s for s in m.S if ev.group[s] == g]
        if not members:
            return pyo.Constraint.Skip
        return sum(m.ev_charge_kw[s, t] for s in members) <= float(ev.group_power_max_kw[g])

    load = {t: sum(m.ev_charge_kw[s, t] for s in m.S) for t in m.T}
    cost = sum(float(ev.unmet_penalty_cny_per_kwh[s]) * m.ev_unmet_kwh[s] for s in m.S)
    return load, cost, 0.0


def read_ev(m: Any, ev: EvSessions, steps: int) -> dict[str, _Array]:
    """Read the block's values from a solved Pyomo model."""
    return {
        "charge_kw": pyomo_grid(m.ev_charge_kw, ev.n, steps),
        "unmet_kwh": pyomo_series(m.ev_unmet_kwh, ev.n),
    }


def check_ev(
    ev: EvSessions, arrays: dict[str, _Array], problem: Any
) -> tuple[dict[str, float], _Array, dict[str, float], float]:
    """Check session arrays (``charge_kw``) against the sessions.

    Returns
    -------
    tuple
        Violations ``ev_bounds`` (power limits, plugged-in only) [kW], ``ev_group`` [kW],
        ``ev_energy`` (more than needed) [kWh]; the load per step [kW]; cost parts
        ``unmet_ev_cny`` (the shortfall recomputed from the powers) [CNY]; no emissions.
    """
    dt = problem.interval_h
    p = np.asarray(arrays["charge_kw"], dtype=np.float64)
    steps = p.shape[1]
    hi = np.where(ev.plugged(steps), ev.power_max_kw[:, None], 0.0)
    group = np.zeros((ev.n_groups, steps))
    np.add.at(group, ev.group, p)
    req, need = ev.required_kwh(steps, dt)
    delivered = dt * ev.efficiency_frac * p.sum(axis=1)
    v = {
        "ev_bounds": max(pos(-p), pos(p - hi)),
        "ev_group": pos(group - ev.group_power_max_kw[:, None]),
        "ev_energy": pos(delivered - need),
    }
    unmet = np.maximum(req - delivered, 0.0)
    return v, p.sum(axis=0), {"unmet_ev_cny": float(ev.unmet_penalty_cny_per_kwh @ unmet)}, 0.0


def baseline_ev(ev: EvSessions, problem: Any) -> dict[str, _Array]:
    """Charge every session at full power from arrival until its need is met.

    Group limits are shared in proportion. Returns the block's values (``charge_kw``,
    ``unmet_kwh``).
    """
    steps, dt = problem.steps, problem.interval_h
    plugged = ev.plugged(steps)
    left = ev.required_kwh(steps, dt)[1].copy()
    p = np.zeros((ev.n, steps))
    for t in range(steps):  # a simulation, one step after the other
        want = np.where(
            plugged[:, t], np.minimum(ev.power_max_kw, left / (dt * ev.efficiency_frac)), 0.0
        )
        group = np.zeros(ev.n_groups)
        np.add.at(group, ev.group, want)
        scale = np.where(
            group > ev.group_power_max_kw, ev.group_power_max_kw / np.maximum(group, 1e-12), 1.0
        )
        p[:, t] = want * scale[ev.group]
        left = np.maximum(left - dt * ev.efficiency_frac * p[:, t], 0.0)
    req = ev.required_kwh(steps, dt)[0]
    delivered = dt * ev.efficiency_frac * p.sum(axis=1)
    return {"charge_kw": p, "unmet_kwh": np.maximum(req - delivered, 0.0)}
