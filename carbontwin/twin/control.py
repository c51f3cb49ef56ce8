"""The control interface: named setpoints, the controller protocol and a baseline.

Every controllable input of the park is a :class:`Setpoint` named ``<asset>.<name>``:

=================  ===========================  ==========================================
asset kind         setpoint                     meaning [unit]
=================  ===========================  ==========================================
``hvac``           ``setpoint_c``               cooling setpoint [°C]
``hvac``           ``heating_setpoint_c``       heating setpoint [°C] (zones that heat)
``hvac``           ``dimming_frac``             lighting level [fraction]
``battery``        ``power_kw``                 AC power, positive discharging [kW]
``ev``             ``limit_kw``                 power limit of each charge point [kW]
``process``        ``rate_frac``                production rate [fraction of the profile]
``process``        ``start_h``                  batch lines: local hour of the first batch
=================  ===========================  ==========================================

A controller decides every control interval: ``decide(state, t)`` returns setpoint
values, which the simulator clips to their limits. The optimisers and the BMS dispatch
drive the same interface later.

Examples
--------
>>> from carbontwin.core import load_park, demo_park_path
>>> sp = setpoints(load_park(demo_park_path()))
>>> sp["A-E03-BESS.power_kw"].lo, sp["A-E03-BESS.power_kw"].hi
(-500.0, 500.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from carbontwin.core.assets import Battery, EvChargers, HvacZone, ProcessLine
from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park

__all__ = [
    "BaselineController",
    "ControlState",
    "Controller",
    "FixedSetpoints",
    "Setpoint",
    "setpoints",
]


@dataclass(frozen=True)
class Setpoint:
    """A controllable input: its name, limits, default and unit."""

    name: str
    asset: str
    attr: str
    lo: float
    hi: float
    default: float
    unit: str

    def clip(self, value: float) -> float:
        """Return ``value`` within the limits."""
        return min(max(float(value), self.lo), self.hi)


def setpoints(park: Park) -> dict[str, Setpoint]:
    """Return every setpoint of the park by name (``<asset>.<name>``)."""
    out: dict[str, Setpoint] = {}

    def add(asset: str, attr: str, lo: float, hi: float, default: float, unit: str) -> None:
        name = f"{asset}.{attr}"
        out[name] = Setpoint(name, asset, attr, float(lo), float(hi), float(default), unit)

    for a in park.assets:
        if isinstance(a, HvacZone):
            add(a.id, "setpoint_c", 16.0, 32.0, a.setpoint_c, "degC")
            if a.heating != "none":
                add(a.id, "heating_setpoint_c", 5.0, 26.0, a.heating_setpoint_c, "degC")
            add(a.id, "dimming_frac", 0.0, 1.0, 1.0, "frac")
        elif isinstance(a, Battery):
            add(a.id, "power_kw", -a.power_kw, a.power_kw, 0.0, "kW")
        elif isinstance(a, EvChargers):
            add(a.id, "limit_kw", 0.0, a.power_kw, a.power_kw, "kW")
        elif isinstance(a, ProcessLine):
            add(a.id, "rate_frac", 0.0, 1.0, 1.0, "frac")
            if a.operation == "batch":
                add(a.id, "start_h", 0.0, 23.99, a.start_h, "h")
    return out


@dataclass
class ControlState:
    """What a controller sees when it decides.

    Attributes
    ----------
    t : pandas.Timestamp
        Local time of the decision.
    hour : float
        Local hour of day [h].
    weekday : int
        0 = Monday.
    tou_period : str
        Name of the tariff period in force.
    price_cny_per_kwh : float
        Electricity price now [CNY/kWh].
    temp_out_c : float
        Outdoor temperature [°C].
    zone_temp_c, occupancy, occupancy_ahead : dict
        Per zone: temperature [°C], occupancy now and in an hour [fraction].
    soc_frac : dict
        Per battery: state of charge [fraction].
    demand_kw : dict
        Per enterprise: electricity drawn by its loads less on-site generation, before
        batteries [kW].
    values : dict
        Every setpoint's current value.
    """

    t: pd.Timestamp
    hour: float
    weekday: int
    tou_period: str
    price_cny_per_kwh: float
    temp_out_c: float
    zone_temp_c: dict[str, float] = field(default_factory=dict)
    occupancy: dict[str, float] = field(default_factory=dict)
    occupancy_ahead: dict[str, float] = field(default_factory=dict)
    soc_frac: dict[str, float] = field(default_factory=dict)
    demand_kw: dict[str, float] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)


class Controller(Protocol):
    """Decides setpoints from the twin's state; the simulator calls it every interval."""

    def decide(self, state: ControlState, t: pd.Timestamp) -> dict[str, float]:
        """Return new values of (some of) the setpoints, by name."""
        ...


class BaselineController:
    """Rule-based control, the reference every strategy is compared with.

    - Thermostats follow occupancy: the asset's setpoints from an hour before occupancy
      until it ends, set back by ``setback_k`` otherwise.
    - Lights are on (``dimming_frac`` 1) while occupied, at ``unoccupied_lighting_frac``
      otherwise.
    - Batteries with a ``peak_threshold_kw`` shave peaks: they discharge whatever the
      enterprise draws above it, and recharge at the valley price without pushing the
      demand above it. Others do arbitrage: full charge at the valley price, full
      discharge at the peak price or above; they rest otherwise.
    - EV charge points charge at their rating; lines run at full rate and start batches
      at their scheduled hour.
    """

    def __init__(self, park: Park) -> None:
        self.zones = [a for a in park.assets if isinstance(a, HvacZone)]
        self.batteries = [a for a in park.assets if isinstance(a, Battery)]
        self.evs = [a for a in park.assets if isinstance(a, EvChargers)]
        self.lines = [a for a in park.assets if isinstance(a, ProcessLine)]
        prices = {p.name: p.price_cny_per_kwh for p in park.twin.tariff.periods}
        self.valley_price = prices.get("valley", min(prices.values()))
        self.peak_price = prices.get("peak", max(prices.values()))

    def decide(self, state: ControlState, t: pd.Timestamp) -> dict[str, float]:
        """Return the rule-based setpoints for now."""
        out: dict[str, float] = {}
        for z in self.zones:
            occupied = state.occupancy[z.id] > 0 or state.occupancy_ahead[z.id] > 0
            back = 0.0 if occupied else z.setback_k
            out[f"{z.id}.setpoint_c"] = z.setpoint_c + back
            if z.heating != "none":
                out[f"{z.id}.heating_setpoint_c"] = z.heating_setpoint_c - back
            lit = state.occupancy[z.id] > 0
            out[f"{z.id}.dimming_frac"] = 1.0 if lit else z.unoccupied_lighting_frac
        for b in self.batteries:
            demand = state.demand_kw.get(b.enterprise or "", 0.0)
            valley = state.price_cny_per_kwh <= self.valley_price
            if b.peak_threshold_kw is not None:  # peak shaving, recharging in the valley
                if demand > b.peak_threshold_kw:
                    p = demand - b.peak_threshold_kw
                elif valley:
                    p = -min(b.power_kw, b.peak_threshold_kw - demand)
                else:
                    p = 0.0
            elif valley:  # arbitrage
                p = -b.power_kw
            elif state.price_cny_per_kwh >= self.peak_price:
                p = b.power_kw
            else:
                p = 0.0
            out[f"{b.id}.power_kw"] = p
        for e in self.evs:
            out[f"{e.id}.limit_kw"] = e.power_kw
        for line in self.lines:
            out[f"{line.id}.rate_frac"] = 1.0
        return out


class FixedSetpoints:
    """A controller that holds some setpoints at fixed values over another controller.

    Parameters
    ----------
    inner : Controller
        Decides everything else.
    fixed : mapping of str to float
        Setpoint name → value held for the whole run.
    known : mapping of str to Setpoint, optional
        The park's setpoints, to check the names.
    """

    def __init__(
        self,
        inner: Controller,
        fixed: Mapping[str, float],
        known: Mapping[str, Setpoint] | None = None,
    ) -> None:
        if known is not None:
            unknown = sorted(set(fixed) - set(known))
            if unknown:
                msg = (
                    f"setpoint {', '.join(unknown)} is not a setpoint of the park; known: "
                    f"{', '.join(sorted(known))}"
                )
                raise ValidationError(msg)
        self.inner = inner
        self.fixed = dict(fixed)

    def decide(self, state: ControlState, t: pd.Timestamp) -> dict[str, float]:
        """Return the inner controller's decisions with the fixed values on top."""
        return {**self.inner.decide(state, t), **self.fixed}
