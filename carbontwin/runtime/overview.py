"""The carbon overview and inventory queries, answered from stored inventories (O1, A6).

Accounting a month of the park takes seconds; answering a dashboard or an integration must
take milliseconds. So the queries here read the lines of the stored monthly inventories
(:func:`carbontwin.runtime.integrity.save_inventory` writes them: one line per month,
enterprise, scope, category and gas, and per carrier for energy) and aggregate those few
hundred rows. :class:`Answers` keeps the answers of each query until the stored
inventories change (checked at most once a second), so repeated requests cost a lookup.

An emission unit's answers are computed from its own enterprise's lines only: park totals
and rankings it cannot see are not in them.

Examples
--------
>>> import pandas as pd
>>> lines = pd.DataFrame({"kind": ["emission", "emission"], "month": ["2025-01", "2025-02"],
...     "enterprise": ["E1", "E2"], "zone": ["Z1", "Z2"], "industry": ["C26", "C39"],
...     "scope": [1, 2], "category": ["combustion", "purchased_electricity"],
...     "gas": ["CO2", "CO2"], "carrier": ["", ""], "use": ["", ""], "amount": [10.0, 5.0],
...     "unit": ["t", "t"], "tco2e": [10.0, 5.0], "energy_tce": [0.0, 0.0]})
>>> [(r["enterprise"], r["tco2e"]) for r in aggregate(lines, "enterprise")["rows"]]
[('E1', 10.0), ('E2', 5.0)]
"""

from __future__ import annotations

import calendar
import datetime as dt
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

import pandas as pd

from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.runtime.access import Principal
from carbontwin.runtime.integrity import inventory_frame
from carbontwin.runtime.registry import account_history
from carbontwin.store import Store

__all__ = [
    "GROUPINGS",
    "Answers",
    "aggregate",
    "inventory_revision",
    "inventory_trace",
    "month_range",
    "overview",
    "scope_key",
    "stored_lines",
]

#: What an inventory query can be grouped by.
GROUPINGS = ("total", "month", "enterprise", "zone", "industry", "scope", "category", "gas")


def month_range(start: dt.date, end: dt.date) -> list[str]:
    """Return the months ``YYYY-MM`` from ``start`` to ``end``, which must be whole months.

    Raises
    ------
    ValidationError
        If ``start`` is not a first or ``end`` not a last day of a month, or end < start.
    """
    last = calendar.monthrange(end.year, end.month)[1]
    if start.day != 1 or end.day != last or end < start:
        msg = (
            f"inventories are kept by month: ask for whole months, from a first day to a "
            f"last day (got {start} to {end})"
        )
        raise ValidationError(msg)
    months = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def _num(x: float) -> float:
    return round(float(x), 6)


def aggregate(lines: pd.DataFrame, by: str) -> dict[str, Any]:
    """Sum emission lines by ``by`` (one of :data:`GROUPINGS`) and energy lines by carrier.

    Returns ``{"rows": [{by: key, "tco2e": ..., "share": ...}], "tco2e": total,
    "energy_tce": total}``, rows by decreasing emissions (by month in month order).
    """
    if by not in GROUPINGS:
        msg = f"by(={by!r}) must be one of {', '.join(GROUPINGS)}"
        raise ValidationError(msg)
    em = lines[lines["kind"] == "emission"]
    total = float(em["tco2e"].sum())
    energy = float(lines.loc[lines["kind"] == "energy", "energy_tce"].sum())
    if by == "total":
        rows = [{"tco2e": _num(total), "share": 1.0 if total else 0.0}]
    else:
        g = em.groupby(by, sort=True)["tco2e"].sum()
        if by != "month":
            g = g.sort_values(ascending=False, kind="stable")
        rows = [
            {
                by: int(k) if by == "scope" else str(k),
                "tco2e": _num(v),
                "share": _num(v / total) if total else 0.0,
            }
            for k, v in g.items()
        ]
    return {"rows": rows, "tco2e": _num(total), "energy_tce": _num(energy)}


def overview(
    lines: pd.DataFrame, park: Park, year: int, enterprises: set[str] | None = None
) -> dict[str, Any]:
    """Return the carbon overview of ``year`` from its inventory lines.

    Park total, by scope, zone, industry (level), enterprise (ranked, with names), category
    and month; energy by carrier; offsets. ``enterprises`` limits everything to those
    (an emission unit's own).
    """
    if enterprises is not None:
        lines = lines[lines["enterprise"].isin(enterprises)]
    names = {e.id: (e.name, e.name_zh) for e in park.enterprises}
    em = lines[lines["kind"] == "emission"]
    total = float(em["tco2e"].sum())

    def share(v: float) -> float:
        return _num(v / total) if total else 0.0

    def by(col: str, frame: pd.DataFrame = em, value: str = "tco2e") -> list[dict[str, Any]]:
        g = frame.groupby(col, sort=True)[value].sum().sort_values(ascending=False, kind="stable")
        key = (lambda k: int(k)) if col == "scope" else str
        return [{col: key(k), value: _num(v), "share": share(v)} for k, v in g.items()]

    ranking = []
    for rank, (ent, v) in enumerate(
        em.groupby("enterprise")["tco2e"].sum().sort_values(ascending=False, kind="stable").items(),
        start=1,
    ):
        en, zh = names.get(str(ent), (str(ent), ""))
        first = em[em["enterprise"] == ent].iloc[0]
        ranking.append(
            {
                "rank": rank,
                "enterprise": str(ent),
                "name": {"en": en, "zh": zh or en},
                "zone": str(first["zone"]),
                "industry": str(first["industry"]),
                "tco2e": _num(v),
                "share": share(v),
            }
        )
    months = em.groupby("month", sort=True)["tco2e"].sum()
    energy = lines[lines["kind"] == "energy"]
    offsets = lines[lines["kind"] == "offset"]
    return {
        "park": park.id,
        "year": year,
        "months": sorted(lines["month"].unique().tolist()),
        "total_tco2e": _num(total),
        "energy_tce": _num(energy["energy_tce"].sum()),
        "offsets_tco2e": _num(offsets["tco2e"].sum()),
        "by_scope": by("scope"),
        "by_zone": by("zone"),
        "by_industry": by("industry"),
        "by_category": by("category"),
        "by_gas": by("gas"),
        "by_month": [{"month": str(k), "tco2e": _num(v)} for k, v in months.items()],
        "ranking": ranking,
        "energy_by_carrier": [
            {"carrier": str(k), "energy_tce": _num(v)}
            for k, v in energy.groupby("carrier")["energy_tce"]
            .sum()
            .sort_values(ascending=False, kind="stable")
            .items()
        ],
    }


class Answers:
    """Answers kept until the data they come from changes.

    Parameters
    ----------
    revision : callable
        Returns a value that changes whenever the stored inventories change; called at
        most once every ``check_s`` seconds.
    check_s : float
        How often the revision is checked.
    size : int
        Most answers kept (the oldest go first).
    """

    def __init__(
        self, revision: Callable[[], Hashable], *, check_s: float = 1.0, size: int = 512
    ) -> None:
        self._revision_of = revision
        self.check_s = check_s
        self.size = size
        self._lock = threading.Lock()
        self._answers: dict[Hashable, Any] = {}
        self._revision: Hashable = None
        self._checked = -1e9

    def revision(self) -> Hashable:
        """Return the current revision (re-read when ``check_s`` has passed)."""
        now = time.monotonic()
        if now - self._checked >= self.check_s:
            rev = self._revision_of()
            with self._lock:
                if rev != self._revision:
                    self._answers.clear()
                    self._revision = rev
                self._checked = now
        return self._revision

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return the answer for ``key``, computing it when the data changed or it is new."""
        rev = self.revision()
        with self._lock:
            if key in self._answers:
                return self._answers[key]
        value = compute()
        with self._lock:
            if self._revision == rev:
                if len(self._answers) >= self.size:
                    self._answers.pop(next(iter(self._answers)))
                self._answers[key] = value
        return value

    def invalidate(self) -> None:
        """Forget every answer (after a change made in this process)."""
        with self._lock:
            self._answers.clear()
            self._checked = -1e9


def scope_key(who: Principal) -> str | None:
    """Return the part of a cache key that depends on who asks (a scoped enterprise)."""
    return who.enterprise if who.scoped else None


def inventory_revision(store: Store, park_id: str) -> Hashable:
    """Return a value that changes whenever a stored inventory of the park is added."""
    rows = store.inventories(park_id)
    return (len(rows), rows[-1]["id"] if rows else None)


def stored_lines(store: Store, park_id: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Return the newest stored lines of the months from ``start`` to ``end``.

    Months without a stored inventory are left out (:func:`month_range` tells which
    were asked for).
    """
    return inventory_frame(store, park_id, start, end, strict=False)


def inventory_trace(
    store: Store,
    park: Park,
    period: str,
    *,
    enterprise: str | None = None,
    source: str | None = None,
    scope: int | None = None,
    category: str | None = None,
    answers: Answers | None = None,
) -> list[dict[str, Any]]:
    """Return the drill-down of a month: the activity, factors and formula behind it.

    The month is accounted from the store as :func:`carbontwin.runtime.integrity.
    save_inventory` does; with ``answers`` the computed inventory is kept until the
    stored inventories change.
    """

    def compute() -> Any:
        return account_history(
            store, park, period, stored=True, overrides=store.overrides(park.id)
        ).inventory

    inv = answers.get(("trace-inventory", period), compute) if answers else compute()
    frame = inv.trace(period, enterprise=enterprise, source=source, scope=scope, category=category)
    return frame.to_dict("records")
