"""Physical assets of the park and their parameters, declared once with units.

These are the devices the twin simulates and the optimisers dispatch. Accounting reads
only their identities. Each asset names the metering points that measure it in
``meters`` (point id → signal name); the signals of each kind are listed in
``docs/twin.md``. Schedules are named in ``park.twin.schedules`` (``"always"`` is built
in).
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
    "Generator",
    "GridConnection",
    "HvacZone",
    "Load",
    "ProcessLine",
    "Pump",
    "PvArray",
    "WeatherStation",
]


class _Asset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str = ""
    enterprise: str | None = None
    zone: str | None = None
    meters: dict[str, str] = Field(
        default_factory=dict, description="id of each point that measures the asset → its signal"
    )


class PvArray(_Asset):
    """A photovoltaic array with its inverter (PVWatts-style model)."""

    kind: Literal["pv"] = "pv"
    capacity_kw: float = quantity("kW", "DC nameplate capacity", gt=0)
    ac_capacity_kw: float | None = quantity(
        "kW", "inverter AC limit; the DC capacity when omitted", None, gt=0
    )
    tilt_deg: float = quantity("deg", "surface tilt", 25.0, ge=0, le=90)
    azimuth_deg: float = quantity("deg", "surface azimuth, 180 = south", 180.0)
    inverter_efficiency_frac: float = quantity("frac", "inverter efficiency", 0.96, gt=0, le=1)
    temp_coeff_per_k: float = quantity("1/K", "power temperature coefficient", -0.0037, le=0)
    losses_frac: float = quantity(
        "frac", "DC system losses (soiling, wiring, mismatch)", 0.10, ge=0, lt=1
    )
    albedo_frac: float = quantity("frac", "ground reflectance", 0.2, ge=0, le=1)
    u0_w_per_m2_k: float = quantity("W/(m2 K)", "Faiman constant heat loss", 25.0, gt=0)
    u1_w_s_per_m3_k: float = quantity("W s/(m3 K)", "Faiman wind heat loss", 6.84, ge=0)


class Battery(_Asset):
    """A stationary battery."""

    kind: Literal["battery"] = "battery"
    energy_kwh: float = quantity("kWh", "usable energy capacity", gt=0)
    power_kw: float = quantity("kW", "charge and discharge power limit", gt=0)
    charge_efficiency_frac: float = quantity("frac", "charge efficiency", 0.95, gt=0, le=1)
    discharge_efficiency_frac: float = quantity("frac", "discharge efficiency", 0.95, gt=0, le=1)
    soc_min_frac: float = quantity("frac", "lowest state of charge", 0.1, ge=0, le=1)
    soc_max_frac: float = quantity("frac", "highest state of charge", 0.95, ge=0, le=1)
    initial_soc_frac: float = quantity("frac", "state of charge at the start", 0.5, ge=0, le=1)
    peak_threshold_kw: float | None = quantity(
        "kW", "baseline control: discharge to hold the enterprise's demand below this", None
    )


class HvacZone(_Asset):
    """A building thermal zone (1R1C model) with its HVAC, lighting and plug loads.

    Heat flows through the envelope conductance ``UA = ua_w_per_m2_k × area`` to the
    outdoor air; the zone stores heat in ``C = capacitance_wh_per_m2_k × area``. Internal
    gains are people, lighting and plug loads on the occupancy schedule, solar gains through
    an effective aperture, and the heat of loads that discharge into the zone. A chiller
    cools (COP falling with outdoor temperature); a heat pump or a boiler heats.
    """

    kind: Literal["hvac"] = "hvac"
    floor_area_m2: float = quantity("m2", "conditioned floor area", gt=0)
    cooling_kw: float = quantity("kW", "rated cooling capacity", gt=0)
    cop: float = quantity("1", "rated chiller COP at cop_rated_temp_c outdoors", 3.5, gt=0)
    cop_rated_temp_c: float = quantity("degC", "outdoor temperature of the rated COP", 35.0)
    condenser_approach_k: float = quantity(
        "K", "condensing temperature above outdoor air", 10.0, gt=0
    )
    evaporator_temp_c: float = quantity("degC", "evaporating temperature", 5.0)
    setpoint_c: float = quantity("degC", "default cooling setpoint", 26.0)
    heating: Literal["none", "heat_pump", "boiler"] = "none"
    heating_kw: float = quantity("kW", "rated heating capacity", 0.0, ge=0)
    heating_cop: float = quantity("1", "rated heat-pump COP at 7 °C outdoors", 3.0, gt=0)
    heating_supply_temp_c: float = quantity("degC", "heat-pump supply temperature", 45.0)
    heating_supplier: str | None = Field(None, description="boiler asset that heats the zone")
    heating_setpoint_c: float = quantity("degC", "default heating setpoint", 20.0)
    setback_k: float = quantity("K", "setpoints move this far apart when unoccupied", 4.0, ge=0)
    comfort_low_c: float = quantity("degC", "lower edge of the comfort band", 19.0)
    comfort_high_c: float = quantity("degC", "upper edge of the comfort band", 27.0)
    ua_w_per_m2_k: float = quantity(
        "W/(m2 K)", "envelope and ventilation conductance per floor area", 2.0, gt=0
    )
    capacitance_wh_per_m2_k: float = quantity(
        "Wh/(m2 K)", "effective heat capacity per floor area", 60.0, gt=0
    )
    occupancy: str = Field("always", description="schedule of occupancy (0–1)")
    people_w_per_m2: float = quantity("W/m2", "heat from people at full occupancy", 6.0, ge=0)
    lighting_w_per_m2: float = quantity("W/m2", "installed lighting", 8.0, ge=0)
    plug_w_per_m2: float = quantity("W/m2", "plug loads at full occupancy", 12.0, ge=0)
    plug_base_frac: float = quantity("frac", "plug loads left on when unoccupied", 0.3, ge=0)
    fan_w_per_m2: float = quantity("W/m2", "ventilation fans while occupied", 3.0, ge=0)
    unoccupied_lighting_frac: float = quantity(
        "frac", "baseline control: lighting level when unoccupied", 0.1, ge=0, le=1
    )
    solar_aperture_frac: float = quantity(
        "frac", "effective solar aperture per floor area (windows × g-value)", 0.03, ge=0
    )
    initial_temp_c: float | None = quantity("degC", "temperature at the start", None)


class EvChargers(_Asset):
    """A group of EV charge points with stochastic arrivals."""

    kind: Literal["ev"] = "ev"
    count: int = quantity("1", "number of charge points", gt=0)
    power_kw: float = quantity("kW", "power per charge point", gt=0)
    sessions_per_day: float = quantity("1/d", "mean arrivals per day", 20.0, ge=0)
    arrival_profile: Literal["workplace", "fleet", "public"] = "workplace"
    energy_kwh_mean: float = quantity("kWh", "mean energy wanted per session", 20.0, gt=0)
    dwell_h_mean: float = quantity("h", "mean time plugged in", 8.0, gt=0)
    efficiency_frac: float = quantity("frac", "charger efficiency", 0.95, gt=0, le=1)


class ProcessLine(_Asset):
    """A production line with energy and materials per tonne of product.

    ``operation='continuous'`` runs at ``capacity × utilisation × schedule``;
    ``'batch'`` runs batches of ``batch_h`` at full rate, starting each scheduled day at
    ``start_h`` (then every ``batch_h + batch_gap_h``).
    """

    kind: Literal["process"] = "process"
    product: str
    capacity_t_per_h: float = quantity("t/h", "production rate", gt=0)
    operation: Literal["continuous", "batch"] = "continuous"
    utilisation_frac: float = quantity("frac", "continuous lines: mean load", 0.9, ge=0, le=1)
    rate_noise_frac: float = quantity("frac", "hour-to-hour variation of the rate", 0.02, ge=0)
    schedule: str = Field("always", description="schedule of operation (0–1)")
    batch_h: float = quantity("h", "batch lines: length of a batch", 4.0, gt=0)
    batches_per_day: int = quantity("1", "batch lines: batches per scheduled day", 1, ge=1)
    batch_gap_h: float = quantity("h", "batch lines: pause between batches", 0.5, ge=0)
    start_h: float = quantity("h", "batch lines: local hour the first batch starts", 8.0)
    start_jitter_h: float = quantity("h", "batch lines: mean random start delay", 0.1, ge=0)
    idle_electricity_kw: float = quantity("kW", "auxiliaries drawn all the time", 0.0, ge=0)
    electricity_kwh_per_t: float = quantity("kWh/t", "electricity per tonne", 0.0, ge=0)
    steam_t_per_t: float = quantity("t/t", "steam per tonne", 0.0, ge=0)
    steam_supplier: str | None = Field(None, description="CHP or boiler asset giving the steam")
    gas_1e4nm3_per_t: float = quantity("10^4 Nm3/t", "natural gas burnt per tonne", 0.0, ge=0)
    feedstock_gas_1e4nm3_per_t: float = quantity(
        "10^4 Nm3/t", "natural gas used as feedstock per tonne", 0.0, ge=0
    )
    solid_fuel: str = Field("coke", description="carrier of the solid fuel")
    solid_fuel_t_per_t: float = quantity("t/t", "solid fuel per tonne", 0.0, ge=0)
    raw_material: str = Field("limestone", description="name of the raw material")
    raw_material_t_per_t: float = quantity("t/t", "raw material per tonne", 0.0, ge=0)
    residue_t_per_t: float = quantity("t/t", "carbon-bearing residue per tonne", 0.0, ge=0)
    process_co2_t_per_t: float = quantity(
        "t/t", "CO2 leaving the stack per tonne (what a CEMS measures)", 0.0, ge=0
    )
    co2_recovered_1e4nm3_per_t: float = quantity(
        "10^4 Nm3/t", "CO2 recovered and sold per tonne", 0.0, ge=0
    )
    cod_removed_t_per_t: float = quantity("t/t", "COD removed per tonne treated", 0.0, ge=0)


class Boiler(_Asset):
    """A fuel-fired boiler serving steam users, zone heating and a base heat demand."""

    kind: Literal["boiler"] = "boiler"
    fuel: str = "natural_gas"
    heat_kw: float = quantity("kW", "rated heat output", gt=0)
    efficiency_frac: float = quantity("frac", "thermal efficiency", 0.9, gt=0, le=1)
    min_load_frac: float = quantity("frac", "minimum stable load", 0.3, ge=0, le=1)
    fuel_ncv_gj_per_1e4nm3: float = quantity(
        "GJ/10^4 Nm3", "net calorific value of the gas", 389.31, gt=0
    )
    steam_enthalpy_kj_per_kg: float = quantity("kJ/kg", "heat per kg of steam made", 2950.0)
    base_heat_kw: float = quantity("kW", "process heat demand at full schedule", 0.0, ge=0)
    schedule: str = Field("always", description="schedule of the base heat demand")


class Chp(_Asset):
    """A combined heat and power plant (the self-owned plant), extraction-condensing.

    Fuel input is ``(P + β Q) / η_el``: every kW of heat extracted costs ``β`` kW of
    electricity.
    """

    kind: Literal["chp"] = "chp"
    fuel: str = "bituminous_coal"
    electric_kw: float = quantity("kW", "rated electric output", gt=0)
    heat_kw: float = quantity("kW", "rated heat output", gt=0)
    electric_efficiency_frac: float = quantity("frac", "electric efficiency", 0.35, gt=0, le=1)
    min_load_frac: float = quantity("frac", "minimum stable load", 0.4, ge=0, le=1)
    power_loss_ratio: float = quantity("1", "β: electricity lost per unit heat", 0.15, ge=0)
    fuel_ncv_gj_per_t: float = quantity("GJ/t", "net calorific value of the fuel", 22.8, gt=0)
    steam_enthalpy_kj_per_kg: float = quantity("kJ/kg", "heat per kg of steam made", 2950.0)


class GridConnection(_Asset):
    """An enterprise's electrical connection: the grid, and its supply from a plant.

    Its bus balances every step: PV, battery discharge and a generator first, then the
    plant's supply up to ``supply_kw``, then the grid. Surplus is exported when allowed,
    else curtailed.
    """

    kind: Literal["grid"] = "grid"
    supplier: str | None = Field(None, description="CHP asset that supplies the enterprise")
    supply_kw: float | None = quantity(
        "kW", "most the supplier gives; everything when omitted", None, ge=0
    )
    grid: bool = Field(True, description="whether the enterprise may import from the grid")
    export_allowed: bool = Field(False, description="whether surplus may flow to the grid")


class Load(_Asset):
    """An electric load on a schedule: IT, tools, conveyors, lighting of a yard."""

    kind: Literal["load"] = "load"
    power_kw: float = quantity("kW", "power at full schedule", gt=0)
    base_frac: float = quantity("frac", "share drawn outside the schedule", 0.0, ge=0, le=1)
    schedule: str = Field("always", description="schedule of the load (0–1)")
    noise_frac: float = quantity("frac", "variation from one 15 min to the next", 0.02, ge=0)
    heat_to_zone: str | None = Field(None, description="HVAC zone that takes its heat")
    heat_frac: float = quantity("frac", "share of its power that heats the zone", 1.0, ge=0, le=1)


class Pump(_Asset):
    """Pumps, fans or blowers with a variable-speed drive (affinity laws)."""

    kind: Literal["pump"] = "pump"
    power_kw: float = quantity("kW", "electric power at full flow", gt=0)
    schedule: str = Field("always", description="schedule of the flow (0–1)")
    min_flow_frac: float = quantity("frac", "lowest flow", 0.2, ge=0, le=1)
    static_head_frac: float = quantity(
        "frac", "share of full-flow power that scales with flow, not its cube", 0.3, ge=0, le=1
    )
    noise_frac: float = quantity("frac", "variation of the flow", 0.03, ge=0)


class Generator(_Asset):
    """A standby generator, run for a test each month."""

    kind: Literal["generator"] = "generator"
    fuel: str = "diesel"
    power_kw: float = quantity("kW", "rated electric output", gt=0)
    fuel_kg_per_kwh: float = quantity("kg/kWh", "specific fuel consumption", 0.22, gt=0)
    test_weekday: int = quantity("1", "weekday of the monthly test, 0 = Monday", 1, ge=0, le=6)
    test_hour: float = quantity("h", "local hour the test starts", 10.0, ge=0, lt=24)
    test_h: float = quantity("h", "length of the test", 1.0, gt=0)
    test_load_frac: float = quantity("frac", "load carried during the test", 0.6, gt=0, le=1)


class WeatherStation(_Asset):
    """The park's weather station: outdoor temperature, humidity and irradiance."""

    kind: Literal["weather"] = "weather"


Asset = Annotated[
    PvArray
    | Battery
    | HvacZone
    | EvChargers
    | ProcessLine
    | Boiler
    | Chp
    | GridConnection
    | Load
    | Pump
    | Generator
    | WeatherStation,
    Field(discriminator="kind"),
]
