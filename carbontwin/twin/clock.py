"""Simulation time: seconds since the run's start, and the one place mapped to timestamps.

``env.now`` of the simulator's simpy environment counts seconds from the start of the
run; :class:`SimClock` alone turns it into timezone-aware timestamps, UTC milliseconds,
step indexes and local calendar features.

Examples
--------
>>> clock = SimClock(pd.Timestamp("2025-01-01", tz="Asia/Shanghai"), step_s=60)
>>> clock.timestamp(3600)
Timestamp('2025-01-01 01:00:00+0800', tz='Asia/Shanghai')
>>> clock.step(3600), clock.ms(0)
(60, 1735660800000)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbontwin.core.errors import ValidationError

__all__ = ["SimClock", "local_start"]


def local_start(start: str | dt.date | pd.Timestamp, timezone: str) -> pd.Timestamp:
    """Return the run's start as a timestamp in ``timezone``.

    A date or a naive timestamp is taken as local wall-clock time in ``timezone``; an aware
    timestamp is converted to it.
    """
    ts = pd.Timestamp(start)
    return ts.tz_localize(timezone) if ts.tzinfo is None else ts.tz_convert(timezone)


@dataclass(frozen=True)
class SimClock:
    """Maps simulation seconds to time.

    Parameters
    ----------
    start : pandas.Timestamp
        Timezone-aware start of the run (the park's zone).
    step_s : int
        Length of a simulation step [s].
    """

    start: pd.Timestamp
    step_s: int = 60

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            msg = (
                f"start(={self.start}) must be timezone-aware; localise it to the park's zone, "
                "e.g. pd.Timestamp('2025-01-01', tz='Asia/Shanghai')"
            )
            raise ValidationError(msg)
        if self.step_s <= 0 or 86_400 % self.step_s:
            msg = f"step_s(={self.step_s}) must be a positive divisor of 86400 (one day)"
            raise ValidationError(msg)

    @property
    def timezone(self) -> str:
        """The park's zone name."""
        return str(self.start.tz)

    @property
    def steps_per_day(self) -> int:
        """Steps in a day."""
        return 86_400 // self.step_s

    @property
    def start_ms(self) -> int:
        """Start of the run [ms since 1970-01-01 UTC]."""
        return int(self.start.value // 1_000_000)

    def timestamp(self, now_s: float) -> pd.Timestamp:
        """Return the local timestamp of simulation time ``now_s`` [s]."""
        return self.start + pd.Timedelta(seconds=float(now_s))

    def local_hour_weekday(self, now_s: float) -> tuple[float, int]:
        """Return the local hour of day [h] and weekday (0 = Monday) at ``now_s`` [s].

        Cheaper than :meth:`timestamp` for the many calls of event processes.
        """
        t = dt.datetime.fromtimestamp(self.start.value / 1e9 + now_s, self.start.tzinfo)
        return t.hour + t.minute / 60 + t.second / 3600, t.weekday()

    def ms(self, now_s: float) -> int:
        """Return simulation time ``now_s`` [s] as ms since 1970-01-01 UTC."""
        return self.start_ms + round(now_s * 1000)

    def step(self, now_s: float) -> int:
        """Return the index of the step that starts at (or contains) ``now_s`` [s]."""
        return int(now_s // self.step_s)

    def seconds(self, ts: pd.Timestamp | dt.datetime) -> float:
        """Return the simulation time [s] of a timestamp (aware, or local when naive)."""
        t = pd.Timestamp(ts)
        t = t.tz_localize(self.timezone) if t.tzinfo is None else t
        return (t - self.start).total_seconds()

    def index(self, first_step: int, n: int, every: int = 1) -> pd.DatetimeIndex:
        """Return local timestamps of steps ``first_step, first_step + every, ...`` (n)."""
        ns = self.start.value + (first_step + np.arange(n) * every) * self.step_s * 1_000_000_000
        return (
            pd.DatetimeIndex(ns.astype("datetime64[ns]"))
            .tz_localize("UTC")
            .tz_convert(self.timezone)
        )

    def utc_ms(self, first_step: int, n: int, every: int = 1) -> np.ndarray:
        """Return UTC ms of steps ``first_step, first_step + every, ...`` (n) as int64."""
        return self.start_ms + (first_step + np.arange(n, dtype=np.int64) * every) * (
            self.step_s * 1000
        )

    def local_features(self, first_step: int, n: int) -> tuple[np.ndarray, np.ndarray, list]:
        """Return local hour of day [h], weekday (0 = Monday) and date of ``n`` steps.

        The hour is that of each step's start; dates come back as ``datetime.date``.
        """
        idx = self.index(first_step, n)
        naive = idx.tz_localize(None)
        hour = (naive - naive.normalize()).total_seconds().to_numpy() / 3600.0
        return hour, naive.day_of_week.to_numpy(), list(naive.date)
