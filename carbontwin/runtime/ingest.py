"""The real-time ingestion pipeline shared by every live source (MQTT now, others later).

:class:`Ingestor` takes readings — decoded MQTT batches, undecodable messages, or a
``point, ts, value, quality`` frame — and for each one: checks it (known point, allowed
gateway, readable time within bounds, finite value, range and sign, no conflicting copy
in the same lot), converts it to the point's unit with one float factor per point
(computed when the ingestor is built), inserts the good ones keyed by (point, time)
ignoring those already stored, updates the live twin state, and quarantines the rest
with their rule and reason. Every reading ends up counted as stored, already stored
(a duplicate) or quarantined: nothing is dropped silently.

Examples
--------
>>> from carbontwin.core import load_park, demo_park_path
>>> from carbontwin.store import Store
>>> park = load_park(demo_park_path())
>>> now = pd.Timestamp("2025-03-01 12:00", tz="UTC")
>>> frame = pd.DataFrame({"point": ["P-E03-KW", "P-E03-KW", "NOPE"],
...                       "ts": pd.to_datetime(["2025-03-01 11:00"] * 3, utc=True),
...                       "value": [812.5, 812.5, 1.0]})
>>> with Store.open("sqlite://") as store:
...     summary = Ingestor(store, park, clock=lambda: now).ingest(frame)
>>> summary.received, summary.stored, summary.duplicate, summary.quarantined
(3, 1, 1, 1)
>>> summary.rules
{'unknown_source': 1}
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import math
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from carbontwin.connectors.mqtt.codec import (
    QUALITY_RANGE,
    BadMessage,
    Batch,
    Metric,
    RejectedMetric,
)
from carbontwin.core.errors import UnitError, ValidationError
from carbontwin.core.park import Park
from carbontwin.core.points import MeteringPoint
from carbontwin.core.records import QuarantineRecord
from carbontwin.core.units import conversion_factor
from carbontwin.store import Store
from carbontwin.twin.simulator import Simulator
from carbontwin.twin.state import TwinState

__all__ = [
    "DEFAULT_MAX_AGE_S",
    "DEFAULT_MAX_AHEAD_S",
    "IngestSummary",
    "Ingestor",
    "simulated_readings",
]

_log = logging.getLogger(__name__)

#: Readings older than this are refused [s]: the collector buffers a week; a month covers
#: a long outage's backfill.
DEFAULT_MAX_AGE_S = 31 * 86_400
#: Readings ahead of the platform's clock by more than this are refused [s] (clock skew).
DEFAULT_MAX_AHEAD_S = 300
#: Readings per call of :meth:`Store.insert_readings`.
INSERT_CHUNK = 5000
#: Quarantined readings remembered, so that a redelivered one counts as a duplicate.
HELD_MEMORY = 100_000
_ORIGIN = "meter"


@dataclass
class IngestSummary:
    """What became of the readings of one call (or of a run, added up).

    Attributes
    ----------
    received : int
        Readings seen (decoded or not; an undecodable message counts as one).
    stored : int
        Readings that were new and are now in the store.
    duplicate : int
        Readings already stored, or repeated within the lot with the same value.
    quarantined : int
        Readings (or messages) put in quarantine.
    rules : dict of str to int
        Quarantined count per rule.
    messages : int
        Messages handled (MQTT batches and undecodable messages).
    """

    received: int = 0
    stored: int = 0
    duplicate: int = 0
    quarantined: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    messages: int = 0

    def add(self, other: IngestSummary) -> None:
        """Add ``other``'s counts to this summary."""
        self.received += other.received
        self.stored += other.stored
        self.duplicate += other.duplicate
        self.quarantined += other.quarantined
        self.messages += other.messages
        for rule, n in other.rules.items():
            self.rules[rule] = self.rules.get(rule, 0) + n

    @property
    def balanced(self) -> bool:
        """Whether every reading received is accounted for (stored, duplicate or held)."""
        return self.received == self.stored + self.duplicate + self.quarantined


@dataclass(frozen=True)
class _Point:
    point: MeteringPoint
    factor: float
    gateway: str | None
    nonnegative: bool
    low: float
    high: float


def _device_factor(p: MeteringPoint) -> float:
    """Factor from the unit the device sends (``protocol.unit``) to the point's unit."""
    unit = p.protocol.get("unit")
    if not unit or str(unit) == p.unit:
        return 1.0
    try:
        return conversion_factor(str(unit), p.unit)
    except UnitError as exc:
        msg = (
            f"point {p.id}: protocol unit {unit!r} cannot be converted to the point's unit "
            f"{p.unit!r} by a factor ({exc}); correct protocol.unit in the park definition"
        )
        raise ValidationError(msg) from exc


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:.6g}"


def _iso(ts_ms: int) -> str:
    try:
        return pd.Timestamp(ts_ms, unit="ms", tz="UTC").isoformat()
    except (ValueError, OverflowError):
        return str(ts_ms)


class Ingestor:
    """Check, convert, store and apply to the twin the readings of a park's live sources.

    Parameters
    ----------
    store : Store
        Where readings and quarantined rows go.
    park : Park
        The park definition: its points, units, ranges and gateways.
    state : TwinState, optional
        The live twin state to update with the stored readings.
    gateways : collection of str, optional
        The gateways allowed to report for the park; a batch from any other is refused
        (quarantined, logged and audited once per gateway). Any gateway when omitted;
        a point whose ``protocol.gateway`` is set is accepted only from that gateway.
    max_age_s, max_ahead_s : float
        Accepted time window around the clock [s]: readings older than ``max_age_s`` or
        more than ``max_ahead_s`` in the future are quarantined (``bad_time``).
    clock : callable, optional
        Returns the current time (an aware pandas.Timestamp); the wall clock by default.
    actor : str
        Who is recorded in the audit log.
    watchers : sequence of callable, optional
        Each is called, after the commit, with the readings a call stored (``point``,
        ``ts`` [ms since 1970 UTC], ``value`` [the point's unit], ``quality``): the anomaly
        watch (:class:`~carbontwin.runtime.anomalies.AlarmWatch`) raises alarms from them.

    Raises
    ------
    ValidationError
        If a point's ``protocol.unit`` cannot be converted to its unit by a factor.
    """

    def __init__(
        self,
        store: Store,
        park: Park,
        state: TwinState | None = None,
        *,
        gateways: Collection[str] | None = None,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        max_ahead_s: float = DEFAULT_MAX_AHEAD_S,
        clock: Callable[[], pd.Timestamp] | None = None,
        actor: str = "ingest",
        watchers: Sequence[Callable[[pd.DataFrame], object]] = (),
    ) -> None:
        self.store = store
        self.watchers = list(watchers)
        self.park = park
        self.state = state
        self.gateways = frozenset(gateways) if gateways is not None else None
        self.max_age_ms = int(max_age_s * 1000)
        self.max_ahead_ms = int(max_ahead_s * 1000)
        self.clock = clock
        self.actor = actor
        self.total = IngestSummary()
        self._ref = f"{actor}:{park.id}"  # the integrity batches' ref
        self._refused: set[str] = set()
        self._unknown: dict[str, str] = {}
        self._held: OrderedDict[tuple[str, str, str, str], None] = OrderedDict()
        self._points: dict[str, _Point] = {}
        for p in park.points:
            gateway = p.protocol.get("gateway")
            self._points[p.id] = _Point(
                point=p,
                factor=_device_factor(p),
                gateway=str(gateway) if gateway else None,
                nonnegative=p.kind in ("interval", "cumulative"),
                low=-math.inf if p.min_value is None else float(p.min_value),
                high=min(
                    math.inf if p.max_value is None else float(p.max_value),
                    # A register never shows more than it can hold.
                    math.inf if p.kind != "cumulative" or p.rollover is None else p.rollover,
                ),
            )

    # Helpers ---------------------------------------------------------------------------
    def _now_ms(self) -> int:
        if self.clock is None:
            return int(time.time() * 1000)
        return int(pd.Timestamp(self.clock()).tz_convert("UTC").value // 1_000_000)

    def _unknown_reason(self, pid: str) -> str:
        if pid not in self._unknown:
            close = difflib.get_close_matches(pid, list(self._points), n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(close)}?" if close else "check the point ids"
            self._unknown[pid] = f"point {pid!r} is not in park {self.park.id}; {hint}"
        return self._unknown[pid]

    def _refuse(self, source: str, reason: str) -> None:
        """Log and audit a refused source once."""
        if source in self._refused:
            return
        self._refused.add(source)
        _log.warning("refused readings from %s: %s", source, reason)
        self.store.audit(
            self.actor,
            "ingest.refused",
            f"park:{self.park.id}",
            detail={"source": source, "reason": reason},
            outcome="denied",
        )

    # Pipeline --------------------------------------------------------------------------
    def ingest(
        self, readings: pd.DataFrame | Batch | BadMessage | Iterable[Batch | BadMessage]
    ) -> IngestSummary:
        """Run readings through the pipeline; return what became of them.

        Parameters
        ----------
        readings : DataFrame, Batch, BadMessage or iterable of Batch and BadMessage
            A frame has ``point``, ``ts`` (aware timestamps or int ms since 1970 UTC),
            ``value`` [the unit the device sends] and optionally ``quality`` (int).

        Returns
        -------
        IngestSummary
            The counts of this call; :attr:`total` adds up all calls.
        """
        if isinstance(readings, pd.DataFrame):
            items: list[Batch | BadMessage] = [self._frame_batch(readings)]
        elif isinstance(readings, Batch | BadMessage):
            items = [readings]
        else:
            items = list(readings)
        summary = IngestSummary()
        held: list[QuarantineRecord] = []
        rows: list[tuple[str, int, float, int]] = []
        seen: dict[tuple[str, int], tuple[float, int]] = {}
        now = self._now_ms()
        oldest, newest = now - self.max_age_ms, now + self.max_ahead_ms
        points = self._points
        qmin, qmax = QUALITY_RANGE
        for item in items:
            summary.messages += 1
            if isinstance(item, BadMessage):
                summary.received += 1
                held.append(
                    QuarantineRecord(
                        rule="bad_value",
                        reason=item.reason,
                        origin=_ORIGIN,
                        ref=item.topic,
                        row={"topic": item.topic, "payload": item.payload},
                    )
                )
                continue
            summary.received += len(item)
            src = f"gateway {item.gateway}"
            ref = f"{item.gateway} seq {item.seq}" if item.gateway else ""
            for r in item.rejected:
                raw = r.raw if isinstance(r.raw, dict) else {"metric": r.raw}
                held.append(
                    QuarantineRecord(
                        rule=r.rule, reason=r.reason, origin=_ORIGIN, ref=ref, row=dict(raw)
                    )
                )
            refusal = None
            if item.park and item.park != self.park.id:
                refusal = f"{src} reported for park {item.park!r}, not {self.park.id!r}"
            elif item.gateway and self.gateways is not None and item.gateway not in self.gateways:
                refusal = f"{src} is not registered for park {self.park.id}"
            if refusal:
                self._refuse(f"{item.park}/{item.gateway}", refusal)
                reason = f"{refusal}; its readings are refused — register the gateway first"
                held.extend(
                    QuarantineRecord(
                        rule="unknown_source", reason=reason, origin=_ORIGIN, ref=ref, row=_row(m)
                    )
                    for m in item.metrics
                )
                continue
            gateway = item.gateway
            for m in item.metrics:
                # Fast path: known point from its gateway, in the window, finite, in range.
                pid, t, raw_value, q = m
                info = points.get(pid)
                if (
                    info is not None
                    and (not info.gateway or not gateway or gateway == info.gateway)
                    and oldest <= t <= newest
                    and qmin <= q <= qmax
                ):
                    value = raw_value * info.factor
                    if (
                        value - value == 0.0
                        and info.low <= value <= info.high
                        and (value >= 0.0 or not info.nonnegative)
                    ):
                        key = (pid, t)
                        before = seen.get(key)
                        if before is None:
                            seen[key] = (value, q)
                            rows.append((pid, t, value, q))
                            continue
                        if before[0] == value:
                            summary.duplicate += 1
                            continue
                rule_reason = self._check(m, gateway, oldest, newest, now)
                if rule_reason is None:
                    info = self._points[m.point]
                    value = m.value * info.factor
                    rule_reason = self._check_value(info, m, value)
                    if rule_reason is None:
                        key = (m.point, m.ts_ms)
                        before = seen.get(key)
                        if before is None:
                            seen[key] = (value, m.quality)
                            rows.append((m.point, m.ts_ms, value, m.quality))
                            continue
                        if before[0] == value:
                            summary.duplicate += 1
                            continue
                        rule_reason = (
                            "conflict",
                            f"point {m.point} at {_iso(m.ts_ms)}: value {_fmt(value)} differs "
                            f"from {_fmt(before[0])} received in the same lot; the first was kept",
                        )
                rule, reason = rule_reason
                held.append(
                    QuarantineRecord(
                        rule=rule,
                        reason=reason,
                        origin=_ORIGIN,
                        ref=f"{m.point} {_iso(m.ts_ms)}",
                        row=_row(m, item.gateway),
                    )
                )
        # Commit the good readings, then quarantine the rest, then update the twin.
        new = 0
        for i in range(0, len(rows), INSERT_CHUNK):
            new += self.store.insert_readings(rows[i : i + INSERT_CHUNK], ref=self._ref)
        summary.stored = new
        summary.duplicate += len(rows) - new
        if held:
            # A bad reading delivered again (MQTT redelivers after a broker restart) is a
            # duplicate of the one already in quarantine, not a second quarantined row.
            fresh = []
            for q in held:
                row = q.row or {}
                key = (
                    (q.reason, str(row["point"]), repr(row.get("ts")), repr(row.get("value")))
                    if "point" in row
                    else (q.reason, q.ref, q.rule, repr(row))
                )
                if key in self._held:
                    summary.duplicate += 1
                    continue
                self._held[key] = None
                fresh.append(q)
            while len(self._held) > HELD_MEMORY:
                self._held.popitem(last=False)
            held = fresh
        if held:
            self.store.quarantine(self.park.id, held, actor=self.actor)
            summary.quarantined = len(held)
            summary.rules = dict(Counter(q.rule for q in held))
        if rows and (self.state is not None or self.watchers):
            landed = pd.DataFrame(
                {
                    "point": [r[0] for r in rows],
                    "ts": np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)),
                    "value": [r[2] for r in rows],
                    "quality": np.fromiter((r[3] for r in rows), np.int64, len(rows)),
                }
            )
            if self.state is not None:
                self.state.update(landed)
            for watch in self.watchers:
                # The readings are committed: a watcher that fails loses none of them.
                try:
                    watch(landed)
                except Exception:
                    _log.exception("a watcher of the ingestion failed on %d readings", len(landed))
        self.total.add(summary)
        return summary

    def _check(
        self, m: Metric, gateway: str, oldest: int, newest: int, now: int
    ) -> tuple[str, str] | None:
        """Return ``(rule, reason)`` if the reading's point or time is not acceptable."""
        info = self._points.get(m.point)
        if info is None:
            return "unknown_source", self._unknown_reason(m.point)
        if info.gateway and gateway and gateway != info.gateway:
            return (
                "unknown_source",
                f"point {m.point} is wired to gateway {info.gateway}, not {gateway}; "
                "its reading from another gateway is refused",
            )
        if m.ts_ms > newest:
            return (
                "bad_time",
                f"point {m.point}: ts {_iso(m.ts_ms)} is in the future (now is {_iso(now)}); "
                "check the device's clock",
            )
        if m.ts_ms < oldest:
            return (
                "bad_time",
                f"point {m.point}: ts {_iso(m.ts_ms)} is older than the "
                f"{self.max_age_ms // 86_400_000} days accepted live; load it as a file instead",
            )
        return None

    def _check_value(self, info: _Point, m: Metric, value: float) -> tuple[str, str] | None:
        """Return ``(rule, reason)`` if the converted value is not acceptable."""
        p = info.point
        if not math.isfinite(value):
            return "bad_value", f"point {m.point}: value {m.value!r} is not a finite number"
        if not QUALITY_RANGE[0] <= m.quality <= QUALITY_RANGE[1]:
            return (
                "bad_value",
                f"point {m.point}: quality {m.quality} is outside {QUALITY_RANGE[0]}.."
                f"{QUALITY_RANGE[1]}; send an integer quality code (0 = good)",
            )
        if info.nonnegative and value < 0:
            return (
                "negative",
                f"point {m.point}: value {_fmt(value)} {p.unit} is negative; a {p.kind} "
                "reading is never negative — check the meter's sign",
            )
        if value < info.low or value > info.high:
            side = "below the lowest" if value < info.low else "above the highest"
            bound = info.low if value < info.low else info.high
            if value > info.high and info.high == p.rollover:
                return (
                    "range",
                    f"point {m.point}: register value {_fmt(value)} {p.unit} is above the "
                    f"register's rollover {_fmt(bound)} {p.unit}, which it cannot show; the "
                    "reading is faulty (check the meter's scaling or its communication)",
                )
            return (
                "range",
                f"point {m.point}: value {_fmt(value)} {p.unit} is {side} plausible value "
                f"{_fmt(bound)} {p.unit}; check the meter scaling or the point's "
                "min_value/max_value",
            )
        return None

    @staticmethod
    def _frame_batch(frame: pd.DataFrame) -> Batch:
        """Turn a ``point, ts, value[, quality]`` frame into a batch (no gateway)."""
        batch = Batch(park="", gateway="", seq=0, ts_ms=0)
        missing = [c for c in ("point", "ts", "value") if c not in frame.columns]
        if missing:
            msg = f"readings need the columns point, ts and value; {', '.join(missing)} missing"
            raise ValidationError(msg)
        ts = frame["ts"]
        if isinstance(ts.dtype, pd.DatetimeTZDtype):
            ms: Sequence[object] = (
                pd.DatetimeIndex(ts).tz_convert("UTC").as_unit("ms").asi8.tolist()
            )
        elif pd.api.types.is_integer_dtype(ts.dtype):
            ms = ts.tolist()
        else:
            msg = "readings' ts must be timezone-aware timestamps or integer ms since 1970 UTC"
            raise ValidationError(msg)
        q = frame["quality"].tolist() if "quality" in frame.columns else [0] * len(frame)
        for pid, t, v, qq in zip(
            frame["point"].tolist(), ms, frame["value"].tolist(), q, strict=True
        ):
            raw = {"point": pid, "ts": t, "value": v, "q": qq}
            try:
                number = float(v)
                quality = int(qq)
            except (TypeError, ValueError):
                reason = f"point {pid}: value {v!r} or quality {qq!r} is not a number"
                batch.rejected.append(RejectedMetric("bad_value", reason, raw))
                continue
            batch.metrics.append(Metric(str(pid), int(t), number, quality))
        return batch


def _row(m: Metric, gateway: str = "") -> dict[str, object]:
    row: dict[str, object] = {"point": m.point, "ts": m.ts_ms, "value": m.value, "q": m.quality}
    if gateway:
        row["gateway"] = gateway
    return row


def simulated_readings(
    park: Park, start: str | dt.date | pd.Timestamp, days: int = 1, *, seed: int = 0
) -> pd.DataFrame:
    """Return the virtual park's readings: ``point, ts, value, quality``, oldest first.

    Parameters
    ----------
    park : Park
        The park to simulate (the demo park for demonstrations and tests).
    start : str, date or pandas.Timestamp
        First day (local midnight).
    days : int
        Days to simulate.
    seed : int
        Random seed.
    """
    result = Simulator(park, start, days, seed=seed).run()
    frame = result.readings[["point", "ts", "value", "quality"]]
    return frame.sort_values("ts", kind="stable").reset_index(drop=True)
