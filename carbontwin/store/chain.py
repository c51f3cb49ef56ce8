"""The integrity chain in the database: appending links and checking them.

The canonical forms the digests cover are in :mod:`carbontwin.store.integrity`; this
module runs the SQL. A link is appended in the transaction that writes its rows:
:func:`begin_link` takes the chain's writer lock, reads the newest link's hash and inserts
the new link (its id is what the rows point back to), :func:`finish_link` fills in the
count, digest and hash once the rows are written.

Writers of the chain
--------------------
Each link stores the hash of the link before, so appends must not interleave. On SQLite
every writing transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time); on
PostgreSQL :func:`begin_link` takes ``LOCK TABLE integrity_batches IN SHARE ROW EXCLUSIVE
MODE``, which conflicts with itself and with inserts but not with readers, and is held to
the commit. The lock is its own statement: under READ COMMITTED the next statement (the
insert that reads the newest hash) takes its snapshot after the lock is granted, so it sees
the link the previous writer committed. Transactions that also append to the audit log
take the audit lock first, so the two locks are always taken in the same order.

Checking
--------
:func:`verify_chain` reads one snapshot (``REPEATABLE READ`` on PostgreSQL, SQLite's
snapshot of a read transaction): the links in id order (hash and ``prev_hash``), then the
rows of each kind. Readings are streamed in primary-key order, ``(point_id, ts)``, in
chunks; that order keeps each batch's rows in their canonical order, so one
:class:`~carbontwin.store.integrity.ReadingsDigest` per batch is all the state, and
memory is bounded by the number of batches held at once (``window``, a few hundred bytes
each), not by the number of rows: with more readings links than ``window``, the table is
read once per window of link ids. PostgreSQL sorts text by the database's collation, which
need not be code-point order; when a batch sees its points out of order the window is read
again with ``ORDER BY point_id COLLATE "C"`` (a sort on the server instead of an index
scan).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from carbontwin.store.errors import StoreError
from carbontwin.store.integrity import (
    DIGEST_MISMATCH,
    ENTRY_FIELDS,
    GENESIS_HASH,
    HASH_MISMATCH,
    INVENTORY_FIELDS,
    LINE_FIELDS,
    MISSING_LINK,
    PREV_MISMATCH,
    STATUS_MISMATCH,
    BrokenLink,
    IntegrityReport,
    KindReport,
    ReadingsDigest,
    entries_digest,
    inventory_digest,
    link_hash,
)
from carbontwin.store.models import (
    ActivityEntryRow,
    IntegrityBatchRow,
    InventoryLineRow,
    InventoryRow,
    ReadingRow,
)

__all__ = [
    "PG_CHAIN_LOCK",
    "OpenLink",
    "append_link",
    "begin_link",
    "finish_link",
    "verify_chain",
]

#: The lock that serialises appends to the chain on PostgreSQL.
PG_CHAIN_LOCK = "LOCK TABLE integrity_batches IN SHARE ROW EXCLUSIVE MODE"

#: Inventory statuses: the newest inventory of a park and period, and the older ones.
CURRENT, SUPERSEDED = "computed", "superseded"

_LINKS = IntegrityBatchRow.__table__
# The chain's two statements on the driver's own cursor: they run on every insert of
# readings, where SQLAlchemy's statement machinery would cost four times more. The new
# link is chained to the newest one (or the genesis hash) in the insert itself.
_INSERT_LINK = (
    f"INSERT INTO {_LINKS.name} (kind, ref, count, digest, prev_hash, hash, created_at) "
    f"SELECT ?, ?, 0, '', COALESCE((SELECT hash FROM {_LINKS.name} ORDER BY id DESC LIMIT 1), "
    "?), '', ? RETURNING id, prev_hash"
)
_UPDATE_LINK = f"UPDATE {_LINKS.name} SET count = ?, digest = ?, hash = ? WHERE id = ?"
_CHUNK = 50_000  # readings per fetch while checking
_BAD_INT = -(2**63)  # stands for a stored integer that is not one (a tampered cell)


@dataclass(frozen=True)
class OpenLink:
    """A link inserted in the current transaction, waiting for its count and digest."""

    id: int
    kind: str
    ref: str
    prev_hash: str
    created_at: dt.datetime


def _sql(text: str, postgres: bool) -> str:
    """Return ``text`` in the driver's parameter style (``?`` for SQLite, ``%s`` psycopg)."""
    return text.replace("?", "%s") if postgres else text


@contextmanager
def _cursor(conn: Connection, name: str | None = None) -> Iterator[Any]:
    """Yield a cursor of the driver's connection under ``conn``, in its transaction.

    The driver's errors leave as SQLAlchemy's, which the store turns into its own. A
    ``name`` makes a server-side cursor on PostgreSQL.
    """
    driver = conn.connection.driver_connection
    if driver is None:  # pragma: no cover - a live connection always has one
        msg = "the database connection was closed during the transaction; try again"
        raise StoreError(msg)
    dbapi_error = conn.dialect.loaded_dbapi.Error
    cursor = driver.cursor(name) if name else driver.cursor()
    try:
        yield cursor
    except dbapi_error as exc:
        raise sa.exc.DBAPIError.instance(None, None, exc, dbapi_error) from exc
    finally:
        cursor.close()


def begin_link(conn: Connection, kind: str, ref: str = "", *, postgres: bool) -> OpenLink:
    """Insert a new link at the head of the chain, in ``conn``'s transaction.

    Parameters
    ----------
    conn : sqlalchemy.engine.Connection
        A connection in a writing transaction (``BEGIN IMMEDIATE`` on SQLite).
    kind : str
        ``readings``, ``entries`` or ``inventory``.
    ref : str, optional
        What the link covers besides its id: the entry batch id, the inventory id.
    postgres : bool
        Whether the database is PostgreSQL (then the chain's lock is taken first).

    Returns
    -------
    OpenLink
        The link; finish it with :func:`finish_link` before the transaction commits.
    """
    created = dt.datetime.now(dt.UTC)
    stamp = _LINKS.c.created_at.type.bind_processor(conn.dialect)
    params = (kind, ref, GENESIS_HASH, stamp(created) if stamp else created)
    with _cursor(conn) as cursor:
        if postgres:
            cursor.execute(PG_CHAIN_LOCK)
        cursor.execute(_sql(_INSERT_LINK, postgres), params)
        link_id, prev = cursor.fetchone()
    return OpenLink(int(link_id), kind, ref, prev, created)


def finish_link(conn: Connection, link: OpenLink, count: int, digest: str) -> str:
    """Store the count and digest of ``link``'s rows and its hash; return the hash."""
    value = link_hash(
        {
            "id": link.id,
            "kind": link.kind,
            "ref": link.ref,
            "count": count,
            "digest": digest,
            "prev_hash": link.prev_hash,
            "created_at": link.created_at,
        }
    )
    with _cursor(conn) as cursor:
        cursor.execute(
            _sql(_UPDATE_LINK, conn.dialect.name == "postgresql"), (count, digest, value, link.id)
        )
    return value


def append_link(
    conn: Connection, kind: str, ref: str, count: int, digest: str, *, postgres: bool
) -> int:
    """Append a link whose rows are known already; return its id."""
    link = begin_link(conn, kind, ref, postgres=postgres)
    finish_link(conn, link, count, digest)
    return link.id


# Checking ------------------------------------------------------------------------------
class _NotCanonical(Exception):
    """The readings did not stream in code-point order (a PostgreSQL collation)."""


def _ints(values: Sequence[Any]) -> np.ndarray:
    arr = np.array(values)
    if arr.dtype.kind == "i":
        return arr.astype(np.int64, copy=False)
    return np.array([v if type(v) is int else _BAD_INT for v in values], dtype=np.int64)


def _floats(values: Sequence[Any]) -> np.ndarray:
    arr = np.array(values)
    if arr.dtype.kind == "f":
        return arr.astype(np.float64, copy=False)
    return np.array(
        [float(v) if type(v) in (int, float) else np.nan for v in values], dtype=np.float64
    )


def _batch_ids(values: Sequence[Any]) -> np.ndarray:
    """Batch ids as floats, NaN for NULL; a stored id that is not an integer becomes -1."""
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.array(
            [np.nan if v is None else float(v) if type(v) is int else -1.0 for v in values]
        )
    return np.where(np.isnan(arr) | (arr == np.round(arr)), arr, -1.0)


def _texts(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values if all(type(v) is str for v in values) else [str(v) for v in values]
    return out


def _readings_sql(lo: int | None, hi: int | None, first: bool, collate: bool) -> str:
    """Return the query of the readings with batch ids in ``(lo, hi]`` (NULLs in the first)."""
    where = []
    if lo is not None:
        where.append(f"batch_id > {int(lo)}")
    if hi is not None:
        where.append(
            f"(batch_id <= {int(hi)} OR batch_id IS NULL)" if first else f"batch_id <= {int(hi)}"
        )
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    order = 'point_id COLLATE "C", ts' if collate else "point_id, ts"
    return (
        f"SELECT point_id, ts, value, quality, batch_id FROM {ReadingRow.__tablename__}"
        f"{clause} ORDER BY {order}"
    )


@dataclass
class _Window:
    """The state of one pass over the readings for a window of readings links."""

    states: dict[int, ReadingsDigest]
    disordered: set[int]
    orphans: dict[int, int]
    unchained: int = 0


def _scan_readings(
    conn: Connection,
    links: Sequence[Row[Any]],
    lo: int | None,
    hi: int | None,
    first: bool,
    *,
    collate: bool,
    may_retry: bool,
) -> _Window:
    window = _Window({int(link.id): ReadingsDigest() for link in links}, set(), {})
    with _stream(conn, _readings_sql(lo, hi, first, collate)) as chunks:
        for rows in chunks:
            _digest_chunk(rows, window, may_retry=may_retry)
    return window


@contextmanager
def _stream(conn: Connection, sql: str) -> Iterator[Iterator[list[tuple[Any, ...]]]]:
    """Run ``sql`` on the driver's own cursor and yield its rows in chunks of plain tuples.

    The hot loop of the check: rows skip SQLAlchemy's result processing (the query has no
    typed columns), and PostgreSQL streams them through a server-side cursor.
    """
    name = "carbontwin_verify" if conn.dialect.name == "postgresql" else None
    with _cursor(conn, name) as cursor:
        cursor.execute(sql)

        def chunks() -> Iterator[list[tuple[Any, ...]]]:
            while rows := cursor.fetchmany(_CHUNK):
                yield rows

        yield chunks()


def _digest_chunk(rows: list[tuple[Any, ...]], window: _Window, *, may_retry: bool) -> None:
    """Add one chunk of streamed readings to the running digests of their batches."""
    # Column by column: ``zip(*rows)`` on tens of thousands of rows wakes the garbage
    # collector over and over and costs five times more.
    point_ids, ts, values, quality, batch = (list(map(itemgetter(k), rows)) for k in range(5))
    b = _batch_ids(batch)
    chained = ~np.isnan(b)
    window.unchained += int(len(b) - chained.sum())
    idx = np.flatnonzero(chained)
    if not len(idx):
        return
    ids = b[idx].astype(np.int64)
    order = np.argsort(ids, kind="stable")  # each batch's rows keep the stream order
    idx, ids = idx[order], ids[order]
    cuts = [0, *(np.flatnonzero(np.diff(ids)) + 1).tolist(), len(ids)]
    p, t, v, q = _texts(point_ids), _ints(ts), _floats(values), _ints(quality)
    for a, z in itertools.pairwise(cuts):
        bid = int(ids[a])
        state = window.states.get(bid)
        if state is None:
            window.orphans[bid] = window.orphans.get(bid, 0) + (z - a)
            continue
        if bid in window.disordered:
            continue
        sel = idx[a:z]
        if not state.update(p[sel], t[sel], v[sel], q[sel]):
            if may_retry:
                raise _NotCanonical
            window.disordered.add(bid)


def _verify_readings(conn: Connection, report: KindReport, *, postgres: bool, window: int) -> None:
    after: int | None = None
    collate = False
    while True:
        query = sa.select(_LINKS.c.id, _LINKS.c.ref, _LINKS.c.count, _LINKS.c.digest).where(
            _LINKS.c.kind == "readings"
        )
        if after is not None:
            query = query.where(_LINKS.c.id > after)
        links = conn.execute(query.order_by(_LINKS.c.id).limit(window + 1)).all()
        last = len(links) <= window
        links = links[:window]
        hi = None if last else int(links[-1].id)
        first = after is None
        while True:
            try:
                scan = _scan_readings(
                    conn,
                    links,
                    after,
                    hi,
                    first,
                    collate=collate,
                    may_retry=postgres and not collate,
                )
                break
            except _NotCanonical:
                collate = True
        report.unchained += scan.unchained
        for link in links:
            state = scan.states[int(link.id)]
            report.rows += state.count
            if int(link.id) in scan.disordered:
                detail = "its rows do not sort by (point_id, ts): a point id was edited"
            elif state.count != link.count or state.hexdigest() != link.digest:
                detail = (
                    f"{state.count} readings are stored with this batch id, the link "
                    f"counts {link.count}"
                    + ("" if state.count != link.count else "; their values differ")
                )
            else:
                continue
            report.note(BrokenLink(int(link.id), "readings", link.ref, DIGEST_MISMATCH, detail))
        for bid, n in scan.orphans.items():
            report.note(
                BrokenLink(
                    bid,
                    "readings",
                    "",
                    MISSING_LINK,
                    f"{n} readings have batch_id {bid}, which is not a readings link",
                )
            )
        if last:
            return
        after = hi


def _verify_entries(
    conn: Connection,
    report: KindReport,
    links: dict[str, list[Row[Any]]],
    chain_start: dt.datetime | None,
) -> None:
    columns = [getattr(ActivityEntryRow, f) for f in ENTRY_FIELDS]
    query = sa.select(*columns, ActivityEntryRow.batch_id, ActivityEntryRow.created_at).order_by(
        ActivityEntryRow.batch_id
    )
    seen: set[str] = set()

    def finish(batch: str | None, rows: list[dict[str, Any]], n: int, late: int) -> None:
        if batch is not None and batch in links:
            seen.add(batch)
            digest = entries_digest(rows)
            report.rows += len(rows)
            for link in links[batch]:
                if len(rows) != link.count or digest != link.digest:
                    report.note(
                        BrokenLink(
                            int(link.id),
                            "entries",
                            batch,
                            DIGEST_MISMATCH,
                            f"{len(rows)} entries are stored in batch {batch!r}, the link "
                            f"counts {link.count}",
                        )
                    )
            return
        report.unchained += n - late
        if late:
            report.note(
                BrokenLink(
                    None,
                    "entries",
                    batch or "",
                    MISSING_LINK,
                    f"{late} entries of batch {batch!r} were written after the chain began "
                    f"({chain_start:%Y-%m-%d %H:%M:%S} UTC) but no link covers them",
                )
            )

    current: object = object()
    rows: list[dict[str, Any]] = []
    n = late = 0
    for row in conn.execute(query.execution_options(yield_per=2000)):
        batch = row.batch_id
        if batch != current:
            if n:
                finish(current, rows, n, late)  # type: ignore[arg-type]
            current, rows, n, late = batch, [], 0, 0
        n += 1
        if batch is not None and batch in links:
            rows.append(dict(row._mapping))
        elif batch is not None and chain_start is not None and row.created_at >= chain_start:
            late += 1
    if n:
        finish(current, rows, n, late)  # type: ignore[arg-type]
    for batch, batch_links in links.items():
        if batch not in seen:
            for link in batch_links:
                report.note(
                    BrokenLink(
                        int(link.id),
                        "entries",
                        batch,
                        DIGEST_MISMATCH,
                        f"no entries are stored in batch {batch!r}, the link counts {link.count}",
                    )
                )


def _verify_inventories(conn: Connection, report: KindReport, links: list[Row[Any]]) -> None:
    header = [getattr(InventoryRow, f) for f in INVENTORY_FIELDS]
    stored = {
        r.id: r
        for r in conn.execute(sa.select(*header, InventoryRow.status, InventoryRow.batch_id))
    }
    line_columns = [getattr(InventoryLineRow, f) for f in LINE_FIELDS]
    newest: dict[tuple[Any, ...], int] = {}
    link_of: dict[str, int] = {}
    for link in links:
        inv = stored.get(link.ref)
        if inv is None:
            report.note(
                BrokenLink(
                    int(link.id),
                    "inventory",
                    link.ref,
                    DIGEST_MISMATCH,
                    f"inventory {link.ref!r} is not stored any more",
                )
            )
            continue
        document = conn.execute(
            sa.select(InventoryRow.document).where(InventoryRow.id == inv.id)
        ).scalar_one()
        lines = (
            conn.execute(sa.select(*line_columns).where(InventoryLineRow.inventory_id == inv.id))
            .mappings()
            .all()
        )
        report.rows += len(lines)
        if len(lines) != link.count or inventory_digest(inv._mapping, document, lines) != (
            link.digest
        ):
            report.note(
                BrokenLink(
                    int(link.id),
                    "inventory",
                    link.ref,
                    DIGEST_MISMATCH,
                    f"inventory {inv.id!r} has {len(lines)} lines, the link counts {link.count}"
                    + ("; its document or lines differ" if len(lines) == link.count else ""),
                )
            )
        key = (inv.park_id, inv.start, inv.end)
        newest[key] = max(newest.get(key, 0), int(link.id))
        link_of[inv.id] = int(link.id)
    for inv in stored.values():
        if inv.id not in link_of:
            if inv.batch_id is None:
                report.unchained += 1
            else:
                report.note(
                    BrokenLink(
                        int(inv.batch_id),
                        "inventory",
                        inv.id,
                        MISSING_LINK,
                        f"inventory {inv.id!r} names batch {inv.batch_id}, which is not its link",
                    )
                )
            continue
        lid = link_of[inv.id]
        expected = CURRENT if newest[(inv.park_id, inv.start, inv.end)] == lid else SUPERSEDED
        if inv.status != expected:
            report.note(
                BrokenLink(
                    lid,
                    "inventory",
                    inv.id,
                    STATUS_MISMATCH,
                    f"inventory {inv.id!r} is {inv.status!r}, the chain makes it {expected!r}",
                )
            )


def verify_chain(
    conn: Connection,
    kinds: Iterable[str],
    *,
    postgres: bool,
    window: int = 50_000,
) -> IntegrityReport:
    """Check the chain's links and the rows of ``kinds`` in one snapshot.

    Parameters
    ----------
    conn : sqlalchemy.engine.Connection
        A connection in a read transaction (``REPEATABLE READ`` on PostgreSQL).
    kinds : iterable of str
        The kinds whose rows are checked; the links of every kind are always checked.
    postgres : bool
        Whether the database is PostgreSQL.
    window : int, optional
        Readings links whose rows are digested in one pass over the readings table.

    Returns
    -------
    IntegrityReport
        Without the audit log's figures (the store adds them).
    """
    report = IntegrityReport(kinds={k: KindReport(k) for k in kinds})
    wanted = report.kinds
    entry_links: dict[str, list[Row[Any]]] = {}
    inventory_links: list[Row[Any]] = []
    chain_start: dt.datetime | None = None
    link_problems: list[BrokenLink] = []
    prev = GENESIS_HASH
    for link in conn.execute(
        sa.select(_LINKS).order_by(_LINKS.c.id).execution_options(yield_per=5000)
    ):
        report.links += 1
        if chain_start is None:
            chain_start = link.created_at
        problem = detail = ""
        if link.prev_hash != prev:
            problem = PREV_MISMATCH
            detail = f"prev_hash is {link.prev_hash[:12]}…, the link before has {prev[:12]}…"
        elif link.hash != link_hash(link._mapping):
            problem = HASH_MISMATCH
            detail = "its kind, ref, count, digest, prev_hash or created_at was changed"
        prev = link.hash
        report.head_id, report.head_hash = int(link.id), link.hash
        if problem:
            broken = BrokenLink(int(link.id), link.kind, link.ref, problem, detail)
            link_problems.append(broken)
            if link.kind in wanted:
                wanted[link.kind].note(broken)
        if link.kind in wanted:
            wanted[link.kind].batches += 1
        if link.kind == "entries":
            entry_links.setdefault(link.ref, []).append(link)
        elif link.kind == "inventory":
            inventory_links.append(link)
    if "readings" in wanted:
        _verify_readings(conn, wanted["readings"], postgres=postgres, window=window)
    if "entries" in wanted:
        _verify_entries(conn, wanted["entries"], entry_links, chain_start)
    if "inventory" in wanted:
        _verify_inventories(conn, wanted["inventory"], inventory_links)
    found = [*link_problems, *(k.broken for k in wanted.values() if k.broken is not None)]
    whole = KindReport("chain")
    for b in found:
        whole.note(b)
    report.chain = whole.broken
    return report
