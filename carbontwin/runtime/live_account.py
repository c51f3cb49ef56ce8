"""Today's emissions so far, from the raw meter readings as they arrive.

Stored monthly inventories answer for closed months; the live park's current day has no
inventory yet. :func:`today_so_far` reads the day's raw readings of the metering points
that measure an emission source (with the last reading before local midnight, so a
cumulative register's first quarter-hour is differenced too), turns them into interval
amounts with :func:`carbontwin.accounting.validation.validate_readings` — the same rules as
every meter import — and accounts them with :func:`compute_inventory`. Only metered
sources count: ledger rows of the day (fuel invoices, monthly readings) arrive later and
go into the month's stored inventory.

:class:`LiveAccount` keeps the answer for a few seconds, so every dashboard session that
refreshes shares one computation.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carbontwin.accounting.inventory import compute_inventory
from carbontwin.accounting.validation import validate_readings
from carbontwin.core.park import Park
from carbontwin.core.time import parse_period
from carbontwin.store import Store

__all__ = ["LiveAccount", "LiveDay", "stored_readings", "today_so_far"]

#: How far before local midnight the base reading of a cumulative register is looked for.
LOOKBACK = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class LiveDay:
    """The metered emissions of one local day up to ``until``.

    Attributes
    ----------
    day : datetime.date
        The park's local day.
    until : pandas.Timestamp or None
        The newest reading counted (``None`` when there is none yet).
    readings : int
        Readings counted.
    by_enterprise : dict of str to float
        tCO2e per enterprise (scope 1 and location-based scope 2).
    by_scope : dict of int to float
        tCO2e per scope.
    electricity_kw : pandas.Series
        The park's metered electric demand per quarter-hour [kW] (mean over the interval),
        indexed by interval start in the park's zone.
    """

    day: dt.date
    until: pd.Timestamp | None
    readings: int
    by_enterprise: dict[str, float]
    by_scope: dict[int, float]
    electricity_kw: pd.Series = field(repr=False)

    def total(self, enterprises: set[str] | None = None) -> float:
        """Return tCO2e of all enterprises, or of ``enterprises``."""
        return float(
            sum(v for e, v in self.by_enterprise.items() if enterprises is None or e in enterprises)
        )


def stored_readings(store: Store, points: list[str], lo: int, hi: int) -> pd.DataFrame:
    """Return the stored raw readings of ``points`` with ``lo <= ts < hi`` [ms since 1970].

    Columns ``point``, ``ts`` (aware UTC), ``value`` [the point's unit] and ``quality``
    (``good``, or ``bad`` for a non-zero quality code); empty when there are none.
    """
    frames = []
    for pid in points:
        rows = store.readings(pid, lo, hi)
        if rows:
            ts, values, quality = zip(*rows, strict=True)
            frames.append(
                pd.DataFrame(
                    {
                        "point": pid,
                        "ts": pd.to_datetime(np.asarray(ts, dtype=np.int64), unit="ms", utc=True),
                        "value": np.asarray(values, dtype=float),
                        "quality": ["good" if q == 0 else "bad" for q in quality],
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=["point", "ts", "value", "quality"])
    return pd.concat(frames, ignore_index=True)


def _metered_points(park: Park) -> list[Any]:
    return [p for p in park.points if p.source and p.kind != "instantaneous"]


def today_so_far(store: Store, park: Park, now: pd.Timestamp) -> LiveDay:
    """Account the metered sources of the park's local day containing ``now``.

    Parameters
    ----------
    store : Store
        Where the raw readings are.
    park : Park
        The park (its metering points and sources).
    now : pandas.Timestamp
        The platform's time (aware); readings after it are not counted.

    Returns
    -------
    LiveDay
    """
    tz = park.timezone
    local = now.tz_convert(tz)
    day = local.date()
    midnight = pd.Timestamp(day).tz_localize(tz)
    lo = int((midnight - LOOKBACK).value // 1_000_000)
    hi = int(now.value // 1_000_000) + 1
    frame = stored_readings(store, [p.id for p in _metered_points(park)], lo, hi)
    empty = pd.Series(dtype=float, index=pd.DatetimeIndex([], tz=tz), name="kw")
    if frame.empty:
        return LiveDay(day, None, 0, {}, {}, empty)
    counted = int((frame["ts"] >= midnight).sum())
    until = frame["ts"].max().tz_convert(tz)
    data, _ = validate_readings(park, frame, today=now.to_pydatetime())
    if data is None:
        return LiveDay(day, until, counted, {}, {}, empty)
    inv = compute_inventory(park, parse_period(day.isoformat()), intervals=data, strict=False)
    lines = inv.dataset("year")
    gross = lines["emissions_tco2e"].sum(("period", "category", "gas"))
    by_enterprise = {
        str(e): float(v) for e, v in gross.sum("scope").to_series().items() if abs(v) > 0
    }
    by_scope = {int(s): float(v) for s, v in gross.sum("enterprise").to_series().items()}
    electric = [i for i, k in enumerate(data.streams) if _is_electricity(park, k)]
    kwh = data.values[electric].sum(axis=0) if electric else np.zeros(len(data.index))
    series = pd.Series(kwh / data.interval_h, index=data.index.tz_convert(tz), name="kw")
    # Quarter-hours from midnight, and only those complete by the newest reading.
    step = pd.Timedelta(hours=data.interval_h)
    series = series[(series.index >= midnight) & (series.index + step <= until)]
    return LiveDay(day, until, counted, by_enterprise, by_scope, series)


def _is_electricity(park: Park, stream: str) -> bool:
    source = stream.split(":", 1)[0]
    return any(s.id == source and s.carrier == "electricity" for s in park.sources)


class LiveAccount:
    """Today's metered emissions, kept for ``ttl_s`` so refreshing sessions share them.

    Parameters
    ----------
    store, park : Store, Park
        Where the readings are, and the park.
    clock : callable
        Returns the platform's time (aware UTC): the live demo's accelerated clock.
    ttl_s : float
        Seconds an answer is kept.
    """

    def __init__(
        self,
        store: Store,
        park: Park,
        clock: Callable[[], pd.Timestamp] | None = None,
        ttl_s: float = 2.0,
    ) -> None:
        self.store, self.park = store, park
        self.clock = clock or (lambda: pd.Timestamp.now(tz="UTC"))
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._kept: tuple[float, LiveDay] | None = None

    def get(self) -> LiveDay:
        """Return today's figures (recomputed when older than ``ttl_s``)."""
        with self._lock:
            if self._kept is not None and time.monotonic() - self._kept[0] < self.ttl_s:
                return self._kept[1]
            answer = today_so_far(self.store, self.park, self.clock())
            self._kept = (time.monotonic(), answer)
            return answer
