r"""The integrity chain: what each link's digest covers and how the chain is checked.

Every batch of readings, every batch of activity entries and every stored inventory is
one link of a hash chain, a row of ``integrity_batches``, appended in the same transaction
as the rows it covers. A link holds the ``digest`` of its rows in the canonical form below,
their ``count``, and the ``hash`` of the link itself, which covers the ``hash`` of the link
before (``prev_hash``). Editing a row changes its batch's digest; editing a link changes
its hash; removing or inserting a link breaks the next link's ``prev_hash``. An auditor can
recompute all of it from a dump of the tables with any SHA-256 tool; the Examples below do
it with :mod:`hashlib` and :mod:`struct` only.

Canonical forms
---------------
Text is UTF-8. Strings sort by Unicode code point, which is the order of their UTF-8
bytes (Python's ``sorted``, SQL ``COLLATE "C"``). Canonical JSON is
``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``: floats
as the shortest decimal that reads back to the same binary64 value (``0.1``, ``1e-05``,
``1.5``), dates as ``YYYY-MM-DD``, timestamps as UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.
Everywhere, ``-0.0`` is written as ``0.0`` (SQLite does not keep the sign of zero).

**Link hash** (:func:`link_hash`)
    SHA-256 (hex) of the canonical JSON object of the link's ``id``, ``kind``, ``ref``,
    ``count``, ``digest``, ``prev_hash`` and ``created_at``. The first link's
    ``prev_hash`` is :data:`GENESIS_HASH`, 64 zeros; links are chained in ``id`` order.

**Readings** (``kind = 'readings'``, :func:`readings_digest`)
    The rows of ``readings`` whose ``batch_id`` is the link's id, sorted by
    ``(point_id, ts)``. Two SHA-256 digests are taken over them:

    * ``P`` over one line ``f"{point_id}\t{n}\n"`` per point, ``n`` being how many rows
      of the batch the point has (point ids hold neither tab nor newline);
    * ``R`` over one 24-byte record per row: ``ts`` [ms] and ``quality`` as signed 64-bit
      integers, ``value`` as an IEEE 754 binary64, all big-endian
      (``struct.pack(">qdq", ts, value, quality)``).

    The digest is the hex SHA-256 of the 64 bytes ``P ‖ R`` (the two raw digests). Readings
    written before the chain existed have ``batch_id`` NULL and are counted as unchained.

**Activity entries** (``kind = 'entries'``, :func:`entries_digest`)
    The rows of ``activity_entries`` whose ``batch_id`` is the link's ``ref``, sorted by
    ``id``; each row is the canonical JSON array ``[id, park_id, source, stream, start,
    end, quantity, unit, origin, quality, ref, entered_by]`` followed by ``\n``. The
    digest is the hex SHA-256 of those lines. ``created_at`` (the store's clock) and
    ``batch_id`` (the link's ``ref``) are not in it.

**Inventories** (``kind = 'inventory'``, :func:`inventory_digest`)
    The inventory whose ``id`` is the link's ``ref`` and its lines. The digest is the hex
    SHA-256 of: the canonical JSON object of the inventory's ``id``, ``park_id``,
    ``start``, ``end``, ``as_of``, ``computed_by`` and ``computed_at``, a newline, the
    canonical JSON of its ``document``, a newline, then each line as the canonical JSON
    array ``[kind, month, enterprise, zone, industry, scope, category, gas, carrier, use,
    amount, unit, tco2e, energy_tce]`` followed by ``\n``, these lines sorted (as text).
    ``count`` is the number of lines. ``status`` is left out: it changes when a newer
    inventory of the same park and period supersedes the inventory, and it follows from
    the chain (the inventory with the newest link is ``computed``, the others
    ``superseded``), which the check verifies instead.

What the check cannot see
-------------------------
Someone able to rewrite the database can rewrite every link after the one they changed,
or drop the newest links together with their rows. Keep the head of the chain
(:attr:`IntegrityReport.head_id`, :attr:`IntegrityReport.head_hash`) outside the database
(a signed report, an e-mail to the auditor) and compare it later.

Examples
--------
Recompute a readings digest from the documented form:

>>> import hashlib, struct
>>> rows = [("M1", 900_000, 2.0, 0), ("M1", 0, 1.5, 0), ("M0", 0, -0.0, 3)]
>>> ordered = sorted(rows)
>>> p = hashlib.sha256(b"M0\t1\nM1\t2\n").digest()
>>> r = hashlib.sha256(b"".join(struct.pack(">qdq", t, v + 0.0, q) for _, t, v, q in ordered))
>>> readings_digest(rows) == hashlib.sha256(p + r.digest()).hexdigest()
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from carbontwin.core.errors import ValidationError

__all__ = [
    "DIGEST_MISMATCH",
    "ENTRY_FIELDS",
    "GENESIS_HASH",
    "HASH_MISMATCH",
    "INTEGRITY_KINDS",
    "INVENTORY_FIELDS",
    "LINE_FIELDS",
    "MISSING_LINK",
    "PREV_MISMATCH",
    "STATUS_MISMATCH",
    "BrokenLink",
    "IntegrityReport",
    "KindReport",
    "ReadingsDigest",
    "canonical_json",
    "check_point_ids",
    "entries_digest",
    "inventory_digest",
    "jsonable",
    "link_hash",
    "readings_digest",
    "sorted_readings_digest",
    "utc_text",
]

#: ``prev_hash`` of the first link of a chain (and of the first audit record).
GENESIS_HASH = "0" * 64

#: The kinds of links, in the order reports list them.
INTEGRITY_KINDS: tuple[str, ...] = ("readings", "entries", "inventory")

#: Columns of an activity entry in its digest, in order.
ENTRY_FIELDS: tuple[str, ...] = (
    "id",
    "park_id",
    "source",
    "stream",
    "start",
    "end",
    "quantity",
    "unit",
    "origin",
    "quality",
    "ref",
    "entered_by",
)

#: Columns of an inventory in its digest (besides its document).
INVENTORY_FIELDS: tuple[str, ...] = (
    "id",
    "park_id",
    "start",
    "end",
    "as_of",
    "computed_by",
    "computed_at",
)

#: Columns of an inventory line in its digest, in order.
LINE_FIELDS: tuple[str, ...] = (
    "kind",
    "month",
    "enterprise",
    "zone",
    "industry",
    "scope",
    "category",
    "gas",
    "carrier",
    "use",
    "amount",
    "unit",
    "tco2e",
    "energy_tce",
)

# What a broken link is told by; reports and tests use these texts.
DIGEST_MISMATCH = "digest mismatch: rows changed, added or removed"
HASH_MISMATCH = "hash mismatch: the link itself was edited"
PREV_MISMATCH = "prev_hash does not match the link before: a link was removed or inserted"
MISSING_LINK = "rows name a link that is not in the chain: a link was removed"
STATUS_MISMATCH = (
    "status mismatch: the newest inventory of a park and period must be 'computed' and the "
    "older ones 'superseded'"
)

# One reading in the readings digest: ts, value, quality, big-endian, no padding.
_RECORD = np.dtype([("ts", ">i8"), ("value", ">f8"), ("quality", ">i8")])


# Canonical text ------------------------------------------------------------------------
def canonical_json(value: Any) -> str:
    """Return ``value`` as canonical JSON: sorted keys, no spaces, UTF-8 kept as is.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [0.1, "é", None]})
    '{"a":[0.1,"é",null],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def utc_text(ts: dt.datetime) -> str:
    """Return an aware timestamp as UTC text with microseconds: ``2025-01-01T00:00:00.000000Z``.

    Examples
    --------
    >>> utc_text(dt.datetime(2025, 1, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    '2025-01-01T00:00:00.000000Z'
    """
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _finite_floats(value: Any) -> Any:
    """Replace non-finite floats (JSON has none) by their names, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _finite_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_floats(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def jsonable(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return ``value`` as plain JSON data, exactly as it will be stored and read back.

    Dates become ISO 8601 text, sets sorted lists, non-finite floats their names
    (``'nan'``) and anything else JSON cannot hold its ``str``.

    Examples
    --------
    >>> jsonable({"day": dt.date(2025, 1, 1), "x": float("nan"), 1: {2}})
    {'day': '2025-01-01', 'x': 'nan', '1': [2]}
    """
    text = json.dumps(_finite_floats(dict(value or {})), default=_json_default)
    return _finite_floats(json.loads(text))


def _plain(value: Any) -> Any:
    """Return a column value as it is written in a canonical JSON array."""
    if isinstance(value, float):
        return value + 0.0  # -0.0 as 0.0
    if isinstance(value, dt.datetime):
        return utc_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _line(row: Mapping[str, Any], fields: Sequence[str]) -> str:
    return canonical_json([_plain(row[f]) for f in fields]) + "\n"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Digests -------------------------------------------------------------------------------
def link_hash(fields: Mapping[str, Any]) -> str:
    """Return the SHA-256 hex digest of one link of the chain.

    Parameters
    ----------
    fields : mapping
        The link's ``id``, ``kind``, ``ref``, ``count``, ``digest``, ``prev_hash`` and
        ``created_at`` (an aware datetime).

    Returns
    -------
    str
        64 hexadecimal characters.

    Examples
    --------
    >>> link = dict(id=1, kind="readings", ref="", count=2, digest="ab", prev_hash=GENESIS_HASH,
    ...             created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    >>> text = ('{"count":2,"created_at":"2025-01-01T00:00:00.000000Z","digest":"ab","id":1,'
    ...         '"kind":"readings","prev_hash":"' + GENESIS_HASH + '","ref":""}')
    >>> link_hash(link) == hashlib.sha256(text.encode()).hexdigest()
    True
    """
    payload = {
        "id": int(fields["id"]),
        "kind": fields["kind"],
        "ref": fields["ref"],
        "count": int(fields["count"]),
        "digest": fields["digest"],
        "prev_hash": fields["prev_hash"],
        "created_at": utc_text(fields["created_at"]),
    }
    return _sha256(canonical_json(payload))


def _records(ts: np.ndarray, values: np.ndarray, quality: np.ndarray) -> bytes:
    rec = np.empty(len(ts), dtype=_RECORD)
    rec["ts"] = ts
    rec["value"] = values + 0.0  # -0.0 as 0.0
    rec["quality"] = quality
    return rec.tobytes()


def _points_text(points: Iterable[str], counts: Iterable[int]) -> bytes:
    return "".join([f"{p}\t{n}\n" for p, n in zip(points, counts, strict=True)]).encode("utf-8")


def _final(points: Any, records: Any) -> str:
    return hashlib.sha256(points.digest() + records.digest()).hexdigest()


def check_point_ids(points: Iterable[str]) -> None:
    """Refuse point ids that would make the readings digest ambiguous (tab, newline).

    Raises
    ------
    ValidationError
        Naming the first such point id.
    """
    for p in points:
        if "\t" in p or "\n" in p:
            msg = (
                f"point id {p!r} holds a tab or a newline; name the point without them "
                "(the integrity chain writes one point per line, fields split by tabs)"
            )
            raise ValidationError(msg)


def sorted_readings_digest(
    points: Sequence[str],
    counts: Sequence[int],
    ts: np.ndarray,
    values: np.ndarray,
    quality: np.ndarray,
) -> str:
    """Return the readings digest of rows already in ``(point_id, ts)`` order.

    Parameters
    ----------
    points : sequence of str
        The batch's distinct point ids, in code-point order.
    counts : sequence of int
        How many rows each of ``points`` has.
    ts, values, quality : numpy.ndarray
        The rows' times [ms since 1970-01-01 UTC], values [the point's unit] and quality
        codes, in ``(point_id, ts)`` order.

    Returns
    -------
    str
        The digest, as documented in the module notes.
    """
    p = hashlib.sha256(_points_text(points, counts))
    r = hashlib.sha256(_records(ts, values, quality))
    return _final(p, r)


def readings_digest(rows: Iterable[tuple[str, int, float, int]]) -> str:
    """Return the digest of a batch of readings, rows in any order.

    Parameters
    ----------
    rows : iterable of (point_id, ts, value, quality)
        The batch's readings, each (point, ts) once: ``ts`` [ms since 1970-01-01 UTC],
        ``value`` [the point's unit], ``quality`` an integer code.

    Returns
    -------
    str
        64 hexadecimal characters (see the module notes for the form).

    Examples
    --------
    >>> readings_digest([("M1", 0, 1.5, 0)]) == readings_digest([("M1", 0, 1.5, 0)])
    True
    >>> readings_digest([("M1", 0, 1.5, 0)]) == readings_digest([("M1", 0, 1.25, 0)])
    False
    """
    ordered = sorted((str(p), int(t), float(v), int(q)) for p, t, v, q in rows)
    digest = ReadingsDigest()
    if ordered:
        point_ids, ts, values, quality = zip(*ordered, strict=True)
        texts = np.empty(len(point_ids), dtype=object)
        texts[:] = point_ids
        digest.update(
            texts,
            np.array(ts, dtype=np.int64),
            np.array(values, dtype=np.float64),
            np.array(quality, dtype=np.int64),
        )
    return digest.hexdigest()


class ReadingsDigest:
    """The running digest of one readings batch, fed its rows in ``(point_id, ts)`` order.

    The check streams the readings table in primary-key order and keeps one of these per
    batch: two SHA-256 states and the point of the current run, a few hundred bytes
    whatever the batch's size.

    Examples
    --------
    >>> d = ReadingsDigest()
    >>> d.update(np.array(["M0"], dtype=object), np.array([0]), np.array([-0.0]), np.array([3]))
    True
    >>> d.update(np.array(["M1", "M1"], dtype=object), np.array([0, 900_000]),
    ...          np.array([1.5, 2.0]), np.array([0, 0]))
    True
    >>> d.count, d.hexdigest() == readings_digest([("M1", 0, 1.5, 0), ("M1", 900_000, 2.0, 0),
    ...                                              ("M0", 0, 0.0, 3)])
    (3, True)
    """

    __slots__ = ("_point", "_points", "_records", "_run", "count")

    def __init__(self) -> None:
        self._points = hashlib.sha256()
        self._records = hashlib.sha256()
        self._point: str | None = None
        self._run = 0
        self.count = 0

    def update(
        self, point_ids: np.ndarray, ts: np.ndarray, values: np.ndarray, quality: np.ndarray
    ) -> bool:
        """Add rows that follow the ones added before in ``(point_id, ts)`` order.

        Parameters
        ----------
        point_ids : numpy.ndarray of str (object)
            The rows' points.
        ts, values, quality : numpy.ndarray
            Their times [ms], values [the point's unit] and quality codes.

        Returns
        -------
        bool
            ``False`` (and nothing added) when the points are not in code-point order:
            the rows did not come in the canonical order.
        """
        point_ids = np.asarray(point_ids, dtype=object)
        n = len(point_ids)
        if not n:
            return True
        starts = np.flatnonzero(point_ids[1:] != point_ids[:-1]) + 1
        if self._point is not None and point_ids[0] < self._point:
            return False
        if len(starts) and not np.all(point_ids[starts] > point_ids[starts - 1]):
            return False
        bounds = [0, *starts.tolist(), n]
        lines = []
        for a, b in itertools.pairwise(bounds):
            point = point_ids[a]
            if point == self._point:
                self._run += b - a
                continue
            if self._point is not None:
                lines.append(f"{self._point}\t{self._run}\n")
            self._point, self._run = point, b - a
        if lines:
            self._points.update("".join(lines).encode("utf-8"))
        self._records.update(_records(ts, values, quality))
        self.count += n
        return True

    def hexdigest(self) -> str:
        """Return the digest of the rows added so far."""
        points = self._points.copy()
        if self._point is not None:
            points.update(f"{self._point}\t{self._run}\n".encode())
        return _final(points, self._records)


def entries_digest(rows: Iterable[Mapping[str, Any]]) -> str:
    r"""Return the digest of a batch of activity entries, rows in any order.

    Parameters
    ----------
    rows : iterable of mapping
        The stored entries, each with the columns of :data:`ENTRY_FIELDS` (``start`` and
        ``end`` dates, ``quantity`` [the unit in ``unit``]).

    Returns
    -------
    str
        64 hexadecimal characters (see the module notes for the form).

    Examples
    --------
    >>> row = dict(id="e1", park_id="p", source="S", stream="", start=dt.date(2025, 1, 1),
    ...            end=dt.date(2025, 1, 31), quantity=10.0, unit="t", origin="file",
    ...            quality="measured", ref="", entered_by="alice")
    >>> line = '["e1","p","S","","2025-01-01","2025-01-31",10.0,"t","file","measured","","alice"]'
    >>> entries_digest([row]) == hashlib.sha256((line + "\n").encode()).hexdigest()
    True
    """
    ordered = sorted(rows, key=lambda r: r["id"])
    return _sha256("".join(_line(r, ENTRY_FIELDS) for r in ordered))


def inventory_digest(
    inventory: Mapping[str, Any], document: Any, lines: Iterable[Mapping[str, Any]]
) -> str:
    """Return the digest of a stored inventory and its lines.

    Parameters
    ----------
    inventory : mapping
        The inventory's columns of :data:`INVENTORY_FIELDS` (dates; ``computed_at`` an aware
        datetime).
    document : JSON data
        Its document, as stored.
    lines : iterable of mapping
        Its lines, each with the columns of :data:`LINE_FIELDS`, in any order.

    Returns
    -------
    str
        64 hexadecimal characters (see the module notes for the form).
    """
    head = canonical_json({f: _plain(inventory[f]) for f in INVENTORY_FIELDS})
    body = sorted(_line(r, LINE_FIELDS) for r in lines)
    return _sha256(head + "\n" + canonical_json(document) + "\n" + "".join(body))


# Reports -------------------------------------------------------------------------------
@dataclass(frozen=True)
class BrokenLink:
    """The first place a kind's part of the chain does not hold.

    Attributes
    ----------
    batch_id : int or None
        The link's id (``integrity_batches.id``); ``None`` when rows name a link that
        is gone and only its ``ref`` is known.
    kind : str
        ``readings``, ``entries`` or ``inventory`` (whatever the link says, when edited).
    ref : str
        The link's ``ref``: the entry batch id, the inventory id (empty for readings).
    problem : str
        What is wrong: one of :data:`DIGEST_MISMATCH`, :data:`HASH_MISMATCH`,
        :data:`PREV_MISMATCH`, :data:`MISSING_LINK` or :data:`STATUS_MISMATCH`.
    detail : str
        The figures behind it (rows counted against the link's count ...).
    """

    batch_id: int | None
    kind: str
    ref: str
    problem: str
    detail: str = ""

    def __str__(self) -> str:
        where = f"batch {self.batch_id}" if self.batch_id is not None else "a removed batch"
        ref = f" (ref {self.ref!r})" if self.ref else ""
        extra = f"; {self.detail}" if self.detail else ""
        return f"{where}, {self.kind}{ref}: {self.problem}{extra}"


def _order(broken: BrokenLink) -> tuple[int, int]:
    """Sort key: chain order, links without an id last."""
    return (broken.batch_id is None, broken.batch_id or 0)


@dataclass
class KindReport:
    """What the check found for one kind of link.

    Attributes
    ----------
    kind : str
        ``readings``, ``entries`` or ``inventory``.
    batches : int
        Links of this kind checked.
    rows : int
        Rows covered by those links that were read and digested (inventory lines for
        inventories).
    unchained : int
        Rows no link covers because they were written before the chain existed
        (readings with ``batch_id`` NULL, entries and inventories without a link).
    broken : BrokenLink or None
        The first broken link of this kind in chain order, ``None`` when all hold.
    """

    kind: str
    batches: int = 0
    rows: int = 0
    unchained: int = 0
    broken: BrokenLink | None = None

    def note(self, broken: BrokenLink) -> None:
        """Keep ``broken`` if it comes before the one kept so far."""
        if self.broken is None or _order(broken) < _order(self.broken):
            self.broken = broken


@dataclass
class IntegrityReport:
    """The result of checking the integrity chain and the audit log.

    Attributes
    ----------
    kinds : dict of str to KindReport
        One report per kind checked, in the order of :data:`INTEGRITY_KINDS`.
    links : int
        Links in the chain (all kinds).
    chain : BrokenLink or None
        The first broken link of the whole chain, any kind: also a link of a kind not
        asked for whose hash or ``prev_hash`` is wrong.
    head_id, head_hash : int or None, str
        The newest link and its hash; keep them outside the database to detect later
        rewrites of the whole chain (:data:`GENESIS_HASH` for an empty chain).
    audit_records : int
        Records in the audit log.
    audit_broken : int or None
        The id of the first audit record whose hash chain is broken (see
        :meth:`carbontwin.store.Store.verify_audit`), ``None`` when intact.
    """

    kinds: dict[str, KindReport] = field(default_factory=dict)
    links: int = 0
    chain: BrokenLink | None = None
    head_id: int | None = None
    head_hash: str = GENESIS_HASH
    audit_records: int = 0
    audit_broken: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the chain, every kind checked and the audit log are intact."""
        return (
            self.chain is None
            and self.audit_broken is None
            and all(k.broken is None for k in self.kinds.values())
        )

    def problems(self) -> list[str]:
        """Return one line per problem found, empty when all is intact."""
        seen: list[BrokenLink] = []
        for b in [self.chain, *(k.broken for k in self.kinds.values())]:
            if b is not None and b not in seen:
                seen.append(b)
        out = [str(b) for b in sorted(seen, key=_order)]
        if self.audit_broken is not None:
            out.append(
                f"audit record {self.audit_broken}: its hash or prev_hash does not match; "
                "a record was changed, inserted or removed"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON data (for the API, the CLI and stored audit detail).

        Examples
        --------
        >>> IntegrityReport().to_dict()["ok"]
        True
        """

        def broken(b: BrokenLink | None) -> dict[str, Any] | None:
            if b is None:
                return None
            return {
                "batch_id": b.batch_id,
                "kind": b.kind,
                "ref": b.ref,
                "problem": b.problem,
                "detail": b.detail,
            }

        return {
            "ok": self.ok,
            "links": self.links,
            "head_id": self.head_id,
            "head_hash": self.head_hash,
            "chain": broken(self.chain),
            "kinds": {
                k: {
                    "batches": r.batches,
                    "rows": r.rows,
                    "unchained": r.unchained,
                    "broken": broken(r.broken),
                }
                for k, r in self.kinds.items()
            },
            "audit": {"records": self.audit_records, "broken": self.audit_broken},
            "problems": self.problems(),
        }
