"""Stored inventories: an inventory's document and its monthly lines, as computed.

:class:`InventoriesMixin` is part of :class:`~carbontwin.store.Store`. An inventory is the
accounting result of a park for a period, kept as computed: its JSON document (schema
``carbontwin.inventory/1``) and its lines, one per month of the period, enterprise and
emission cell, energy cell or offset, which the API answers from without recomputing.
Computing them is the runtime's work (:mod:`carbontwin.runtime.integrity`); the store only
keeps what it is given.

Each saved inventory is one link of the integrity chain (kind ``inventory``, ``ref`` its
id) and is audited (``inventory.save``). An inventory is never changed afterwards, with one
exception: a newer inventory of the same park and period (same ``start`` and ``end``)
supersedes the older ones, whose ``status`` turns from ``computed`` to ``superseded`` in
the same transaction. The status is not in the digest; it follows from the chain (the
inventory of a park and period with the newest link is the ``computed`` one), and
:meth:`~carbontwin.store.Store.verify_integrity` checks that it does.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from carbontwin.core.errors import ValidationError
from carbontwin.store.chain import CURRENT, SUPERSEDED, begin_link, finish_link
from carbontwin.store.errors import NotFoundError
from carbontwin.store.integrity import LINE_FIELDS, inventory_digest, jsonable
from carbontwin.store.models import InventoryLineRow, InventoryRow
from carbontwin.store.parts import StorePart

__all__ = ["INVENTORY_STATUSES", "LINE_KINDS", "InventoriesMixin"]

#: Statuses of a stored inventory: the newest of its park and period, or an older one.
INVENTORY_STATUSES: tuple[str, ...] = (CURRENT, SUPERSEDED)

#: Kinds of inventory lines.
LINE_KINDS: tuple[str, ...] = ("emission", "energy", "offset")

#: What a line field is when a line leaves it out.
_LINE_DEFAULTS: dict[str, Any] = {
    "zone": "",
    "industry": "",
    "scope": None,
    "category": "",
    "gas": "",
    "carrier": "",
    "use": "",
    "amount": 0.0,
    "unit": "",
    "tco2e": 0.0,
    "energy_tce": 0.0,
}
_LINE_REQUIRED = ("kind", "month", "enterprise")
_LINE_FLOATS = ("amount", "tco2e", "energy_tce")
_LINE_TEXTS = ("enterprise", "zone", "industry", "category", "gas", "carrier", "use", "unit")
_LINE_LIMITS = {"category": 32, "gas": 16, "use": 16}
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

_HEADER = (
    InventoryRow.id,
    InventoryRow.park_id,
    InventoryRow.start,
    InventoryRow.end,
    InventoryRow.as_of,
    InventoryRow.status,
    InventoryRow.computed_by,
    InventoryRow.computed_at,
    InventoryRow.batch_id,
)
_LINE_COLUMNS = (
    InventoryLineRow.inventory_id,
    *(getattr(InventoryLineRow, f) for f in LINE_FIELDS),
)
_LINE_NAMES = ("inventory_id", *LINE_FIELDS)


def _day(value: object, name: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        msg = f"{name}(={value!r}) must be a date (datetime.date), not {type(value).__name__}"
        raise ValidationError(msg)
    return value


def _months(start: dt.date, end: dt.date) -> set[str]:
    """Return the labels ``YYYY-MM`` of the months that days ``start`` to ``end`` touch."""
    out = set()
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.add(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _line(i: int, line: Mapping[str, Any], months: set[str]) -> dict[str, Any]:
    """Return line ``i`` with every field, checked; raise naming the field and the fix."""
    extra = sorted(set(line) - set(LINE_FIELDS))
    if extra:
        msg = f"line {i} has unknown fields {extra}; a line has {', '.join(LINE_FIELDS)}"
        raise ValidationError(msg)
    missing = [f for f in _LINE_REQUIRED if not line.get(f)]
    if missing:
        msg = (
            f"line {i} lacks {', '.join(missing)}; every line names its kind, month and enterprise"
        )
        raise ValidationError(msg)
    row = {**_LINE_DEFAULTS, **line}
    if row["kind"] not in LINE_KINDS:
        msg = f"kind(={row['kind']!r}) of line {i} must be one of {', '.join(LINE_KINDS)}"
        raise ValidationError(msg)
    if not isinstance(row["month"], str) or not _MONTH.fullmatch(row["month"]):
        msg = f"month(={row['month']!r}) of line {i} must be written YYYY-MM, e.g. 2025-03"
        raise ValidationError(msg)
    if row["month"] not in months:
        msg = (
            f"month(={row['month']}) of line {i} is outside the inventory's period "
            f"({min(months)} to {max(months)})"
        )
        raise ValidationError(msg)
    if row["scope"] is not None and row["scope"] not in (1, 2, 3):
        msg = f"scope(={row['scope']!r}) of line {i} must be 1, 2, 3 or None"
        raise ValidationError(msg)
    for f in _LINE_TEXTS:
        if not isinstance(row[f], str):
            msg = f"{f}(={row[f]!r}) of line {i} must be text"
            raise ValidationError(msg)
    for f, limit in _LINE_LIMITS.items():
        if len(row[f]) > limit:
            msg = f"{f}(={row[f]!r}) of line {i} is longer than {limit} characters"
            raise ValidationError(msg)
    for f in _LINE_FLOATS:
        value = float(row[f])
        if not math.isfinite(value):
            msg = f"{f}(={value}) of line {i} must be a finite number"
            raise ValidationError(msg)
        row[f] = value
    row["scope"] = None if row["scope"] is None else int(row["scope"])
    return {f: row[f] for f in LINE_FIELDS}


def _header(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in _HEADER}


class InventoriesMixin(StorePart):
    """Stored inventories and their lines (part of :class:`Store`)."""

    def save_inventory(
        self,
        park_id: str,
        start: dt.date,
        end: dt.date,
        as_of: dt.date,
        document: Mapping[str, Any],
        lines: Sequence[Mapping[str, Any]],
        actor: str,
    ) -> str:
        """Store an inventory with its lines, chain it and audit it (``inventory.save``).

        Older inventories of the same park and period (same ``start`` and ``end``) become
        ``superseded``; the new one is ``computed``.

        Parameters
        ----------
        park_id : str
            The park.
        start, end : datetime.date
            First and last day of the period, inclusive.
        as_of : datetime.date
            The day of the registry version the park definition was taken from.
        document : mapping
            The inventory's JSON document; values JSON cannot hold are kept as text.
        lines : sequence of mapping
            The lines, each with ``kind`` (``emission``, ``energy`` or ``offset``),
            ``month`` (``YYYY-MM``, within the period) and ``enterprise``, and any of
            ``zone``, ``industry``, ``scope``, ``category``, ``gas``, ``carrier``,
            ``use``, ``amount`` [t of the gas, or ``unit``], ``unit``, ``tco2e`` [t CO2e]
            and ``energy_tce`` [tce] (empty text, ``None`` scope and 0 by default).
        actor : str
            Who computed it (``computed_by`` and the audit actor).

        Returns
        -------
        str
            The inventory's id (a UUID).

        Raises
        ------
        ValidationError
            If a date is not a date, ``end`` is before ``start``, or a line is malformed
            (the message names the line and the field).

        Examples
        --------
        >>> import datetime as dt
        >>> from carbontwin.store import Store
        >>> with Store.open("sqlite://") as store:
        ...     first = store.save_inventory(
        ...         "p", dt.date(2025, 1, 1), dt.date(2025, 1, 31), dt.date(2025, 1, 1),
        ...         {"schema": "carbontwin.inventory/1"},
        ...         [{"kind": "emission", "month": "2025-01", "enterprise": "E1", "scope": 1,
        ...           "category": "fuel_combustion", "gas": "CO2", "amount": 2.0,
        ...           "tco2e": 2.0}],
        ...         actor="alice")
        ...     second = store.save_inventory(
        ...         "p", dt.date(2025, 1, 1), dt.date(2025, 1, 31), dt.date(2025, 1, 1),
        ...         {}, [], actor="alice")
        ...     [i["status"] for i in store.inventories("p")]
        ['superseded', 'computed']
        """
        start, end, as_of = _day(start, "start"), _day(end, "end"), _day(as_of, "as_of")
        if end < start:
            msg = f"end(={end}) is before start(={start}); give the period's first and last day"
            raise ValidationError(msg)
        if not isinstance(document, Mapping):
            msg = f"document must be a JSON object (a mapping), not {type(document).__name__}"
            raise ValidationError(msg)
        months = _months(start, end)
        rows = [_line(i, line, months) for i, line in enumerate(lines)]
        doc = jsonable(document)
        inventory_id = str(uuid.uuid4())
        header = {
            "id": inventory_id,
            "park_id": park_id,
            "start": start,
            "end": end,
            "as_of": as_of,
            "computed_by": actor,
            "computed_at": dt.datetime.now(dt.UTC),
        }
        digest = inventory_digest(header, doc, rows)
        with self._writing(f"saving an inventory of park {park_id!r}") as session:
            conn = session.connection()
            older = list(
                conn.execute(
                    sa.select(InventoryRow.id).where(
                        InventoryRow.park_id == park_id,
                        InventoryRow.start == start,
                        InventoryRow.end == end,
                    )
                ).scalars()
            )
            link = begin_link(conn, "inventory", inventory_id, postgres=self._postgres)
            conn.execute(
                sa.insert(InventoryRow),
                {**header, "status": CURRENT, "document": doc, "batch_id": link.id},
            )
            if rows:
                conn.execute(
                    sa.insert(InventoryLineRow), [{"inventory_id": inventory_id, **r} for r in rows]
                )
            if older:
                conn.execute(
                    sa.update(InventoryRow)
                    .where(InventoryRow.id.in_(older), InventoryRow.status != SUPERSEDED)
                    .values(status=SUPERSEDED)
                )
            finish_link(conn, link, len(rows), digest)
            self._append_audit(
                session,
                actor=actor or "system",
                action="inventory.save",
                object=f"inventory:{inventory_id}",
                detail={
                    "park_id": park_id,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "as_of": as_of.isoformat(),
                    "lines": len(rows),
                    "integrity_batch": link.id,
                    "digest": digest,
                    "superseded": sorted(older),
                },
            )
        return inventory_id

    def inventories(
        self, park_id: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[dict[str, Any]]:
        """Return the stored inventories of a park, without their documents.

        Parameters
        ----------
        park_id : str
            The park.
        start, end : datetime.date, optional
            Only inventories whose period overlaps the days ``start`` to ``end``.

        Returns
        -------
        list of dict
            ``id``, ``park_id``, ``start``, ``end``, ``as_of``, ``status``,
            ``computed_by``, ``computed_at`` (aware UTC) and ``batch_id`` (its link),
            oldest first.
        """
        query = sa.select(*_HEADER).where(InventoryRow.park_id == park_id)
        if start is not None:
            query = query.where(InventoryRow.end >= _day(start, "start"))
        if end is not None:
            query = query.where(InventoryRow.start <= _day(end, "end"))
        query = query.order_by(InventoryRow.computed_at, InventoryRow.batch_id, InventoryRow.id)
        with self._reading(f"listing the inventories of park {park_id!r}") as session:
            return [_header(r) for r in session.execute(query)]

    def inventory(self, inventory_id: str) -> dict[str, Any]:
        """Return one stored inventory with its document.

        Returns
        -------
        dict
            The fields of :meth:`inventories` and ``document``.

        Raises
        ------
        NotFoundError
            If no inventory has this id.
        """
        query = sa.select(*_HEADER, InventoryRow.document).where(InventoryRow.id == inventory_id)
        with self._reading(f"reading inventory {inventory_id!r}") as session:
            row = session.execute(query).first()
        if row is None:
            msg = f"inventory {inventory_id!r} is not stored; list them with inventories()"
            raise NotFoundError(msg)
        return {**_header(row), "document": row.document}

    def inventory_lines(
        self,
        inventory_ids: str | Sequence[str],
        enterprises: Sequence[str] | None = None,
        *,
        frame: bool = False,
    ) -> list[dict[str, Any]] | pd.DataFrame:
        """Return the lines of one or more stored inventories, in one query.

        Parameters
        ----------
        inventory_ids : str or sequence of str
            The inventories.
        enterprises : sequence of str, optional
            Only the lines of these enterprises.
        frame : bool, optional
            Return a :class:`pandas.DataFrame` (one column per field, ``scope`` as a
            nullable integer) instead of a list of dicts.

        Returns
        -------
        list of dict or pandas.DataFrame
            ``inventory_id`` and the line fields (``kind``, ``month``, ``enterprise``,
            ``zone``, ``industry``, ``scope``, ``category``, ``gas``, ``carrier``,
            ``use``, ``amount``, ``unit``, ``tco2e`` [t CO2e], ``energy_tce`` [tce]),
            ordered by inventory and as saved.
        """
        ids = [inventory_ids] if isinstance(inventory_ids, str) else list(inventory_ids)
        rows: Sequence[Any] = []
        if ids and (enterprises is None or enterprises):
            query = sa.select(*_LINE_COLUMNS).where(InventoryLineRow.inventory_id.in_(ids))
            if enterprises is not None:
                query = query.where(InventoryLineRow.enterprise.in_(list(enterprises)))
            query = query.order_by(InventoryLineRow.inventory_id, InventoryLineRow.id)
            with self._reading("reading inventory lines") as session:
                rows = session.execute(query).all()
        if not frame:
            return [dict(zip(_LINE_NAMES, r, strict=True)) for r in rows]
        out = pd.DataFrame.from_records(rows, columns=list(_LINE_NAMES))
        out["scope"] = out["scope"].astype("Int64")
        for f in _LINE_FLOATS:
            out[f] = out[f].astype(float)
        return out
