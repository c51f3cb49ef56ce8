r"""Boilers and CHP on a heat bus: fuel, minimum load with on/off binaries, CHP power.

Each unit ``u`` makes heat ``q_ut`` [kW thermal] from fuel at thermal efficiency
``eta_u`` (fuel ``q_ut / eta_u`` [kW of fuel, lower heating value]); a CHP also makes
electric power ``r_u q_ut`` [kW] for the park's bus, ``r_u`` the power-to-heat ratio (or
``eta^e_u / eta_u`` from an electric efficiency). A unit with a minimum load runs between
it and its capacity when on and makes nothing when off (an on/off binary per step; units
without a minimum load need none). The heat bus balances every step, with optional heat
dumping:

.. math::

    \sum_u q_{ut} - q^{dump}_t = H_t,\quad 0 \le q^{dump}_t \le Q^{dump}_t,\quad
    Q^{min}_u o_{ut} \le q_{ut} \le Q^{max}_u o_{ut}

Fuel costs its price and its emissions (``f_u`` [tCO2/MWh of fuel]) the park's carbon
price; fuel emissions count against the emissions cap.
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
from carbontwin.optimizers.problem import _as_array

__all__ = ["HeatPlant", "add_thermal", "check_thermal", "thermal_block"]

_Array = np.ndarray


@dataclass(frozen=True, eq=False)
class HeatPlant:
    """Boilers and CHP units serving one heat demand.

    Per-unit fields have shape ``(U,)``.

    Parameters
    ----------
    heat_demand_kw : array_like, shape (T,)
        Heat demand of the heat bus [kW thermal].
    heat_max_kw : array_like, shape (U,)
        Heat capacity [kW thermal].
    efficiency_frac : array_like, shape (U,)
        Thermal efficiency, heat per fuel (LHV) [frac], in (0, 1.2] (condensing boilers
        exceed 1 on LHV).
    fuel_price_cny_per_kwh : array_like, per unit or (U, T)
        Fuel price per kWh of fuel (LHV) [CNY/kWh].
    fuel_factor_tco2_per_mwh : array_like, shape (U,)
        Emissions per MWh of fuel (LHV) [tCO2/MWh] (natural gas about 0.2).
    heat_min_kw : array_like, shape (U,)
        Minimum heat output when on [kW thermal]; default 0 (no binary).
    power_to_heat_ratio : array_like, shape (U,)
        Electric output per heat output of a CHP [1]; default 0 (a boiler).
    electric_efficiency_frac : array_like, shape (U,)
        Electric output per fuel, instead of ``power_to_heat_ratio`` [frac]; default 0.
    heat_dump_max_kw : array_like, shape (T,)
        Heat that may be dumped per step [kW thermal]; default 0 (the bus balances exactly).
    min_up_steps : array_like of int, shape (U,)
        Minimum up-time of a unit with a minimum load, once started [step]; default 1 (none).
    on_steps_start : array_like of int, shape (U,)
        Steps the unit has been on at the start of the horizon (0: off) [step]; a unit
        on for fewer than ``min_up_steps`` stays on for the rest of its up-time.
    """

    heat_demand_kw: _Array
    heat_max_kw: _Array
    efficiency_frac: _Array | float
    fuel_price_cny_per_kwh: _Array | float
    fuel_factor_tco2_per_mwh: _Array | float = 0.2
    heat_min_kw: _Array | float = 0.0
    power_to_heat_ratio: _Array | float = 0.0
    electric_efficiency_frac: _Array | float = 0.0
    heat_dump_max_kw: _Array | float = 0.0
    min_up_steps: _Array | int = 1
    on_steps_start: _Array | int = 0

    @property
    def n(self) -> int:
        """Number of units [1]."""
        return int(np.asarray(self.heat_max_kw).reshape(-1).shape[0])

    def validated(self, steps: int, interval_h: float) -> HeatPlant:
        """Return a copy with read-only arrays, validated."""
        n = self.n
        ch: dict[str, object] = {
            "heat_demand_kw": _as_array("heat_demand_kw", self.heat_demand_kw, (steps,)),
            "heat_dump_max_kw": _as_array("heat_dump_max_kw", self.heat_dump_max_kw, (steps,)),
            "fuel_price_cny_per_kwh": as_steps(
                "fuel_price_cny_per_kwh", self.fuel_price_cny_per_kwh, n, steps
            ),
        }
        for name in (
            "heat_max_kw",
            "efficiency_frac",
            "fuel_factor_tco2_per_mwh",
            "heat_min_kw",
            "power_to_heat_ratio",
            "electric_efficiency_frac",
        ):
            ch[name] = as_units(name, getattr(self, name), n)
        nonneg("heat_demand_kw", ch["heat_demand_kw"], "a heat demand")
        for name in (
            "heat_max_kw",
            "heat_min_kw",
            "fuel_factor_tco2_per_mwh",
            "power_to_heat_ratio",
            "electric_efficiency_frac",
        ):
            nonneg(name, ch[name], name.rsplit("_", 1)[0].replace("_", " "))
        nonneg("heat_dump_max_kw", ch["heat_dump_max_kw"], "a dump limit")
        eff = ch["efficiency_frac"]
        if ((eff <= 0) | (eff > 1.2)).any():
            u = int(np.flatnonzero((eff <= 0) | (eff > 1.2))[0])
            msg = f"efficiency_frac(={eff[u]}) of unit {u} must be in (0, 1.2]; give a fraction"
            raise ValidationError(msg)
        lo, hi = ch["heat_min_kw"], ch["heat_max_kw"]
        if (lo > hi).any():
            u = int(np.flatnonzero(lo > hi)[0])
            msg = (
                f"heat_min_kw(={lo[u]}) of unit {u} must be <= heat_max_kw(={hi[u]}); the "
                "minimum load is above the capacity, correct one of them"
            )
            raise ValidationError(msg)
        both = (ch["power_to_heat_ratio"] > 0) & (ch["electric_efficiency_frac"] > 0)
        if both.any():
            u = int(np.flatnonzero(both)[0])
            msg = (
                f"unit {u} gives both power_to_heat_ratio and electric_efficiency_frac; give "
                "one of them"
            )
            raise ValidationError(msg)
        for name in ("min_up_steps", "on_steps_start"):
            arr = as_index(name, getattr(self, name), n)
            if (arr < (1 if name == "min_up_steps" else 0)).any():
                u = int(np.flatnonzero(arr < (1 if name == "min_up_steps" else 0))[0])
                msg = (
                    f"{name}(={arr[u]}) of unit {u} must be >= {1 if name == 'min_up_steps' else 0}"
                )
                raise ValidationError(msg)
            ch[name] = arr
        return dataclasses.replace(self, **ch)

    @property
    def has_min_up(self) -> _Array:
        """Units with a binary and a minimum up-time of more than one step."""
        return self.has_binary & (self.min_up_steps > 1)  # type: ignore[operator]

    def forced_on(self, steps: int) -> _Array:
        """``(U, T)`` mask of steps a unit must stay on to finish its up-time from before."""
        left = np.where(
            self.on_steps_start > 0,  # type: ignore[operator]
            self.min_up_steps - self.on_steps_start,  # type: ignore[operator]
            0,
        )
        return (np.arange(steps)[None, :] < left[:, None]) & self.has_binary[:, None]

    def with_on_steps(self, on_steps: _Array) -> HeatPlant:
        """Return a copy whose units have been on for ``on_steps`` steps (0: off) [step]."""
        arr = np.asarray(on_steps)
        if arr.shape != (self.n,):
            msg = f"on_steps_start(={on_steps!r}) must be {self.n} whole numbers of steps"
            raise ValidationError(msg)
        return dataclasses.replace(self, on_steps_start=arr)

    @property
    def ratio(self) -> _Array:
        """Electric output per heat output [1]."""
        return self.power_to_heat_ratio + self.electric_efficiency_frac / self.efficiency_frac

    @property
    def has_binary(self) -> _Array:
        """Units with a minimum load, which get on/off binaries."""
        return self.heat_min_kw > 0  # type: ignore[operator]

    def heat_cost_cny_per_kwh(self, carbon_price_cny_per_tco2: _Array) -> _Array:
        """Fuel and fuel-carbon cost per kWh of heat, ``(U, T)`` [CNY/kWh]."""
        f = self.fuel_factor_tco2_per_mwh[:, None] * 1e-3  # type: ignore[index]
        return (self.fuel_price_cny_per_kwh + carbon_price_cny_per_tco2[None, :] * f) / (
            self.efficiency_frac[:, None]  # type: ignore[index]
        )

    def window(self, start: int, steps: int) -> HeatPlant:
        """Return the plant cut to steps ``start .. start+steps-1``."""
        cut = slice(start, start + steps)
        return dataclasses.replace(
            self,
            heat_demand_kw=self.heat_demand_kw[cut],
            heat_dump_max_kw=self.heat_dump_max_kw[cut],
            fuel_price_cny_per_kwh=self.fuel_price_cny_per_kwh[:, cut],  # type: ignore[index]
        )

    def structure(self) -> tuple[object, ...]:
        """Return what must not change for a model to be updated in place."""
        return (
            self.n,
            self.has_binary.tobytes(),
            self.has_min_up.tobytes(),
            self.min_up_steps.tobytes(),  # type: ignore[union-attr]
            self.ratio.tobytes(),
            (self.fuel_factor_tco2_per_mwh / self.efficiency_frac).tobytes(),  # type: ignore[operator]
        )


def thermal_block(hp: HeatPlant, ctx: Context) -> Block:
    """Build the plant's columns and rows for the matrix path.

    Columns ``heat_kw`` ``(U, T)``, ``on`` ``(U_b, T)`` binaries of the units with a minimum
    load, ``dump_kw`` ``(T,)``; rows ``Heat-balance`` ``(T,)``, ``Thermal-heat_kw-upper`` and
    ``Thermal-heat_kw-lower`` ``(U_b, T)``; entries ``+r_u`` in ``Park-balance`` and the fuel
    emissions in the cap row. Units with a minimum up-time add ``startup`` columns and
    ``Thermal-startup``, ``Thermal-min_up`` rows.
    """
    n, steps, dt = hp.n, ctx.steps, ctx.interval_h
    b = BlockBuilder("thermal", ctx)
    unit_b = np.flatnonzero(hp.has_binary)
    nb = unit_b.size
    cost = dt * hp.heat_cost_cny_per_kwh(ctx.carbon_price_cny_per_tco2)
    q = b.var("heat_kw", (n, steps), 0.0, hp.heat_max_kw[:, None], cost)  # type: ignore[index]
    on = b.var("on", (nb, steps), hp.forced_on(steps)[unit_b].astype(float), 1.0, integer=True)
    dump = b.var("dump_kw", (steps,), 0.0, hp.heat_dump_max_kw)
    bal = b.con("Heat-balance", steps, hp.heat_demand_kw, hp.heat_demand_kw)
    b.entries(bal[None, :], q, 1.0)
    b.entries(bal, dump, -1.0)
    up = b.con("Thermal-heat_kw-upper", nb * steps, -np.inf, 0.0).reshape(nb, steps)
    b.entries(up, q[unit_b], 1.0)
    b.entries(up, on, -hp.heat_max_kw[unit_b][:, None])  # type: ignore[index]
    low = b.con("Thermal-heat_kw-lower", nb * steps, 0.0, np.inf).reshape(nb, steps)
    b.entries(low, q[unit_b], 1.0)
    b.entries(low, on, -hp.heat_min_kw[unit_b][:, None])  # type: ignore[index]
    b.entries(np.broadcast_to(np.arange(steps), (n, steps)), q, hp.ratio[:, None])
    if ctx.cap_row is not None:
        f = dt * 1e-3 * hp.fuel_factor_tco2_per_mwh / hp.efficiency_frac  # type: ignore[operator]
        b.entries(np.full((n, steps), ctx.cap_row), q, f[:, None])
    _min_up(b, hp, on, unit_b, steps)
    return b.build()


def _min_up(b: BlockBuilder, hp: HeatPlant, on: np.ndarray, unit_b: np.ndarray, steps: int) -> None:
    """Add start-ups ``v_ut`` and the minimum up-time rows of the units that have one.

    ``v_ut >= o_ut - o_u,t-1`` (``Thermal-startup``) and
    ``sum_{tau = t-MU_u+1 .. t} v_u,tau <= o_ut`` (``Thermal-min_up``); ``v`` is continuous
    in [0, 1], integral at every vertex because ``o`` is binary.
    """
    pick = np.flatnonzero(hp.has_min_up[unit_b])
    if pick.size == 0:
        return
    m = pick.size
    o = on[pick]
    was_on = (hp.on_steps_start[unit_b[pick]] > 0).astype(float)  # type: ignore[index]
    v = b.var("startup", (m, steps), 0.0, 1.0)
    rhs = np.zeros((m, steps))
    rhs[:, 0] = -was_on
    st = b.con("Thermal-startup", m * steps, rhs.ravel(), np.inf).reshape(m, steps)
    b.entries(st, v, 1.0)
    b.entries(st, o, -1.0)
    b.entries(st[:, 1:], o[:, :-1], 1.0)
    up = b.con("Thermal-min_up", m * steps, -np.inf, 0.0).reshape(m, steps)
    b.entries(up, o, -1.0)
    mu = hp.min_up_steps[unit_b[pick]]  # type: ignore[index]
    i, t, lag = np.meshgrid(np.arange(m), np.arange(steps), np.arange(int(mu.max())), indexing="ij")
    ok = (lag < mu[i]) & (t - lag >= 0)
    b.entries(up[i[ok], t[ok]], v[i[ok], (t - lag)[ok]], 1.0)


def thermal_outputs(hp: HeatPlant, v: dict[str, _Array]) -> dict[str, _Array]:
    """Return result arrays: ``heat_kw``, ``on``, ``fuel_kw``, ``electric_kw``, ``dump_kw``.

    ``on`` covers every unit (1 where a unit without a binary makes heat); the others are
    ``(U, T)``, ``dump_kw`` ``(T,)`` [kW].
    """
    q = v["heat_kw"]
    on = (q > 1e-9).astype(float)
    on[hp.has_binary] = np.round(v["on"])
    return {
        "heat_kw": q,
        "on": on,
        "fuel_kw": q / hp.efficiency_frac[:, None],  # type: ignore[index]
        "electric_kw": q * hp.ratio[:, None],
        "dump_kw": v["dump_kw"],
    }


def add_thermal(m: Any, hp: HeatPlant, problem: Any) -> tuple[dict[int, Any], Any, Any]:
    """Add the plant to the Pyomo model ``m``; return (load by step, cost, emissions).

    Components: ``thermal_heat_kw`` over ``U x T``, ``thermal_on`` (binaries, units with a
    minimum load), ``thermal_dump_kw``; constraints ``heat_balance``, ``thermal_upper``,
    ``thermal_lower``. The load is the CHP output with a minus sign.
    """
    import pyomo.environ as pyo

    dt = problem.interval_h
    cost = hp.heat_cost_cny_per_kwh(problem.carbon_price_cny_per_tco2)
    m.U = pyo.RangeSet(0, hp.n - 1)
    m.UB = pyo.Set(initialize=[int(u) for u in np.flatnonzero(hp.has_binary)])
    m.thermal_heat_kw = pyo.Var(m.U, m.T, bounds=lambda m, u, t: (0.0, float(hp.heat_max_kw[u])))  # type: ignore[index]
    forced = hp.forced_on(len(m.T))
    m.thermal_on = pyo.Var(
        m.UB, m.T, domain=pyo.Binary, bounds=lambda m, u, t: (1 if forced[u, t] else 0, 1)
    )
    m.UM = pyo.Set(initialize=[int(u) for u in np.flatnonzero(hp.has_min_up)])
    m.thermal_startup = pyo.Var(m.UM, m.T, bounds=(0.0, 1.0))

    @m.Constraint(m.UM, m.T)
    def thermal_startup_def(m: Any, u: int, t: int) -> Any:
        before = m.thermal_on[u, t - 1] if t > 0 else float(hp.on_steps_start[u] > 0)  # type: ignore[index]
        return m.thermal_startup[u, t] >= m.thermal_on[u, t] - before

    @m.Constraint(m.UM, m.T)
    def thermal_min_up(m: Any, u: int, t: int) -> Any:
        first = max(0, t - int(hp.min_up_steps[u]) + 1)  # type: ignore[index]
        return sum(m.thermal_startup[u, s] for s in range(first, t + 1)) <= m.thermal_on[u, t]

    m.thermal_dump_kw = pyo.Var(m.T, bounds=lambda m, t: (0.0, float(hp.heat_dump_max_kw[t])))

    @m.Constraint(m.T)
    def heat_balance(m: Any, t: int) -> Any:
        heat = sum(m.thermal_heat_kw[u, t] for u in m.U)
        return heat - m.thermal_dump_kw[t] == float(hp.heat_demand_kw[t])

    @m.Constraint(m.UB, m.T)
    def thermal_upper(m: Any, u: int, t: int) -> Any:
        return m.thermal_heat_kw[u, t] <= float(hp.heat_max_kw[u]) * m.thermal_on[u, t]  # type: ignore[index]

    @m.Constraint(m.UB, m.T)
    def thermal_lower(m: Any, u: int, t: int) -> Any:
        return m.thermal_heat_kw[u, t] >= float(hp.heat_min_kw[u]) * m.thermal_on[u, t]  # type: ignore[index]

    load = {t: -sum(float(hp.ratio[u]) * m.thermal_heat_kw[u, t] for u in m.U) for t in m.T}
    total = sum(dt * float(cost[u, t]) * m.thermal_heat_kw[u, t] for u in m.U for t in m.T)
    f = 1e-3 * hp.fuel_factor_tco2_per_mwh / hp.efficiency_frac  # type: ignore[operator]
    emis = sum(dt * float(f[u]) * m.thermal_heat_kw[u, t] for u in m.U for t in m.T)
    return load, total, emis


def read_thermal(m: Any, hp: HeatPlant, steps: int) -> dict[str, _Array]:
    """Read the block's values from a solved Pyomo model."""
    unit_b = np.flatnonzero(hp.has_binary)
    on = np.zeros((unit_b.size, steps))
    for i, u in enumerate(unit_b):
        for t in range(steps):
            on[i, t] = m.thermal_on[int(u), t].value
    return {
        "heat_kw": pyomo_grid(m.thermal_heat_kw, hp.n, steps),
        "on": on,
        "dump_kw": np.array([m.thermal_dump_kw[t].value for t in range(steps)]),
    }


def _min_up_violation(hp: HeatPlant, on: _Array) -> float:
    """Largest shortfall of ``on`` below what the minimum up-times require [1]."""
    steps = on.shape[1]
    need = hp.forced_on(steps).astype(float)
    units = np.flatnonzero(hp.has_min_up)
    if units.size:
        before = (hp.on_steps_start[units] > 0).astype(float)  # type: ignore[index]
        o = np.round(on[units])
        start = np.maximum(o - np.concatenate([before[:, None], o[:, :-1]], axis=1), 0.0)
        for lag in range(min(int(hp.min_up_steps[units].max()), steps)):  # type: ignore[index]
            live = (lag < hp.min_up_steps[units])[:, None]  # type: ignore[index]
            need[units, lag:] = np.maximum(need[units, lag:], start[:, : steps - lag] * live)
    return pos(need - on)


def check_thermal(
    hp: HeatPlant, arrays: dict[str, _Array], problem: Any
) -> tuple[dict[str, float], _Array, dict[str, float], float]:
    """Check plant arrays (``heat_kw``, ``on`` of every unit, ``dump_kw``).

    Returns
    -------
    tuple
        Violations ``thermal_bounds`` [kW], ``heat_balance`` [kW], ``thermal_on`` (off
        units that make heat, on units below their minimum) [kW], ``thermal_integrality``,
        ``thermal_min_up`` (a unit off within its minimum up-time) [1];
        the load per step (minus the CHP power) [kW]; cost parts ``fuel_cny`` and
        ``fuel_carbon_cny`` [CNY]; fuel emissions [tCO2].
    """
    dt = problem.interval_h
    q = np.asarray(arrays["heat_kw"], dtype=np.float64)
    on = np.asarray(arrays["on"], dtype=np.float64)
    dump = np.asarray(arrays["dump_kw"], dtype=np.float64)
    b = hp.has_binary
    qmax = hp.heat_max_kw[:, None]  # type: ignore[index]
    v = {
        "thermal_bounds": max(pos(-q), pos(q - qmax), pos(-dump), pos(dump - hp.heat_dump_max_kw)),
        "heat_balance": float(np.abs(q.sum(axis=0) - dump - hp.heat_demand_kw).max()),
        "thermal_on": max(
            pos((q - qmax * on)[b]),
            pos((hp.heat_min_kw[:, None] * on - q)[b]),  # type: ignore[index]
        ),
        "thermal_integrality": float(np.abs(on - np.round(on))[b].max()) if b.any() else 0.0,
        "thermal_min_up": _min_up_violation(hp, on),
    }
    fuel_kwh = dt * q / hp.efficiency_frac[:, None]  # type: ignore[index]
    tco2 = 1e-3 * hp.fuel_factor_tco2_per_mwh[:, None] * fuel_kwh  # type: ignore[index]
    parts = {
        "fuel_cny": float((hp.fuel_price_cny_per_kwh * fuel_kwh).sum()),
        "fuel_carbon_cny": float((tco2 * problem.carbon_price_cny_per_tco2[None, :]).sum()),
    }
    return v, -(hp.ratio[:, None] * q).sum(axis=0), parts, float(tco2.sum())


def baseline_thermal(hp: HeatPlant, problem: Any) -> dict[str, _Array]:
    """Merit order: the cheapest heat first, each unit at least at its minimum when on.

    Returns the block's values (``heat_kw``, ``on`` of the units with a binary, ``dump_kw``).
    """
    steps = problem.steps
    cost = hp.heat_cost_cny_per_kwh(problem.carbon_price_cny_per_tco2).mean(axis=1)
    q = np.zeros((hp.n, steps))
    left = hp.heat_demand_kw.copy()
    for u in np.argsort(cost, kind="stable"):  # over units, vectorised over steps
        take = np.minimum(left, hp.heat_max_kw[u])  # type: ignore[index]
        take = np.where(take > 0, np.maximum(take, hp.heat_min_kw[u]), 0.0)  # type: ignore[index]
        q[u] = take
        left = np.maximum(left - take, 0.0)
    dump = np.clip(q.sum(axis=0) - hp.heat_demand_kw, 0.0, None)
    return {"heat_kw": q, "on": (q[hp.has_binary] > 0).astype(float), "dump_kw": dump}
