"""The live twin state: the latest of every point, derived power and energy, staleness.

:class:`TwinState` is fed batches of readings — from the simulator now, from the
connectors later — and keeps, per metering point, the latest value, quality and time;
the power derived from it (a register's difference over the time between readings, an
interval amount over its interval); the energy counted since the state started; and
whether the point has gone stale (no reading for ``stale_factor`` × its interval).
Each update is vectorised and costs O(points + readings).

Examples
--------
>>> from carbontwin.core.points import MeteringPoint
>>> p = MeteringPoint(id="M", enterprise="E", carrier="electricity", unit="kWh",
...                   kind="cumulative", rollover=1000.0, interval_s=900)
>>> state = TwinState([p])
>>> ts = pd.to_datetime(["2025-01-01 00:00", "2025-01-01 00:15", "2025-01-01 00:30"], utc=True)
>>> state.update(pd.DataFrame({"point": "M", "ts": ts, "value": [990.0, 995.0, 5.0]}))
3
>>> snap = state.snapshot()
>>> float(snap.loc["M", "power"]), float(snap.loc["M", "energy"])  # rolled over at 1000
(40.0, 15.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.core.points import MeteringPoint
from carbontwin.core.units import parse_unit

__all__ = ["ROLLOVER_BAND_FRAC", "TwinState"]

#: A decrease is a rollover when the register was within this share of its rollover and
#: restarts within it (the band the accounting's reading validation uses).
ROLLOVER_BAND_FRAC = 0.10
_NEVER = np.iinfo(np.int64).min


def _ms(values: pd.Series | np.ndarray) -> np.ndarray:
    """Timestamps as int64 ms since 1970 UTC (aware datetimes, or integers already in ms)."""
    s = pd.Series(values)
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.to_numpy(dtype=np.int64)
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        msg = "readings' ts must be timezone-aware timestamps or integer ms since 1970 UTC"
        raise ValidationError(msg)
    return pd.DatetimeIndex(s).tz_convert("UTC").as_unit("ms").asi8.astype(np.int64)


class TwinState:
    """Latest value, quality, age, derived power and energy of every metering point.

    Parameters
    ----------
    points : sequence of MeteringPoint
        The points to follow.
    stale_factor : float
        A point is stale when its last reading is older than this many of its intervals.
    """

    def __init__(self, points: Sequence[MeteringPoint], stale_factor: float = 3.0) -> None:
        self.points = list(points)
        self.ids = [p.id for p in self.points]
        n = len(self.points)
        self.stale_factor = float(stale_factor)
        self.kind = np.array([p.kind for p in self.points], dtype=object)
        self.cumulative = self.kind == "cumulative"
        self.interval = self.kind == "interval"
        self.instant_rate = np.array(
            [p.kind == "instantaneous" and self._is_rate(p.unit) for p in self.points], dtype=bool
        )
        self.interval_s = np.array([p.interval_s for p in self.points], dtype=np.int64)
        self.rollover = np.array(
            [p.rollover if p.rollover else np.inf for p in self.points], dtype=float
        )
        self.value = np.full(n, np.nan)
        self.quality = np.full(n, -1, dtype=np.int64)
        self.ts_ms = np.full(n, _NEVER, dtype=np.int64)
        self.power = np.full(n, np.nan)
        self.energy = np.zeros(n)
        self.resets = np.zeros(n, dtype=np.int64)
        self.rollovers = np.zeros(n, dtype=np.int64)
        self.late = 0
        self.unknown = 0
        self._index = pd.Index(self.ids)

    @classmethod
    def for_park(cls, park: Park) -> TwinState:
        """Return a state following every point of ``park``, with its staleness factor."""
        return cls(park.points, park.twin.stale_factor)

    @staticmethod
    def _is_rate(unit: str) -> bool:
        try:
            return parse_unit(unit).dimensionality.get("[time]", 0) < 0
        except ValidationError:
            return False

    def update(self, readings: pd.DataFrame) -> int:
        r"""Apply a batch of readings; return how many were taken.

        Parameters
        ----------
        readings : pandas.DataFrame
            ``point``, ``ts`` (timezone-aware, or int ms UTC), ``value`` and optionally
            ``quality`` (integer, 0 = good). Readings of unknown points are counted in
            :attr:`unknown`; readings not newer than a point's latest (duplicates, late
            or skewed clocks) in :attr:`late`; neither changes the state.

        Notes
        -----
        A register's amount since the previous reading is :math:`v_1 - v_0`; a decrease
        is a rollover when :math:`v_0 \ge 0.9 R` and :math:`v_1 \le 0.1 R` (amount
        :math:`R - v_0 + v_1`), else a reset (amount :math:`v_1`, counted from zero).
        Power is the amount over the time between the readings [point unit / h]; an
        interval amount's power is the amount over its interval. Instantaneous rates
        (kW, t/h) integrate to energy over the time until the next reading.
        """
        if not len(readings):
            return 0
        codes = self._index.get_indexer(readings["point"].astype(str)).astype(np.int64)
        known = codes >= 0
        self.unknown += int((~known).sum())
        ts = _ms(readings["ts"])
        v = pd.to_numeric(readings["value"], errors="coerce").to_numpy(dtype=float)
        q = (
            readings["quality"].to_numpy(dtype=np.int64)
            if "quality" in readings.columns
            else np.zeros(len(readings), dtype=np.int64)
        )
        ok = known & np.isfinite(v)
        codes, ts, v, q = codes[ok], ts[ok], v[ok], q[ok]
        order = np.lexsort((ts, codes))
        codes, ts, v, q = codes[order], ts[order], v[order], q[order]
        # Not newer than the point's latest reading, nor than the previous one in the batch.
        first = np.ones(len(codes), dtype=bool)
        first[1:] = codes[1:] != codes[:-1]
        fresh = (ts > self.ts_ms[codes]) & (first | (ts > np.roll(ts, 1)))
        self.late += int((~fresh).sum())
        codes, ts, v, q = codes[fresh], ts[fresh], v[fresh], q[fresh]
        if not len(codes):
            return 0
        first = np.ones(len(codes), dtype=bool)
        first[1:] = codes[1:] != codes[:-1]
        last = np.ones(len(codes), dtype=bool)
        last[:-1] = codes[1:] != codes[:-1]
        prev_v = np.where(first, self.value[codes], np.roll(v, 1))
        prev_t = np.where(first, self.ts_ms[codes], np.roll(ts, 1))
        dt_h = np.where(prev_t == _NEVER, np.nan, (ts - prev_t) / 3_600_000.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            amount, power, wrapped, reset = self._amounts(codes, v, prev_v, dt_h)

        n = len(self.ids)
        self.energy += np.bincount(codes, weights=np.nan_to_num(amount), minlength=n)
        self.rollovers += np.bincount(codes, weights=wrapped, minlength=n).astype(np.int64)
        self.resets += np.bincount(codes, weights=reset, minlength=n).astype(np.int64)
        c = codes[last]
        self.value[c] = v[last]
        self.ts_ms[c] = ts[last]
        self.quality[c] = q[last]
        has_power = last & np.isfinite(power)
        self.power[codes[has_power]] = power[has_power]
        return len(codes)

    def _amounts(
        self, codes: np.ndarray, v: np.ndarray, prev_v: np.ndarray, dt_h: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Amount since the previous reading, power, and the wrap and reset flags."""
        cum = self.cumulative[codes]
        amount = np.where(self.interval[codes], v, np.nan)
        diff = v - prev_v
        roll = self.rollover[codes]
        band = ROLLOVER_BAND_FRAC * roll
        wrapped = cum & (diff < 0) & np.isfinite(roll) & (prev_v >= roll - band) & (v <= band)
        reset = cum & (diff < 0) & ~wrapped
        amount = np.where(cum, np.where(wrapped, diff + roll, np.where(reset, v, diff)), amount)
        power = np.where(self.interval[codes], v * 3600.0 / self.interval_s[codes], amount / dt_h)
        rate = self.instant_rate[codes]
        power = np.where(rate, v, power)
        amount = np.where(rate, prev_v * dt_h, amount)
        return amount, power, wrapped, reset

    def now_ms(self) -> int:
        """Time of the newest reading of any point [ms since 1970 UTC]."""
        return int(self.ts_ms.max(initial=_NEVER))

    def stale_mask(self, now: pd.Timestamp | int | None = None) -> np.ndarray:
        """Whether each point is stale at ``now`` (the newest reading's time by default)."""
        now_ms = self.now_ms() if now is None else int(_ms(pd.Series([now]))[0])
        never = self.ts_ms == _NEVER
        age = np.where(never, np.inf, (now_ms - self.ts_ms) / 1000.0)
        return never | (age > self.stale_factor * self.interval_s)

    def stale(self, now: pd.Timestamp | int | None = None) -> list[str]:
        """Ids of the stale points at ``now``."""
        return [p for p, s in zip(self.ids, self.stale_mask(now), strict=True) if s]

    def snapshot(self, now: pd.Timestamp | int | None = None) -> pd.DataFrame:
        """Return the state of every point, indexed by point id.

        Columns: ``value``, ``quality`` (-1 before the first reading), ``ts`` (UTC),
        ``age_s``, ``power`` [point unit / h; a kWh point's in kW, a kW point's own
        value], ``energy`` [point unit; kWh for a kW point] counted since the state
        started, ``stale``, ``unit``, ``kind``, ``resets``, ``rollovers``.
        """
        now_ms = self.now_ms() if now is None else int(_ms(pd.Series([now]))[0])
        never = self.ts_ms == _NEVER
        ts = pd.to_datetime(np.where(never, 0, self.ts_ms), unit="ms", utc=True)
        ts = ts.where(~never, pd.NaT)
        return pd.DataFrame(
            {
                "value": self.value,
                "quality": self.quality,
                "ts": ts,
                "age_s": np.where(never, np.nan, (now_ms - self.ts_ms) / 1000.0),
                "power": self.power,
                "energy": self.energy,
                "stale": self.stale_mask(now),
                "unit": [p.unit for p in self.points],
                "kind": self.kind,
                "resets": self.resets,
                "rollovers": self.rollovers,
            },
            index=pd.Index(self.ids, name="point"),
        )
