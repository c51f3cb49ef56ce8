"""The store behind one class, :class:`Store`.

It keeps the versioned park registry, activity entries, readings, statistics, factor
overrides, quarantine, stored inventories, the hash-chained audit log and the integrity
chain over readings, entries and inventories.

How a park is kept
------------------
A :class:`~carbontwin.core.park.Park` is split into records, one per ``kind``:

* ``park`` — the park's own fields (everything but the six child lists); its version also
  carries ``members``, the ids of its zones, enterprises, facilities, sources, points and
  assets in list order, so the lists come back in the order they were saved;
* ``zone``, ``enterprise``, ``facility``, ``source``, ``point``, ``asset`` — one record per
  item of the list, keyed by its ``id``, holding ``item.model_dump(mode="json")``.

Each record is versioned: a version is valid from ``valid_from`` to ``valid_to`` inclusive
(``NULL`` for the current one). Saving a park on a date writes a new version of each record
whose JSON differs from its current version (closing the old one the day before), closes
the records the park no longer lists and leaves the others alone. Loading a park on a date
takes the versions valid that day and puts the park back together.

Writers and the audit chain
---------------------------
Every change (a registry save, an entry batch, statistics, overrides, quarantine) runs in
one transaction together with its audit record. Each audit row stores the hash of the row
before it, so appends must not interleave: on SQLite every writing transaction starts with
``BEGIN IMMEDIATE`` (SQLite's one write lock, waited for up to the 5 s busy timeout); on
PostgreSQL it starts with ``LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE``, a lock that
conflicts with itself and with inserts but not with readers. A ``SELECT ... FOR UPDATE`` of
the last row would not do: under READ COMMITTED the second writer, once let through, would
still see the old last row and fork the chain.

The integrity chain
-------------------
Readings, entry batches and inventories are also links of the integrity chain
(:mod:`carbontwin.store.integrity` documents what each link's digest covers,
:mod:`carbontwin.store.chain` how links are appended and checked). Each call of
:meth:`Store.insert_readings` that stores at least one new reading appends one link of kind
``readings`` in the same transaction, and the new readings carry its id in ``batch_id``;
each :meth:`Store.add_entries` appends one of kind ``entries`` and each
:meth:`Store.save_inventory` one of kind ``inventory``. Appends to the chain are serialised
like the audit log's: ``BEGIN IMMEDIATE`` on SQLite, ``LOCK TABLE integrity_batches IN
SHARE ROW EXCLUSIVE MODE`` on PostgreSQL. Readings take only that lock (not the audit
log's): concurrent readings writers now wait for each other, for the few milliseconds of a
batch. :meth:`Store.verify_integrity` checks the whole chain and the audit log.

Examples
--------
>>> store = Store.open("sqlite://")
>>> store.audit("alice", "login", "session:1")
1
>>> store.insert_readings([("M1", 0, 1.5, 0), ("M1", 0, 1.5, 0), ("M1", 900_000, 2.0, 0)])
2
>>> store.readings("M1", 0, 3_600_000)
[(0, 1.5, 0), (900000, 2.0, 0)]
>>> store.verify_audit() is None
True
>>> store.verify_integrity().ok
True
>>> store.close()
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat
from typing import Any, TypeVar

import numpy as np
import sqlalchemy as sa
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.core.park import Park
from carbontwin.core.records import ActivityEntry, FactorOverride, QuarantineRecord, Statistic
from carbontwin.store.accounts import AccountsMixin
from carbontwin.store.alarms import AlarmsMixin
from carbontwin.store.chain import append_link, begin_link, finish_link, verify_chain
from carbontwin.store.db import (
    WRITE_OPTION,
    create_engine_for,
    default_url,
    describe_url,
    is_postgresql,
    migrate,
)
from carbontwin.store.errors import NotFoundError, StoreError
from carbontwin.store.integrity import (
    GENESIS_HASH,
    INTEGRITY_KINDS,
    IntegrityReport,
    canonical_json,
    check_point_ids,
    entries_digest,
    jsonable,
    sorted_readings_digest,
    utc_text,
)
from carbontwin.store.inventories import InventoriesMixin
from carbontwin.store.models import (
    KINDS,
    ActivityEntryRow,
    AuditRow,
    FactorOverrideRow,
    IntegrityBatchRow,
    QuarantineRow,
    ReadingRow,
    RegistryRow,
    StatisticRow,
)
from carbontwin.store.strategies import StrategiesMixin

_M = TypeVar("_M", bound=BaseModel)

__all__ = ["GENESIS_HASH", "Store", "audit_hash"]


class _NothingNew(Exception):
    """Every reading of an insert_readings call was stored already."""


#: Registry kind of each child list of a park, in the order of the Park model.
_CHILD_LISTS: dict[str, str] = {
    "zone": "zones",
    "enterprise": "enterprises",
    "facility": "facilities",
    "source": "sources",
    "point": "points",
    "asset": "assets",
}
_PG_WRITER_LOCK = "LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"
_ONE_DAY = dt.timedelta(days=1)
_SMALLINT = (-32768, 32767)
_SHORT = 16  # length of the short code columns (outcome, origin, quality, applies_to)

Key = tuple[str, str]

# Insert-ignore of readings on (point_id, ts). SQLite: one executemany (its row count sums
# the rows really inserted). PostgreSQL: one INSERT ... SELECT FROM unnest(arrays) per chunk,
# several times faster than row-wise VALUES; the batch id is one parameter for all rows.
_READING_COLUMNS = ("point_id", "ts", "value", "quality", "batch_id")
_READINGS_CHUNK = 50_000
_POINTS_PER_QUERY = 500  # points per IN list when reading a batch back
# The keys of one batch's readings among some points and a time range (no batch index:
# the primary key finds the candidates, the batch id filters them).
_BATCH_KEYS = sa.text(
    f"SELECT point_id, ts FROM {ReadingRow.__tablename__} WHERE point_id IN :points "
    "AND ts >= :lo AND ts <= :hi AND batch_id = :batch_id"
).bindparams(sa.bindparam("points", expanding=True))
_INT64 = (-(2**63), 2**63 - 1)
_SQLITE_INSERT_READINGS_SQL = (
    f"INSERT INTO {ReadingRow.__tablename__} (point_id, ts, value, quality, batch_id) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (point_id, ts) DO NOTHING"
)
_UNNESTED = (
    sa.func.unnest(
        sa.bindparam("point_id", type_=postgresql.ARRAY(sa.String)),
        sa.bindparam("ts", type_=postgresql.ARRAY(sa.BigInteger)),
        sa.bindparam("value", type_=postgresql.ARRAY(sa.Double)),
        sa.bindparam("quality", type_=postgresql.ARRAY(sa.SmallInteger)),
    )
    .table_valued(*_READING_COLUMNS[:4])
    .render_derived()
)
_PG_INSERT_READINGS = (
    postgresql.insert(ReadingRow)
    .from_select(
        list(_READING_COLUMNS),
        sa.select(
            *(_UNNESTED.c[name] for name in _READING_COLUMNS[:4]),
            sa.bindparam("batch_id", type_=sa.Integer),
        ),
    )
    .on_conflict_do_nothing(index_elements=["point_id", "ts"])
    .execution_options(preserve_rowcount=True)
)


# Helpers -------------------------------------------------------------------------------
def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def audit_hash(fields: Mapping[str, Any]) -> str:
    """Return the SHA-256 hex digest that chains one audit row to the one before.

    The digest covers the canonical JSON (sorted keys, no spaces, UTF-8) of the row's
    ``id``, ``ts`` (UTC, ISO 8601 with microseconds and ``Z``), ``actor``, ``action``,
    ``object``, ``detail``, ``outcome``, ``client`` and ``prev_hash``.

    Parameters
    ----------
    fields : mapping
        Those fields; ``ts`` an aware datetime.

    Returns
    -------
    str
        64 hexadecimal characters.

    Examples
    --------
    >>> row = dict(id=1, ts=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), actor="a", action="b",
    ...            object="c", detail={}, outcome="ok", client="", prev_hash=GENESIS_HASH)
    >>> len(audit_hash(row))
    64
    """
    payload = {
        "id": int(fields["id"]),
        "ts": utc_text(fields["ts"]),
        "actor": fields["actor"],
        "action": fields["action"],
        "object": fields["object"],
        "detail": fields["detail"],
        "outcome": fields["outcome"],
        "client": fields["client"],
        "prev_hash": fields["prev_hash"],
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def _audit_fields(row: AuditRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "ts": row.ts,
        "actor": row.actor,
        "action": row.action,
        "object": row.object,
        "detail": row.detail,
        "outcome": row.outcome,
        "client": row.client,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def _split_park(park: Park) -> tuple[dict[Key, dict[str, Any]], dict[str, list[str]]]:
    """Return the park's registry records by (kind, id) and its members by list name."""
    dump = park.model_dump(mode="json")
    own = {k: v for k, v in dump.items() if k not in _CHILD_LISTS.values()}
    records: dict[Key, dict[str, Any]] = {("park", park.id): own}
    members: dict[str, list[str]] = {}
    for kind, attr in _CHILD_LISTS.items():
        ids = [item["id"] for item in dump[attr]]
        dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dupes:
            msg = (
                f"park {park.id!r}: {attr} ids {dupes} are used more than once; give every "
                f"{kind} its own id before saving"
            )
            raise ValidationError(msg)
        members[attr] = ids
        for item in dump[attr]:
            records[(kind, item["id"])] = item
    return records, members


def _check_day(value: object, name: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        msg = f"{name}(={value!r}) must be a date (datetime.date), not {type(value).__name__}"
        raise ValidationError(msg)
    return value


def _check_short(value: str, name: str) -> str:
    if len(value) > _SHORT:
        msg = f"{name}(={value!r}) is longer than {_SHORT} characters; use a short code"
        raise ValidationError(msg)
    return value


def _version_dict(row: RegistryRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "record_id": row.record_id,
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
        "data": row.data,
        "members": row.members,
        "changed_by": row.changed_by,
        "changed_at": row.changed_at,
        "note": row.note,
    }


def _quarantine_dict(row: QuarantineRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "park_id": row.park_id,
        "rule": row.rule,
        "reason": row.reason,
        "origin": row.origin,
        "ref": row.ref,
        "row": row.row,
        "created_at": row.created_at,
        "released_at": row.released_at,
        "released_by": row.released_by,
    }


def _record(model: type[_M], row: object) -> _M:
    """Rebuild a core record from a table row with the same field names."""
    return model.model_validate(
        {name: getattr(row, name) for name in model.model_fields if hasattr(row, name)}
    )


def _entry(row: ActivityEntryRow) -> ActivityEntry:
    return _record(ActivityEntry, row)


def _override(row: FactorOverrideRow) -> FactorOverride:
    return _record(FactorOverride, row)


@dataclass(frozen=True)
class _ReadingBatch:
    """Readings checked for insertion: columns in input order, duplicates dropped."""

    point_ids: list[str]
    ts: list[int]
    values: list[float]
    quality: list[int]
    points: list[str]  # the distinct point ids, sorted
    digest: str  # of all the rows, as if all are new
    # The rows in (point, ts) order: point as an index into ``points``, ts, value, quality.
    sorted_columns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

    def digest_of(self, stored: set[tuple[str, int]]) -> str:
        """Return the digest of the rows whose (point, ts) is in ``stored``."""
        c, t, v, q = self.sorted_columns
        points = self.points
        mask = np.fromiter(
            ((points[i], k) in stored for i, k in zip(c.tolist(), t.tolist(), strict=True)),
            dtype=bool,
            count=len(c),
        )
        counts = np.bincount(c[mask], minlength=len(points)).tolist()
        held = [(p, n) for p, n in zip(points, counts, strict=True) if n]
        return sorted_readings_digest(
            [p for p, _ in held], [n for _, n in held], t[mask], v[mask], q[mask]
        )


def _prepare_readings(rows: Sequence[tuple[str, int, float, int]]) -> _ReadingBatch:
    """Check readings, drop repeated (point, time) keeping the first, digest them.

    Vectorised: this is the hot path of live ingestion.
    """
    point_ids, times, values, qualities = (list(c) for c in zip(*rows, strict=True))
    if not all(type(p) is str for p in point_ids):
        point_ids = [str(p) for p in point_ids]

    def where(i: int) -> str:
        return f"point {point_ids[i]!r} at ts={times[i]}"

    try:
        t = np.array(times, dtype=np.int64)
    except (OverflowError, TypeError, ValueError):
        i = next(k for k, x in enumerate(times) if not _is_int64(x))
        msg = (
            f"ts(={times[i]!r}) of point {point_ids[i]!r} must be an integer that fits 64 "
            "bits [ms since 1970-01-01 UTC]"
        )
        raise ValidationError(msg) from None
    try:
        v = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        v = np.array([x if isinstance(x, int | float) else math.nan for x in values])
    try:
        q = np.array(qualities, dtype=np.int64)
    except (OverflowError, TypeError, ValueError):
        out = _SMALLINT[1] + 1  # marks what is no 64-bit integer as out of range
        q = np.array([int(x) if _is_int64(x) else out for x in qualities], dtype=np.int64)
    bad_v = np.flatnonzero(~np.isfinite(v))
    if len(bad_v):
        i = int(bad_v[0])
        msg = (
            f"value(={values[i]}) of {where(i)} must be a finite number; quarantine the "
            "reading instead"
        )
        raise ValidationError(msg)
    bad_q = np.flatnonzero((q < _SMALLINT[0]) | (q > _SMALLINT[1]))
    if len(bad_q):
        i = int(bad_q[0])
        msg = (
            f"quality(={qualities[i]}) of {where(i)} must be an integer between "
            f"{_SMALLINT[0]} and {_SMALLINT[1]}"
        )
        raise ValidationError(msg)
    points = sorted(set(point_ids))
    check_point_ids(points)
    code = {p: k for k, p in enumerate(points)}
    c = np.fromiter(map(code.__getitem__, point_ids), dtype=np.int64, count=len(point_ids))
    order = np.lexsort((t, c))  # stable: of repeated keys, the first in ``rows`` comes first
    cs, ts_sorted = c[order], t[order]
    repeated = (cs[1:] == cs[:-1]) & (ts_sorted[1:] == ts_sorted[:-1])
    if repeated.any():
        keep = np.sort(order[np.concatenate(([True], ~repeated))])
        point_ids = [point_ids[k] for k in keep.tolist()]
        t, v, q, c = t[keep], v[keep], q[keep], c[keep]
        order = np.lexsort((t, c))
    counts = np.bincount(c, minlength=len(points)).tolist()
    ordered = (c[order], t[order], v[order], q[order])
    digest = sorted_readings_digest(points, counts, *ordered[1:])
    return _ReadingBatch(point_ids, t.tolist(), v.tolist(), q.tolist(), points, digest, ordered)


def _is_int64(value: object) -> bool:
    try:
        return _INT64[0] <= int(value) <= _INT64[1]  # type: ignore[call-overload]
    except (OverflowError, TypeError, ValueError):
        return False


class Store(AccountsMixin, AlarmsMixin, InventoriesMixin, StrategiesMixin):
    """The platform's storage: one database, SQLite or PostgreSQL.

    Open it with :meth:`Store.open`, which migrates the schema; close it with
    :meth:`close` (or use it as a context manager). A store is safe to share between
    threads: every method runs in its own session and transaction.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        An engine made by :func:`carbontwin.store.create_engine_for` whose database has
        been migrated; most callers use :meth:`Store.open` instead.

    Examples
    --------
    >>> with Store.open("sqlite://") as store:
    ...     store.audit_log()
    []
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgres = is_postgresql(engine)
        self._reader = sessionmaker(engine, expire_on_commit=False)
        self._writer = sessionmaker(
            engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )

    # Opening and closing ---------------------------------------------------------------
    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Open the store at ``url`` and bring its schema up to date.

        Parameters
        ----------
        url : str, optional
            ``sqlite:///<file>`` or ``postgresql+psycopg://...``; by default
            :func:`carbontwin.store.default_url` (a SQLite file in the carbontwin home).

        Returns
        -------
        Store
            The open store.

        Raises
        ------
        ValidationError
            If the URL is not one the store supports.
        StoreError
            If the database cannot be reached or migrated.
        """
        engine = create_engine_for(url or default_url())
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return describe_url(self._engine.url)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for the store's own tests and tools)."""
        return self._engine

    def close(self) -> None:
        """Close all connections of the store; it cannot be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # Sessions and errors ---------------------------------------------------------------
    @contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        try:
            yield
        except IntegrityError as exc:
            msg = (
                f"{what} was refused by the database ({exc.orig}); a row with the same key "
                "is stored already, or a required value is missing"
            )
            raise ConsistencyError(msg) from exc
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip()
            low = reason.lower()
            if "locked" in low or "busy" in low:
                fix = (
                    "another writer held the database for more than 5 s; retry, and look "
                    "for a process that keeps a transaction open"
                )
            elif "no such table" in low or "does not exist" in low:
                fix = "the schema is missing; open the store with Store.open, which migrates"
            else:
                fix = f"check that the database at {self.url} is reachable and writable"
            msg = f"{what} failed ({reason}); {fix}"
            raise StoreError(msg) from exc

    @contextmanager
    def _reading(self, what: str) -> Iterator[Session]:
        with self._translate(what), self._reader() as session:
            yield session

    @contextmanager
    def _writing(self, what: str, *, lock: bool = True) -> Iterator[Session]:
        with self._translate(what), self._writer() as session, session.begin():
            if lock and self._postgres:
                session.execute(sa.text(_PG_WRITER_LOCK))
            yield session

    def _append_audit(
        self,
        session: Session,
        actor: str,
        action: str,
        object: str,
        detail: Mapping[str, Any] | None = None,
        outcome: str = "ok",
        client: str = "",
    ) -> int:
        """Append one audit row in ``session``'s transaction (which holds the writer lock)."""
        last = session.scalar(sa.select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1))
        row = AuditRow(
            ts=_now(),
            actor=actor,
            action=action,
            object=object,
            detail=jsonable(detail),
            outcome=outcome,
            client=client,
            prev_hash=last or GENESIS_HASH,
            hash="",
        )
        session.add(row)
        session.flush()
        row.hash = audit_hash(_audit_fields(row))
        session.flush()
        return row.id

    # Registry --------------------------------------------------------------------------
    def save_park(
        self, park: Park, valid_from: dt.date, changed_by: str = "", note: str = ""
    ) -> int:
        """Save ``park`` as valid from ``valid_from``, versioning what changed.

        Each record (see the module notes) whose JSON differs from its current version
        gets a new version from ``valid_from``; the current one is closed on
        ``valid_from - 1 day``. Records the park no longer lists are closed the same way
        (retired). Unchanged records are left alone. Saving again on the same date
        corrects that date's versions in place (a record added and removed on the same
        date leaves no version). One audit record (``registry.save``) lists what was
        created, changed and retired.

        Parameters
        ----------
        park : Park
            The whole park as it is from ``valid_from`` on.
        valid_from : datetime.date
            First day the new versions hold; not before the latest date already saved.
        changed_by : str, optional
            Who made the change (also the audit actor; ``"system"`` when empty).
        note : str, optional
            Why, for the history.

        Returns
        -------
        int
            How many records changed: versions written plus records retired.

        Raises
        ------
        ValidationError
            If two items of one list share an id, or ``valid_from`` is not a date.
        ConsistencyError
            If ``valid_from`` is before a date this park was already saved on.
        """
        valid_from = _check_day(valid_from, "valid_from")
        records, members = _split_park(park)
        closed_on = valid_from - _ONE_DAY
        now = _now()
        created: list[str] = []
        changed: list[str] = []
        retired: list[str] = []
        inserts: list[dict[str, Any]] = []
        with self._writing(f"saving park {park.id!r}") as session:
            of_park = RegistryRow.park_id == park.id
            first_from, last_from, last_to = session.execute(
                sa.select(
                    sa.func.min(RegistryRow.valid_from),
                    sa.func.max(RegistryRow.valid_from),
                    sa.func.max(RegistryRow.valid_to),
                ).where(of_park)
            ).one()
            if first_from is not None:
                latest = max(last_from, (last_to + _ONE_DAY) if last_to else last_from)
                if valid_from < latest:
                    msg = (
                        f"park {park.id!r} cannot be saved as valid from {valid_from}: it has "
                        f"versions from {latest}; save changes in date order (on or after "
                        f"{latest})"
                    )
                    raise ConsistencyError(msg)
            current = {
                (r.kind, r.record_id): r
                for r in session.scalars(
                    sa.select(RegistryRow).where(of_park, RegistryRow.valid_to.is_(None))
                )
            }
            for key, data in records.items():
                mem = members if key[0] == "park" else None
                cur = current.get(key)
                if (
                    cur is not None
                    and canonical_json(cur.data) == canonical_json(data)
                    and canonical_json(cur.members) == canonical_json(mem)
                ):
                    continue
                (changed if cur is not None else created).append(f"{key[0]}:{key[1]}")
                if cur is None or cur.valid_from < valid_from:
                    if cur is not None:
                        cur.valid_to = closed_on
                    inserts.append(
                        {
                            "park_id": park.id,
                            "kind": key[0],
                            "record_id": key[1],
                            "valid_from": valid_from,
                            "valid_to": None,
                            "data": data,
                            "members": mem,
                            "changed_by": changed_by,
                            "changed_at": now,
                            "note": note,
                        }
                    )
                else:  # a correction of a version saved on the same day
                    cur.data = data
                    cur.members = mem
                    cur.changed_by = changed_by
                    cur.changed_at = now
                    cur.note = note
            for key, cur in current.items():
                if key not in records:
                    retired.append(f"{key[0]}:{key[1]}")
                    if cur.valid_from < valid_from:
                        cur.valid_to = closed_on
                    else:  # added and removed on the same day: it never held
                        session.delete(cur)
            if inserts:
                session.execute(sa.insert(RegistryRow), inserts)
            written = len(created) + len(changed) + len(retired)
            self._append_audit(
                session,
                actor=changed_by or "system",
                action="registry.save",
                object=f"park:{park.id}",
                detail={
                    "valid_from": valid_from.isoformat(),
                    "written": written,
                    "created": created,
                    "changed": changed,
                    "retired": retired,
                    "note": note,
                },
            )
        return written

    def load_park(self, park_id: str, as_of: dt.date) -> Park:
        """Rebuild the park as it was on ``as_of`` from the versions valid that day.

        Parameters
        ----------
        park_id : str
            The park's id.
        as_of : datetime.date
            The day: versions with ``valid_from <= as_of`` and ``valid_to`` empty or
            ``>= as_of`` are used.

        Returns
        -------
        Park
            The park, its lists in the order they were saved.

        Raises
        ------
        NotFoundError
            If the park is not stored, or has no version on ``as_of``.
        ConsistencyError
            If the stored versions do not fit together or no longer validate.
        """
        as_of = _check_day(as_of, "as_of")
        of_park = RegistryRow.park_id == park_id
        first: dt.date | None = None
        with self._reading(f"loading park {park_id!r}") as session:
            rows = session.scalars(
                sa.select(RegistryRow).where(
                    of_park,
                    RegistryRow.valid_from <= as_of,
                    sa.or_(RegistryRow.valid_to.is_(None), RegistryRow.valid_to >= as_of),
                )
            ).all()
            heads = [r for r in rows if r.kind == "park"]
            if not heads:
                first = session.scalar(
                    sa.select(sa.func.min(RegistryRow.valid_from)).where(
                        of_park, RegistryRow.kind == "park"
                    )
                )
        if not heads:
            if first is None:
                msg = f"park {park_id!r} is not in the store; save it first with save_park"
            else:
                msg = (
                    f"park {park_id!r} has no version on {as_of}: its first version starts "
                    f"on {first}; ask for a date on or after it"
                )
            raise NotFoundError(msg)
        head = heads[0]
        children = {(r.kind, r.record_id): r.data for r in rows if r.kind != "park"}
        body = dict(head.data)
        listed = head.members or {}
        for kind, attr in _CHILD_LISTS.items():
            ids = listed.get(attr, [])
            missing = [i for i in ids if (kind, i) not in children]
            if missing:
                msg = (
                    f"park {park_id!r} on {as_of} lists {attr} {missing} but has no version "
                    "of them valid that day; the registry was edited outside the store, "
                    "save the park again to repair it"
                )
                raise ConsistencyError(msg)
            body[attr] = [children.pop((kind, i)) for i in ids]
        if children:
            extra = sorted(f"{k}:{i}" for k, i in children)
            msg = (
                f"park {park_id!r} on {as_of} has versions of {extra} that the park does not "
                "list; the registry was edited outside the store, save the park again to "
                "repair it"
            )
            raise ConsistencyError(msg)
        try:
            return Park.model_validate(body)
        except PydanticValidationError as exc:
            msg = (
                f"the stored version of park {park_id!r} valid on {as_of} does not validate "
                f"any more ({exc.error_count()} problems, first: {exc.errors()[0]['msg']}); "
                "load it with the carbontwin version that saved it and migrate the data"
            )
            raise ConsistencyError(msg) from exc

    def history(self, park_id: str, kind: str, record_id: str) -> list[dict[str, Any]]:
        """Return every version of one registry record, oldest first.

        Parameters
        ----------
        park_id : str
            The park's id.
        kind : str
            One of ``park``, ``zone``, ``enterprise``, ``facility``, ``source``, ``point``,
            ``asset``.
        record_id : str
            The record's id (the park's id for ``kind="park"``).

        Returns
        -------
        list of dict
            ``id``, ``kind``, ``record_id``, ``valid_from``, ``valid_to`` (``None`` for
            the current version), ``data``, ``members`` (park versions only),
            ``changed_by``, ``changed_at`` (aware UTC) and ``note``; empty when the
            record was never stored.

        Raises
        ------
        ValidationError
            If ``kind`` is not a registry kind.
        """
        if kind not in KINDS:
            msg = f"kind {kind!r} is not a registry kind; use one of {', '.join(KINDS)}"
            raise ValidationError(msg)
        with self._reading(f"reading the history of {kind} {record_id!r}") as session:
            rows = session.scalars(
                sa.select(RegistryRow)
                .where(
                    RegistryRow.park_id == park_id,
                    RegistryRow.kind == kind,
                    RegistryRow.record_id == record_id,
                )
                .order_by(RegistryRow.valid_from, RegistryRow.id)
            ).all()
        return [_version_dict(r) for r in rows]

    def parks(self) -> list[str]:
        """Return the ids of the stored parks, sorted.

        Examples
        --------
        >>> with Store.open("sqlite://") as store:
        ...     store.parks()
        []
        """
        query = (
            sa.select(RegistryRow.record_id)
            .where(RegistryRow.kind == "park")
            .distinct()
            .order_by(RegistryRow.record_id)
        )
        with self._reading("listing the stored parks") as session:
            return list(session.scalars(query))

    # Activity entries ------------------------------------------------------------------
    def add_entries(
        self,
        park_id: str,
        entries: Sequence[ActivityEntry],
        batch_id: str | None = None,
        *,
        actor: str = "",
    ) -> list[str]:
        """Store a batch of activity entries and audit it (``entries.add``).

        Parameters
        ----------
        park_id : str
            The park the entries belong to.
        entries : sequence of ActivityEntry
            Validated entries, quantities in the canonical unit of their source.
            Entries without ``id`` get a new UUID.
        batch_id : str, optional
            The batch's id (a file name, an import run), used once; a new UUID by default.
        actor : str, optional
            Who adds them, for the audit log; by default the entries' ``entered_by``.

        Returns
        -------
        list of str
            The ids of the entries, in input order.

        Raises
        ------
        ValidationError
            If a quantity is not finite or two entries share an id.
        ConsistencyError
            If an entry id, or the batch id, is stored already.

        Notes
        -----
        The batch is one link of the integrity chain, of kind ``entries`` with ``ref`` the
        batch id, appended in the same transaction (its digest is described in
        :mod:`carbontwin.store.integrity`); the audit record names the link
        (``integrity_batch``).
        """
        if not entries:
            return []
        batch = batch_id or str(uuid.uuid4())
        now = _now()
        rows: list[dict[str, Any]] = []
        for e in entries:
            if not math.isfinite(e.quantity):
                msg = (
                    f"quantity(={e.quantity}) of the entry for source {e.source!r} "
                    f"({e.start} to {e.end}) must be a finite number; quarantine the row "
                    "instead"
                )
                raise ValidationError(msg)
            rows.append(
                {
                    "id": e.id or str(uuid.uuid4()),
                    "park_id": park_id,
                    "source": e.source,
                    "stream": e.stream,
                    "start": e.start,
                    "end": e.end,
                    "quantity": float(e.quantity),
                    "unit": e.unit,
                    "origin": e.origin,
                    "quality": e.quality,
                    "ref": e.ref,
                    "entered_by": e.entered_by,
                    "batch_id": batch,
                    "created_at": now,
                }
            )
        ids = [r["id"] for r in rows]
        dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dupes:
            msg = f"entry ids {dupes} occur more than once in the batch; give each its own id"
            raise ValidationError(msg)
        who = actor or ",".join(sorted({e.entered_by for e in entries if e.entered_by}))
        digest = entries_digest(rows)
        with self._writing(f"adding {len(rows)} entries to park {park_id!r}") as session:
            conn = session.connection()
            used = (
                conn.execute(
                    sa.select(ActivityEntryRow.id)
                    .where(ActivityEntryRow.batch_id == batch)
                    .limit(1)
                ).first()
                or conn.execute(
                    sa.select(IntegrityBatchRow.id)
                    .where(IntegrityBatchRow.kind == "entries", IntegrityBatchRow.ref == batch)
                    .limit(1)
                ).first()
            )
            if used:
                msg = (
                    f"entry batch {batch!r} is stored already; give this batch its own id "
                    "(a new file name or import run), or leave batch_id out for a new UUID"
                )
                raise ConsistencyError(msg)
            session.execute(sa.insert(ActivityEntryRow), rows)
            link = append_link(conn, "entries", batch, len(rows), digest, postgres=self._postgres)
            self._append_audit(
                session,
                actor=who or "system",
                action="entries.add",
                object=f"park:{park_id}",
                detail={
                    "batch_id": batch,
                    "count": len(rows),
                    "sources": sorted({e.source for e in entries}),
                    "start": min(e.start for e in entries).isoformat(),
                    "end": max(e.end for e in entries).isoformat(),
                    "integrity_batch": link,
                },
            )
        return ids

    def entries(
        self,
        park_id: str,
        start: dt.date,
        end: dt.date,
        sources: Sequence[str] | None = None,
    ) -> list[ActivityEntry]:
        """Return the entries of a park that overlap the days ``start`` to ``end``.

        Parameters
        ----------
        park_id : str
            The park.
        start, end : datetime.date
            First and last day, inclusive; an entry overlaps when ``entry.start <= end``
            and ``entry.end >= start``.
        sources : sequence of str, optional
            Only these sources (all by default).

        Returns
        -------
        list of ActivityEntry
            Sorted by start, end, source, stream and id.
        """
        start, end = _check_day(start, "start"), _check_day(end, "end")
        if sources is not None and not sources:
            return []
        query = sa.select(ActivityEntryRow).where(
            ActivityEntryRow.park_id == park_id,
            ActivityEntryRow.start <= end,
            ActivityEntryRow.end >= start,
        )
        if sources is not None:
            query = query.where(ActivityEntryRow.source.in_(list(sources)))
        query = query.order_by(
            ActivityEntryRow.start,
            ActivityEntryRow.end,
            ActivityEntryRow.source,
            ActivityEntryRow.stream,
            ActivityEntryRow.id,
        )
        with self._reading(f"reading entries of park {park_id!r}") as session:
            return [_entry(r) for r in session.scalars(query)]

    # Readings --------------------------------------------------------------------------
    def insert_readings(self, rows: Sequence[tuple[str, int, float, int]], *, ref: str = "") -> int:
        """Insert readings, ignoring those whose (point, time) is stored already.

        The readings that are new form one batch of the integrity chain: one link of kind
        ``readings``, appended in the same transaction, whose id the new readings carry in
        ``batch_id`` (a call that stores nothing new appends nothing).

        Parameters
        ----------
        rows : sequence of (point_id, ts, value, quality)
            ``ts`` [ms since 1970-01-01 UTC], ``value`` [the point's unit], ``quality``
            an integer code (-32768 to 32767).
        ref : str, optional
            Where the readings come from (``ingest:<park>``, ``simulate:<park>``, a file),
            kept as the link's ``ref``.

        Returns
        -------
        int
            How many readings were new; duplicates, within ``rows`` or with stored
            readings, are not counted.

        Raises
        ------
        ValidationError
            If a value is not finite, a quality is out of range, a time does not fit 64
            bits or a point id holds a tab or a newline.

        Notes
        -----
        The link's digest covers exactly the readings stored with its id. When every
        reading of the call is new (the usual case), it is computed from ``rows`` as they
        are; otherwise from those of ``rows`` whose (point, time) the database now holds
        under the link's id (read back by key within the call's points and times).
        """
        if not rows:
            return 0
        batch = _prepare_readings(rows)
        n = len(batch.point_ids)
        try:
            with self._writing(f"inserting {n} readings", lock=False) as session:
                conn = session.connection()
                link = begin_link(conn, "readings", ref, postgres=self._postgres)
                new = 0
                for i in range(0, n, _READINGS_CHUNK):
                    j = i + _READINGS_CHUNK
                    new += self._insert_reading_rows(
                        conn,
                        batch.point_ids[i:j],
                        batch.ts[i:j],
                        batch.values[i:j],
                        batch.quality[i:j],
                        link.id,
                    )
                if not new:
                    raise _NothingNew
                digest = batch.digest
                if new != n:  # some were stored already: digest what this batch holds
                    digest = batch.digest_of(self._batch_keys(conn, link.id, batch))
                finish_link(conn, link, new, digest)
        except _NothingNew:
            return 0
        return new

    def _insert_reading_rows(
        self,
        conn: Connection,
        point_ids: Sequence[str],
        times: Sequence[int],
        values: Sequence[float],
        qualities: Sequence[int],
        batch_id: int,
    ) -> int:
        """Insert-ignore one chunk of readings; return how many were new."""
        if self._postgres:
            result = conn.execute(
                _PG_INSERT_READINGS,
                {
                    "point_id": list(point_ids),
                    "ts": list(times),
                    "value": list(values),
                    "quality": list(qualities),
                    "batch_id": batch_id,
                },
            )
        else:
            # Plain DB-API executemany: the hot path of live ingestion, without per-row
            # parameter processing.
            result = conn.execution_options(preserve_rowcount=True).exec_driver_sql(
                _SQLITE_INSERT_READINGS_SQL,
                list(zip(point_ids, times, values, qualities, repeat(batch_id), strict=False)),
            )
        return int(result.rowcount)

    def _batch_keys(
        self, conn: Connection, batch_id: int, batch: _ReadingBatch
    ) -> set[tuple[str, int]]:
        """Return the (point, ts) of the readings stored with ``batch_id`` among ``batch``."""
        lo, hi = min(batch.ts), max(batch.ts)
        keys: set[tuple[str, int]] = set()
        for i in range(0, len(batch.points), _POINTS_PER_QUERY):
            found = conn.execute(
                _BATCH_KEYS,
                {
                    "batch_id": batch_id,
                    "points": batch.points[i : i + _POINTS_PER_QUERY],
                    "lo": lo,
                    "hi": hi,
                },
            )
            keys.update(tuple(r) for r in found.all())
        return keys

    def readings(self, point_id: str, start_ms: int, end_ms: int) -> list[tuple[int, float, int]]:
        """Return the readings of a point with ``start_ms <= ts < end_ms``, oldest first.

        Parameters
        ----------
        point_id : str
            The metering point.
        start_ms, end_ms : int
            The time range [ms since 1970-01-01 UTC], end excluded.

        Returns
        -------
        list of (ts, value, quality)
        """
        query = (
            sa.select(ReadingRow.ts, ReadingRow.value, ReadingRow.quality)
            .where(
                ReadingRow.point_id == point_id,
                ReadingRow.ts >= start_ms,
                ReadingRow.ts < end_ms,
            )
            .order_by(ReadingRow.ts)
        )
        with self._reading(f"reading point {point_id!r}") as session:
            return [(int(t), float(v), int(q)) for t, v, q in session.execute(query)]

    # Statistics ------------------------------------------------------------------------
    def add_statistics(
        self, park_id: str, stats: Sequence[Statistic], *, actor: str = "system"
    ) -> int:
        """Store statistics of a park (value added, output, floor area ...) and audit them.

        Parameters
        ----------
        park_id : str
            The park.
        stats : sequence of Statistic
            The statistics.
        actor : str, optional
            Who adds them, for the audit log.

        Returns
        -------
        int
            How many were stored.
        """
        if not stats:
            return 0
        rows = []
        for s in stats:
            if not math.isfinite(s.value):
                msg = f"value(={s.value}) of statistic {s.name!r} of {s.entity!r} must be finite"
                raise ValidationError(msg)
            rows.append({"park_id": park_id, **s.model_dump()})
        with self._writing(f"adding {len(rows)} statistics to park {park_id!r}") as session:
            session.execute(sa.insert(StatisticRow), rows)
            self._append_audit(
                session,
                actor=actor or "system",
                action="statistics.add",
                object=f"park:{park_id}",
                detail={"count": len(rows), "names": sorted({s.name for s in stats})},
            )
        return len(rows)

    def statistics(self, park_id: str, start: dt.date, end: dt.date) -> list[Statistic]:
        """Return the statistics of a park that overlap the days ``start`` to ``end``.

        Returns
        -------
        list of Statistic
            Sorted by start, entity, name and the order they were added.
        """
        start, end = _check_day(start, "start"), _check_day(end, "end")
        query = (
            sa.select(StatisticRow)
            .where(
                StatisticRow.park_id == park_id,
                StatisticRow.start <= end,
                StatisticRow.end >= start,
            )
            .order_by(StatisticRow.start, StatisticRow.entity, StatisticRow.name, StatisticRow.id)
        )
        with self._reading(f"reading statistics of park {park_id!r}") as session:
            return [_record(Statistic, r) for r in session.scalars(query)]

    # Factor overrides ------------------------------------------------------------------
    def add_override(self, park_id: str, override: FactorOverride, actor: str) -> str:
        """Store a factor override of a park and audit it (``override.add``).

        Parameters
        ----------
        park_id : str
            The park.
        override : FactorOverride
            The override; ``created_by`` defaults to ``actor``, ``id`` to a new UUID.
        actor : str
            Who adds it.

        Returns
        -------
        str
            The override's id.

        Raises
        ------
        ValidationError
            If the override is marked revoked (add it, then revoke it).
        ConsistencyError
            If its id is stored already.
        """
        if override.revoked:
            msg = (
                f"override of {override.factor!r} is marked revoked; add it unrevoked and "
                "revoke it with revoke_override, so the revocation is audited"
            )
            raise ValidationError(msg)
        if not math.isfinite(override.value):
            msg = f"value(={override.value}) of the override of {override.factor!r} must be finite"
            raise ValidationError(msg)
        oid = override.id or str(uuid.uuid4())
        data = override.model_dump(exclude={"id", "revoked"})
        data["created_by"] = override.created_by or actor
        with self._writing(f"adding an override of {override.factor!r}") as session:
            session.add(
                FactorOverrideRow(id=oid, park_id=park_id, revoked=False, created_at=_now(), **data)
            )
            session.flush()
            self._append_audit(
                session,
                actor=actor or "system",
                action="override.add",
                object=f"override:{oid}",
                detail={"park_id": park_id, **override.model_dump(mode="json", exclude={"id"})},
            )
        return oid

    def overrides(self, park_id: str, include_revoked: bool = False) -> list[FactorOverride]:
        """Return the factor overrides of a park, oldest first.

        Parameters
        ----------
        park_id : str
            The park.
        include_revoked : bool, optional
            Also return revoked overrides (``revoked=True``).

        Returns
        -------
        list of FactorOverride
        """
        query = sa.select(FactorOverrideRow).where(FactorOverrideRow.park_id == park_id)
        if not include_revoked:
            query = query.where(FactorOverrideRow.revoked.is_(False))
        query = query.order_by(FactorOverrideRow.created_at, FactorOverrideRow.id)
        with self._reading(f"reading overrides of park {park_id!r}") as session:
            return [_override(r) for r in session.scalars(query)]

    def revoke_override(self, override_id: str, actor: str, reason: str) -> None:
        """Revoke a factor override and audit it (``override.revoke``).

        The override stays stored, marked with who revoked it, when and why.

        Raises
        ------
        ValidationError
            If ``reason`` is empty.
        NotFoundError
            If no override has this id.
        ConsistencyError
            If it is revoked already.
        """
        if not reason.strip():
            msg = f"revoking override {override_id!r} needs a reason; say why it no longer applies"
            raise ValidationError(msg)
        with self._writing(f"revoking override {override_id!r}") as session:
            row = session.get(FactorOverrideRow, override_id)
            if row is None:
                msg = f"override {override_id!r} is not stored; list them with overrides()"
                raise NotFoundError(msg)
            if row.revoked:
                msg = (
                    f"override {override_id!r} was revoked already, on "
                    f"{row.revoked_at:%Y-%m-%d} by {row.revoked_by!r}"
                )
                raise ConsistencyError(msg)
            row.revoked = True
            row.revoked_at = _now()
            row.revoked_by = actor
            row.revoked_reason = reason
            self._append_audit(
                session,
                actor=actor or "system",
                action="override.revoke",
                object=f"override:{override_id}",
                detail={"park_id": row.park_id, "factor": row.factor, "reason": reason},
            )

    # Quarantine ------------------------------------------------------------------------
    def quarantine(
        self, park_id: str, records: Sequence[QuarantineRecord], *, actor: str = "system"
    ) -> list[int]:
        """Put rejected rows in quarantine, with their rule and reason, and audit it.

        Values JSON cannot hold are kept as text (dates in ISO 8601, ``nan`` as ``'nan'``).

        Returns
        -------
        list of int
            The quarantine ids, in input order.
        """
        if not records:
            return []
        now = _now()
        rows = [
            QuarantineRow(
                park_id=park_id,
                rule=r.rule,
                reason=r.reason,
                origin=r.origin,
                ref=r.ref,
                row=jsonable(r.row),
                created_at=now,
            )
            for r in records
        ]
        with self._writing(f"quarantining {len(rows)} rows of park {park_id!r}") as session:
            session.add_all(rows)
            session.flush()
            ids = [r.id for r in rows]
            self._append_audit(
                session,
                actor=actor or "system",
                action="quarantine.add",
                object=f"park:{park_id}",
                detail={"count": len(rows), "rules": dict(Counter(r.rule for r in records))},
            )
        return ids

    def quarantined(self, park_id: str, include_released: bool = False) -> list[dict[str, Any]]:
        """Return the quarantined rows of a park, oldest first.

        Returns
        -------
        list of dict
            ``id``, ``park_id``, ``rule``, ``reason``, ``origin``, ``ref``, ``row``,
            ``created_at``, ``released_at`` and ``released_by``.
        """
        query = sa.select(QuarantineRow).where(QuarantineRow.park_id == park_id)
        if not include_released:
            query = query.where(QuarantineRow.released_at.is_(None))
        with self._reading(f"reading quarantine of park {park_id!r}") as session:
            return [_quarantine_dict(r) for r in session.scalars(query.order_by(QuarantineRow.id))]

    def release(self, quarantine_id: int, actor: str) -> None:
        """Mark a quarantined row released (dealt with) and audit it.

        Raises
        ------
        NotFoundError
            If no quarantined row has this id.
        ConsistencyError
            If it is released already.
        """
        with self._writing(f"releasing quarantined row {quarantine_id}") as session:
            row = session.get(QuarantineRow, quarantine_id)
            if row is None:
                msg = f"quarantined row {quarantine_id} is not stored; list them with quarantined()"
                raise NotFoundError(msg)
            if row.released_at is not None:
                msg = (
                    f"quarantined row {quarantine_id} was released already, on "
                    f"{row.released_at:%Y-%m-%d} by {row.released_by!r}"
                )
                raise ConsistencyError(msg)
            row.released_at = _now()
            row.released_by = actor
            self._append_audit(
                session,
                actor=actor or "system",
                action="quarantine.release",
                object=f"quarantine:{quarantine_id}",
                detail={"park_id": row.park_id, "rule": row.rule},
            )

    # Audit log -------------------------------------------------------------------------
    def audit(
        self,
        actor: str,
        action: str,
        object: str,
        detail: Mapping[str, Any] | None = None,
        outcome: str = "ok",
        client: str = "",
    ) -> int:
        """Append a record to the audit log.

        Parameters
        ----------
        actor : str
            Who acted (a user name, a service).
        action : str
            What was done, as ``area.verb`` (``account.run``, ``setpoint.dispatch``).
        object : str
            What it was done to, as ``kind:id`` (``park:demo``).
        detail : mapping, optional
            JSON details; values JSON cannot hold are kept as text.
        outcome : str, optional
            ``ok``, ``denied``, ``error`` ... (at most 16 characters).
        client : str, optional
            Where the request came from (an address, ``cli``).

        Returns
        -------
        int
            The audit record's id.
        """
        if not actor or not action:
            msg = "an audit record needs an actor and an action; say who did what"
            raise ValidationError(msg)
        _check_short(outcome, "outcome")
        with self._writing(f"writing audit record {action!r}") as session:
            return self._append_audit(session, actor, action, object, detail, outcome, client)

    def audit_log(
        self, limit: int = 100, actor: str | None = None, action: str | None = None
    ) -> list[dict[str, Any]]:
        """Return audit records, newest first.

        Parameters
        ----------
        limit : int, optional
            At most this many.
        actor, action : str, optional
            Only records of this actor / action.

        Returns
        -------
        list of dict
            ``id``, ``ts`` (aware UTC), ``actor``, ``action``, ``object``, ``detail``,
            ``outcome``, ``client``, ``prev_hash`` and ``hash``.
        """
        if limit < 1:
            msg = f"limit(={limit}) must be >= 1"
            raise ValidationError(msg)
        query = sa.select(AuditRow)
        if actor is not None:
            query = query.where(AuditRow.actor == actor)
        if action is not None:
            query = query.where(AuditRow.action == action)
        query = query.order_by(AuditRow.id.desc()).limit(limit)
        with self._reading("reading the audit log") as session:
            return [_audit_fields(r) for r in session.scalars(query)]

    def verify_audit(self) -> int | None:
        """Check the audit log's hash chain from the first record to the last.

        Returns
        -------
        int or None
            ``None`` when the chain is intact, else the id of the first record whose
            ``hash`` does not match its fields or whose ``prev_hash`` does not match the
            record before (a changed, inserted or deleted record).
        """
        prev = GENESIS_HASH
        query = sa.select(AuditRow).order_by(AuditRow.id).execution_options(yield_per=1000)
        with self._reading("verifying the audit log") as session:
            for row in session.scalars(query):
                if row.prev_hash != prev or row.hash != audit_hash(_audit_fields(row)):
                    return row.id
                prev = row.hash
        return None

    # Integrity chain -------------------------------------------------------------------
    def verify_integrity(
        self, kinds: Sequence[str] | None = None, *, window: int = 50_000
    ) -> IntegrityReport:
        """Check the integrity chain, the rows of each link and the audit log.

        Every link's ``prev_hash`` and ``hash`` are checked, then for each kind asked for
        the digest of the rows each link covers is recomputed from the database
        (:mod:`carbontwin.store.integrity` gives the forms, :mod:`carbontwin.store.chain`
        how the rows are read: in one snapshot, readings streamed in primary-key order
        with bounded memory).

        Parameters
        ----------
        kinds : sequence of str, optional
            Some of ``readings``, ``entries``, ``inventory``; all by default.
        window : int, optional
            Readings links digested in one pass over the readings table (each holds a few
            hundred bytes while the table is read); more links take more passes.

        Returns
        -------
        IntegrityReport
            Per kind the links and rows checked, the rows written before the chain
            existed, and the first broken link; the chain's head; the audit log's check.

        Raises
        ------
        ValidationError
            If a kind is not one of the chain's or ``window`` is below 1.

        Examples
        --------
        >>> with Store.open("sqlite://") as store:
        ...     _ = store.insert_readings([("M1", 0, 1.5, 0)])
        ...     report = store.verify_integrity()
        >>> report.ok, report.kinds["readings"].batches, report.kinds["readings"].rows
        (True, 1, 1)
        """
        chosen = list(INTEGRITY_KINDS) if kinds is None else list(dict.fromkeys(kinds))
        unknown = [k for k in chosen if k not in INTEGRITY_KINDS]
        if unknown:
            msg = (
                f"kinds {unknown} are not kinds of the integrity chain; use some of "
                f"{', '.join(INTEGRITY_KINDS)}"
            )
            raise ValidationError(msg)
        if window < 1:
            msg = f"window(={window}) must be >= 1 link"
            raise ValidationError(msg)
        chosen = [k for k in INTEGRITY_KINDS if k in chosen]
        with self._translate("verifying the integrity chain"), self._engine.connect() as conn:
            if self._postgres:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                report = verify_chain(conn, chosen, postgres=self._postgres, window=window)
                report.audit_records = int(
                    conn.execute(sa.select(sa.func.count()).select_from(AuditRow)).scalar_one()
                )
        report.audit_broken = self.verify_audit()
        return report
