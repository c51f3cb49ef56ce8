"""Checks on activity data as it enters: good rows land, bad rows are quarantined.

Every input row ends up either among the accepted entries (converted to the canonical
unit of its stream) or in quarantine with the rule it broke and a reason a person can
read; nothing is dropped silently. Non-blocking notes (months without data, registers that
rolled over) are returned as findings. The functions here are pure: they read no files and
no database, so the same checks serve file uploads, manual input, APIs and meters.

Examples
--------
>>> from carbontwin.core import load_park, demo_park_path
>>> park = load_park(demo_park_path())
>>> rows = [
...     {"source": "E04-DIESEL", "stream": "", "start": "2025-03-01", "end": "2025-03-31",
...      "quantity": "12000", "unit": "kg", "ref": "ledger 2025-03"},
...     {"source": "E04-DIESEL", "stream": "", "start": "2025-04-01", "end": "2025-04-30",
...      "quantity": "-3", "unit": "t", "ref": "ledger 2025-04"},
... ]
>>> result = validate_entries(park, rows, today=datetime.date(2026, 1, 31))
>>> result.entries[0].quantity, result.entries[0].unit
(12.0, 't')
>>> result.summary()
{'accepted': 1, 'quarantined': 1, 'negative': 1, 'findings': 0}
"""

from __future__ import annotations

import bisect
import contextlib
import datetime
import difflib
import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import get_args

import numpy as np
import pandas as pd
from pydantic import ValidationError as PydanticValidationError

from carbontwin.accounting.methods import get_method
from carbontwin.core.errors import UnitError, ValidationError
from carbontwin.core.park import Enterprise, Park
from carbontwin.core.points import MeteringPoint
from carbontwin.core.records import ActivityEntry, IntervalData, QuarantineRecord, stream_key
from carbontwin.core.sources import EmissionSource
from carbontwin.core.time import Period
from carbontwin.core.units import conversion_factor, parse_unit, ureg

__all__ = [
    "RULES",
    "Finding",
    "ValidationResult",
    "validate_entries",
    "validate_readings",
]

#: Rule id → what the rule checks. Quarantine rules first, then the findings.
RULES: dict[str, str] = {
    "missing_field": "a required field (source, start, end, quantity, unit) is empty or absent",
    "unknown_source": "the source, stream or metering point is not in the park definition",
    "bad_value": "the quantity or reading is not a finite number, or the quality or origin "
    "is not an allowed value",
    "bad_time": "a date or timestamp cannot be read, ends before it starts, lies in the future "
    "or has no time zone",
    "unit": "the unit is unknown or ambiguous, or measures something other than the stream's "
    "canonical unit",
    "negative": "the quantity or reading is negative; activity is never negative",
    "range": "the value is beyond what the source's metering points can measure "
    "(min_value/max_value)",
    "outside_registry": "the dates fall outside the source's operating dates or the "
    "enterprise's time in the park",
    "duplicate": "the same source, stream, dates and quantity are already entered",
    "conflict": "the same source, stream and dates are already entered with another quantity",
    "overlap": "the date range overlaps, without being identical to, an entry of the same stream",
    "decreasing": "a cumulative register went down without rolling over (meter reset or fault)",
    "outlier": "the daily rate is far from the median daily rate of the stream's other entries",
    "file": "the file cannot be read: missing, of the wrong type, corrupt or without the "
    "required columns",
    "gap": "finding: a month, or a run of meter intervals, without data for a stream that has data",
    "rollover": "finding: a cumulative register wrapped at its rollover value; the amount "
    "across the wrap was kept",
}

_REQUIRED = ("source", "start", "end", "quantity", "unit")
_QUALITIES: tuple[str, ...] = get_args(ActivityEntry.model_fields["quality"].annotation)
_ORIGINS: tuple[str, ...] = get_args(ActivityEntry.model_fields["origin"].annotation)
_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
#: Spellings that the unit registry itself reads differently from what ledgers usually mean
#: by them: spelling → (registry unit, what it is, what ledgers mean, unambiguous spelling).
_AMBIGUOUS: dict[str, tuple[str, str, str, str]] = {
    "kt": ("knot", "a knot", "kilotonnes", "ktonne"),
}
#: Quality flags of meter readings that mark the value itself as unusable.
_BAD_READING_QUALITY = frozenset({"bad", "invalid", "unavailable", "error"})
_ROLLOVER_BAND_FRAC = 0.10
_SECONDS_PER_DAY = 86_400


@dataclass
class Finding:
    """A non-blocking note on accepted data: a gap, or a register rollover carried over."""

    rule: str
    reason: str
    source: str = ""
    ref: str = ""


@dataclass
class ValidationResult:
    """What became of a batch of activity rows or meter readings.

    Attributes
    ----------
    entries : list of ActivityEntry
        Accepted entries, their quantity converted to the stream's canonical unit.
    quarantine : list of QuarantineRecord
        Rows that did not land, each with its rule and a readable reason.
    findings : list of Finding
        Non-blocking notes (gaps, rollovers).
    readings : int
        Number of meter readings that were accepted (0 for ledger entries).
    """

    entries: list[ActivityEntry] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    readings: int = 0

    def summary(self) -> dict[str, int]:
        """Return counts: ``accepted``, ``quarantined``, one key per rule that fired, ``findings``.

        Returns
        -------
        dict of str to int
            ``accepted`` counts entries plus accepted meter readings.
        """
        out = {"accepted": len(self.entries) + self.readings, "quarantined": len(self.quarantine)}
        counts = Counter(q.rule for q in self.quarantine)
        counts.update(f.rule for f in self.findings)
        for rule in RULES:
            if counts.get(rule):
                out[rule] = counts.pop(rule)
        out.update(sorted(counts.items()))
        out["findings"] = len(self.findings)
        return out


class _Reject(Exception):
    """A row breaks ``rule``; the message is the reason."""

    def __init__(self, reason: str, rule: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rule = rule


# Small helpers ---------------------------------------------------------------------------
def _is_empty(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, np.datetime64 | np.timedelta64) and np.isnat(value):
        return True
    return isinstance(value, str) and not value.strip()


def _text(value: object) -> str:
    if _is_empty(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _fmt(x: float) -> str:
    """Format a number for a message: integers plainly, others to 4-5 significant digits."""
    if math.isfinite(x) and float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    if math.isfinite(x) and abs(x) >= 100:
        return f"{x:.1f}"
    return f"{x:.4g}"


def _row_label(n: int, ref: str) -> str:
    return f"row {n} ({ref})" if ref else f"row {n}"


def _compact_dims(dims: str) -> str:
    return dims.replace(" / ", "/").replace(" * ", "*").replace(" ** ", "**")


@functools.cache
def _kinds() -> dict[str, tuple[str, str]]:
    """Map a dimensionality to (phrase with article, bare noun)."""
    table = [
        ("t", "a mass", "mass"),
        ("kWh", "an energy", "energy"),
        ("kW", "a power", "power"),
        ("m/s", "a speed", "speed"),
        ("Nm3", "a gas volume at standard conditions", "gas volume at standard conditions"),
        ("m**3", "a volume", "volume"),
        ("tCO2e", "a CO2-equivalent mass", "CO2-equivalent mass"),
        ("CNY", "an amount of money", "money"),
        ("m", "a length", "length"),
        ("s", "a time", "time"),
        ("m**2", "an area", "area"),
        ("t*km", "a mass times a distance", "mass times distance"),
        ("K", "a temperature", "temperature"),
        ("dimensionless", "a plain number", "plain numbers"),
    ]
    return {str(ureg.Unit(u).dimensionality): (a, b) for u, a, b in table}


def _kind(unit: str, registry_name: str | None = None) -> tuple[str, str, str]:
    """Return (phrase, noun, compact dimensionality) of ``unit``.

    ``registry_name`` bypasses the ledger spellings and asks the registry for that name.
    """
    parsed = ureg.Unit(registry_name) if registry_name else parse_unit(unit)
    dims = str(parsed.dimensionality)
    phrase, noun = _kinds().get(
        dims, (f"of dimension {_compact_dims(dims)}", f"dimension {_compact_dims(dims)}")
    )
    return phrase, noun, _compact_dims(dims)


def _parse_date(value: object, name: str, label: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    text = str(value).strip()
    m = _DATE.fullmatch(text)
    if not m:
        msg = f"{label}: {name} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-03-31"
        raise _Reject(msg, "bad_time")
    try:
        return datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        msg = f"{label}: {name} {text!r} is not a calendar date ({exc}); correct the date"
        raise _Reject(msg, "bad_time") from None


def _parse_number(value: object) -> float | None:
    """Return the value as a float (possibly NaN or inf), or None if it is not a number."""
    if isinstance(value, bool):
        return None
    number = value
    if not isinstance(value, int | float | np.integer | np.floating | Decimal):
        number = str(value).strip().replace("\u2212", "-")
        if _THOUSANDS.fullmatch(number):
            number = number.replace(",", "")
    try:
        return float(number)
    except OverflowError:
        return math.inf
    except ValueError:
        return None


def _span(a: datetime.date, b: datetime.date) -> str:
    return f"{a} to {b}"


# Per-stream memory of what has been accepted ----------------------------------------------
@dataclass
class _Seen:
    """Accepted and existing entries of one stream: spans, quantities and daily rates."""

    by_span: dict[tuple[datetime.date, datetime.date], list[tuple[float, str]]] = field(
        default_factory=dict
    )
    spans: list[tuple[datetime.date, datetime.date, str]] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)  # sorted

    def add(self, start: datetime.date, end: datetime.date, qty: float, label: str) -> None:
        self.by_span.setdefault((start, end), []).append((qty, label))
        self.spans.append((start, end, label))
        days = (end - start).days + 1
        bisect.insort(self.rates, qty / days)

    def median(self) -> float:
        n = len(self.rates)
        mid = n // 2
        return self.rates[mid] if n % 2 else 0.5 * (self.rates[mid - 1] + self.rates[mid])


@dataclass
class _Context:
    """Lookups shared by the rows of one call."""

    park: Park
    today: datetime.date
    outlier_factor: float
    streams: dict[str, dict[str, str] | str] = field(default_factory=dict)
    seen: dict[str, _Seen] = field(default_factory=lambda: defaultdict(_Seen))
    sources: dict[str, EmissionSource] = field(default_factory=dict)
    enterprises: dict[str, Enterprise] = field(default_factory=dict)
    limits: dict[tuple[str, str], tuple[float, str] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sources = {s.id: s for s in self.park.sources}
        self.enterprises = {e.id: e for e in self.park.enterprises}

    def max_per_day(self, source: str, stream: str, unit: str) -> tuple[float, str] | None:
        """Return the stream's daily limit from its metering points (cached)."""
        if (source, stream) not in self.limits:
            self.limits[source, stream] = _max_per_day(self.park, source, stream, unit)
        return self.limits[source, stream]

    def source_streams(self, source: EmissionSource) -> dict[str, str] | str:
        """Return ``{stream: canonical unit}`` of ``source``, or why it takes no activity."""
        if source.id not in self.streams:
            try:
                method = get_method(source.method)
                self.streams[source.id] = method.streams(source, method.params(source))
            except ValidationError as exc:
                self.streams[source.id] = str(exc)
        return self.streams[source.id]


def _max_per_day(park: Park, source: str, stream: str, unit: str) -> tuple[float, str] | None:
    """Largest plausible daily amount of a stream from its interval points' ``max_value``.

    Returns ``None`` unless every interval point of the stream declares ``max_value``.
    """
    points = [
        p for p in park.points if p.source == source and p.stream == stream and p.kind == "interval"
    ]
    if not points or any(p.max_value is None for p in points):
        return None
    total = 0.0
    parts = []
    for p in points:
        try:
            factor = conversion_factor(p.unit, unit)
        except UnitError:
            return None
        total += float(p.max_value) * factor * _SECONDS_PER_DAY / p.interval_s
        parts.append(f"{p.id} max_value {_fmt(float(p.max_value))} {p.unit} per {p.interval_s} s")
    return total, ", ".join(parts)


# Entries ---------------------------------------------------------------------------------
def _check_row(
    ctx: _Context,
    n: int,
    row: Mapping[str, object],
    default_origin: str,
) -> ActivityEntry:
    """Run the rules on one row, in order; raise :class:`_Reject` at the first failure."""
    park = ctx.park
    ref = _text(row.get("ref"))
    label = _row_label(n, ref)

    missing = [name for name in _REQUIRED if _is_empty(row.get(name))]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        msg = (
            f"{label}: {', '.join(missing)} {verb} missing; fill in {', '.join(missing)} "
            "(every row needs source, start, end, quantity and unit)"
        )
        raise _Reject(msg, "missing_field")

    # unknown_source
    sid = _text(row.get("source"))
    stream = _text(row.get("stream"))
    source = ctx.sources.get(sid)
    if source is None:
        close = difflib.get_close_matches(sid, list(ctx.sources), n=3, cutoff=0.6)
        hint = (
            f"did you mean {' or '.join(close)}?"
            if close
            else "no source id is close to it; check the source ids in the park definition"
        )
        msg = f"{label}: source {sid!r} is not in park {park.id}; {hint}"
        raise _Reject(msg, "unknown_source")
    streams = ctx.source_streams(source)
    if isinstance(streams, str):
        msg = f"{label}: source {sid} cannot take activity ({streams}); fix the park definition"
        raise _Reject(msg, "unknown_source")
    if stream not in streams:
        names = ", ".join(repr(s) if s else "'' (the main stream)" for s in streams)
        msg = (
            f"{label}: source {sid} has no stream {stream!r}; its streams are {names} — "
            "put one of these in the stream column"
        )
        raise _Reject(msg, "unknown_source")
    canonical = streams[stream]
    who = stream_key(sid, stream)

    # bad_time
    start = _parse_date(row.get("start"), "start", label)
    end = _parse_date(row.get("end"), "end", label)
    if end < start:
        msg = f"{label}: end {end} is before start {start}; swap the dates or correct one of them"
        raise _Reject(msg, "bad_time")
    if end > ctx.today:
        msg = (
            f"{label}: end {end} is in the future (today is {ctx.today}); enter activity "
            "only for days that have passed"
        )
        raise _Reject(msg, "bad_time")

    # bad_value
    raw_qty = row.get("quantity")
    qty = _parse_number(raw_qty)
    if qty is None:
        msg = (
            f"{label}: quantity {_text(raw_qty)!r} is not a number; write digits with a "
            "decimal point, e.g. 1250.5, and put the unit in the unit column"
        )
        raise _Reject(msg, "bad_value")
    if not math.isfinite(qty):
        msg = f"{label}: quantity {_text(raw_qty)} is not a finite number; enter the amount"
        raise _Reject(msg, "bad_value")
    quality = _text(row.get("quality")).lower() or "measured"
    if quality not in _QUALITIES:
        msg = (
            f"{label}: quality {quality!r} is not one of {', '.join(_QUALITIES)}; pick the "
            "one that says where the number comes from"
        )
        raise _Reject(msg, "bad_value")
    origin = _text(row.get("origin")).lower() or default_origin
    if origin not in _ORIGINS:
        msg = (
            f"{label}: origin {origin!r} is not one of {', '.join(_ORIGINS)}; leave it empty "
            "or pick one of these"
        )
        raise _Reject(msg, "bad_value")

    # unit
    unit = _text(row.get("unit"))
    try:
        _, noun, _ = _kind(canonical)
    except UnitError:
        msg = (
            f"{label}: {who} keeps its activity in {canonical!r}, which is not a known unit; "
            "correct the source's carrier in the park definition"
        )
        raise _Reject(msg, "unit") from None
    ambiguous = _AMBIGUOUS.get(re.sub(r"\s+", "", unit).lower())
    if ambiguous:
        name, what, meant, spelling = ambiguous
        phrase, _, dims = _kind(unit, name)
        msg = (
            f"{label}: unit {unit!r} is {phrase} ({dims}) in the unit registry — {what} — "
            f"although ledgers often write it for {meant}; {who} takes {noun} in {canonical}: "
            f"enter the quantity in {canonical}, or write {spelling!r} for {meant}"
        )
        raise _Reject(msg, "unit")
    try:
        factor = conversion_factor(unit, canonical)
    except UnitError:
        try:
            phrase, _, dims = _kind(unit)
        except UnitError as exc:
            msg = f"{label}: {exc}; {who} takes {noun} in {canonical}"
            raise _Reject(msg, "unit") from None
        msg = (
            f"{label}: unit {unit!r} is {phrase} ({dims}); {who} takes {noun} in "
            f"{canonical} — enter the quantity in {canonical} or another unit of {noun}"
        )
        raise _Reject(msg, "unit") from None
    qty_c = qty * factor
    if not math.isfinite(qty_c):
        msg = f"{label}: quantity {_text(raw_qty)} {unit} is too large to be a real amount"
        raise _Reject(msg, "bad_value")

    # negative
    if qty < 0:
        msg = (
            f"{label}: quantity {_text(raw_qty)} is negative; activity is never negative — "
            "enter exports and recoveries on their own sources"
        )
        raise _Reject(msg, "negative")

    days = (end - start).days + 1
    rate = qty_c / days

    # range
    limit = ctx.max_per_day(sid, stream, canonical)
    if limit is not None and rate > limit[0] * (1 + 1e-9):
        msg = (
            f"{label}: {_fmt(rate)} {canonical}/day is more than the "
            f"{_fmt(limit[0])} {canonical}/day its metering points can measure "
            f"({limit[1]}); check the quantity, the unit and the dates"
        )
        raise _Reject(msg, "range")

    # outside_registry
    enterprise = ctx.enterprises.get(source.enterprise)
    problems = []
    if source.start and start < source.start:
        problems.append(f"it starts {start}, before source {sid} began operating on {source.start}")
    if source.stop and end > source.stop:
        problems.append(f"it ends {end}, after source {sid} stopped on {source.stop}")
    if enterprise and enterprise.entry_date and start < enterprise.entry_date:
        problems.append(
            f"it starts {start}, before enterprise {enterprise.id} entered the park "
            f"on {enterprise.entry_date}"
        )
    if enterprise and enterprise.exit_date and end > enterprise.exit_date:
        problems.append(
            f"it ends {end}, after enterprise {enterprise.id} left the park on "
            f"{enterprise.exit_date}"
        )
    if problems:
        msg = (
            f"{label}: the entry {_span(start, end)} lies outside the registry: "
            f"{'; '.join(problems)}; keep only the days inside, or correct the dates in the "
            "park definition"
        )
        raise _Reject(msg, "outside_registry")

    # duplicate, conflict, overlap
    seen = ctx.seen[who]
    same = seen.by_span.get((start, end), [])
    for q, other in same:
        if math.isclose(q, qty_c, rel_tol=1e-9):
            msg = (
                f"{label}: duplicates {other} — same source {who}, dates "
                f"{_span(start, end)} and quantity {_fmt(qty_c)} {canonical}; it is "
                "already entered, so this copy was not added"
            )
            raise _Reject(msg, "duplicate")
    if same:
        q, other = same[0]
        msg = (
            f"{label}: {who} {_span(start, end)} is already entered as {_fmt(q)} "
            f"{canonical} ({other}) but this row says {_fmt(qty_c)} {canonical}; correct the "
            "wrong one, or revoke the earlier entry before entering the new value"
        )
        raise _Reject(msg, "conflict")
    for a, b, other in seen.spans:
        if a <= end and b >= start:
            msg = (
                f"{label}: {_span(start, end)} overlaps {_span(a, b)} already entered for "
                f"{who} ({other}); split the entries so each day is counted once"
            )
            raise _Reject(msg, "overlap")

    # outlier
    others = len(seen.rates)
    if others >= 3:
        med = seen.median()
        f = ctx.outlier_factor
        if med > 0 and (rate > f * med or rate < med / f):
            side = f"more than {_fmt(f)} times" if rate > f * med else f"less than 1/{_fmt(f)} of"
            msg = (
                f"{label}: {_fmt(rate)} {canonical}/day is {side} the median "
                f"{_fmt(med)} {canonical}/day of the {others} other entries of {who}; check "
                "the unit and the decimal point, and release it from quarantine if it is "
                "right"
            )
            raise _Reject(msg, "outlier")

    try:
        entry = ActivityEntry(
            id=_text(row.get("id")) or None,
            source=sid,
            stream=stream,
            start=start,
            end=end,
            quantity=qty_c,
            unit=canonical,
            origin=origin,
            quality=quality,
            ref=ref,
            entered_by=_text(row.get("entered_by")),
        )
    except PydanticValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        msg = f"{label}: the entry is not valid ({details}); correct these fields"
        raise _Reject(msg, "bad_value") from None
    seen.add(start, end, qty_c, label)
    return entry


def _month_starts(period: Period) -> list[datetime.date]:
    out = []
    d = period.start.replace(day=1)
    while d <= period.end:
        out.append(d)
        d = (d.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return out


def _gap_findings(
    ctx: _Context,
    keys: dict[str, tuple[str, str]],
    period: Period,
) -> list[Finding]:
    """Months of ``period`` in which an active source has no entry for a stream."""
    findings = []
    months = _month_starts(period)
    for key, (sid, _stream) in keys.items():
        source = ctx.sources[sid]
        ent = ctx.enterprises.get(source.enterprise)
        lo_e, hi_e = (ent.entry_date, ent.exit_date) if ent else (None, None)
        spans = ctx.seen[key].spans
        for m in months:
            next_m = (m.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
            a = max(m, period.start)
            b = min(next_m - datetime.timedelta(days=1), period.end)
            for lo in (source.start, lo_e):
                if lo and lo > a:
                    a = lo
            for hi in (source.stop, hi_e):
                if hi and hi < b:
                    b = hi
            if b < a:
                continue  # not active this month
            if any(s <= b and e >= a for s, e, _ in spans):
                continue
            reason = (
                f"{key} has no activity entry for {m:%Y-%m} ({_span(a, b)}) although "
                "the source was active; enter the month's quantity, or 0 if it did not "
                "operate"
            )
            findings.append(Finding("gap", reason, source=sid))
    return findings


def validate_entries(
    park: Park,
    rows: Iterable[Mapping[str, object]],
    *,
    origin: str = "file",
    existing: Sequence[ActivityEntry] = (),
    today: datetime.date | None = None,
    outlier_factor: float = 10.0,
    period: Period | None = None,
) -> ValidationResult:
    r"""Check activity rows and convert the good ones to entries in canonical units.

    The rules run in this order and a row stops at the first it breaks: ``missing_field``,
    ``unknown_source``, ``bad_time``, ``bad_value``, ``unit``, ``negative``, ``range``,
    ``outside_registry``, ``duplicate``, ``conflict``, ``overlap``, ``outlier`` (see
    :data:`RULES`). Later rows are compared with the rows accepted before them and with
    ``existing``.

    Parameters
    ----------
    park : Park
        The park definition that names the sources, their streams and metering points.
    rows : iterable of mapping
        Rows with ``source, stream, start, end, quantity, unit`` and optionally ``id,
        origin, quality, ref, entered_by``. Values may be strings (CSV) or typed (dates,
        datetimes and floats from spreadsheets). Dates are ``YYYY-MM-DD`` or
        ``YYYY/MM/DD``; ``quantity`` is in ``unit``.
    origin : str, default 'file'
        Origin recorded for rows that name none.
    existing : sequence of ActivityEntry
        Entries already stored, checked for duplicates, conflicts, overlaps and outliers.
    today : datetime.date, optional
        Entries may not end after this day; the default is the current date.
    outlier_factor : float, default 10.0
        A daily rate more than this many times the median daily rate of the stream's other
        entries (or less than the median divided by it) is an outlier [-]. Needs three
        other entries and a median above zero.
    period : Period, optional
        When given, each calendar month of the period in which a source with accepted
        entries was active but has no entry for that stream is reported as a ``gap``
        finding.

    Returns
    -------
    ValidationResult
        Accepted entries (quantity in the stream's canonical unit, ``unit`` set to it),
        quarantined rows with their rule and reason, and findings. Every input row is in
        exactly one of ``entries`` and ``quarantine``.

    Raises
    ------
    ValidationError
        If ``outlier_factor`` is not above 1.

    Notes
    -----
    The daily rate of an entry is its quantity divided by its number of days,
    :math:`r = q / (d_{end} - d_{start} + 1)`. The ``range`` rule compares it with
    :math:`\sum_p \mathrm{max\_value}_p \cdot 86400 / \Delta t_p` over the source
    stream's interval metering points :math:`p`, when all of them declare ``max_value``.
    """
    if not outlier_factor > 1:
        msg = f"outlier_factor(={outlier_factor}) must be > 1, e.g. 10"
        raise ValidationError(msg)
    if today is None:
        today = datetime.date.today()
    elif isinstance(today, datetime.datetime):
        today = today.date()
    ctx = _Context(park, today, outlier_factor)
    for e in existing:
        qty = e.quantity
        source = ctx.sources.get(e.source)
        streams = ctx.source_streams(source) if source else ""
        if isinstance(streams, dict) and e.stream in streams and e.unit != streams[e.stream]:
            with contextlib.suppress(UnitError):  # else compared as stored
                qty *= conversion_factor(e.unit, streams[e.stream])
        what = e.id or ""
        if e.ref:
            what = f"{what} ({e.ref})" if what else e.ref
        ctx.seen[e.key].add(e.start, e.end, qty, f"existing entry {what}".rstrip())

    result = ValidationResult()
    accepted_keys: dict[str, tuple[str, str]] = {}
    for n, row in enumerate(rows, start=1):
        try:
            entry = _check_row(ctx, n, row, origin)
        except _Reject as exc:
            result.quarantine.append(
                QuarantineRecord(
                    rule=exc.rule,
                    reason=exc.reason,
                    origin=_text(row.get("origin")) or origin,
                    ref=_text(row.get("ref")),
                    row={str(k): v for k, v in row.items()},
                )
            )
            continue
        result.entries.append(entry)
        accepted_keys.setdefault(entry.key, (entry.source, entry.stream))
    if period is not None:
        result.findings.extend(_gap_findings(ctx, accepted_keys, period))
    return result


# Readings --------------------------------------------------------------------------------
@dataclass
class _PointInfo:
    point: MeteringPoint
    key: str
    factor: float


def _resolve_point(
    park: Park,
    pid: str,
    cache: dict[str, _PointInfo | tuple[str, str]],
) -> _PointInfo | tuple[str, str]:
    """Return the point's stream and factor, or ``(rule, reason)`` if it cannot land."""
    if pid in cache:
        return cache[pid]
    out: _PointInfo | tuple[str, str]
    try:
        point = park.point(pid)
    except KeyError:
        close = difflib.get_close_matches(pid, [p.id for p in park.points], n=3, cutoff=0.6)
        hint = (
            f"did you mean {' or '.join(close)}?"
            if close
            else "check the point ids in the park definition"
        )
        out = ("unknown_source", f"point {pid!r} is not in park {park.id}; {hint}")
        cache[pid] = out
        return out
    if not point.source:
        out = (
            "unknown_source",
            f"point {pid} measures no source; set its 'source' in the "
            "park definition so its readings can be accounted",
        )
    elif point.source not in {s.id for s in park.sources}:
        out = (
            "unknown_source",
            f"point {pid} names source {point.source!r}, which is not in "
            "the park; correct the point's 'source'",
        )
    else:
        source = park.source(point.source)
        try:
            method = get_method(source.method)
            streams = method.streams(source, method.params(source))
        except ValidationError as exc:
            streams = {}
            out = (
                "unknown_source",
                f"source {source.id} of point {pid} cannot take activity ({exc})",
            )
        if streams and point.stream not in streams:
            names = ", ".join(repr(s) for s in streams)
            out = (
                "unknown_source",
                f"point {pid} feeds stream {point.stream!r}, which source "
                f"{source.id} does not have (its streams: {names}); correct the point",
            )
        elif streams:
            canonical = streams[point.stream]
            key = stream_key(point.source, point.stream)
            if point.kind == "instantaneous":
                out = (
                    "unit",
                    f"point {pid} is instantaneous (a momentary value in "
                    f"{point.unit}); activity needs amounts per interval — read an interval "
                    "or a cumulative register instead",
                )
            else:
                try:
                    out = _PointInfo(point, key, conversion_factor(point.unit, canonical))
                except UnitError:
                    phrase, _, dims = _kind(point.unit)
                    _, noun, _ = _kind(canonical)
                    out = (
                        "unit",
                        f"point {pid} reads in {point.unit!r}, {phrase} ({dims}); "
                        f"{key} takes {noun} in {canonical} — correct the point's unit",
                    )
    cache[pid] = out
    return out


def _plain(value: object) -> object:
    """Make a frame cell safe to keep in a quarantine record."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _timestamps(col: pd.Series, tz: str) -> tuple[pd.Series, dict[int, str]]:
    """Return the column as aware timestamps in ``tz`` (NaT where bad) and why each is bad."""
    problems: dict[int, str] = {}
    naive = f"has no time zone; localise the timestamps first, e.g. ts.dt.tz_localize('{tz}')"
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        ts = col.dt.tz_convert(tz)
    elif pd.api.types.is_datetime64_dtype(col.dtype):
        problems = {i: naive for i in range(len(col))}
        ts = pd.Series(pd.NaT, index=col.index, dtype=f"datetime64[ns, {tz}]")
        return ts, problems
    else:
        values = []
        for i, v in enumerate(col.tolist()):
            if _is_empty(v):
                values.append(pd.NaT)
                continue
            try:
                t = pd.Timestamp(v)
            except (ValueError, TypeError, OverflowError):
                problems[i] = (
                    "cannot be read as a timestamp; write it as ISO 8601 with the "
                    "offset, e.g. 2025-03-01T10:15:00+08:00"
                )
                values.append(pd.NaT)
                continue
            if t is pd.NaT:
                values.append(pd.NaT)
            elif t.tzinfo is None:
                problems[i] = naive
                values.append(pd.NaT)
            else:
                values.append(t.tz_convert(tz))
        ts = pd.Series(pd.DatetimeIndex(values, tz=tz), index=col.index)
    return ts.dt.as_unit("ns"), problems


def validate_readings(
    park: Park,
    frame: pd.DataFrame,
    *,
    today: datetime.datetime | None = None,
) -> tuple[IntervalData | None, ValidationResult]:
    r"""Check meter readings and turn the good ones into interval data in canonical units.

    Parameters
    ----------
    park : Park
        The park definition with the metering points.
    frame : pandas.DataFrame
        One reading per row: ``point`` (point id), ``ts`` (timezone-aware timestamp),
        ``value`` (in the point's unit; the register value for cumulative points) and,
        optionally, ``quality`` (``bad``, ``invalid``, ``unavailable`` and ``error`` mark
        an unusable value).
    today : datetime.datetime, optional
        Readings after this instant are in the future; the default is now. A naive value
        is taken in the park's time zone.

    Returns
    -------
    data : IntervalData or None
        One stream per source stream key (``stream_key(point.source, point.stream)``), on a
        regular index at the smallest ``interval_s`` of the points read, in the stream's
        canonical unit; several points feeding one stream are summed. ``None`` when no
        reading yields an amount.
    result : ValidationResult
        No entries; the quarantined readings, the findings (``gap``, ``rollover``) and the
        number of accepted readings.

    Notes
    -----
    A cumulative register is differenced: the amount between readings at :math:`t_0` and
    :math:`t_1` is :math:`v_1 - v_0`, assigned to the interval containing :math:`t_0`. A
    decrease is a rollover when the point has ``rollover`` :math:`R`,
    :math:`v_0 \ge 0.9 R` and :math:`v_1 \le 0.1 R` (both ends of the wrap plausible); the
    amount is then :math:`R - v_0 + v_1`. Any other decrease is a reset or fault: the
    reading is quarantined (``decreasing``) and differencing restarts from it. Interval
    values land whole in the grid interval containing their timestamp, also when the
    point's own interval is longer than the grid's.
    The amounts are multiplied by one float factor from the point's unit to the stream's
    canonical unit.

    Examples
    --------
    >>> from carbontwin.core import load_park, demo_park_path
    >>> park = load_park(demo_park_path())
    >>> ts = pd.date_range("2025-03-01", periods=3, freq="15min", tz="Asia/Shanghai")
    >>> frame = pd.DataFrame({"point": "P-E06-ELEC", "ts": ts, "value": [10.0, 10.5, 11.25]})
    >>> data, result = validate_readings(park, frame)
    >>> data.streams, data.values.tolist(), data.refs
    (['E06-ELEC'], [[500.0, 750.0]], {'E06-ELEC': 'points:P-E06-ELEC'})
    """
    tz = park.timezone
    result = ValidationResult()
    held: list[tuple[int, QuarantineRecord]] = []
    frame = frame.reset_index(drop=True)
    n = len(frame)

    def record(i: int, rule: str, reason: str, pid: str = "", when: str = "") -> None:
        where = f"{pid} at {when}" if pid and when else pid
        row = {str(c): _plain(v) for c, v in frame.iloc[i].items()}
        held.append(
            (
                i,
                QuarantineRecord(
                    rule=rule,
                    reason=f"{_row_label(i + 1, where)}: {reason}",
                    origin="meter",
                    ref=f"{pid} {when}".strip(),
                    row=row,
                ),
            )
        )

    def finish(data: IntervalData | None) -> tuple[IntervalData | None, ValidationResult]:
        held.sort(key=lambda item: item[0])
        result.quarantine = [q for _, q in held]
        return data, result

    missing = [c for c in ("point", "ts", "value") if c not in frame.columns]
    if missing:
        reason = (
            f"column {', '.join(missing)} is missing; readings need the columns point, ts and value"
        )
        for i in range(n):
            record(i, "missing_field", reason)
        return finish(None)
    if n == 0:
        return finish(None)

    points = [_text(p) for p in frame["point"].tolist()]
    ts, ts_problems = _timestamps(frame["ts"], tz)
    ts_ns = pd.DatetimeIndex(ts).asi8  # UTC nanoseconds; NaT is the minimum int64
    nat = ts.isna().to_numpy()

    def when_of(i: int) -> str:
        return ts.iat[i].isoformat() if not nat[i] else _text(frame["ts"].iat[i])

    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
    now = pd.Timestamp(today) if today is not None else pd.Timestamp.now(tz=tz)
    if now.tzinfo is None:
        now = now.tz_localize(tz)
    now_ns = now.tz_convert("UTC").as_unit("ns").value

    # Point, time and value checks, in this order; each reading stops at its first failure.
    ok = np.ones(n, dtype=bool)
    cache: dict[str, _PointInfo | tuple[str, str]] = {}
    info_of: dict[str, _PointInfo] = {}
    rejected: dict[str, tuple[str, str]] = {
        "": ("missing_field", "point is empty; name the metering point")
    }
    pts = np.asarray(points, dtype=object)
    for pid in pd.unique(pts):
        info = _resolve_point(park, pid, cache) if pid else rejected[""]
        if isinstance(info, _PointInfo):
            info_of[pid] = info
        else:
            rejected[pid] = info
    for i in np.flatnonzero(~pd.Series(pts).isin(list(info_of)).to_numpy()):
        rule, reason = rejected[points[i]]
        record(i, rule, reason, points[i], when_of(i))
        ok[i] = False
    for i in sorted(ts_problems):
        if ok[i]:
            record(i, "bad_time", f"ts {when_of(i)!r} {ts_problems[i]}", points[i], when_of(i))
            ok[i] = False
    for i in np.flatnonzero(ok & nat):
        record(i, "missing_field", "ts is empty; give the reading's timestamp", points[i])
        ok[i] = False
    for i in np.flatnonzero(ok & (ts_ns > now_ns)):
        record(
            i,
            "bad_time",
            f"ts {when_of(i)} is in the future (now is {now.isoformat()}); check the meter's clock",
            points[i],
            when_of(i),
        )
        ok[i] = False
    for i in np.flatnonzero(ok & ~np.isfinite(values)):
        raw = _text(frame.at[i, "value"])
        record(
            i,
            "bad_value",
            f"value {raw!r} is not a finite number; the reading cannot be "
            "used — check the meter or the export",
            points[i],
            when_of(i),
        )
        ok[i] = False
    if "quality" in frame.columns:
        quality = frame["quality"].astype(str).str.strip().str.lower()
        flags = quality.isin(list(_BAD_READING_QUALITY)).to_numpy()
        for i in np.flatnonzero(ok & flags):
            q = _text(frame.at[i, "quality"])
            record(
                i,
                "bad_value",
                f"the meter flagged the value {_fmt(values[i])} as {q!r}; it cannot be used",
                points[i],
                when_of(i),
            )
            ok[i] = False

    # Duplicates and conflicts among the readings still good.
    idx = np.flatnonzero(ok)
    if len(idx):
        sub = pd.DataFrame({"point": pts[idx], "ts": ts_ns[idx], "value": values[idx]}, index=idx)
        conflict = sub.groupby(["point", "ts"])["value"].transform("nunique").to_numpy() > 1
        dup = sub.duplicated(["point", "ts", "value"], keep="first").to_numpy() & ~conflict
        clashes = sub[conflict].groupby(["point", "ts"])["value"].agg(list).to_dict()
        for i in idx[conflict]:
            vals = ", ".join(_fmt(v) for v in clashes[points[i], ts_ns[i]])
            record(
                i,
                "conflict",
                f"point {points[i]} has different values ({vals}) at "
                f"{when_of(i)}; all of them are held back until the right one is confirmed",
                points[i],
                when_of(i),
            )
        for i in idx[dup]:
            record(
                i,
                "duplicate",
                f"value {_fmt(values[i])} at {when_of(i)} repeats an "
                "earlier reading of the same point; the copy was not added",
                points[i],
                when_of(i),
            )
        ok[idx[conflict | dup]] = False

    # Per point: sign and range of interval amounts, differencing of registers.
    good = np.flatnonzero(ok)
    codes, names = pd.factorize(pts[good])
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    by_point = {str(pid): good[order[bounds[c] : bounds[c + 1]]] for c, pid in enumerate(names)}
    parts: list[tuple[str, np.ndarray, np.ndarray]] = []  # (stream key, ts ns, amount)
    landed: dict[str, set[str]] = defaultdict(set)
    intervals: list[int] = []
    for pid, members in by_point.items():
        info = info_of[pid]
        p = info.point
        rows = np.asarray(members, dtype=np.intp)
        rows = rows[np.argsort(ts_ns[rows], kind="stable")]
        v = values[rows]
        t = ts_ns[rows]
        if p.kind == "interval":
            neg = v < 0
            low = ~neg & (v < p.min_value) if p.min_value is not None else np.zeros_like(neg)
            high = (
                ~neg & ~low & (v > p.max_value) if p.max_value is not None else np.zeros_like(neg)
            )
            for i in rows[neg]:
                record(
                    i,
                    "negative",
                    f"value {_fmt(values[i])} {p.unit} is negative; an "
                    "interval amount is never negative — check the meter's sign",
                    pid,
                    when_of(i),
                )
            for i in rows[low]:
                record(
                    i,
                    "range",
                    f"value {_fmt(values[i])} {p.unit} is below the lowest "
                    f"plausible value {_fmt(p.min_value)} {p.unit} of point {pid}; check the "
                    "meter or lower min_value in the park definition",
                    pid,
                    when_of(i),
                )
            for i in rows[high]:
                record(
                    i,
                    "range",
                    f"value {_fmt(values[i])} {p.unit} is above the highest "
                    f"plausible value {_fmt(p.max_value)} {p.unit} of point {pid}; check the "
                    "meter scaling or raise max_value in the park definition",
                    pid,
                    when_of(i),
                )
            keep = ~(neg | low | high)
            parts.append((info.key, t[keep], v[keep] * info.factor))
            sequence = t[keep]
            lands = bool(keep.any())
        else:
            amount = np.diff(v)
            keep = np.ones(len(rows), dtype=bool)  # readings kept
            use = np.ones(len(amount), dtype=bool)  # amounts kept (amount[j] at t[j])
            band = _ROLLOVER_BAND_FRAC * p.rollover if p.rollover is not None else -1.0
            for j in np.flatnonzero(amount < 0) + 1:
                v0, v1 = v[j - 1], v[j]
                i, i0 = rows[j], rows[j - 1]
                if p.rollover is not None and v0 >= p.rollover - band and v1 <= band:
                    amount[j - 1] = p.rollover - v0 + v1
                    note = (
                        f"point {pid} rolled over at {_fmt(p.rollover)} {p.unit} between "
                        f"{when_of(i0)} ({_fmt(v0)}) and {when_of(i)} ({_fmt(v1)}); the "
                        f"amount {_fmt(amount[j - 1])} {p.unit} across the wrap was kept"
                    )
                    result.findings.append(
                        Finding("rollover", note, source=p.source or "", ref=f"{pid} {when_of(i)}")
                    )
                    continue
                if j + 1 < len(v) and keep[j - 1] and v[j + 1] >= v0:
                    # One low reading between two that agree: it is the bad one.
                    amount[j - 1], use[j] = v[j + 1] - v0, False
                    bad, why = j, f"is below both the previous reading {_fmt(v0)} at {when_of(i0)}"
                    why += f" and the next {_fmt(v[j + 1])} at {when_of(rows[j + 1])}"
                elif (
                    j >= 2
                    and keep[j - 2]
                    and v1 >= v[j - 2]
                    and (j + 1 == len(v) or v[j + 1] >= v1)
                ):
                    # One high reading between two that agree (a spike): it is the bad one.
                    amount[j - 2], use[j - 1] = v1 - v[j - 2], False
                    bad, why = j - 1, f"is above both the previous reading {_fmt(v[j - 2])} at "
                    why += f"{when_of(rows[j - 2])} and the next {_fmt(v1)} at {when_of(i)}"
                else:
                    near = (
                        f" and is not near its rollover {_fmt(p.rollover)}"
                        if p.rollover is not None
                        else " and the point has no rollover"
                    )
                    record(
                        i,
                        "decreasing",
                        f"register value {_fmt(v1)} {p.unit} is below the "
                        f"previous reading {_fmt(v0)} at {when_of(i0)}{near}; the meter was "
                        "reset, replaced or is faulty — the amount since the previous reading "
                        "is unknown (enter it by hand if it is known); differencing restarts "
                        "from this reading",
                        pid,
                        when_of(i),
                    )
                    keep[j], use[j - 1] = False, False
                    continue
                record(
                    rows[bad],
                    "decreasing",
                    f"register value {_fmt(v[bad])} {p.unit} {why}, which agree with each "
                    "other: a single faulty reading; it was left out and the amount between "
                    "its neighbours kept",
                    pid,
                    when_of(rows[bad]),
                )
                keep[bad] = False
            parts.append((info.key, t[:-1][use], amount[use] * info.factor))
            sequence = t
            lands = bool(use.any())
        result.readings += int(keep.sum())
        if not lands:
            continue  # no amount yet: a lone register reading is only a baseline
        landed[info.key].add(pid)
        intervals.append(p.interval_s)
        step = p.interval_s * 1_000_000_000
        for j in np.flatnonzero(np.diff(sequence) > step):
            t0 = pd.Timestamp(sequence[j], tz="UTC").tz_convert(tz)
            t1 = pd.Timestamp(sequence[j + 1], tz="UTC").tz_convert(tz)
            missing_n = max(int((sequence[j + 1] - sequence[j]) // step) - 1, 1)
            what = (
                f"the amount across them was assigned to the interval at {t0.isoformat()}"
                if p.kind == "cumulative"
                else "those intervals count as zero"
            )
            note = (
                f"point {pid} has no readings between {t0.isoformat()} and "
                f"{t1.isoformat()} ({missing_n} interval(s) of {p.interval_s} s); {what}"
            )
            result.findings.append(Finding("gap", note, source=p.source or "", ref=pid))

    if not landed:
        return finish(None)
    interval_s = min(intervals)
    step_ns = interval_s * 1_000_000_000
    streams = sorted(landed)
    row_of = {k: r for r, k in enumerate(streams)}
    kept_parts = [(k, a, b) for k, a, b in parts if k in row_of and len(a)]
    stamps = np.concatenate([a for _, a, _ in kept_parts])
    first = int(stamps.min() - stamps.min() % step_ns)
    last = int(stamps.max() - stamps.max() % step_ns)
    size = (last - first) // step_ns + 1
    index = (
        pd.DatetimeIndex(
            (first + np.arange(size, dtype=np.int64) * step_ns).astype("datetime64[ns]"),
        )
        .tz_localize("UTC")
        .tz_convert(tz)
    )
    data = np.zeros((len(streams), size), dtype=np.float64)
    for k, at, amount in kept_parts:
        pos = (at - first) // step_ns
        np.add.at(data[row_of[k]], pos.astype(np.intp), amount)
    refs = {k: "points:" + ",".join(sorted(landed[k])) for k in streams}
    return finish(IntervalData(index, streams, data, interval_s / 3600.0, refs))
