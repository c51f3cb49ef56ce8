"""The park simulator: the virtual park that stands in for a real one.

One simpy process steps all continuous physics of the park together, with numpy arrays
across the devices of each kind (zones, PV arrays, batteries, charge points, lines);
simpy processes carry only the discrete events: EV arrivals and departures, batch
starts, generator tests and the controller's decisions. Between events the stepping
process runs steps in a tight loop; a live run (``speed``) paces every step to the wall
clock with :class:`simpy.rt.RealtimeEnvironment`.

What does not depend on the state (weather, schedules, PV, loads, tariff) is computed a
day at a time, vectorised. Each *chunk* (a day, or shorter in live runs) the recorded
states become the signals of every asset (flows in their unit per hour, states), the
electrical buses and the plants are balanced, the meters integrate their signals and
report readings with noise and faults, and the KPIs accumulate.

Examples
--------
>>> from carbontwin.core import load_park, demo_park_path
>>> res = simulate(load_park(demo_park_path()), "2025-07-01", days=1, seed=1)
>>> res.kpis.balance_max_abs_kw < 1e-6
True
>>> sorted(res.readings.columns)
['fault', 'point', 'quality', 'true_value', 'ts', 'value']
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import simpy
import simpy.events
import simpy.rt
import xarray as xr

from carbontwin.core.assets import (
    Battery,
    Boiler,
    Chp,
    EvChargers,
    Generator,
    GridConnection,
    HvacZone,
    Load,
    ProcessLine,
    Pump,
    PvArray,
    WeatherStation,
)
from carbontwin.core.carriers import carrier
from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.core.points import MeteringPoint
from carbontwin.core.records import IntervalData, stream_key
from carbontwin.core.time import to_utc
from carbontwin.core.units import conversion_factor
from carbontwin.twin.clock import SimClock, local_start
from carbontwin.twin.control import BaselineController, Controller, ControlState, setpoints
from carbontwin.twin.faults import FAULT_CODES, FaultInjector
from carbontwin.twin.plants import (
    battery,
    boiler,
    chp,
    ev,
    generator,
    grid,
    load,
    meter,
    process,
    pump,
    pv,
    zone,
)
from carbontwin.twin.schedules import resolve_schedule, schedule_frac
from carbontwin.twin.tariff import fuel_prices, tou_periods
from carbontwin.twin.weather import typical_weather, weather_on_steps

__all__ = [
    "HISTORY_S",
    "SIGNALS",
    "Chunk",
    "Kpis",
    "SimulationResult",
    "Simulator",
    "simulate",
]

#: Signals of each asset kind: name → (unit, ``flow`` or ``state``). Flows are rates in
#: their unit per hour (``kWh`` → kW), states are values.
SIGNALS: dict[str, dict[str, tuple[str, str]]] = {
    "hvac": zone.SIGNALS,
    "pv": pv.SIGNALS,
    "battery": battery.SIGNALS,
    "ev": ev.SIGNALS,
    "process": process.SIGNALS,
    "boiler": boiler.SIGNALS,
    "chp": chp.SIGNALS,
    "grid": grid.SIGNALS,
    "load": load.SIGNALS,
    "pump": pump.SIGNALS,
    "generator": generator.SIGNALS,
    "weather": grid.WEATHER_SIGNALS,
}

#: Length of the history interval [s].
HISTORY_S = 900
_STEP_PRIORITY = 2  # after every NORMAL (1) and URGENT (0) event at the same time
_GJ_PER_KWH = boiler.GJ_PER_KWH


class _AfterEvents(simpy.events.Event):
    """A timeout processed after every other event due at the same time."""

    def __init__(self, env: simpy.Environment, delay: float) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, _STEP_PRIORITY, delay)


@dataclass
class Chunk:
    """What one chunk of the run produced, for streaming consumers (store, live state).

    ``readings`` holds every reading that arrived (``point, ts, value, quality,
    true_value, fault``); ``history`` the 15-min amounts of every point (points ×
    quarter-hours starting at ``history_index``) in the point's unit.
    """

    first_step: int
    steps: int
    readings: pd.DataFrame
    history_index: pd.DatetimeIndex
    history: np.ndarray
    points: list[str]


@dataclass
class Kpis:
    """The run's key figures.

    Attributes
    ----------
    energy : pandas.DataFrame
        Per enterprise (and ``park``): ``grid_import_kwh``, ``grid_export_kwh``,
        ``chp_supply_kwh``, ``pv_kwh``, ``generator_kwh``, ``coal_t``, ``coke_t``,
        ``natural_gas_1e4nm3``, ``diesel_t``, ``steam_t``, ``heat_gj``.
    activity : pandas.Series
        Simulated activity of each accounting stream key, from the physics, in the
        stream's canonical unit (kWh, GJ, t, 10^4 Nm3).
    cost_cny : pandas.DataFrame
        Per enterprise (and ``park``): ``electricity``, ``demand``, ``export``,
        ``fuel``, ``internal`` and ``total`` [CNY].
    discomfort_kh : pandas.Series
        Per zone: occupied hours × kelvin outside the comfort band [K·h].
    peak_kw : pandas.Series
        Highest 15-min mean grid import of each enterprise and of the park [kW].
    signal_totals : pandas.Series
        Integral of every flow signal (``asset.signal``) in its unit [kWh, t, GJ, ...].
    balance_max_abs_kw : float
        Largest imbalance of any electrical bus at any step [kW].
    unserved_kwh : float
        Electricity no source could supply [kWh].
    unmet_heat_gj : float
        Heat the plants could not deliver [GJ].
    ev_unmet_kwh : float
        Energy cars wanted but left without [kWh].
    """

    energy: pd.DataFrame
    activity: pd.Series
    cost_cny: pd.DataFrame
    discomfort_kh: pd.Series
    peak_kw: pd.Series
    signal_totals: pd.Series
    balance_max_abs_kw: float
    unserved_kwh: float
    unmet_heat_gj: float
    ev_unmet_kwh: float

    def summary(self) -> pd.Series:
        """Headline figures of the park, for comparisons (what-if)."""
        park = self.energy.loc["park"]
        hvac = self.signal_totals.filter(like=".hvac_electricity").sum()
        return pd.Series(
            {
                "grid_import_kwh": park.grid_import_kwh,
                "grid_export_kwh": park.grid_export_kwh,
                "pv_kwh": park.pv_kwh,
                "chp_supply_kwh": park.chp_supply_kwh,
                "hvac_electricity_kwh": float(hvac),
                "natural_gas_1e4nm3": park.natural_gas_1e4nm3,
                "coal_t": park.coal_t,
                "cost_cny": float(self.cost_cny.loc["park", "total"]),
                "peak_park_kw": float(self.peak_kw["park"]),
                "discomfort_kh": float(self.discomfort_kh.sum()),
                "ev_unmet_kwh": self.ev_unmet_kwh,
            }
        )


@dataclass
class SimulationResult:
    """Everything a run produced.

    Attributes
    ----------
    park : Park
        The simulated park.
    clock : SimClock
        Start and step of the run.
    steps : int
        Steps simulated.
    points : list of str
        The metering points simulated, in the order of ``intervals``.
    readings : pandas.DataFrame
        The readings that arrived in the kept window: ``point``, ``ts`` (UTC; interval
        points are labelled by the interval's start, others by the instant), ``value``
        [point unit], ``quality`` (0), ``true_value`` (without noise or faults) and
        ``fault`` (``none``, ``spike``, ``stuck``, ``skew``, ``reset``, ``drift``,
        ``night_load``).
    faults : pandas.DataFrame
        Every fault onset of the run: ``point``, ``ts`` (the reading's timestamp), ``fault``
        (``dropout`` too).
    intervals : xarray.DataArray
        True 15-min amount of every point (mean for instantaneous points) [point unit],
        dims ``(point, time)``; ``time`` in UTC with the zone in ``attrs["timezone"]``.
    accounting : IntervalData
        Activity per source stream key at 15 min in canonical units, from the points that
        measure a source.
    kpis : Kpis
        Key figures.
    trace : xarray.DataArray or None
        With ``trace=True``: every signal at every step, dims ``(signal, step)``.
    eligible : pandas.Series
        Readings each point was due to report (before dropouts), for fault statistics.
    """

    park: Park
    clock: SimClock
    steps: int
    points: list[str]
    readings: pd.DataFrame
    faults: pd.DataFrame
    intervals: xr.DataArray
    accounting: IntervalData
    kpis: Kpis
    trace: xr.DataArray | None = None
    eligible: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))


class _Signals:
    """Rows of the signal matrix: one per (asset, signal)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.units: list[str] = []
        self.kinds: list[str] = []
        self.row: dict[str, int] = {}

    def add(self, asset_id: str, kind: str) -> None:
        for name, (unit, what) in SIGNALS[kind].items():
            key = f"{asset_id}.{name}"
            self.row[key] = len(self.names)
            self.names.append(key)
            self.units.append(unit)
            self.kinds.append(what)

    def rows(self, ids: list[str], name: str) -> np.ndarray:
        return np.array([self.row[f"{i}.{name}"] for i in ids], dtype=np.intp)

    def __len__(self) -> int:
        return len(self.names)


def _lognormal(rng: np.random.Generator, mean: float, sigma: float) -> float:
    """Draw from a lognormal distribution with a mean and a log-standard deviation."""
    return float(rng.lognormal(math.log(mean) - sigma * sigma / 2, sigma))


class Simulator:
    """Simulates a park over a time range.

    Parameters
    ----------
    park : Park
        The park definition; its ``twin`` settings give location, schedules, tariff and
        fault rates.
    start : str, date or pandas.Timestamp
        Start of the run (local time of the park when naive).
    days : int
        Length of the run [d].
    step_s : int, optional
        Step [s]; ``park.twin.step_s`` by default.
    seed : int
        Seed of every random draw: the same seed gives identical readings.
    weather : pandas.DataFrame, optional
        A typical year or a weather series (see :mod:`carbontwin.twin.weather`); the
        park's shipped typical year by default.
    controller : Controller, optional
        Decides the setpoints; :class:`BaselineController` by default.
    keep_readings_days : float, optional
        Keep the readings of this many last days in the result (all when omitted, none
        with 0). Readings are produced, with their faults, for the whole run either way.
    speed : float, optional
        Simulated seconds per wall-clock second: paces the run to the wall clock
        (live twin). As fast as possible when omitted.
    chunk_s : int, optional
        How often readings and history are produced [s]: a day by default, 15 min in a
        live run. A multiple of 900 s that divides a day.
    trace : bool
        Keep every signal at every step (for tests and short studies).
    on_chunk : callable, optional
        Called with each :class:`Chunk` (streaming to a store or a live state).
    """

    def __init__(
        self,
        park: Park,
        start: str | dt.date | pd.Timestamp,
        days: int,
        *,
        step_s: int | None = None,
        seed: int = 0,
        weather: pd.DataFrame | None = None,
        controller: Controller | None = None,
        keep_readings_days: float | None = None,
        speed: float | None = None,
        chunk_s: int | None = None,
        trace: bool = False,
        on_chunk: Callable[[Chunk], None] | None = None,
    ) -> None:
        if days <= 0:
            msg = f"days(={days}) must be a positive number of days"
            raise ValidationError(msg)
        self.park = park
        tw = park.twin
        self.settings = tw
        self.clock = SimClock(local_start(start, park.timezone), int(step_s or tw.step_s))
        self.step_s = self.clock.step_s
        self.dt_h = self.step_s / 3600.0
        self.spd = self.clock.steps_per_day
        self.n_steps = round(days * self.spd)
        if HISTORY_S % self.step_s:
            msg = f"step_s(={self.step_s}) must divide the 900 s history interval"
            raise ValidationError(msg)
        self.h_steps = HISTORY_S // self.step_s
        if self.n_steps % self.h_steps:
            msg = f"days(={days}) must be a whole number of quarter-hours"
            raise ValidationError(msg)
        chunk = int(chunk_s or (HISTORY_S if speed else 86_400))
        if chunk % HISTORY_S or 86_400 % chunk:
            msg = f"chunk_s(={chunk}) must be a multiple of 900 s that divides a day"
            raise ValidationError(msg)
        self.chunk_steps = chunk // self.step_s
        self.speed = speed
        self.seed = seed
        self.trace_on = trace
        self.on_chunk = on_chunk
        keep = self.n_steps if keep_readings_days is None else keep_readings_days * self.spd
        self.keep_from = max(0, self.n_steps - round(keep))
        self.weather = weather if weather is not None else typical_weather(tw.weather)
        seq = np.random.SeedSequence(seed)
        (self.rng_noise, self.rng_ev, self.rng_lines, self.rng_faults, self.rng_init) = (
            np.random.default_rng(s) for s in seq.spawn(5)
        )
        self.controller = controller or BaselineController(park)
        self._build()

    # ------------------------------------------------------------------ building
    def _fail(self, where: str, message: str) -> None:
        msg = f"park {self.park.id}: {where}: {message}"
        raise ValidationError(msg)

    def _build(self) -> None:
        park = self.park
        by_kind: dict[str, list[Any]] = {k: [] for k in SIGNALS}
        for a in park.assets:
            by_kind[a.kind].append(a)
        self.assets = {a.id: a for a in park.assets}
        self.ent_ids = [e.id for e in park.enterprises]
        self.ent_index = {e: i for i, e in enumerate(self.ent_ids)}
        n_e = len(self.ent_ids)
        dt_h = self.dt_h

        self.zone_assets: list[HvacZone] = by_kind["hvac"]
        self.pv_assets: list[PvArray] = by_kind["pv"]
        self.bat_assets: list[Battery] = by_kind["battery"]
        self.ev_assets: list[EvChargers] = by_kind["ev"]
        self.line_assets: list[ProcessLine] = by_kind["process"]
        self.boiler_assets: list[Boiler] = by_kind["boiler"]
        self.chp_assets: list[Chp] = by_kind["chp"]
        self.grid_assets: list[GridConnection] = by_kind["grid"]
        self.load_assets: list[Load] = by_kind["load"]
        self.pump_assets: list[Pump] = by_kind["pump"]
        self.gen_assets: list[Generator] = by_kind["generator"]
        self.station_assets: list[WeatherStation] = by_kind["weather"]

        electric = (
            self.zone_assets + self.pv_assets + self.bat_assets + self.ev_assets
            + self.line_assets + self.load_assets + self.pump_assets + self.gen_assets
        )  # fmt: skip
        for a in electric + self.boiler_assets + self.chp_assets + self.grid_assets:
            if a.enterprise not in self.ent_index:
                self._fail(
                    f"asset {a.id}",
                    "a simulated asset needs 'enterprise' (one of the park's enterprises)",
                )
        connected = {g.enterprise for g in self.grid_assets}
        for a in electric:
            if a.enterprise not in connected:
                self._fail(
                    f"asset {a.id}",
                    f"enterprise {a.enterprise} has no grid connection; add an asset of kind "
                    "'grid' for it",
                )
        if len(connected) != len(self.grid_assets):
            self._fail("assets", "each enterprise has at most one asset of kind 'grid'")
        if self.pv_assets and (
            self.settings.latitude_deg is None or self.settings.longitude_deg is None
        ):
            self._fail("twin", "PV needs the park's latitude_deg and longitude_deg")

        def ent(assets: list[Any]) -> np.ndarray:
            return np.array([self.ent_index[a.enterprise] for a in assets], dtype=np.intp)

        self.zones = zone.Zones(self.zone_assets, dt_h)
        self.pvs = pv.PvArrays(self.pv_assets)
        self.bats = battery.Batteries(self.bat_assets, dt_h)
        self.ports = ev.EvPorts(self.ev_assets, dt_h)
        self.lines = process.ProcessLines(self.line_assets)
        self.zone_ent, self.pv_ent, self.bat_ent = (
            ent(self.zone_assets), ent(self.pv_assets), ent(self.bat_assets)
        )  # fmt: skip
        self.ev_ent, self.line_ent = ent(self.ev_assets), ent(self.line_assets)
        self.load_ent, self.pump_ent = ent(self.load_assets), ent(self.pump_assets)
        self.gen_ent, self.boiler_ent = ent(self.gen_assets), ent(self.boiler_assets)
        self.chp_ent, self.grid_ent = ent(self.chp_assets), ent(self.grid_assets)

        ids = {k: [a.id for a in v] for k, v in by_kind.items()}
        boiler_pos = {b: i for i, b in enumerate(ids["boiler"])}
        chp_pos = {c: i for i, c in enumerate(ids["chp"])}
        zone_pos = {z: i for i, z in enumerate(ids["hvac"])}
        # Who heats and supplies whom.
        self.zone_boiler = np.full(len(self.zone_assets), -1, dtype=np.intp)
        for i, z in enumerate(self.zone_assets):
            if z.heating == "boiler":
                if z.heating_supplier not in boiler_pos:
                    self._fail(f"asset {z.id}", "heating 'boiler' needs heating_supplier: a boiler")
                self.zone_boiler[i] = boiler_pos[z.heating_supplier]
        self.line_chp = np.full(len(self.line_assets), -1, dtype=np.intp)
        self.line_boiler = np.full(len(self.line_assets), -1, dtype=np.intp)
        for i, line in enumerate(self.line_assets):
            if line.steam_t_per_t > 0:
                if line.steam_supplier in chp_pos:
                    self.line_chp[i] = chp_pos[line.steam_supplier]
                elif line.steam_supplier in boiler_pos:
                    self.line_boiler[i] = boiler_pos[line.steam_supplier]
                else:
                    self._fail(
                        f"asset {line.id}", "a line that uses steam needs steam_supplier: a CHP "
                        "or boiler asset",
                    )  # fmt: skip
        self.grid_chp = np.full(len(self.grid_assets), -1, dtype=np.intp)
        for i, g in enumerate(self.grid_assets):
            if g.supplier is not None:
                if g.supplier not in chp_pos:
                    self._fail(f"asset {g.id}", f"supplier {g.supplier!r} is not a CHP asset")
                self.grid_chp[i] = chp_pos[g.supplier]
        self.grid_supply_max = np.array(
            [
                (math.inf if g.supply_kw is None else g.supply_kw) if g.supplier else 0.0
                for g in self.grid_assets
            ]
        )
        self.load_zone = np.array(
            [
                zone_pos.get(ld.heat_to_zone, -1) if ld.heat_to_zone else -1
                for ld in self.load_assets
            ],
            dtype=np.intp,
        )
        for ld in self.load_assets:
            if ld.heat_to_zone and ld.heat_to_zone not in zone_pos:
                self._fail(f"asset {ld.id}", f"heat_to_zone {ld.heat_to_zone!r} is not a zone")

        # Schedules used by assets.
        tw = self.settings
        self.sched = {}
        for a in self.zone_assets:
            self.sched[a.occupancy] = resolve_schedule(tw, a.occupancy, a.id)
        for a in [*self.line_assets, *self.load_assets, *self.pump_assets, *self.boiler_assets]:
            self.sched[a.schedule] = resolve_schedule(tw, a.schedule, a.id)
        self.holidays = set(tw.holidays)

        # Signals.
        sig = _Signals()
        for kind, assets in by_kind.items():
            for a in assets:
                sig.add(a.id, kind)
        self.sig = sig
        self.flow_rows = np.array([k == "flow" for k in sig.kinds], dtype=bool)
        r = sig.rows
        self.R = {
            "zone": {n: r(ids["hvac"], n) for n in zone.SIGNALS},
            "pv": {n: r(ids["pv"], n) for n in pv.SIGNALS},
            "bat": {n: r(ids["battery"], n) for n in battery.SIGNALS},
            "ev": {n: r(ids["ev"], n) for n in ev.SIGNALS},
            "line": {n: r(ids["process"], n) for n in process.SIGNALS},
            "boiler": {n: r(ids["boiler"], n) for n in boiler.SIGNALS},
            "chp": {n: r(ids["chp"], n) for n in chp.SIGNALS},
            "grid": {n: r(ids["grid"], n) for n in grid.SIGNALS},
            "load": {n: r(ids["load"], n) for n in load.SIGNALS},
            "pump": {n: r(ids["pump"], n) for n in pump.SIGNALS},
            "gen": {n: r(ids["generator"], n) for n in generator.SIGNALS},
            "wx": {n: r(ids["weather"], n) for n in grid.WEATHER_SIGNALS},
        }
        # Bus matrix: +1 for what an enterprise draws, -1 for what it generates on site.
        self.bus = np.zeros((n_e, len(sig)))
        R = self.R
        for rows, ents, sign in (
            (R["zone"]["electricity"], self.zone_ent, 1.0),
            (R["load"]["electricity"], self.load_ent, 1.0),
            (R["pump"]["electricity"], self.pump_ent, 1.0),
            (R["line"]["electricity"], self.line_ent, 1.0),
            (R["ev"]["electricity"], self.ev_ent, 1.0),
            (R["bat"]["charge"], self.bat_ent, 1.0),
            (R["bat"]["discharge"], self.bat_ent, -1.0),
            (R["pv"]["ac"], self.pv_ent, -1.0),
            (R["gen"]["electricity"], self.gen_ent, -1.0),
        ):
            np.add.at(self.bus, (ents, rows), sign)

        self._build_meters()
        self.setpoint_specs = setpoints(self.park)
        self.values = {n: s.default for n, s in self.setpoint_specs.items()}
        self._setters = self._build_setters()
        for name, value in self.values.items():
            self._setters[name](value)

        # Generator test times and the state of event-driven devices.
        self.gen_on = np.zeros(len(self.gen_assets))
        self.gen_power = np.array([g.power_kw * g.test_load_frac for g in self.gen_assets])
        self.line_factor = self.lines.factor()
        self.prices = fuel_prices(tw.tariff)

        def incidence(ents: np.ndarray) -> np.ndarray:
            m = np.zeros((n_e, len(ents)))
            m[ents, np.arange(len(ents))] = 1.0
            return m

        self.bus_of = {
            "zone": incidence(self.zone_ent),
            "line": incidence(self.line_ent),
            "ev": incidence(self.ev_ent),
            "load": incidence(self.load_ent),
            "pump": incidence(self.pump_ent),
            "pv": incidence(self.pv_ent),
        }
        self.line_idle_kw = np.array([a.idle_electricity_kw for a in self.line_assets])
        self.line_kwh_per_t = np.array([a.electricity_kwh_per_t for a in self.line_assets])
        self.line_on = np.ones(len(self.line_assets))
        self._alloc()

    def _build_meters(self) -> None:
        """Bind each metered signal to its point; compute each point's unit factor."""
        park = self.park
        points = {p.id: p for p in park.points}
        bound: list[tuple[MeteringPoint, int, str]] = []
        seen: dict[str, str] = {}
        kind_of: dict[str, str] = {}
        for a in park.assets:
            kind_signals = SIGNALS[a.kind]
            for pid, name in a.meters.items():
                where = f"asset {a.id}.meters.{pid}"
                if name not in kind_signals:
                    self._fail(
                        where,
                        f"{a.kind} assets have no signal {name!r}; use one of "
                        f"{', '.join(kind_signals)}",
                    )
                if pid not in points:
                    self._fail(where, f"point {pid!r} is not in the park's points")
                if pid in seen:
                    self._fail(
                        where,
                        f"point {pid} already measures {seen[pid]}; a point measures one signal",
                    )
                seen[pid] = f"{a.id}.{name}"
                kind_of[pid] = a.kind
                bound.append((points[pid], self.sig.row[f"{a.id}.{name}"], name))
        self.point_ids = [p.id for p, _, _ in bound]
        self.points = [p for p, _, _ in bound]
        rows, scale, kinds, every, rollover, initial, temp = [], [], [], [], [], [], []
        for p, row, _ in bound:
            unit, what = self.sig.units[row], self.sig.kinds[row]
            where = f"point {p.id}"
            if p.interval_s % self.step_s:
                self._fail(where, f"interval_s(={p.interval_s}) must be a multiple of the step")
            if p.kind in ("interval", "cumulative"):
                if what != "flow":
                    self._fail(where, f"a {p.kind} point must measure a flow, not {what} signal")
                f = conversion_factor(unit, p.unit) * self.dt_h
            elif what == "flow":
                f = conversion_factor(f"{unit}/h", p.unit)
            else:
                f = conversion_factor(unit, p.unit)
            rows.append(row)
            scale.append(f)
            kinds.append(meter.KIND_CODES[p.kind])
            every.append(p.interval_s // self.step_s)
            r = p.rollover if (p.kind == "cumulative" and p.rollover) else math.inf
            rollover.append(r)
            initial.append(float(self.rng_init.uniform(0, 0.9 * r)) if math.isfinite(r) else 0.0)
            temp.append(unit == "degC")
        self.meters = meter.Meters(
            np.array(rows, dtype=np.intp), np.array(scale), np.array(kinds),
            np.array(every), np.array(rollover), np.array(initial), self.h_steps,
        )  # fmt: skip
        # Drift and abnormal night loads go on points of energy and material flows only,
        # night loads not on a PV array's output.
        load = [not str(p.carrier).startswith("other:") for p in self.points]
        night = [kind_of[p.id] != "pv" for p in self.points]
        self.faults = FaultInjector(
            self.settings.faults,
            len(bound),
            self.rng_faults,
            np.array(temp, dtype=bool),
            load=np.array(load, dtype=bool),
            step_s=self.step_s,
            local_hour=self._local_hour,
            night=np.array(night, dtype=bool),
        )

    def _local_hour(self, steps: np.ndarray) -> np.ndarray:
        """Return the local hour of day [h] at each of ``steps`` (for night-load faults)."""
        ms = self.clock.start_ms + np.asarray(steps, dtype=np.int64) * (self.step_s * 1000)
        local = pd.to_datetime(ms, unit="ms", utc=True).tz_convert(self.clock.timezone)
        return np.asarray(local.hour + local.minute / 60.0)

    def _build_setters(self) -> dict[str, Callable[[float], None]]:
        out: dict[str, Callable[[float], None]] = {}
        zpos = {a.id: i for i, a in enumerate(self.zone_assets)}
        bpos = {a.id: i for i, a in enumerate(self.bat_assets)}
        epos = {a.id: i for i, a in enumerate(self.ev_assets)}
        lpos = {a.id: i for i, a in enumerate(self.line_assets)}
        z, b, lines = self.zones, self.bats, self.lines

        def arr_setter(arr: np.ndarray, i: int) -> Callable[[float], None]:
            def set_(v: float) -> None:
                arr[i] = v

            return set_

        def line_rate(i: int) -> Callable[[float], None]:
            def set_(v: float) -> None:
                lines.rate_frac[i] = v
                self.line_factor = lines.factor()

            return set_

        def ev_limit(i: int) -> Callable[[float], None]:
            return lambda v: self.ports.set_limit(i, v)

        for name, s in self.setpoint_specs.items():
            if s.asset in zpos:
                i = zpos[s.asset]
                target = {
                    "setpoint_c": z.cooling_setpoint_c,
                    "heating_setpoint_c": z.heating_setpoint_c,
                    "dimming_frac": z.dimming_frac,
                }[s.attr]
                out[name] = arr_setter(target, i)
            elif s.asset in bpos:
                out[name] = arr_setter(b.setpoint_kw, bpos[s.asset])
            elif s.asset in epos:
                out[name] = ev_limit(epos[s.asset])
            elif s.asset in lpos:
                i = lpos[s.asset]
                out[name] = line_rate(i) if s.attr == "rate_frac" else arr_setter(lines.start_h, i)
        return out

    def _alloc(self) -> None:
        spd = self.spd
        nz, nb, npo = len(self.zones), len(self.bats), len(self.ports)
        self.rec = {
            "T": np.zeros((spd, nz)),
            "qc": np.zeros((spd, nz)),
            "qh": np.zeros((spd, nz)),
            "dim": np.zeros((spd, nz)),
            "spc": np.zeros((spd, nz)),
            "bp": np.zeros((spd, nb)),
            "be": np.zeros((spd, nb)),
            "ev": np.zeros((spd, npo)),
            "conn": np.zeros((spd, npo)),
            "line": np.zeros((spd, len(self.lines))),
            "gen": np.zeros((spd, len(self.gen_assets))),
        }
        self.day = -1
        self.X = np.zeros((len(self.sig), self.chunk_steps))
        n_hist = self.n_steps // self.h_steps
        self.hist = np.zeros((len(self.meters), n_hist))
        self.totals = np.zeros(len(self.sig))
        n_e = len(self.ent_ids)
        self.cost = {k: np.zeros(n_e) for k in ("electricity", "export", "fuel", "internal")}
        self.peak_month: dict[str, np.ndarray] = {}
        self.discomfort = np.zeros(len(self.zones))
        self.balance_max = 0.0
        self.eligible = np.zeros(len(self.meters), dtype=np.int64)
        self._parts: list[tuple[np.ndarray, ...]] = []
        self._log: list[tuple[int, int, int]] = []
        self._trace: list[np.ndarray] = []
        self.ent_active = np.ones(n_e, dtype=bool)

    # ------------------------------------------------------------------ one day
    def _prepare_day(self, day: int) -> None:
        """Compute the day's exogenous inputs, vectorised over its steps."""
        self.day = day
        k0, spd = day * self.spd, self.spd
        hour, weekday, dates = self.clock.local_features(k0, spd)
        today = dates[0]
        holiday = np.array([d in self.holidays for d in dates], dtype=bool)
        month = np.array([d.month for d in dates], dtype=np.intp)
        self.today = today
        self.month_key = f"{today.year}-{today.month:02d}"
        self.ent_active = np.array([e.active_on(today) for e in self.park.enterprises])
        act = self.ent_active
        w = weather_on_steps(self.weather, self.clock, k0, spd)
        temp = w["temp_air_c"]
        unix_mid = (self.clock.start.value / 1e9) + (k0 + np.arange(spd) + 0.5) * self.step_s
        tw = self.settings
        if self.pv_assets or self.zone_assets:
            if tw.latitude_deg is not None and tw.longitude_deg is not None:
                zen, azi = pv.solar_position(unix_mid, tw.latitude_deg, tw.longitude_deg)
            else:
                zen, azi = np.full(spd, 90.0), np.zeros(spd)
            sun = zen < 90.0
            dni = np.where(sun, w["dni_w_per_m2"], 0.0)
            dhi = np.where(sun, w["dhi_w_per_m2"], 0.0)
            ghi = dni * np.cos(np.radians(np.minimum(zen, 90.0))) + dhi
        else:
            zen = azi = dni = dhi = ghi = np.zeros(spd)
        sched = {name: schedule_frac(s, hour, weekday, holiday) for name, s in self.sched.items()}
        d: dict[str, np.ndarray] = {"temp": temp, "rh": w["relative_humidity_pct"], "ghi": ghi}
        # 15-min blocks of random variation, held over their steps.
        blocks = -(-spd // self.h_steps)

        def noise(n: int, frac: np.ndarray) -> np.ndarray:
            z = self.rng_noise.standard_normal((blocks, n))
            return np.repeat(np.maximum(1 + z * frac, 0.0), self.h_steps, axis=0)[:spd]

        # Loads.
        la = self.load_assets
        if la:
            lf = np.stack([sched[a.schedule] for a in la], axis=1)
            lkw = load.load_power_kw(
                lf, np.array([a.power_kw for a in la]), np.array([a.base_frac for a in la])
            )
            lkw *= noise(len(la), np.array([a.noise_frac for a in la]))
            d["load"] = lkw * act[self.load_ent]
        else:
            d["load"] = np.zeros((spd, 0))
        # Zones: occupancy, gains, COPs.
        z, za = self.zones, self.zone_assets
        if za:
            occ = np.stack([sched[a.occupancy] for a in za], axis=1)
            zact = act[self.zone_ent]
            plug = z.plug_kw * (z.plug_base_frac + (1 - z.plug_base_frac) * occ) * zact
            fan = z.fan_kw * (occ > 0) * zact
            heat = plug + z.people_kw * occ * zact + z.aperture_m2 * ghi[:, None] / 1000.0
            for i, zi in enumerate(self.load_zone):
                if zi >= 0:
                    heat[:, zi] += d["load"][:, i] * self.load_assets[i].heat_frac
            d["teq"] = temp[:, None] + z.r_k_per_kw * heat
            d["occ"], d["plug"], d["fan"] = occ, plug, fan
            d["cop_c"], d["cop_h"] = z.cop_arrays(temp)
            z.cooling_now_kw = z.cooling_kw * zact
            z.heating_now_kw = z.heating_kw * zact
            z.teq_light_now = z.teq_per_dimming * zact
            self.zone_lit = z.lighting_kw * zact
        # PV.
        if self.pv_assets:
            ac, poa, cell = self.pvs.power(dni, dhi, ghi, zen, azi, temp)
            d["pv"], d["poa"], d["cell"] = ac * act[self.pv_ent], poa, cell
        # Pumps.
        pa = self.pump_assets
        if pa:
            flow = np.stack([sched[a.schedule] for a in pa], axis=1)
            flow = flow * noise(len(pa), np.array([a.noise_frac for a in pa]))
            flow = np.clip(flow, np.array([a.min_flow_frac for a in pa]), 1.0)
            flow *= act[self.pump_ent]
            d["flow"] = flow
            d["pump"] = pump.pump_power_kw(
                flow, np.array([a.power_kw for a in pa]), np.array([a.static_head_frac for a in pa])
            )
        # Lines: rate profile (continuous lines) or capacity (batch lines).
        lna = self.line_assets
        if lna:
            prof = np.empty((spd, len(lna)))
            for i, a in enumerate(lna):
                if a.operation == "batch":
                    prof[:, i] = a.capacity_t_per_h
                else:
                    prof[:, i] = a.capacity_t_per_h * a.utilisation_frac * sched[a.schedule]
            prof *= noise(len(lna), np.array([a.rate_noise_frac for a in lna]))
            d["prof"] = np.minimum(prof, self.lines.capacity_t_per_h) * act[self.line_ent]
        # Boilers' base heat.
        ba = self.boiler_assets
        if ba:
            d["base_heat"] = (
                np.stack([a.base_heat_kw * sched[a.schedule] for a in ba], axis=1)
                * act[self.boiler_ent]
            )
        # Tariff.
        tou = tou_periods(tw.tariff, hour, month)
        d["tou"] = tou
        d["price"] = np.array([p.price_cny_per_kwh for p in tw.tariff.periods])[tou]
        d["hour"], d["weekday"] = hour, weekday
        # What the controller's demand estimate needs that does not depend on the state.
        m = self.bus_of
        exo = np.zeros((spd, len(self.ent_ids)))
        if self.load_assets:
            exo += d["load"] @ m["load"].T
        if self.pump_assets:
            exo += d["pump"] @ m["pump"].T
        if self.pv_assets:
            exo -= d["pv"] @ m["pv"].T
        if za:
            exo += (d["plug"] + d["fan"]) @ m["zone"].T
        d["exo_kw"] = exo
        self.line_on = act[self.line_ent].astype(float)
        self.day_index = self.clock.index(k0, spd)
        self.d = d

    # ------------------------------------------------------------------ control
    def control_state(self) -> ControlState:
        """Return the twin's state as the controller sees it, now."""
        k = min(self.clock.step(self.env.now), self.n_steps - 1)
        day, j = divmod(k, self.spd)
        if day != self.day:
            self._prepare_day(day)
        d = self.d
        z = self.zones
        ahead = min(j + int(3600 / self.step_s), self.spd - 1)
        tou = self.settings.tariff.periods[int(d["tou"][j])]
        zone_ids = z.ids
        return ControlState(
            t=self.day_index[j],
            hour=float(d["hour"][j]),
            weekday=int(d["weekday"][j]),
            tou_period=tou.name,
            price_cny_per_kwh=tou.price_cny_per_kwh,
            temp_out_c=float(d["temp"][j]),
            zone_temp_c=dict(zip(zone_ids, z.temp_c.tolist(), strict=True)),
            occupancy=dict(zip(zone_ids, d["occ"][j].tolist(), strict=True)) if zone_ids else {},
            occupancy_ahead=(
                dict(zip(zone_ids, d["occ"][ahead].tolist(), strict=True)) if zone_ids else {}
            ),
            soc_frac=dict(
                zip(
                    self.bats.ids,
                    (self.bats.energy_kwh / self.bats.capacity_kwh).tolist(),
                    strict=True,
                )
            ),
            demand_kw=self._demand_now(j),
            values=dict(self.values),
        )

    def _demand_now(self, j: int) -> dict[str, float]:
        """Return each enterprise's electric demand now, before batteries [kW].

        Loads less on-site generation, with HVAC and charging at their last step's values.
        """
        d, m = self.d, self.bus_of
        dem = d["exo_kw"][j].copy()
        if len(self.zones):
            jj = max(j - 1, 0)
            z = self.zones
            hvac = self.rec["qc"][jj] / d["cop_c"][j] + self.rec["qh"][jj] / d["cop_h"][j] * (
                z.heat_pump
            )
            dem += m["zone"] @ (hvac + self.zone_lit * z.dimming_frac)
        if len(self.lines):
            rate = self.line_factor * d["prof"][j]
            dem += m["line"] @ ((self.line_idle_kw + rate * self.line_kwh_per_t) * self.line_on)
        if len(self.ports):
            per_group = np.add.reduceat(
                self.ports.limit_kw * self.ports.connected, self.ports.starts
            )
            dem += m["ev"] @ per_group
        return dict(zip(self.ent_ids, dem.tolist(), strict=True))

    def apply(self, decisions: dict[str, float]) -> None:
        """Apply setpoint values, each clipped to its limits."""
        specs, values = self.setpoint_specs, self.values
        for name, value in decisions.items():
            if values.get(name) == value:
                continue
            spec = specs.get(name)
            if spec is None:
                msg = f"controller set {name!r}, which is not a setpoint of the park"
                raise ValidationError(msg)
            v = spec.clip(value)
            if values[name] != v:
                values[name] = v
                self._setters[name](v)
        if len(self.bats):
            self.bats.setpoint_kw *= self.ent_active[self.bat_ent]

    def _control(self, env: simpy.Environment) -> Any:
        interval = self.settings.control_interval_s
        while True:
            state = self.control_state()
            self.apply(self.controller.decide(state, state.t))
            yield env.timeout(interval)

    # ------------------------------------------------------------------ discrete events
    def _ev_arrivals(self, env: simpy.Environment, g: int) -> Any:
        """Poisson arrivals at charge-point group ``g``, thinned to the hourly profile."""
        a = self.ev_assets[g]
        rng = self.rng_ev
        rates = [
            [
                float(ev.arrival_rate_per_h(a.arrival_profile, a.sessions_per_day, h, wd))
                for h in range(24)
            ]
            for wd in range(7)
        ]
        rate_max = max(max(r) for r in rates)
        if rate_max <= 0:
            return
        end = self.n_steps * self.step_s
        t = float(env.now)
        while True:
            t += rng.exponential(3600.0 / rate_max)
            if t >= end:
                return
            hour, weekday = self.clock.local_hour_weekday(t)
            if rng.random() * rate_max > rates[weekday][int(hour)]:
                continue
            at = math.ceil(t / self.step_s) * self.step_s
            if at >= end:
                return
            yield env.timeout(at - env.now)
            need = min(_lognormal(rng, a.energy_kwh_mean, 0.5), 4 * a.energy_kwh_mean)
            dwell = max(_lognormal(rng, a.dwell_h_mean, 0.4), 0.25) * 3600
            if not self.ent_active[self.ev_ent[g]]:
                continue
            port = self.ports.plug_in(g, need)
            if port >= 0:
                leave = env.timeout(math.ceil(dwell / self.step_s) * self.step_s)
                leave.callbacks.append(lambda _e, p=port: self.ports.unplug(p))

    def _batches(self, env: simpy.Environment, i: int) -> Any:
        """Batches of line ``i``: each scheduled local day, from its ``start_h`` setpoint."""
        a = self.line_assets[i]
        rng = self.rng_lines
        sched = self.sched[a.schedule]
        days = set(sched.weekdays())
        step = self.step_s
        end = self.n_steps * step
        first = self.clock.start.tz_localize(None).normalize()
        n_days = -(-end // 86_400) + 1
        for d in range(n_days):
            midnight = (first + pd.Timedelta(days=d)).tz_localize(self.clock.timezone)
            day_s = self.clock.seconds(midnight)
            date = midnight.date()
            if day_s >= end:
                return
            if env.now < day_s:
                yield env.timeout(math.ceil(day_s / step) * step - env.now)
            working = date.weekday() in days and not (date in self.holidays and sched.holidays_off)
            if not working or not self.park.enterprise(a.enterprise or "").active_on(date):
                continue
            for b in range(a.batches_per_day):
                jitter = rng.exponential(a.start_jitter_h) if a.start_jitter_h > 0 else 0.0
                start_h = self.lines.start_h[i] + b * (a.batch_h + a.batch_gap_h) + jitter
                at = math.ceil((day_s + start_h * 3600) / step) * step
                if at < env.now:  # before the run, or the last batch overran
                    continue
                if at >= end:
                    return
                yield env.timeout(at - env.now)
                self.lines.running[i] = 1.0
                self.line_factor = self.lines.factor()
                yield env.timeout(math.ceil(a.batch_h * 3600 / step) * step)
                self.lines.running[i] = 0.0
                self.line_factor = self.lines.factor()

    def _generator_tests(self, env: simpy.Environment, i: int) -> Any:
        g = self.gen_assets[i]
        step = self.step_s
        start = self.clock.start
        end = start + pd.Timedelta(seconds=self.n_steps * step)
        month = start.normalize().replace(day=1)
        while month < end:
            first = month + pd.Timedelta(days=(g.test_weekday - month.weekday()) % 7)
            at_ts = first + pd.Timedelta(hours=g.test_hour)
            at = math.ceil(self.clock.seconds(at_ts) / step) * step
            if 0 <= at < self.n_steps * step and at >= env.now:
                yield env.timeout(at - env.now)
                self.gen_on[i] = 1.0
                yield env.timeout(math.ceil(g.test_h * 3600 / step) * step)
                self.gen_on[i] = 0.0
            month = (month + pd.Timedelta(days=32)).replace(day=1)

    # ------------------------------------------------------------------ stepping
    def _run_steps(self, k: int, k_end: int) -> None:
        """Advance the continuous physics over steps ``k .. k_end - 1``."""
        rec = self.rec
        z, b, ports = self.zones, self.bats, self.ports
        has_z, has_b, has_e = len(z) > 0, len(b) > 0, len(ports) > 0
        has_l, has_g = len(self.lines) > 0, len(self.gen_assets) > 0
        rT, rqc, rqh, rdim, rspc = rec["T"], rec["qc"], rec["qh"], rec["dim"], rec["spc"]
        rbp, rbe, rev, rconn = rec["bp"], rec["be"], rec["ev"], rec["conn"]
        rline, rgen = rec["line"], rec["gen"]
        chunk = self.chunk_steps
        spd = self.spd
        while k < k_end:
            day, j = divmod(k, spd)
            if day != self.day:
                self._prepare_day(day)
            teq = self.d["teq"] if has_z else None
            stop = min(k_end, (day + 1) * spd)
            while k < stop:
                if has_z:
                    t, qc, qh = z.step(teq[j])
                    rT[j] = t
                    rqc[j] = qc
                    rqh[j] = qh
                    rdim[j] = z.dimming_frac
                    rspc[j] = z.cooling_setpoint_c
                if has_b:
                    p, e = b.step()
                    rbp[j] = p
                    rbe[j] = e
                if has_e:
                    rev[j] = ports.step()
                    rconn[j] = ports.connected
                if has_l:
                    rline[j] = self.line_factor
                if has_g:
                    rgen[j] = self.gen_on
                k += 1
                j += 1
                if k % chunk == 0 or k == self.n_steps:  # a short last chunk, too
                    self._flush(k - ((k - 1) % chunk + 1), k)

    def _step(self, env: simpy.Environment) -> Any:
        """Step all continuous physics: the stepping process."""
        step = self.step_s
        k = 0
        while k < self.n_steps:
            if self.speed is None:
                nxt = env.peek()
                stop = self.n_steps if nxt == math.inf else min(self.n_steps, math.ceil(nxt / step))
            else:
                stop = k + 1
            if stop > k:
                self._run_steps(k, stop)
                k = stop
            yield _AfterEvents(env, k * step - env.now)

    def run(self) -> SimulationResult:
        """Run the simulation and return its result."""
        if self.speed is None:
            env: simpy.Environment = simpy.Environment()
        else:
            env = simpy.rt.RealtimeEnvironment(factor=1.0 / self.speed, strict=False)
        self.env = env
        env.process(self._control(env))
        for g in range(len(self.ev_assets)):
            env.process(self._ev_arrivals(env, g))
        for i, a in enumerate(self.line_assets):
            if a.operation == "batch":
                env.process(self._batches(env, i))
        for i in range(len(self.gen_assets)):
            env.process(self._generator_tests(env, i))
        stepper = env.process(self._step(env))
        env.run(until=stepper)
        return self._result()

    # ------------------------------------------------------------------ a chunk
    def _signals(self, k0: int, k1: int) -> np.ndarray:
        """Fill the signal matrix of steps ``k0 .. k1 - 1`` (one day's chunk)."""
        n = k1 - k0
        j0 = k0 - self.day * self.spd
        sl = slice(j0, j0 + n)
        X = self.X[:, :n]
        X.fill(0.0)
        d, rec, R = self.d, self.rec, self.R
        z = self.zones
        boiler_zone_heat = np.zeros((len(self.boiler_assets), n))
        if len(z):
            rz = R["zone"]
            T, qc, qh = rec["T"][sl].T, rec["qc"][sl].T, rec["qh"][sl].T
            cool_e = qc / d["cop_c"][sl].T
            heat_e = qh / d["cop_h"][sl].T * z.heat_pump[:, None]
            fan, plug = d["fan"][sl].T, d["plug"][sl].T
            light = self.zone_lit[:, None] * rec["dim"][sl].T
            hvac = cool_e + heat_e + fan
            X[rz["temp_c"]] = T
            X[rz["setpoint_c"]] = rec["spc"][sl].T
            X[rz["occupancy"]] = d["occ"][sl].T
            X[rz["cooling_electricity"]] = cool_e
            X[rz["heating_electricity"]] = heat_e
            X[rz["hvac_electricity"]] = hvac
            X[rz["lighting"]] = light
            X[rz["plug"]] = plug
            X[rz["electricity"]] = hvac + light + plug
            X[rz["cooling"]] = qc
            X[rz["heating"]] = qh
            for i, bi in enumerate(self.zone_boiler):
                if bi >= 0:
                    boiler_zone_heat[bi] += qh[i]
        if self.pv_assets:
            rp = R["pv"]
            X[rp["ac"]] = d["pv"][sl].T
            X[rp["poa_w_per_m2"]] = d["poa"][sl].T
            X[rp["cell_temp_c"]] = d["cell"][sl].T
        if len(self.bats):
            rb = R["bat"]
            p = rec["bp"][sl].T
            X[rb["discharge"]] = np.maximum(p, 0.0)
            X[rb["charge"]] = np.maximum(-p, 0.0)
            X[rb["energy_kwh"]] = rec["be"][sl].T
            X[rb["soc"]] = rec["be"][sl].T / self.bats.capacity_kwh[:, None]
        if len(self.ports):
            re = R["ev"]
            ports = self.ports
            X[re["electricity"]] = np.add.reduceat(rec["ev"][sl], ports.starts, axis=1).T
            X[re["connected"]] = np.add.reduceat(rec["conn"][sl], ports.starts, axis=1).T
        if self.load_assets:
            X[R["load"]["electricity"]] = d["load"][sl].T
        if self.pump_assets:
            X[R["pump"]["electricity"]] = d["pump"][sl].T
            X[R["pump"]["flow"]] = d["flow"][sl].T
        steam_chp = np.zeros((len(self.chp_assets), n))
        steam_chp_export = np.zeros((len(self.chp_assets), n))
        steam_boiler = np.zeros((len(self.boiler_assets), n))
        if self.line_assets:
            rl = R["line"]
            rate = rec["line"][sl].T * d["prof"][sl].T
            for i, a in enumerate(self.line_assets):
                flows = process.process_flows(rate[i], a)
                if not self.ent_active[self.line_ent[i]]:
                    flows["electricity"] = flows["electricity"] * 0.0
                for name, values in flows.items():
                    X[rl[name][i]] = values
                ci, bi = self.line_chp[i], self.line_boiler[i]
                if ci >= 0:
                    steam_chp[ci] += flows["steam"]
                    if a.enterprise != self.chp_assets[ci].enterprise:
                        steam_chp_export[ci] += flows["steam"]
                elif bi >= 0:
                    steam_boiler[bi] += flows["steam"]
        if self.gen_assets:
            rg = R["gen"]
            gp = rec["gen"][sl].T * self.gen_power[:, None]
            X[rg["electricity"]] = gp
            for i, a in enumerate(self.gen_assets):
                X[rg["fuel"][i]] = generator.generator_fuel_t_per_h(gp[i], a.fuel_kg_per_kwh)
        # Boilers: base heat, steam for lines, zone heating.
        for i, a in enumerate(self.boiler_assets):
            rb = R["boiler"]
            gj_per_t = boiler.steam_heat_gj_per_t(a.steam_enthalpy_kj_per_kg)
            demand = d["base_heat"][sl, i] + steam_boiler[i] * gj_per_t / _GJ_PER_KWH
            demand = demand + boiler_zone_heat[i]
            heat = np.minimum(demand, a.heat_kw)
            X[rb["heat"][i]] = heat * _GJ_PER_KWH
            X[rb["unmet_heat"][i]] = (demand - heat) * _GJ_PER_KWH
            X[rb["steam"][i]] = steam_boiler[i]
            X[rb["gas"][i]] = boiler.boiler_gas_1e4nm3_per_h(
                heat, a.efficiency_frac, a.fuel_ncv_gj_per_1e4nm3
            )
        # Electrical buses and the self-owned plant.
        net = self.bus @ X
        rg = R["grid"]
        n_g = len(self.grid_assets)
        want = np.zeros((n_g, n))
        for c in range(n_g):
            e = self.grid_ent[c]
            want[c] = np.minimum(np.maximum(net[e], 0.0), self.grid_supply_max[c])
        got = want.copy()
        for ci, a in enumerate(self.chp_assets):
            mine = np.flatnonzero(self.grid_chp == ci)
            owner = [c for c in mine if self.grid_ent[c] == self.chp_ent[ci]]
            others = [c for c in mine if self.grid_ent[c] != self.chp_ent[ci]]
            room = np.full(n, a.electric_kw)
            for c in owner:
                got[c] = np.minimum(want[c], room)
                room = room - got[c]
            if others:
                total = want[others].sum(axis=0)
                scale = np.where(total > room, room / np.where(total > 0, total, 1.0), 1.0)
                got[others] = want[others] * scale
            rc = R["chp"]
            p_demand = want[mine].sum(axis=0) if len(mine) else np.zeros(n)
            gj_per_t = boiler.steam_heat_gj_per_t(a.steam_enthalpy_kj_per_kg)
            q_demand = steam_chp[ci] * gj_per_t / _GJ_PER_KWH
            p_out, q_out, fuel, short_e, short_q = chp.chp_dispatch(
                got[mine].sum(axis=0) if len(mine) else np.zeros(n),
                q_demand,
                a.electric_kw,
                a.heat_kw,
                a.electric_efficiency_frac,
                a.power_loss_ratio,
                a.fuel_ncv_gj_per_t,
            )
            X[rc["electricity"][ci]] = p_out
            X[rc["heat"][ci]] = q_out * _GJ_PER_KWH
            X[rc["fuel"][ci]] = fuel
            X[rc["steam"][ci]] = steam_chp[ci]
            X[rc["export_steam"][ci]] = steam_chp_export[ci]
            X[rc["export_electricity"][ci]] = got[others].sum(axis=0) if others else 0.0
            X[rc["unserved_electricity"][ci]] = p_demand - p_out + short_e
            X[rc["unmet_heat"][ci]] = short_q * _GJ_PER_KWH
        for c, a in enumerate(self.grid_assets):
            e = self.grid_ent[c]
            need = np.maximum(net[e], 0.0)
            surplus = need - net[e]
            rest = need - got[c]
            X[rg["supply"][c]] = got[c]
            X[rg["demand"][c]] = need
            X[rg["import"][c]] = rest if a.grid else 0.0
            X[rg["unserved"][c]] = 0.0 if a.grid else rest
            X[rg["export"][c]] = surplus if a.export_allowed else 0.0
            X[rg["curtailed"][c]] = 0.0 if a.export_allowed else surplus
            X[rg["power_kw"][c]] = X[rg["import"][c]] - X[rg["export"][c]]
        if self.station_assets:
            rw = R["wx"]
            X[rw["temp_air_c"]] = d["temp"][sl]
            X[rw["relative_humidity_pct"]] = d["rh"][sl]
            X[rw["ghi_w_per_m2"]] = d["ghi"][sl]
        # Balance of every bus at every step (zero up to rounding by construction).
        if n_g:
            supply = X[rg["import"]] + X[rg["supply"]] + X[rg["unserved"]]
            taken = X[rg["export"]] + X[rg["curtailed"]]
            resid = supply - taken - net[self.grid_ent]
            self.balance_max = max(self.balance_max, float(np.abs(resid).max(initial=0.0)))
        return X

    def _flush(self, k0: int, k1: int) -> None:
        """Turn the recorded steps ``k0 .. k1 - 1`` into signals, readings and KPIs."""
        X = self._signals(k0, k1)
        n = k1 - k0
        dt_h = self.dt_h
        sl = slice(k0 - self.day * self.spd, k1 - self.day * self.spd)
        self.totals += np.where(self.flow_rows, X.sum(axis=1), 0.0) * dt_h
        if self.trace_on:
            self._trace.append(X.copy())
        d, R = self.d, self.R
        rg = R["grid"]
        # Costs.
        if len(self.grid_assets):
            price = d["price"][sl]
            imp, exp = X[rg["import"]], X[rg["export"]]
            np.add.at(self.cost["electricity"], self.grid_ent, (imp * price).sum(axis=1) * dt_h)
            np.add.at(
                self.cost["export"],
                self.grid_ent,
                -exp.sum(axis=1) * dt_h * self.settings.tariff.export_price_cny_per_kwh,
            )
            tariff = self.settings.tariff
            sup = X[rg["supply"]].sum(axis=1) * dt_h * tariff.chp_price_cny_per_kwh
            np.add.at(self.cost["internal"], self.grid_ent, sup)
            for ci in range(len(self.chp_assets)):
                np.add.at(
                    self.cost["internal"],
                    self.chp_ent[ci],
                    -sup[self.grid_chp == ci].sum(),
                )
            # 15-min mean import: the demand the utility bills.
            q = imp.reshape(len(imp), n // self.h_steps, self.h_steps).mean(axis=2)
            per_ent = np.zeros((len(self.ent_ids), q.shape[1]))
            np.add.at(per_ent, self.grid_ent, q)
            peaks = np.concatenate((per_ent.max(axis=1), [per_ent.sum(axis=0).max()]))
            prev = self.peak_month.get(self.month_key)
            self.peak_month[self.month_key] = peaks if prev is None else np.maximum(prev, peaks)
        fuel = np.zeros(len(self.ent_ids))
        tariff = self.settings.tariff
        for ci, a in enumerate(self.chp_assets):
            fuel[self.chp_ent[ci]] += (
                X[R["chp"]["fuel"][ci]].sum() * dt_h * self.prices.get(a.fuel, 0.0)
            )
            steam = X[R["chp"]["export_steam"][ci]].sum() * dt_h * tariff.steam_price_cny_per_t
            self.cost["internal"][self.chp_ent[ci]] -= steam
        for bi, a in enumerate(self.boiler_assets):
            fuel[self.boiler_ent[bi]] += (
                X[R["boiler"]["gas"][bi]].sum() * dt_h * self.prices.get(a.fuel, 0.0)
            )
        for gi, a in enumerate(self.gen_assets):
            fuel[self.gen_ent[gi]] += (
                X[R["gen"]["fuel"][gi]].sum() * dt_h * self.prices.get(a.fuel, 0.0)
            )
        rl = R["line"]
        for i, a in enumerate(self.line_assets):
            gas = (X[rl["fuel_gas"][i]] + X[rl["feedstock_gas"][i]]).sum() * dt_h
            solid = X[rl["solid_fuel"][i]].sum() * dt_h
            e = self.line_ent[i]
            fuel[e] += gas * tariff.gas_price_cny_per_1e4nm3
            fuel[e] += solid * self.prices.get(a.solid_fuel, 0.0)
            ci = self.line_chp[i]
            if ci >= 0 and a.enterprise != self.chp_assets[ci].enterprise:
                self.cost["internal"][e] += (
                    X[rl["steam"][i]].sum() * dt_h * tariff.steam_price_cny_per_t
                )
        self.cost["fuel"] += fuel
        # Thermal discomfort while occupied.
        if len(self.zones):
            rz = R["zone"]
            T = X[rz["temp_c"]]
            occupied = X[rz["occupancy"]] > 0
            z = self.zones
            out = np.maximum(T - z.comfort_high_c[:, None], 0.0) + np.maximum(
                z.comfort_low_c[:, None] - T, 0.0
            )
            self.discomfort += (out * occupied).sum(axis=1) * dt_h
        # Meters: readings with faults, and the 15-min history.
        bounds = self.meters.integrate(X)
        hist_start, hist = self.meters.history(bounds, k0)
        if len(hist_start):
            cols = hist_start // self.h_steps
            self.hist[:, cols] = hist
        parts = []
        for group in self.meters.groups:
            steps, true, totals = self.meters.readings(group, bounds, X, k0)
            if not len(steps):
                continue
            pts = group.points
            self.eligible[pts] += len(steps)
            roll = self.meters.rollover[pts, None] if totals.size else None
            inj = self.faults.apply(
                pts, true, steps, group.kind, totals if totals.size else None, roll
            )
            self._log.extend(inj.log)
            if steps[-1] < self.keep_from:
                continue
            keep = inj.keep & (steps >= self.keep_from)[None, :]
            ii, jj = np.nonzero(keep)
            ts = self.clock.start_ms + steps[jj] * (self.step_s * 1000) + inj.skew_ms[ii, jj]
            parts.append(
                (pts[ii].astype(np.int32), ts, inj.value[ii, jj], true[ii, jj], inj.fault[ii, jj])
            )
        if parts:
            merged = tuple(np.concatenate([p[i] for p in parts]) for i in range(5))
            self._parts.append(merged)
        if self.on_chunk is not None:
            frame = self._frame([merged]) if parts else self._frame([])
            index = self.clock.index(
                int(hist_start[0]) if len(hist_start) else k0, len(hist_start), self.h_steps
            )
            self.on_chunk(Chunk(k0, n, frame, index, hist, self.point_ids))

    # ------------------------------------------------------------------ the result
    def _frame(self, parts: list[tuple[np.ndarray, ...]]) -> pd.DataFrame:
        cats = pd.CategoricalDtype(self.point_ids)
        labels = [k for k, _ in sorted(FAULT_CODES.items(), key=lambda kv: kv[1])]
        if parts:
            pts, ts, value, true, fault = (np.concatenate([p[i] for p in parts]) for i in range(5))
        else:
            pts = np.zeros(0, np.int32)
            ts = np.zeros(0, np.int64)
            value = true = np.zeros(0)
            fault = np.zeros(0, np.int8)
        order = np.lexsort((pts, ts))
        frame = pd.DataFrame(
            {
                "point": pd.Categorical.from_codes(pts[order], dtype=cats),
                "ts": pd.to_datetime(ts[order], unit="ms", utc=True),
                "value": value[order],
                "quality": np.zeros(len(order), dtype=np.int16),
                "true_value": true[order],
                "fault": pd.Categorical.from_codes(fault[order].astype(np.int8), categories=labels),
            }
        )
        return frame

    def _result(self) -> SimulationResult:
        park = self.park
        readings = self._frame(self._parts)
        labels = {v: k for k, v in FAULT_CODES.items()}
        if self._log:
            log = np.array(self._log, dtype=np.int64)
            faults = pd.DataFrame(
                {
                    "point": pd.Categorical.from_codes(
                        log[:, 0].astype(np.int32), dtype=pd.CategoricalDtype(self.point_ids)
                    ),
                    "ts": pd.to_datetime(
                        self.clock.start_ms + log[:, 1] * self.step_s * 1000, unit="ms", utc=True
                    ),
                    "fault": [labels[c] for c in log[:, 2]],
                }
            ).sort_values(["ts", "point"], ignore_index=True)
        else:
            faults = pd.DataFrame({"point": [], "ts": pd.to_datetime([], utc=True), "fault": []})
        index = self.clock.index(0, self.n_steps // self.h_steps, self.h_steps)
        utc, tz = to_utc(index)
        intervals = xr.DataArray(
            self.hist,
            dims=("point", "time"),
            coords={
                "point": self.point_ids,
                "time": utc,
                "unit": ("point", [p.unit for p in self.points]),
                "kind": ("point", [p.kind for p in self.points]),
            },
            attrs={"timezone": tz, "interval_s": HISTORY_S, "park": park.id},
            name="amount",
        )
        accounting = self._accounting(index)
        kpis = self._kpis()
        trace = None
        if self.trace_on:
            data = (
                np.concatenate(self._trace, axis=1) if self._trace else np.zeros((len(self.sig), 0))
            )
            trace = xr.DataArray(
                data,
                dims=("signal", "step"),
                coords={"signal": self.sig.names, "unit": ("signal", self.sig.units)},
                attrs={"step_s": self.step_s, "start": self.clock.start.isoformat()},
            )
        return SimulationResult(
            park=park,
            clock=self.clock,
            steps=self.n_steps,
            points=list(self.point_ids),
            readings=readings,
            faults=faults,
            intervals=intervals,
            accounting=accounting,
            kpis=kpis,
            trace=trace,
            eligible=pd.Series(self.eligible, index=self.point_ids),
        )

    def _stream_points(self) -> list[tuple[int, str, float, float]]:
        """(point index, stream key, factor point→canonical, factor signal→canonical)."""
        out = []
        for i, p in enumerate(self.points):
            if not p.source or p.kind == "instantaneous":
                continue
            canonical = carrier(p.carrier).unit
            sig_unit = self.sig.units[self.meters.rows[i]]
            out.append(
                (
                    i,
                    stream_key(p.source, p.stream),
                    conversion_factor(p.unit, canonical),
                    conversion_factor(sig_unit, canonical),
                )
            )
        return out

    def _accounting(self, index: pd.DatetimeIndex) -> IntervalData:
        streams: dict[str, np.ndarray] = {}
        refs: dict[str, list[str]] = {}
        for i, key, factor, _ in self._stream_points():
            values = self.hist[i] * factor
            streams[key] = streams[key] + values if key in streams else values.copy()
            refs.setdefault(key, []).append(self.point_ids[i])
        keys = sorted(streams)
        values = np.array([streams[k] for k in keys]).reshape(len(keys), len(index))
        return IntervalData(
            index,
            keys,
            np.ascontiguousarray(values),
            HISTORY_S / 3600.0,
            {k: "simulated:" + ",".join(refs[k]) for k in keys},
        )

    def _kpis(self) -> Kpis:
        tot = pd.Series(self.totals, index=self.sig.names)[self.flow_rows]
        ents = self.ent_ids
        energy = pd.DataFrame(0.0, index=[*ents, "park"], columns=[
            "grid_import_kwh", "grid_export_kwh", "chp_supply_kwh", "pv_kwh", "generator_kwh",
            "coal_t", "coke_t", "natural_gas_1e4nm3", "diesel_t", "steam_t", "heat_gj",
        ])  # fmt: skip

        def add(ent: str, col: str, value: float) -> None:
            energy.loc[ent, col] += value

        for a in self.grid_assets:
            add(a.enterprise, "grid_import_kwh", tot[f"{a.id}.import"])
            add(a.enterprise, "grid_export_kwh", tot[f"{a.id}.export"])
            add(a.enterprise, "chp_supply_kwh", tot[f"{a.id}.supply"])
        for a in self.pv_assets:
            add(a.enterprise, "pv_kwh", tot[f"{a.id}.ac"])
        for a in self.gen_assets:
            add(a.enterprise, "generator_kwh", tot[f"{a.id}.electricity"])
            add(a.enterprise, "diesel_t", tot[f"{a.id}.fuel"])
        for a in self.chp_assets:
            add(a.enterprise, "coal_t", tot[f"{a.id}.fuel"])
            add(a.enterprise, "heat_gj", tot[f"{a.id}.heat"])
        for a in self.boiler_assets:
            add(a.enterprise, "natural_gas_1e4nm3", tot[f"{a.id}.gas"])
            add(a.enterprise, "heat_gj", tot[f"{a.id}.heat"])
        for a in self.line_assets:
            gas = tot[f"{a.id}.fuel_gas"] + tot[f"{a.id}.feedstock_gas"]
            add(a.enterprise, "natural_gas_1e4nm3", gas)
            add(a.enterprise, "steam_t", tot[f"{a.id}.steam"])
            if a.solid_fuel == "coke":
                add(a.enterprise, "coke_t", tot[f"{a.id}.solid_fuel"])
        energy.loc["park"] = energy.loc[ents].sum()
        activity: dict[str, float] = {}
        for i, key, _, to_canonical in self._stream_points():
            name = self.sig.names[self.meters.rows[i]]
            activity[key] = activity.get(key, 0.0) + float(tot[name]) * to_canonical
        # Costs, with the demand charge on each month's highest 15-min demand.
        rate = self.settings.tariff.demand_charge_cny_per_kw_month
        demand = np.zeros(len(ents))
        for peaks in self.peak_month.values():
            demand += peaks[: len(ents)] * rate
        cost = pd.DataFrame(
            {
                "electricity": self.cost["electricity"],
                "demand": demand,
                "export": self.cost["export"],
                "fuel": self.cost["fuel"],
                "internal": self.cost["internal"],
            },
            index=ents,
        )
        cost.loc["park"] = cost.sum()
        cost["total"] = cost.sum(axis=1)
        if self.peak_month:
            peaks = np.max(np.stack(list(self.peak_month.values())), axis=0)
        else:
            peaks = np.zeros(len(ents) + 1)
        unserved = sum(tot[f"{a.id}.unserved"] for a in self.grid_assets)
        unmet = sum(tot[f"{a.id}.unmet_heat"] for a in [*self.boiler_assets, *self.chp_assets])
        return Kpis(
            energy=energy,
            activity=pd.Series(activity, dtype=float).sort_index(),
            cost_cny=cost,
            discomfort_kh=pd.Series(self.discomfort, index=self.zones.ids, dtype=float),
            peak_kw=pd.Series(peaks, index=[*ents, "park"]),
            signal_totals=tot,
            balance_max_abs_kw=self.balance_max,
            unserved_kwh=float(unserved),
            unmet_heat_gj=float(unmet),
            ev_unmet_kwh=float(self.ports.unmet_kwh.sum()) if len(self.ports) else 0.0,
        )


def simulate(
    park: Park,
    start: str | dt.date | pd.Timestamp,
    days: int,
    **options: Any,
) -> SimulationResult:
    """Simulate ``park`` for ``days`` from ``start``; see :class:`Simulator` for options.

    Returns
    -------
    SimulationResult
    """
    return Simulator(park, start, days, **options).run()
