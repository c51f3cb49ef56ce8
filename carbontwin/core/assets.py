"""Physical assets of the park and their parameters, declared once with units.

These are the flexible and generating assets the twin simulates and the optimisers
dispatch. Accounting reads only their identities; later issues read their parameters.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from carbontwin.core.fields import quantity

__all__ = [
    "Asset",
    "Battery",
    "Boiler",
    "Chp",
    "EvChargers",
    "HvacZone",
    "ProcessLine",
    "PvArray",
]


class _Asset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str = ""
    enterprise: str | None = None
    zone: str | None = None


class PvArray(_Asset):
    """A photovoltaic array."""

    kind: Literal["pv"] = "pv"
    capacity_kw: float = quantity("kW", "DC nameplate capacity", gt=0)
    tilt_deg: float = quantity("deg", "surface tilt", 25.0, ge=0, le=90)
    azimuth_deg: float = quantity("deg", "surface azimuth, 180 = south", 180.0)
    inverter_efficiency_frac: float = quantity("frac", "inverter efficiency", 0.96, gt=0, le=1)


class Battery(_Asset):
    """A stationary battery."""

    kind: Literal["battery"] = "battery"
    energy_kwh: float = quantity("kWh", "usable energy capacity", gt=0)
    power_kw: float = quantity("kW", "charge and discharge power limit", gt=0)
    charge_efficiency_frac: float = quantity("frac", "charge efficiency", 0.95, gt=0, le=1)
    discharge_efficiency_frac: float = quantity("frac", "discharge efficiency", 0.95, gt=0, le=1)
    soc_min_frac: float = quantity("frac", "lowest state of charge", 0.1, ge=0, le=1)
    soc_max_frac: float = quantity("frac", "highest state of charge", 0.95, ge=0, le=1)


class HvacZone(_Asset):
    """A building thermal zone with its HVAC plant (RC model)."""

    kind: Literal["hvac"] = "hvac"
    floor_area_m2: float = quantity("m2", "conditioned floor area", gt=0)
    cooling_kw: float = quantity("kW", "rated cooling capacity", gt=0)
    cop: float = quantity("1", "rated coefficient of performance", 3.5, gt=0)
    setpoint_c: float = quantity("degC", "default cooling setpoint", 26.0)


class EvChargers(_Asset):
    """A group of EV chargers."""

    kind: Literal["ev"] = "ev"
    count: int = quantity("1", "number of charge points", gt=0)
    power_kw: float = quantity("kW", "power per charge point", gt=0)


class ProcessLine(_Asset):
    """A production line with energy per unit of product."""

    kind: Literal["process"] = "process"
    product: str
    capacity_t_per_h: float = quantity("t/h", "production rate", gt=0)
    electricity_kwh_per_t: float = quantity("kWh/t", "electricity per tonne", 0.0, ge=0)
    steam_t_per_t: float = quantity("t/t", "steam per tonne", 0.0, ge=0)
    gas_1e4nm3_per_t: float = quantity("10^4 Nm3/t", "natural gas per tonne", 0.0, ge=0)


class Boiler(_Asset):
    """A fuel-fired boiler."""

    kind: Literal["boiler"] = "boiler"
    fuel: str = "natural_gas"
    heat_kw: float = quantity("kW", "rated heat output", gt=0)
    efficiency_frac: float = quantity("frac", "thermal efficiency", 0.9, gt=0, le=1)
    min_load_frac: float = quantity("frac", "minimum stable load", 0.3, ge=0, le=1)


class Chp(_Asset):
    """A combined heat and power plant (the self-owned plant)."""

    kind: Literal["chp"] = "chp"
    fuel: str = "bituminous_coal"
    electric_kw: float = quantity("kW", "rated electric output", gt=0)
    heat_kw: float = quantity("kW", "rated heat output", gt=0)
    electric_efficiency_frac: float = quantity("frac", "electric efficiency", 0.35, gt=0, le=1)
    min_load_frac: float = quantity("frac", "minimum stable load", 0.4, ge=0, le=1)


Asset = Annotated[
    PvArray | Battery | HvacZone | EvChargers | ProcessLine | Boiler | Chp,
    Field(discriminator="kind"),
]
