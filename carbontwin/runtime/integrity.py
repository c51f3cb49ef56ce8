"""Use cases of the integrity chain: check it, store inventories, answer from stored lines.

An inventory is computed from the store the way
:func:`carbontwin.runtime.registry.account_history` does it (the simulated or metered
15-min history, completed by the stored ledger entries and the stored factor overrides,
the park checked strictly first) and stored with its lines, one per month of the period,
enterprise and cell (:func:`inventory_line_rows`). The API answers from those lines
(:func:`inventory_frame`) instead of recomputing; every stored inventory is a link of the
integrity chain, and :func:`verify` checks the chain, the rows behind each link and the
audit log.

Examples
--------
>>> from carbontwin.store import Store
>>> with Store.open("sqlite://") as store:
...     verify(store, actor="auditor").ok
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from carbontwin.accounting import Inventory
from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.core.time import Period, parse_period
from carbontwin.runtime.registry import account_history
from carbontwin.runtime.simulate import history_coverage
from carbontwin.store import IntegrityReport, NotFoundError, Store

__all__ = [
    "inventory_frame",
    "inventory_line_rows",
    "save_inventory",
    "save_monthly_inventories",
    "verify",
]


def verify(
    store: Store, kinds: Sequence[str] | None = None, *, actor: str = "system"
) -> IntegrityReport:
    """Check the integrity chain and the audit log, and audit the check.

    Parameters
    ----------
    store : Store
        The store to check.
    kinds : sequence of str, optional
        Some of ``readings``, ``entries``, ``inventory``; all by default.
    actor : str, optional
        Who asks, for the audit record (``integrity.verify``, outcome ``ok`` or
        ``broken``, with the chain's head and the problems found).

    Returns
    -------
    IntegrityReport
        See :meth:`carbontwin.store.Store.verify_integrity`.
    """
    report = store.verify_integrity(kinds)
    store.audit(
        actor or "system",
        "integrity.verify",
        "integrity:chain",
        {
            "kinds": list(report.kinds),
            "links": report.links,
            "head_id": report.head_id,
            "head_hash": report.head_hash,
            "problems": report.problems(),
        },
        outcome="ok" if report.ok else "broken",
    )
    return report


def inventory_line_rows(inventory: Inventory) -> list[dict[str, Any]]:
    """Return an inventory's figures as stored lines, per month × enterprise.

    Parameters
    ----------
    inventory : Inventory
        A computed inventory.

    Returns
    -------
    list of dict
        One line per non-zero cell of the monthly dataset: ``emission`` lines per scope,
        category and gas (``amount`` [t of the gas], ``unit`` ``t``, ``tco2e``
        [t CO2e]); ``energy`` lines per carrier and use (``amount`` [the carrier's
        unit], ``energy_tce`` [tce], calorific value); ``offset`` lines per instrument
        (``category`` the instrument, ``tco2e`` offset). Each line carries its
        enterprise's ``zone`` and ``industry`` from the inventory's park definition.
    """
    ds = inventory.dataset("month")
    months = [str(m) for m in ds.period.values]
    ents = [str(e) for e in ds.enterprise.values]
    zones = [str(z) for z in ds.zone.values]
    industries = [str(i) for i in ds.industry.values]
    scopes = [int(s) for s in ds.scope.values]
    categories = [str(c) for c in ds.category.values]
    gases = [str(g) for g in ds.gas.values]
    carriers = [str(c) for c in ds.carrier.values]
    units = [str(u) for u in ds.carrier_unit.values]
    uses = [str(u) for u in ds.use.values]
    instruments = [str(i) for i in ds.instrument.values]

    def where(e: int) -> dict[str, str]:
        return {"enterprise": ents[e], "zone": zones[e], "industry": industries[e]}

    lines: list[dict[str, Any]] = []
    tco2e, mass = ds.emissions_tco2e.values, ds.emissions_t.values
    for p, e, s, c, g in np.argwhere((tco2e != 0) | (mass != 0)).tolist():
        lines.append(
            {
                "kind": "emission",
                "month": months[p],
                **where(e),
                "scope": scopes[s],
                "category": categories[c],
                "gas": gases[g],
                "amount": float(mass[p, e, s, c, g]),
                "unit": "t",
                "tco2e": float(tco2e[p, e, s, c, g]),
            }
        )
    physical, tce = ds.energy_physical.values, ds.energy_tce.values
    for p, e, k, u in np.argwhere(physical != 0).tolist():
        lines.append(
            {
                "kind": "energy",
                "month": months[p],
                **where(e),
                "carrier": carriers[k],
                "use": uses[u],
                "amount": float(physical[p, e, k, u]),
                "unit": units[k],
                "energy_tce": float(tce[p, e, k, u]),
            }
        )
    offsets = ds.offsets_tco2e.values
    for p, e, i in np.argwhere(offsets != 0).tolist():
        lines.append(
            {
                "kind": "offset",
                "month": months[p],
                **where(e),
                "category": instruments[i],
                "tco2e": float(offsets[p, e, i]),
            }
        )
    return lines


def save_inventory(
    store: Store,
    park: Park,
    period: str | Period,
    *,
    actor: str,
    as_of: dt.date | None = None,
    stored: bool = True,
) -> str:
    """Compute the inventory of ``park`` over ``period`` from the store and store it.

    The computation is :func:`~carbontwin.runtime.registry.account_history`'s: the stored
    15-min history, completed (with ``stored``) by the stored ledger entries of the
    sources the history does not cover, with the stored factor overrides. The document is
    ``Inventory.to_json(by="month")``; the lines are :func:`inventory_line_rows`. A newer
    inventory of the same park and period supersedes older ones.

    Parameters
    ----------
    store : Store
        Where the history, entries and overrides come from and the inventory goes.
    park : Park
        The park; with ``as_of``, its definition is loaded from the registry instead.
    period : str or Period
        The period, e.g. ``"2025-03"``, ``"2025"`` or ``"2025-03-01/2025-03-15"``.
    actor : str
        Who stores it (``computed_by``, the audit record).
    as_of : datetime.date, optional
        Take the park as registered on this day; by default ``park`` as given, recorded
        as of today.
    stored : bool, optional
        Add the stored ledger entries (default) or account the history alone.

    Returns
    -------
    str
        The stored inventory's id.

    Raises
    ------
    ValidationError
        If the store has no history of the park in the period.
    ConsistencyError
        If the park does not pass the strict checks.
    """
    p = parse_period(period) if isinstance(period, str) else period
    if as_of is not None:
        park = store.load_park(park.id, as_of)
    run = account_history(
        store,
        park,
        f"{p.start.isoformat()}/{p.end.isoformat()}",
        stored=stored,
        overrides=store.overrides(park.id),
    )
    inv = run.inventory
    document = inv.to_json(by="month")
    return store.save_inventory(
        park.id,
        p.start,
        p.end,
        as_of or dt.date.today(),
        document,
        inventory_line_rows(inv),
        actor,
    )


def save_monthly_inventories(
    store: Store,
    park: Park,
    year: int,
    actor: str,
    *,
    as_of: dt.date | None = None,
    stored: bool = True,
) -> dict[str, str]:
    """Store one inventory per month of ``year`` that has history in the store.

    Parameters
    ----------
    store : Store
        As for :func:`save_inventory`.
    park : Park
        The park.
    year : int
        The calendar year.
    actor : str
        Who stores them.
    as_of, stored : optional
        As for :func:`save_inventory`.

    Returns
    -------
    dict of str to str
        The inventory id of each month stored (``"2025-03"``); months without any
        stored history are left out.

    Raises
    ------
    ValidationError
        If no month of ``year`` has history.
    """
    saved: dict[str, str] = {}
    for month in range(1, 13):
        p = parse_period(f"{int(year)}-{month:02d}")
        if history_coverage(store, park, p.start, p.end) == 0.0:
            continue
        saved[p.label] = save_inventory(store, park, p, actor=actor, as_of=as_of, stored=stored)
    if not saved:
        msg = (
            f"the store has no simulated or metered history of {park.id} in {year}; run "
            f"'carbontwin simulate --start {year}-01-01 --days 365' or ingest readings first"
        )
        raise ValidationError(msg)
    return saved


def _month_span(month: str) -> tuple[dt.date, dt.date]:
    y, m = int(month[:4]), int(month[5:7])
    first = dt.date(y, m, 1)
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def _months(start: dt.date, end: dt.date) -> list[str]:
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def inventory_frame(
    store: Store,
    park_id: str,
    start: dt.date,
    end: dt.date,
    enterprises: Sequence[str] | None = None,
    *,
    strict: bool = True,
) -> pd.DataFrame:
    """Return the newest stored lines that cover the days ``start`` to ``end``.

    Lines are monthly. For each month the period touches, the lines come from the newest
    stored inventory (in chain order) whose period covers the same days of that month as
    the request: a monthly inventory answers a whole month, a yearly one any of its whole
    months, a half-month inventory only that half month.

    Parameters
    ----------
    store : Store
        The store.
    park_id : str
        The park.
    start, end : datetime.date
        First and last day, inclusive.
    enterprises : sequence of str, optional
        Only the lines of these enterprises.
    strict : bool, optional
        Raise when a month has no stored inventory covering it (default); with ``False``
        such months are left out of the frame.

    Returns
    -------
    pandas.DataFrame
        The columns of :meth:`carbontwin.store.Store.inventory_lines` (``inventory_id``
        naming the inventory each line comes from), ordered by month.

    Raises
    ------
    ValidationError
        If ``end`` is before ``start``.
    NotFoundError
        With ``strict``, if some month has no stored inventory covering it; the message
        names the months.
    """
    if end < start:
        msg = f"end(={end}) is before start(={start}); give the first and the last day"
        raise ValidationError(msg)
    stored = store.inventories(park_id, start, end)
    chosen: dict[str, str] = {}
    missing = []
    for month in _months(start, end):
        first, last = _month_span(month)
        want = (max(start, first), min(end, last))
        fits = [i for i in stored if (max(i["start"], first), min(i["end"], last)) == want]
        if not fits:
            missing.append(month)
            continue
        newest = max(fits, key=lambda i: (i["batch_id"] or 0, i["computed_at"]))
        chosen[month] = newest["id"]
    if missing and strict:
        msg = (
            f"park {park_id!r} has no stored inventory covering {start} to {end} in "
            f"{', '.join(missing)}; store them with save_inventory (or "
            "save_monthly_inventories for whole months)"
        )
        raise NotFoundError(msg)
    frame = cast(
        pd.DataFrame, store.inventory_lines(sorted(set(chosen.values())), enterprises, frame=True)
    )
    keep = frame["inventory_id"] == frame["month"].map(chosen)
    return frame[keep].sort_values("month", kind="stable").reset_index(drop=True)
