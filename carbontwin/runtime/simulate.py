"""Use cases of the simulator: simulate a park, write its history, account it, what-if.

The twin computes the physics; this module wires it to the store and the accounting:
emissions of a simulated period come from :func:`~carbontwin.accounting.compute_inventory`
over the simulated activity, with the factors the park's accounting uses.

History in the store
--------------------
:func:`simulate_to_store` writes, for every metering point, the amount of each 15 minutes
(the mean, for instantaneous points) as readings of the series ``<point>/15min``,
labelled by the quarter-hour's start, and the raw readings of the last ``recent_days``
(with their noise and faults) under the point's own id. :func:`load_interval_history`
reads the ``/15min`` series of the points that measure a source back as
:class:`~carbontwin.core.records.IntervalData`, which :func:`account_simulated` accounts.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carbontwin.accounting import FactorLibrary, Inventory, compute_inventory
from carbontwin.core.carriers import carrier
from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.core.records import ActivityEntry, FactorOverride, IntervalData, stream_key
from carbontwin.core.time import Period, parse_period
from carbontwin.core.units import conversion_factor
from carbontwin.store import Store
from carbontwin.twin import (
    HISTORY_S,
    Chunk,
    Controller,
    Modification,
    SimulationResult,
    Simulator,
)
from carbontwin.twin import what_if as twin_what_if
from carbontwin.twin.clock import local_start

__all__ = [
    "HISTORY_SUFFIX",
    "SimulationRun",
    "SimulationSummary",
    "WhatIfRun",
    "account_simulated",
    "history_coverage",
    "history_series",
    "ledger_entries",
    "load_interval_history",
    "parse_step",
    "run_period",
    "simulate",
    "simulate_to_store",
    "simulated_streams",
    "simulation_kpis",
    "what_if",
]

Progress = Callable[[str, int, int], None]

#: Suffix of the store series that holds a point's 15-min history.
HISTORY_SUFFIX = "/15min"

_STEP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h)?\s*$", re.IGNORECASE)


def parse_step(text: str | int) -> int:
    """Parse a step such as ``60``, ``"60s"``, ``"1min"`` or ``"1h"`` into seconds.

    Examples
    --------
    >>> parse_step("1min"), parse_step("15 min"), parse_step(30), parse_step("1h")
    (60, 900, 30, 3600)
    """
    if isinstance(text, int):
        seconds = float(text)
    else:
        m = _STEP.match(str(text))
        if not m:
            msg = f"step {text!r} is not understood; write e.g. '60s', '1min' or '1h'"
            raise ValidationError(msg)
        unit = (m.group(2) or "s").lower()
        seconds = float(m.group(1)) * {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}[unit]
    if seconds <= 0 or seconds != int(seconds) or 86_400 % int(seconds):
        msg = f"step {text!r} must be a whole number of seconds that divides a day"
        raise ValidationError(msg)
    return int(seconds)


def history_series(point_id: str) -> str:
    """Store series id of a point's 15-min history."""
    return f"{point_id}{HISTORY_SUFFIX}"


def run_period(park: Park, start: str | dt.date | pd.Timestamp, days: int) -> Period:
    """Return the accounting period of a run: the local days it covers."""
    first = local_start(start, park.timezone).date()
    last = first + dt.timedelta(days=int(days) - 1)
    return parse_period(f"{first.isoformat()}/{last.isoformat()}")


def simulated_streams(park: Park) -> set[str]:
    """Return the stream keys of the activity the simulator produces.

    They are the sources its metered points measure (cumulative and interval points
    bound to an asset).
    """
    bound = {pid for a in park.assets for pid in a.meters}
    return {
        stream_key(p.source, p.stream)
        for p in park.points
        if p.id in bound and p.source and p.kind != "instantaneous"
    }


def history_coverage(store: Store, park: Park, start: dt.date, end: dt.date) -> float:
    """Return the share of quarter-hours with stored history, local days ``start``..``end``.

    The least-covered point that measures a source decides; 0 when there is none.
    """
    tz = park.timezone
    first = pd.Timestamp(start).tz_localize(tz)
    stop = pd.Timestamp(end + dt.timedelta(days=1)).tz_localize(tz)
    lo, hi = int(first.value // 1_000_000), int(stop.value // 1_000_000)
    expected = (hi - lo) // (HISTORY_S * 1000)
    bound = {pid for a in park.assets for pid in a.meters}
    points = [p for p in park.points if p.id in bound and p.source and p.kind != "instantaneous"]
    if not points or expected <= 0:
        return 0.0
    counts = [len(store.readings(history_series(p.id), lo, hi)) for p in points]
    return min(counts) / expected


def ledger_entries(park: Park, entries: Iterable[ActivityEntry]) -> list[ActivityEntry]:
    """Return the entries of the sources the simulator does not simulate.

    The simulator leaves them to the ledger: scope 3 spend, offsets, refrigerant
    top-ups, mobile fuel ...
    """
    simulated = simulated_streams(park)
    return [e for e in entries if e.key not in simulated]


@dataclass
class SimulationRun:
    """A simulated period with its inventory (the simulator's emissions) and KPIs."""

    result: SimulationResult
    inventory: Inventory
    kpis: pd.DataFrame


def simulation_kpis(result: SimulationResult, inventory: Inventory) -> pd.DataFrame:
    """Return the simulator's KPIs per enterprise and for the park.

    Energy by carrier in physical units, energy in tce and emissions by scope from the
    inventory (the accounting's factors), cost [CNY] from the tariff and peak demand [kW].
    """
    k = result.kpis
    ds = inventory.dataset("year")
    ents = list(ds.enterprise.values)
    e = ds.emissions_tco2e.sum(("period", "category", "gas"))
    tce = ds.energy_tce.sel(use=["consumption", "export"]).sum(("period", "carrier", "use"))
    out = k.energy.copy()
    out["energy_tce"] = 0.0
    for s in (1, 2, 3):
        out[f"scope{s}_tco2e"] = 0.0
    out.loc[ents, "energy_tce"] = tce.sel(enterprise=ents).values
    for s in (1, 2, 3):
        out.loc[ents, f"scope{s}_tco2e"] = e.sel(enterprise=ents, scope=s).values
    cols = ["energy_tce", "scope1_tco2e", "scope2_tco2e", "scope3_tco2e"]
    out.loc["park", cols] = out.loc[ents, cols].sum()
    out["cost_cny"] = k.cost_cny["total"].reindex(out.index).fillna(0.0)
    out["peak_kw"] = k.peak_kw.reindex(out.index).fillna(0.0)
    out.index.name = "enterprise"
    return out


def simulate(
    park: Park,
    start: str | dt.date | pd.Timestamp,
    days: int,
    *,
    step_s: int | None = None,
    seed: int = 0,
    weather: pd.DataFrame | None = None,
    controller: Controller | None = None,
    entries: Iterable[ActivityEntry] = (),
    overrides: Iterable[FactorOverride] = (),
    library: FactorLibrary | None = None,
    keep_readings_days: float | None = None,
    progress: Progress | None = None,
) -> SimulationRun:
    """Simulate ``park`` and account the simulated activity.

    ``entries`` (ledger rows) complete the inventory for the sources the simulator does
    not simulate; entries of simulated streams are dropped so nothing counts twice.
    """
    total = int(days)

    def tick(chunk: Chunk) -> None:
        if progress:
            progress("simulate", (chunk.first_step + chunk.steps) // sim.spd, total)

    sim = Simulator(
        park,
        start,
        days,
        step_s=step_s,
        seed=seed,
        weather=weather,
        controller=controller,
        keep_readings_days=keep_readings_days,
        on_chunk=tick if progress else None,
    )
    result = sim.run()
    inv = compute_inventory(
        park,
        run_period(park, start, days),
        intervals=result.accounting,
        entries=ledger_entries(park, entries),
        overrides=overrides,
        library=library,
        strict=True,
    )
    return SimulationRun(result, inv, simulation_kpis(result, inv))


@dataclass
class SimulationSummary:
    """What :func:`simulate_to_store` did.

    ``kpis`` are :func:`simulation_kpis` of the run; ``activity`` the simulated activity
    of each accounting stream key from the physics [canonical units].
    """

    park: str
    start: dt.date
    end: dt.date
    steps: int
    step_s: int
    points: int
    history_rows: int
    raw_rows: int
    seconds: float
    kpis: pd.DataFrame
    activity: pd.Series
    notes: list[str] = field(default_factory=list)


def simulate_to_store(
    store: Store,
    park: Park,
    start: str | dt.date | pd.Timestamp,
    days: int,
    step_s: int = 60,
    seed: int = 0,
    recent_days: float = 7,
    progress: Progress | None = None,
    *,
    weather: pd.DataFrame | None = None,
    controller: Controller | None = None,
    user: str = "simulator",
) -> SimulationSummary:
    """Simulate ``park`` and write its history to ``store``.

    Every point's 15-min amounts go to the series ``<point>/15min`` for the whole run
    (streamed day by day, so a year needs no more memory than a day); the raw readings
    of the last ``recent_days`` go under the points' own ids. The run is audited.

    Parameters
    ----------
    store : Store
        Where the history goes.
    park : Park
        The park to simulate.
    start : str, date or pandas.Timestamp
        First day (local midnight).
    days : int
        Days to simulate.
    step_s : int
        Simulation step [s].
    seed : int
        Random seed; the same seed writes the same history.
    recent_days : float
        Days of raw readings to keep.
    progress : callable, optional
        Called as ``progress("simulate", days_done, days)`` after each day.
    weather, controller : optional
        As for :class:`~carbontwin.twin.Simulator`.
    user : str
        Who is recorded in the audit log.

    Returns
    -------
    SimulationSummary
    """
    t0 = time.perf_counter()
    ref = f"simulate:{park.id}"
    counts = {"history": 0, "raw": 0}
    series: list[str] = []
    total = int(days)

    def write(chunk: Chunk) -> None:
        nonlocal series
        if not series:
            series = [history_series(p) for p in chunk.points]
        if len(chunk.history_index):
            ts = (chunk.history_index.as_unit("ms").asi8).tolist()
            values = chunk.history
            rows = [
                (series[i], t, float(v), 0)
                for i in range(values.shape[0])
                for t, v in zip(ts, values[i].tolist(), strict=True)
            ]
            counts["history"] += store.insert_readings(rows, ref=ref)
        if len(chunk.readings):
            r = chunk.readings
            ms = pd.DatetimeIndex(r["ts"]).as_unit("ms").asi8.tolist()
            raw = list(
                zip(
                    r["point"].astype(str).tolist(),
                    ms,
                    r["value"].astype(float).tolist(),
                    r["quality"].astype(int).tolist(),
                    strict=True,
                )
            )
            counts["raw"] += store.insert_readings(raw, ref=ref)
        if progress:
            progress("simulate", (chunk.first_step + chunk.steps) // sim.spd, total)

    sim = Simulator(
        park,
        start,
        days,
        step_s=step_s,
        seed=seed,
        weather=weather,
        controller=controller,
        keep_readings_days=recent_days,
        on_chunk=write,
    )
    result = sim.run()
    period = run_period(park, start, days)
    inv = compute_inventory(park, period, intervals=result.accounting, strict=True)
    kpis = simulation_kpis(result, inv)
    notes = []
    if result.kpis.unserved_kwh > 0:
        notes.append(f"{result.kpis.unserved_kwh:,.0f} kWh of demand could not be supplied")
    if result.kpis.unmet_heat_gj > 0:
        notes.append(f"{result.kpis.unmet_heat_gj:,.0f} GJ of heat demand was not met")
    summary = SimulationSummary(
        park=park.id,
        start=period.start,
        end=period.end,
        steps=result.steps,
        step_s=sim.step_s,
        points=len(result.points),
        history_rows=counts["history"],
        raw_rows=counts["raw"],
        seconds=time.perf_counter() - t0,
        kpis=kpis,
        activity=result.kpis.activity,
        notes=notes,
    )
    store.audit(
        user,
        "twin.simulate",
        f"park:{park.id}",
        {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "step_s": sim.step_s,
            "seed": seed,
            "points": summary.points,
            "history_rows": summary.history_rows,
            "raw_rows": summary.raw_rows,
        },
    )
    return summary


def load_interval_history(store: Store, park: Park, start: dt.date, end: dt.date) -> IntervalData:
    """Read the 15-min history of the points that measure a source as interval data.

    Local days ``start`` to ``end`` inclusive, in canonical units; several points of one
    stream are summed and missing quarter-hours count as zero.

    Returns
    -------
    IntervalData
        One stream per source stream key, on a regular 15-min index in the park's zone.
    """
    tz = park.timezone
    first = pd.Timestamp(start).tz_localize(tz)
    stop = pd.Timestamp(end + dt.timedelta(days=1)).tz_localize(tz)
    index = pd.date_range(first, stop, freq=f"{HISTORY_S}s", inclusive="left")
    lo, hi = int(first.value // 1_000_000), int(stop.value // 1_000_000)
    base = index.as_unit("ms").asi8
    step_ms = HISTORY_S * 1000
    streams: dict[str, np.ndarray] = {}
    refs: dict[str, list[str]] = {}
    for p in park.points:
        if not p.source or p.kind == "instantaneous":
            continue
        rows = store.readings(history_series(p.id), lo, hi)
        if not rows:
            continue
        key = stream_key(p.source, p.stream)
        factor = conversion_factor(p.unit, carrier(p.carrier).unit)
        ts = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        values = np.fromiter((r[1] for r in rows), dtype=float, count=len(rows))
        pos = (ts - base[0]) // step_ms
        arr = streams.setdefault(key, np.zeros(len(index)))
        np.add.at(arr, pos, values * factor)
        refs.setdefault(key, []).append(p.id)
    keys = sorted(streams)
    values = np.array([streams[k] for k in keys]) if keys else np.zeros((0, len(index)))
    return IntervalData(
        index,
        keys,
        np.ascontiguousarray(values),
        HISTORY_S / 3600.0,
        {k: "store:" + ",".join(history_series(p) for p in refs[k]) for k in keys},
    )


def account_simulated(
    store: Store,
    park: Park,
    period: str | Period,
    *,
    entries: Iterable[ActivityEntry] = (),
    overrides: Iterable[FactorOverride] = (),
    library: FactorLibrary | None = None,
    strict: bool = True,
) -> Inventory:
    """Account ``park`` over ``period`` from its simulated history in ``store``.

    Ledger ``entries`` complete the sources the simulator does not simulate; entries of
    simulated streams are dropped so nothing counts twice.
    """
    p = parse_period(period) if isinstance(period, str) else period
    intervals = load_interval_history(store, park, p.start, p.end)
    return compute_inventory(
        park,
        p,
        intervals=intervals,
        entries=ledger_entries(park, entries),
        overrides=overrides,
        library=library,
        strict=strict,
    )


@dataclass
class WhatIfRun:
    """A what-if study with both inventories; ``kpis`` compares them."""

    base: SimulationRun
    modified: SimulationRun
    kpis: pd.DataFrame


def what_if(
    park: Park,
    modifications: Sequence[Modification],
    start: str | dt.date | pd.Timestamp,
    days: int,
    *,
    library: FactorLibrary | None = None,
    **options: Any,
) -> WhatIfRun:
    """Simulate ``park`` with and without ``modifications``; compare KPIs and emissions.

    The KPI table of :func:`carbontwin.twin.what_if` gains ``scope1_tco2e``,
    ``scope2_tco2e`` and ``emissions_tco2e`` rows from the inventories of both runs.
    """
    study = twin_what_if(park, modifications, start, days, **options)
    period = run_period(park, start, days)
    runs = []
    for res, pk in ((study.base, park), (study.modified, study.park)):
        inv = compute_inventory(pk, period, intervals=res.accounting, library=library)
        runs.append(SimulationRun(res, inv, simulation_kpis(res, inv)))
    table = study.kpis.copy()
    for col, name in (
        ("scope1_tco2e", "scope1_tco2e"),
        ("scope2_tco2e", "scope2_tco2e"),
    ):
        table.loc[name, ["base", "modified"]] = [r.kpis.loc["park", col] for r in runs]
    table.loc["emissions_tco2e", ["base", "modified"]] = [
        r.kpis.loc["park", "scope1_tco2e"] + r.kpis.loc["park", "scope2_tco2e"] for r in runs
    ]
    table["difference"] = table.modified - table.base
    table["difference_frac"] = (table.difference / table.base.where(table.base != 0)).astype(float)
    return WhatIfRun(runs[0], runs[1], table)
