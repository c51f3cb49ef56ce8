"""Problem data of the park day-ahead dispatch: batteries and per-step series as numpy arrays.

A :class:`DispatchProblem` holds everything the dispatch models need, already in canonical
units and as float64 arrays: per building its base load and PV, per building its battery
(:class:`Batteries`), per step the tariff, the grid emission factor and the carbon price,
and the park's grid limits. Construction validates every field and fails early with a
message naming the field, the value and the fix.

Arrays are indexed ``[building]`` (shape ``(n_b,)``), ``[step]`` (shape ``(T,)``) or
``[building, step]`` (shape ``(n_b, T)``). A scalar given for a per-building or per-step
field is broadcast.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from carbontwin.core.errors import ValidationError

if TYPE_CHECKING:
    from carbontwin.optimizers.assets import (
        EvSessions,
        FlexibleLoads,
        HeatPlant,
        HvacZones,
        ShiftableLoads,
    )

#: The optional asset fields of a problem, in the order the model stacks their blocks.
ASSET_FIELDS = ("hvac", "ev", "shift", "flexible", "thermal")

__all__ = ["Batteries", "DispatchProblem"]

_Array = np.ndarray


def _where(index: tuple[int, ...]) -> str:
    return f" at index {index[0] if len(index) == 1 else index}" if index else ""


def _as_array(name: str, value: object, shape: tuple[int, ...]) -> _Array:
    """Return ``value`` as a float64 array of ``shape`` (scalars broadcast), finite."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        msg = f"{name}(={value!r}) must be numbers; pass a float or an array of floats"
        raise ValidationError(msg) from exc
    if arr.ndim == 0:
        arr = np.full(shape, float(arr))
    elif arr.shape != shape:
        msg = (
            f"{name} has shape {arr.shape} but must have shape {shape}; "
            "give one value per building and/or per step (or a scalar)"
        )
        raise ValidationError(msg)
    else:
        arr = np.array(arr, dtype=np.float64, copy=True)
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        msg = (
            f"{name}(={arr[idx]}) must be finite{_where(idx)}; "
            "fill missing forecast or meter values before dispatching"
        )
        raise ValidationError(msg)
    arr.setflags(write=False)
    return arr


def _check_range(
    name: str, arr: _Array, lo: float | None = None, hi: float | None = None, fix: str = ""
) -> None:
    if lo is not None and (arr < lo).any():
        idx = tuple(int(i) for i in np.argwhere(arr < lo)[0])
        msg = f"{name}(={arr[idx]}) must be >= {lo}{_where(idx)}{fix}"
        raise ValidationError(msg)
    if hi is not None and (arr > hi).any():
        idx = tuple(int(i) for i in np.argwhere(arr > hi)[0])
        msg = f"{name}(={arr[idx]}) must be <= {hi}{_where(idx)}{fix}"
        raise ValidationError(msg)


def _as_limit(name: str, value: float | _Array | None, steps: int) -> _Array:
    """Return a per-step power limit [kW]: ``None`` or ``inf`` means none; NaN is refused."""
    if value is None:
        arr = np.full(steps, np.inf)
    else:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            msg = f"{name}(={value!r}) must be a number [kW], an array of them, or None"
            raise ValidationError(msg) from exc
        if arr.ndim == 0:
            arr = np.full(steps, float(arr))
        elif arr.shape != (steps,):
            msg = f"{name} has shape {arr.shape} but must have shape ({steps},) or be a scalar"
            raise ValidationError(msg)
        else:
            arr = arr.copy()
    if np.isnan(arr).any():
        idx = int(np.flatnonzero(np.isnan(arr))[0])
        msg = f"{name}(=nan) at step {idx} must be a number; use inf (or None) for no limit"
        raise ValidationError(msg)
    _check_range(name, arr, lo=0.0, fix="; a power limit cannot be negative")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Batteries:
    """One battery per building (a zero-size battery stands for none).

    Every field is an array of shape ``(n_b,)``; scalars are broadcast to ``n_b`` given
    explicitly or taken from ``energy_kwh``.

    Parameters
    ----------
    energy_kwh : array_like
        Usable energy capacity ``E_b`` [kWh]; 0 for a building without a battery.
    power_kw : array_like
        Largest charge and discharge power on the AC side ``P_b`` [kW].
    charge_efficiency_frac, discharge_efficiency_frac : array_like
        Efficiencies ``eta_c``, ``eta_d`` in (0, 1] [frac]; default 0.95.
    soc_min_frac, soc_max_frac : array_like
        State-of-charge band as fractions of ``energy_kwh`` [frac]; default 0.1 and 0.9.
    soc_start_frac : array_like
        State of charge at the start of the horizon [frac]; default 0.5.
    soc_end_frac : array_like, optional
        State of charge required at the end of the horizon [frac]; default equal to
        ``soc_start_frac`` (a cyclic schedule).
    throughput_cost_cny_per_kwh : array_like
        Cost per kWh charged and per kWh discharged (AC side) [CNY/kWh]; default 0.
    """

    energy_kwh: _Array
    power_kw: _Array
    charge_efficiency_frac: _Array | float = 0.95
    discharge_efficiency_frac: _Array | float = 0.95
    soc_min_frac: _Array | float = 0.1
    soc_max_frac: _Array | float = 0.9
    soc_start_frac: _Array | float = 0.5
    soc_end_frac: _Array | float | None = None
    throughput_cost_cny_per_kwh: _Array | float = 0.0

    def __post_init__(self) -> None:
        e = np.asarray(self.energy_kwh, dtype=np.float64)
        if e.ndim != 1:
            msg = (
                f"energy_kwh has shape {e.shape} but must be one value per building "
                "(a 1-d array; use 0 for a building without a battery)"
            )
            raise ValidationError(msg)
        shape = e.shape
        put = object.__setattr__
        if self.soc_end_frac is None:
            put(self, "soc_end_frac", self.soc_start_frac)
        for f in dataclasses.fields(self):
            put(self, f.name, _as_array(f.name, getattr(self, f.name), shape))
        _check_range("energy_kwh", self.energy_kwh, lo=0.0, fix="; a capacity cannot be negative")
        _check_range("power_kw", self.power_kw, lo=0.0, fix="; a power cannot be negative")
        for name in ("charge_efficiency_frac", "discharge_efficiency_frac"):
            arr = getattr(self, name)
            if (arr <= 0).any() or (arr > 1).any():
                idx = int(np.flatnonzero((arr <= 0) | (arr > 1))[0])
                msg = f"{name}(={arr[idx]}) at battery {idx} must be in (0, 1]; give a fraction"
                raise ValidationError(msg)
        for name in ("soc_min_frac", "soc_max_frac", "soc_start_frac", "soc_end_frac"):
            _check_range(name, getattr(self, name), lo=0.0, hi=1.0, fix="; give a fraction")
        if (self.soc_min_frac > self.soc_max_frac).any():
            idx = int(np.flatnonzero(self.soc_min_frac > self.soc_max_frac)[0])
            msg = (
                f"soc_min_frac(={self.soc_min_frac[idx]}) at battery {idx} must be <= "
                f"soc_max_frac(={self.soc_max_frac[idx]}); swap or correct them"
            )
            raise ValidationError(msg)
        for name in ("soc_start_frac", "soc_end_frac"):
            arr = getattr(self, name)
            out = (arr < self.soc_min_frac) | (arr > self.soc_max_frac)
            if out.any():
                idx = int(np.flatnonzero(out)[0])
                msg = (
                    f"{name}(={arr[idx]}) at battery {idx} must lie in [soc_min_frac, "
                    f"soc_max_frac] = [{self.soc_min_frac[idx]}, {self.soc_max_frac[idx]}]"
                )
                raise ValidationError(msg)
        _check_range(
            "throughput_cost_cny_per_kwh",
            self.throughput_cost_cny_per_kwh,
            lo=0.0,
            fix="; a negative throughput cost would reward cycling",
        )

    @classmethod
    def none(cls, n_b: int) -> Batteries:
        """Zero-size batteries for ``n_b`` buildings (a park without storage)."""
        return cls(energy_kwh=np.zeros(n_b), power_kw=np.zeros(n_b))

    @property
    def n_b(self) -> int:
        """Number of buildings (batteries) [1]."""
        return int(self.energy_kwh.shape[0])

    @property
    def soc_min_kwh(self) -> _Array:
        """Lowest stored energy [kWh]."""
        return self.soc_min_frac * self.energy_kwh

    @property
    def soc_max_kwh(self) -> _Array:
        """Highest stored energy [kWh]."""
        return self.soc_max_frac * self.energy_kwh

    @property
    def soc_start_kwh(self) -> _Array:
        """Stored energy at the start of the horizon [kWh]."""
        return self.soc_start_frac * self.energy_kwh

    @property
    def soc_end_kwh(self) -> _Array:
        """Stored energy required at the end of the horizon [kWh]."""
        return self.soc_end_frac * self.energy_kwh  # type: ignore[operator]

    def with_soc_start(self, soc_start_kwh: _Array) -> Batteries:
        """Return a copy starting from the stored energy ``soc_start_kwh`` [kWh].

        The value is clipped to the SOC band (a measured state a hair outside it, from
        meter noise, would otherwise make the horizon infeasible).
        """
        soc = np.asarray(soc_start_kwh, dtype=np.float64)
        if soc.shape != (self.n_b,) or not np.isfinite(soc).all():
            msg = (
                f"soc_start_kwh(={soc_start_kwh!r}) must be {self.n_b} finite values [kWh]; "
                "pass the measured stored energy of every battery"
            )
            raise ValidationError(msg)
        soc = np.clip(soc, self.soc_min_kwh, self.soc_max_kwh)
        frac = np.divide(
            soc, self.energy_kwh, out=np.array(self.soc_start_frac), where=self.energy_kwh > 0
        )
        frac = np.clip(frac, self.soc_min_frac, self.soc_max_frac)
        return dataclasses.replace(self, soc_start_frac=frac)


@dataclass(frozen=True, eq=False)
class DispatchProblem:
    """A day-ahead (or any-horizon) dispatch of a park's batteries against its grid tariff.

    Parameters
    ----------
    interval_h : float
        Step length ``dt`` [h].
    load_kw : array_like, shape (n_b, T)
        Base load per building and step (mean over the step) [kW].
    pv_kw : array_like, shape (n_b, T)
        PV output per building and step [kW]; a fixed injection (no curtailment).
    batteries : Batteries
        One battery per building; ``Batteries.none(n_b)`` for none.
    import_price_cny_per_kwh : array_like, shape (T,)
        Import tariff per step [CNY/kWh].
    export_price_cny_per_kwh : array_like, shape (T,)
        Price paid for exported energy [CNY/kWh]; may be negative (paying to export).
    grid_factor_tco2_per_mwh : array_like, shape (T,)
        Emission factor of grid imports [tCO2/MWh] (numerically kgCO2/kWh).
    carbon_price_cny_per_tco2 : array_like, shape (T,)
        Carbon price on grid-import emissions [CNY/tCO2]; default 0.
    demand_charge_cny_per_kw : float
        Charge on the horizon's highest import [CNY/kW] (already pro-rated to the horizon).
    import_limit_kw : float or array_like, shape (T,), optional
        Largest grid import [kW]; ``None`` for no limit.
    export_limit_kw : float or array_like, shape (T,), optional
        Largest grid export [kW]; ``None`` for no limit, 0 to forbid export.
    peak_floor_kw : float
        Peak import already reached in the billing period [kW]: the charged peak is at
        least this (a rolling controller passes the peak so far). Default 0.
    emissions_cap_tco2 : float, optional
        Largest emissions over the horizon, grid imports plus fuel burnt by ``thermal``
        [tCO2]; ``None`` for no cap.
    hvac : HvacZones, optional
        Thermal zones whose cooling and heating power is flexible within comfort bands.
    ev : EvSessions, optional
        EV charging sessions per charger group.
    shift : ShiftableLoads, optional
        Batch process loads with a fixed profile and a start window.
    flexible : FlexibleLoads, optional
        Process lines with a fixed energy and a flexible rate.
    thermal : HeatPlant, optional
        Boilers and CHP serving a heat demand.

    Notes
    -----
    The net load of the park is ``net_t = sum_b (load_bt - pv_bt)`` [kW]; the assets'
    electric power adds to it in the balance (CHP output subtracts).
    """

    interval_h: float
    load_kw: _Array
    pv_kw: _Array
    batteries: Batteries
    import_price_cny_per_kwh: _Array
    export_price_cny_per_kwh: _Array | float = 0.0
    grid_factor_tco2_per_mwh: _Array | float = 0.0
    carbon_price_cny_per_tco2: _Array | float = 0.0
    demand_charge_cny_per_kw: float = 0.0
    import_limit_kw: _Array | float | None = None
    export_limit_kw: _Array | float | None = None
    peak_floor_kw: float = 0.0
    emissions_cap_tco2: float | None = None
    hvac: HvacZones | None = None
    ev: EvSessions | None = None
    shift: ShiftableLoads | None = None
    flexible: FlexibleLoads | None = None
    thermal: HeatPlant | None = None
    net_kw: _Array = field(init=False, repr=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        dt = self.interval_h
        if not isinstance(dt, int | float) or not np.isfinite(dt) or dt <= 0:
            msg = f"interval_h(={dt!r}) must be a positive number of hours, e.g. 0.25 for 15 min"
            raise ValidationError(msg)
        put(self, "interval_h", float(dt))
        if not isinstance(self.batteries, Batteries):
            msg = (
                f"batteries(={type(self.batteries).__name__}) must be a Batteries; "
                "use Batteries.none(n_b) for a park without storage"
            )
            raise ValidationError(msg)
        load = np.asarray(self.load_kw, dtype=np.float64)
        if load.ndim != 2:
            msg = f"load_kw has shape {load.shape} but must be (buildings, steps)"
            raise ValidationError(msg)
        n_b, steps = load.shape
        if steps == 0:
            msg = "load_kw has no steps; give at least one step of forecasts"
            raise ValidationError(msg)
        if self.batteries.n_b != n_b:
            msg = (
                f"batteries has {self.batteries.n_b} entries but load_kw has {n_b} buildings; "
                "give one battery per building (zero-size for none)"
            )
            raise ValidationError(msg)
        put(self, "load_kw", _as_array("load_kw", load, (n_b, steps)))
        put(self, "pv_kw", _as_array("pv_kw", self.pv_kw, (n_b, steps)))
        _check_range("pv_kw", self.pv_kw, lo=0.0, fix="; PV output cannot be negative")
        for name in (
            "import_price_cny_per_kwh",
            "export_price_cny_per_kwh",
            "grid_factor_tco2_per_mwh",
            "carbon_price_cny_per_tco2",
        ):
            put(self, name, _as_array(name, getattr(self, name), (steps,)))
        _check_range(
            "grid_factor_tco2_per_mwh",
            self.grid_factor_tco2_per_mwh,
            lo=0.0,
            fix="; an emission factor cannot be negative",
        )
        put(self, "import_limit_kw", _as_limit("import_limit_kw", self.import_limit_kw, steps))
        put(self, "export_limit_kw", _as_limit("export_limit_kw", self.export_limit_kw, steps))
        for name in ("demand_charge_cny_per_kw", "peak_floor_kw"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not np.isfinite(value) or value < 0:
                msg = f"{name}(={value!r}) must be a finite number >= 0"
                raise ValidationError(msg)
            put(self, name, float(value))
        cap = self.emissions_cap_tco2
        if cap is not None:
            if not isinstance(cap, int | float) or not np.isfinite(cap) or cap < 0:
                msg = f"emissions_cap_tco2(={cap!r}) must be a finite number >= 0, or None"
                raise ValidationError(msg)
            put(self, "emissions_cap_tco2", float(cap))
        net = (self.load_kw - self.pv_kw).sum(axis=0)
        net.setflags(write=False)
        put(self, "net_kw", net)
        if any(getattr(self, name) is not None for name in ASSET_FIELDS):
            from carbontwin.optimizers.assets import ASSETS

            for kind in ASSETS:
                value = getattr(self, kind.name)
                if value is None:
                    continue
                if not isinstance(value, kind.cls):
                    msg = (
                        f"{kind.name}(={type(value).__name__}) must be a {kind.cls.__name__} "
                        "(or None for none)"
                    )
                    raise ValidationError(msg)
                put(self, kind.name, value.validated(steps, self.interval_h))

    @property
    def assets(self) -> dict[str, Any]:
        """The asset blocks present, by field name, in model order."""
        return {n: getattr(self, n) for n in ASSET_FIELDS if getattr(self, n) is not None}

    @property
    def fixed_asset_kw(self) -> _Array:
        """Fixed asset load per step (committed shiftable runs) [kW]."""
        if self.shift is None:
            return np.zeros(self.steps)
        return self.shift.fixed_kw(self.steps)

    @property
    def n_b(self) -> int:
        """Number of buildings [1]."""
        return int(self.load_kw.shape[0])

    @property
    def steps(self) -> int:
        """Number of steps ``T`` [1]."""
        return int(self.load_kw.shape[1])

    @property
    def import_cost_cny_per_kwh(self) -> _Array:
        """Cost of one kWh imported at each step: tariff plus carbon price [CNY/kWh]."""
        return self.import_price_cny_per_kwh + (
            self.carbon_price_cny_per_tco2 * self.grid_factor_tco2_per_mwh * 1e-3
        )

    def window(self, start: int, steps: int) -> DispatchProblem:
        """Return the problem cut to steps ``start .. start + steps - 1`` (a rolling window).

        Every per-step series (load, PV, prices, factors, limits) is cut; the batteries,
        the demand charge, the peak floor and the emissions cap are kept. Assets are cut
        too: their per-step series, and their step indices (EV arrivals and departures,
        start windows and deadlines, periods) made relative to ``start``.
        """
        stop = start + steps
        if start < 0 or steps < 1 or stop > self.steps:
            msg = (
                f"window(start={start}, steps={steps}) must lie within the problem's "
                f"{self.steps} steps"
            )
            raise ValidationError(msg)
        cut = slice(start, stop)
        return self.replace(
            load_kw=self.load_kw[:, cut],
            pv_kw=self.pv_kw[:, cut],
            **{
                name: getattr(self, name)[cut]
                for name in (
                    "import_price_cny_per_kwh",
                    "export_price_cny_per_kwh",
                    "grid_factor_tco2_per_mwh",
                    "carbon_price_cny_per_tco2",
                    "import_limit_kw",
                    "export_limit_kw",
                )
            },
            **{name: asset.window(start, steps) for name, asset in self.assets.items()},
        )

    def replace(self, **changes: object) -> DispatchProblem:
        """Return a validated copy with ``changes`` applied (as :func:`dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
