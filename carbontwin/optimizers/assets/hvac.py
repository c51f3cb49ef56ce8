r"""HVAC thermal flexibility: first-order RC zones kept in a (soft) comfort band.

Each zone ``z`` is one thermal capacitance ``C_z`` [kWh/K] behind a resistance ``R_z``
[K/kW] to the outdoor air, with internal and solar gains ``g_zt`` [kW thermal], a heat pump
or chiller drawing electric power ``pc_zt`` (cooling) and ``ph_zt`` (heating) [kW] with
per-step coefficients of performance. The electric power adds to the park's load. The
temperature at the end of every step should stay in the band ``[lo_zt, hi_zt]`` (a wider
band when the zone is unoccupied); leaving it costs a penalty per K·h, so a forecast
error never makes the dispatch infeasible, and the discomfort is reported.
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
    as_steps,
    as_units,
    nonneg,
    pos,
    pyomo_grid,
)

__all__ = ["HvacZones", "add_hvac", "check_hvac", "hvac_block"]

_Array = np.ndarray


@dataclass(frozen=True, eq=False)
class HvacZones:
    r"""Thermal zones with electric cooling and heating (first-order RC model).

    Per-zone fields have shape ``(n_z,)``; per-step fields accept a scalar, ``(n_z,)``,
    ``(T,)`` or ``(n_z, T)``. Validated against ``T`` when a
    :class:`~carbontwin.optimizers.problem.DispatchProblem` is built with them.

    Parameters
    ----------
    capacitance_kwh_per_k : array_like, shape (n_z,)
        Thermal capacitance ``C_z`` [kWh/K]; > 0.
    resistance_k_per_kw : array_like, shape (n_z,)
        Thermal resistance to outdoor air ``R_z`` [K/kW]; > 0.
    temp_start_c : array_like, shape (n_z,)
        Zone temperature at the start of the horizon [°C].
    temp_out_c : array_like, per step
        Outdoor air temperature forecast [°C].
    comfort_min_c, comfort_max_c : array_like, per step
        Comfort band of the zone temperature at the end of each step [°C]; give a wider
        band for unoccupied steps.
    cooling_power_max_kw : array_like, per step
        Largest electric power of cooling [kW]; default 0 (no cooling).
    heating_power_max_kw : array_like, per step
        Largest electric power of heating [kW]; default 0 (no heating).
    cooling_cop, heating_cop : array_like, per step
        Coefficients of performance: thermal kW per electric kW [1]; > 0; default 3.
    gains_kw : array_like, per step
        Internal and solar heat gains [kW thermal]; default 0.
    discomfort_penalty_cny_per_kh : array_like, shape (n_z,)
        Penalty per kelvin-hour outside the band [CNY/(K·h)]; default 1000.

    Notes
    -----
    With ``a_z = exp(-dt/(R_z C_z))`` the exact discretisation for inputs constant over a
    step:

    .. math::

        T_{zt} = a_z T_{z,t-1} + (1 - a_z)\,[T^{out}_{zt} + R_z (g_{zt}
                 + COP^h_{zt} ph_{zt} - COP^c_{zt} pc_{zt})]
    """

    capacitance_kwh_per_k: _Array
    resistance_k_per_kw: _Array
    temp_start_c: _Array
    temp_out_c: _Array
    comfort_min_c: _Array
    comfort_max_c: _Array
    cooling_power_max_kw: _Array | float = 0.0
    heating_power_max_kw: _Array | float = 0.0
    cooling_cop: _Array | float = 3.0
    heating_cop: _Array | float = 3.0
    gains_kw: _Array | float = 0.0
    discomfort_penalty_cny_per_kh: _Array | float = 1000.0

    _PER_STEP = (
        "temp_out_c",
        "comfort_min_c",
        "comfort_max_c",
        "cooling_power_max_kw",
        "heating_power_max_kw",
        "cooling_cop",
        "heating_cop",
        "gains_kw",
    )

    @property
    def n(self) -> int:
        """Number of zones [1]."""
        return int(np.asarray(self.capacitance_kwh_per_k).shape[0])

    def validated(self, steps: int, interval_h: float) -> HvacZones:
        """Return a copy with every field a read-only array for ``steps`` steps, validated."""
        c = np.asarray(self.capacitance_kwh_per_k, dtype=np.float64)
        if c.ndim != 1:
            msg = f"capacitance_kwh_per_k has shape {c.shape} but must be one value per zone"
            raise ValidationError(msg)
        n = c.shape[0]
        ch = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            ch[f.name] = (
                as_steps(f.name, v, n, steps)
                if f.name in self._PER_STEP
                else as_units(f.name, v, n)
            )
        for name in ("capacitance_kwh_per_k", "resistance_k_per_kw", "cooling_cop", "heating_cop"):
            if (ch[name] <= 0).any():
                idx = tuple(int(i) for i in np.argwhere(ch[name] <= 0)[0])
                msg = f"{name}(={ch[name][idx]}) at {idx} must be > 0"
                raise ValidationError(msg)
        nonneg("cooling_power_max_kw", ch["cooling_power_max_kw"], "a power limit")
        nonneg("heating_power_max_kw", ch["heating_power_max_kw"], "a power limit")
        nonneg("discomfort_penalty_cny_per_kh", ch["discomfort_penalty_cny_per_kh"], "a penalty")
        inv = ch["comfort_min_c"] > ch["comfort_max_c"]
        if inv.any():
            z, t = (int(i) for i in np.argwhere(inv)[0])
            msg = (
                f"comfort_min_c(={ch['comfort_min_c'][z, t]}) must be <= comfort_max_c"
                f"(={ch['comfort_max_c'][z, t]}) for zone {z} at step {t}; the comfort band is "
                "inverted, swap or correct its bounds"
            )
            raise ValidationError(msg)
        return dataclasses.replace(self, **ch)

    def decay_frac(self, interval_h: float) -> _Array:
        """Per-step decay ``a_z = exp(-dt/(R_z C_z))`` [frac]."""
        return np.exp(-interval_h / (self.resistance_k_per_kw * self.capacitance_kwh_per_k))

    def window(self, start: int, steps: int) -> HvacZones:
        """Return the zones cut to steps ``start .. start+steps-1``."""
        cut = slice(start, start + steps)
        return dataclasses.replace(self, **{k: getattr(self, k)[:, cut] for k in self._PER_STEP})

    def with_temp_start(self, temp_c: _Array) -> HvacZones:
        """Return a copy starting from the measured zone temperatures ``temp_c`` [°C]."""
        t = np.asarray(temp_c, dtype=np.float64)
        if t.shape != (self.n,) or not np.isfinite(t).all():
            msg = f"temp_start_c(={temp_c!r}) must be {self.n} finite zone temperatures [°C]"
            raise ValidationError(msg)
        return dataclasses.replace(self, temp_start_c=t)

    def structure(self) -> tuple[object, ...]:
        """Return what must not change for a model to be updated in place."""
        return (self.n,)


def hvac_block(z: HvacZones, ctx: Context) -> Block:
    """Build the zones' columns and rows for the matrix path (see :class:`HvacZones`).

    Columns ``temp_c``, ``cooling_kw``, ``heating_kw``, ``under_k``, ``over_k`` (each ``(n_z, T)``);
    rows ``HVAC-temp_c-dynamics``, ``HVAC-comfort-lower``, ``HVAC-comfort-upper``; entries
    -1 in ``Park-balance`` for the electric power.
    """
    n, steps, dt = z.n, ctx.steps, ctx.interval_h
    b = BlockBuilder("hvac", ctx)
    a = z.decay_frac(dt)[:, None] * np.ones((1, steps))
    gain = 1.0 - a
    r = z.resistance_k_per_kw[:, None]
    pen = dt * z.discomfort_penalty_cny_per_kh[:, None] * np.ones((1, steps))
    temp = b.var("temp_c", (n, steps), -np.inf, np.inf)
    cool = b.var("cooling_kw", (n, steps), 0.0, z.cooling_power_max_kw)
    heat = b.var("heating_kw", (n, steps), 0.0, z.heating_power_max_kw)
    under = b.var("under_k", (n, steps), 0.0, np.inf, pen)
    over = b.var("over_k", (n, steps), 0.0, np.inf, pen)
    rhs = gain * (z.temp_out_c + r * z.gains_kw)
    rhs[:, 0] += a[:, 0] * z.temp_start_c
    dyn = b.con("HVAC-temp_c-dynamics", n * steps, rhs.ravel(), rhs.ravel()).reshape(n, steps)
    b.entries(dyn, temp, 1.0)
    b.entries(dyn[:, 1:], temp[:, :-1], -a[:, 1:])
    b.entries(dyn, cool, gain * r * z.cooling_cop)
    b.entries(dyn, heat, -gain * r * z.heating_cop)
    lo = b.con("HVAC-comfort-lower", n * steps, z.comfort_min_c.ravel(), np.inf).reshape(n, steps)
    b.entries(lo, temp, 1.0)
    b.entries(lo, under, 1.0)
    hi = b.con("HVAC-comfort-upper", n * steps, -np.inf, z.comfort_max_c.ravel()).reshape(n, steps)
    b.entries(hi, temp, 1.0)
    b.entries(hi, over, -1.0)
    t = np.broadcast_to(np.arange(steps), (n, steps))
    b.entries(t, cool, -1.0)
    b.entries(t, heat, -1.0)
    return b.build()


def hvac_coefficients(z: HvacZones, interval_h: float) -> tuple[_Array, _Array]:
    """Dynamics coefficients of cooling and heating power, ``(n_z, T)`` each [K/kW]."""
    gain = (1.0 - z.decay_frac(interval_h))[:, None]
    r = z.resistance_k_per_kw[:, None]
    return gain * r * z.cooling_cop, -gain * r * z.heating_cop


def hvac_outputs(v: dict[str, _Array], interval_h: float) -> dict[str, _Array]:
    """Return result arrays from the block's values, with ``power_kw`` and ``discomfort_kh``."""
    out = {k: v[k] for k in ("temp_c", "cooling_kw", "heating_kw")}
    out["power_kw"] = v["cooling_kw"] + v["heating_kw"]
    out["discomfort_kh"] = interval_h * (v["under_k"] + v["over_k"]).sum(axis=1)
    return out


def add_hvac(m: Any, z: HvacZones, problem: Any) -> tuple[dict[int, Any], Any, Any]:
    """Add the zones to the Pyomo model ``m`` (sets ``m.T``); return (load by step, cost).

    Components: ``hvac_temp_c``, ``hvac_cooling_kw``, ``hvac_heating_kw``, ``hvac_under_k``,
    ``hvac_over_k`` over ``Z x T``; constraints ``hvac_dynamics``, ``hvac_comfort_lower``,
    ``hvac_comfort_upper``.
    """
    import pyomo.environ as pyo

    dt = problem.interval_h
    a = z.decay_frac(dt)
    m.Z = pyo.RangeSet(0, z.n - 1)
    m.hvac_temp_c = pyo.Var(m.Z, m.T)
    m.hvac_cooling_kw = pyo.Var(
        m.Z, m.T, bounds=lambda m, i, t: (0.0, float(z.cooling_power_max_kw[i, t]))
    )
    m.hvac_heating_kw = pyo.Var(
        m.Z, m.T, bounds=lambda m, i, t: (0.0, float(z.heating_power_max_kw[i, t]))
    )
    m.hvac_under_k = pyo.Var(m.Z, m.T, domain=pyo.NonNegativeReals)
    m.hvac_over_k = pyo.Var(m.Z, m.T, domain=pyo.NonNegativeReals)

    @m.Constraint(m.Z, m.T)
    def hvac_dynamics(m: Any, i: int, t: int) -> Any:
        before = m.hvac_temp_c[i, t - 1] if t > 0 else float(z.temp_start_c[i])
        thermal = (
            float(z.gains_kw[i, t])
            + float(z.heating_cop[i, t]) * m.hvac_heating_kw[i, t]
            - float(z.cooling_cop[i, t]) * m.hvac_cooling_kw[i, t]
        )
        return m.hvac_temp_c[i, t] == float(a[i]) * before + (1 - float(a[i])) * (
            float(z.temp_out_c[i, t]) + float(z.resistance_k_per_kw[i]) * thermal
        )

    @m.Constraint(m.Z, m.T)
    def hvac_comfort_lower(m: Any, i: int, t: int) -> Any:
        return m.hvac_temp_c[i, t] + m.hvac_under_k[i, t] >= float(z.comfort_min_c[i, t])

    @m.Constraint(m.Z, m.T)
    def hvac_comfort_upper(m: Any, i: int, t: int) -> Any:
        return m.hvac_temp_c[i, t] - m.hvac_over_k[i, t] <= float(z.comfort_max_c[i, t])

    load = {t: sum(m.hvac_cooling_kw[i, t] + m.hvac_heating_kw[i, t] for i in m.Z) for t in m.T}
    cost = sum(
        dt
        * float(z.discomfort_penalty_cny_per_kh[i])
        * (m.hvac_under_k[i, t] + m.hvac_over_k[i, t])
        for i in m.Z
        for t in m.T
    )
    return load, cost, 0.0


def read_hvac(m: Any, z: HvacZones, steps: int) -> dict[str, _Array]:
    """Read the block's values from a solved Pyomo model (as :meth:`Block.values`)."""
    return {
        k: pyomo_grid(getattr(m, f"hvac_{k}"), z.n, steps)
        for k in ("temp_c", "cooling_kw", "heating_kw", "under_k", "over_k")
    }


def check_hvac(
    z: HvacZones, arrays: dict[str, _Array], problem: Any
) -> tuple[dict[str, float], _Array, dict[str, float], float]:
    """Check zone arrays (``temp_c``, ``cooling_kw``, ``heating_kw``) against the zones.

    Returns
    -------
    tuple
        Violations ``hvac_bounds``, ``hvac_dynamics`` [kW or K]; the electric load per
        step [kW]; cost parts ``discomfort_cny`` (recomputed from the temperatures) [CNY];
        no emissions.
    """
    dt = problem.interval_h
    temp = np.asarray(arrays["temp_c"], dtype=np.float64)
    cool = np.asarray(arrays["cooling_kw"], dtype=np.float64)
    heat = np.asarray(arrays["heating_kw"], dtype=np.float64)
    a = z.decay_frac(dt)[:, None]
    prev = np.concatenate([z.temp_start_c[:, None], temp[:, :-1]], axis=1)
    thermal = z.gains_kw + z.heating_cop * heat - z.cooling_cop * cool
    model = a * prev + (1 - a) * (z.temp_out_c + z.resistance_k_per_kw[:, None] * thermal)
    v = {
        "hvac_bounds": max(
            pos(-cool),
            pos(-heat),
            pos(cool - z.cooling_power_max_kw),
            pos(heat - z.heating_power_max_kw),
        ),
        "hvac_dynamics": float(np.abs(temp - model).max()) if temp.size else 0.0,
    }
    out_k = np.maximum(z.comfort_min_c - temp, 0.0) + np.maximum(temp - z.comfort_max_c, 0.0)
    cost = float(dt * (z.discomfort_penalty_cny_per_kh @ out_k.sum(axis=1)))
    return v, (cool + heat).sum(axis=0), {"discomfort_cny": cost}, 0.0


def baseline_hvac(z: HvacZones, problem: Any) -> dict[str, _Array]:
    """Return a thermostat rule's schedule: cool or heat just enough to stay in the band.

    Returns the block's values (``temp_c``, ``cooling_kw``, ``heating_kw``, ``under_k``,
    ``over_k``).
    """
    steps, dt = problem.steps, problem.interval_h
    a = z.decay_frac(dt)
    r = z.resistance_k_per_kw
    temp = np.zeros((z.n, steps))
    cool = np.zeros((z.n, steps))
    heat = np.zeros((z.n, steps))
    now = z.temp_start_c.copy()
    for t in range(steps):  # a simulation, one step after the other
        free = a * now + (1 - a) * (z.temp_out_c[:, t] + r * z.gains_kw[:, t])
        per_cool = (1 - a) * r * z.cooling_cop[:, t]
        per_heat = (1 - a) * r * z.heating_cop[:, t]
        cool[:, t] = np.clip(
            (free - z.comfort_max_c[:, t]) / per_cool, 0, z.cooling_power_max_kw[:, t]
        )
        heat[:, t] = np.clip(
            (z.comfort_min_c[:, t] - free) / per_heat, 0, z.heating_power_max_kw[:, t]
        )
        now = free - per_cool * cool[:, t] + per_heat * heat[:, t]
        temp[:, t] = now
    return {
        "temp_c": temp,
        "cooling_kw": cool,
        "heating_kw": heat,
        "under_k": np.maximum(z.comfort_min_c - temp, 0.0),
        "over_k": np.maximum(temp - z.comfort_max_c, 0.0),
    }
