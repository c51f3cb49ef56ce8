"""Use cases over the store: keep the park registry, import activity, override factors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError

from carbontwin.accounting import FactorLibrary, check_park
from carbontwin.accounting.factors import factor_unit
from carbontwin.accounting.validation import ValidationResult
from carbontwin.connectors.files import FolderSync
from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.core.park import Park
from carbontwin.core.records import ActivityEntry, FactorOverride
from carbontwin.core.time import parse_period
from carbontwin.core.units import conversion_factor
from carbontwin.runtime import accounting as uc
from carbontwin.store import NotFoundError, Store

__all__ = [
    "KIND_LISTS",
    "account_history",
    "file_sync",
    "import_files",
    "open_store",
    "record_enterprise",
    "register_park",
    "retire_record",
    "serving_park",
    "set_override",
    "stored_inputs",
    "upsert_record",
]


#: Registry kinds and the park's list that holds them.
KIND_LISTS: dict[str, str] = {
    "zone": "zones",
    "enterprise": "enterprises",
    "facility": "facilities",
    "source": "sources",
    "point": "points",
    "asset": "assets",
}


def serving_park(store: Store, spec: str | Path, user: str = "api") -> Park:
    """Return the park a server serves: its stored current definition, else ``spec``'s.

    A park seen for the first time is registered; afterwards the registry, which the API
    edits, is the truth and the file only names the park.
    """
    park = uc.resolve_park(spec)
    if park.id in store.parks():
        return store.load_park(park.id, dt.date.today())
    register_park(store, park, user)
    return park


def record_enterprise(kind: str, record: object) -> str | None:
    """Return the enterprise a registry record belongs to (``None`` for park-level ones)."""
    if kind == "enterprise":
        return getattr(record, "id", None)
    return getattr(record, "enterprise", None)


def _edit(
    store: Store, park: Park, items: dict[str, list[object]], user: str, note: str, on: dt.date
) -> Park:
    data = park.model_dump(mode="json")
    for attr, values in items.items():
        data[attr] = [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in values]
    try:
        new = Park.model_validate(data)
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        msg = f"the change would make the park invalid — {problems}"
        raise ValidationError(msg) from None
    broken = new.cross_reference_problems()
    if broken:
        listed = "; ".join(f"{where}: {what}" for where, what in broken)
        msg = f"the change would break references of the park — {listed}"
        raise ValidationError(msg)
    store.save_park(new, on, changed_by=user, note=note)
    return new


def upsert_record(
    store: Store,
    park: Park,
    kind: str,
    record: dict[str, object],
    *,
    user: str,
    create: bool,
    on: dt.date | None = None,
) -> Park:
    """Create (``create``) or replace a registry record, versioned from ``on`` (today).

    Returns the park as changed. Raises ``ValidationError`` if the record or the park it
    makes is invalid, ``ConsistencyError`` if a created id exists or a replaced one does
    not.
    """
    attr = KIND_LISTS[kind]
    items = list(getattr(park, attr))
    rid = record.get("id")
    ids = [i.id for i in items]
    if create and rid in ids:
        msg = f"{kind} {rid!r} exists already; change it with PUT instead"
        raise ConsistencyError(msg)
    if not create and rid not in ids:
        msg = f"there is no {kind} {rid!r} to change; create it with POST"
        raise ConsistencyError(msg)
    if create:
        items.append(record)
    else:
        items[ids.index(rid)] = record
    verb = "created" if create else "changed"
    return _edit(store, park, {attr: items}, user, f"{kind} {rid} {verb}", on or dt.date.today())


def retire_record(
    store: Store, park: Park, kind: str, record_id: str, *, user: str, on: dt.date | None = None
) -> Park:
    """Retire a registry record from ``on`` (today): its versions stay in the history.

    An enterprise is retired with its exit date set and stays listed; other records leave
    the park. Records that still refer to a removed one make the retirement fail.
    """
    on = on or dt.date.today()
    attr = KIND_LISTS[kind]
    items = list(getattr(park, attr))
    ids = [i.id for i in items]
    if record_id not in ids:
        msg = f"there is no {kind} {record_id!r} to retire"
        raise NotFoundError(msg)
    if kind == "enterprise":
        items[ids.index(record_id)] = items[ids.index(record_id)].model_copy(
            update={"exit_date": on}
        )
    else:
        del items[ids.index(record_id)]
    return _edit(store, park, {attr: items}, user, f"{kind} {record_id} retired", on)


def open_store(url: str | None = None) -> Store:
    """Open (and migrate) the store at ``url``; the embedded SQLite file by default."""
    return Store.open(url)


def register_park(
    store: Store, park: Park, user: str = "cli", valid_from: dt.date | None = None
) -> int:
    """Record the park definition in the versioned registry; returns versions written.

    The first registration is valid from the earliest enterprise entry date; later
    ones from ``valid_from`` (default today), so the registry keeps each past state.
    """
    if valid_from is None:
        if park.id in store.parks():
            valid_from = dt.date.today()
        else:
            dates = [e.entry_date for e in park.enterprises if e.entry_date]
            valid_from = min(dates) if dates else dt.date.today()
    return store.save_park(park, valid_from, changed_by=user, note="registered from file")


def import_files(
    store: Store, park: Park, files: Sequence[str | Path], user: str = "cli"
) -> dict[str, int]:
    """Validate activity files against what is stored and store the good rows.

    Bad rows are quarantined with their reasons and the import is audited. Returns the
    validation summary.
    """
    return _import(store, park, files, user).summary()


def _import(store: Store, park: Park, files: Sequence[str | Path], user: str) -> ValidationResult:
    register_park(store, park, user)
    lo, hi = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
    existing = store.entries(park.id, lo, hi)
    result = uc.import_activity(park, files, existing=existing)
    batch = f"import-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}"
    if result.entries:
        store.add_entries(park.id, result.entries, batch_id=batch)
    if result.quarantine:
        store.quarantine(park.id, result.quarantine)
    store.audit(
        user,
        "import",
        f"park:{park.id}",
        {"files": [str(f) for f in files], "batch": batch, "summary": result.summary()},
    )
    return result


def stored_inputs(
    store: Store,
    park_spec: str,
    park_id: str | None,
    as_of: dt.date | None,
    period: str,
    stored: bool,
) -> tuple[Park, list[ActivityEntry], list[FactorOverride]]:
    """Return the park (as of a date when given), stored entries and overrides."""
    park = uc.resolve_park(park_spec)
    if as_of is not None:
        park = store.load_park(park_id or park.id, as_of)
    p = parse_period(period)
    entries = store.entries(park.id, p.start, p.end) if stored else []
    return park, entries, store.overrides(park.id)


def set_override(
    store: Store,
    park: Park,
    *,
    key: str,
    value: float,
    unit: str,
    reason: str,
    applies_to: str = "park",
    target: str = "",
    valid_from: str | None = None,
    valid_to: str | None = None,
    source: str = "",
    user: str = "cli",
) -> FactorOverride:
    """Store a factor override (audited by the store) and return it with its id."""
    lib = FactorLibrary.builtin()
    rows = lib.find(key)
    if not rows:
        msg = f"no factor {key!r} in the library; see 'carbontwin factors list'"
        raise KeyError(msg)
    conversion_factor(factor_unit(unit), factor_unit(rows[0].unit))  # same dimension
    if applies_to == "enterprise":
        park.enterprise(target)
    elif applies_to == "source":
        park.source(target)
    o = FactorOverride(
        factor=key,
        value=value,
        unit=unit,
        applies_to=applies_to,
        target=target,
        reason=reason,
        source=source,
        created_by=user,
        valid_from=dt.date.fromisoformat(valid_from) if valid_from else None,
        valid_to=dt.date.fromisoformat(valid_to) if valid_to else None,
    )
    register_park(store, park, user)
    oid = store.add_override(park.id, o, actor=user)
    return o.model_copy(update={"id": oid})


def account_history(
    store: Store,
    park: Park,
    period: str,
    *,
    activity: Sequence[str | Path] = (),
    stored: bool = False,
    overrides: Sequence[FactorOverride] = (),
) -> uc.AccountRun:
    """Account ``park`` from its simulated (metered) history in ``store``.

    Ledger rows, from ``activity`` files and, with ``stored``, from the store, complete
    the sources the history does not cover; rows of metered streams are dropped so
    nothing counts twice. The park is checked strictly first.
    """
    from carbontwin.runtime.simulate import account_simulated, history_coverage

    p = parse_period(period)
    coverage = history_coverage(store, park, p.start, p.end)
    if coverage == 0.0:
        msg = (
            f"the store has no simulated or metered history of {park.id} for {p.label}; "
            f"run 'carbontwin simulate --start {p.start} --days {p.days}' first"
        )
        raise ValidationError(msg)
    entries = store.entries(park.id, p.start, p.end) if stored else []
    validation = uc.import_activity(park, activity, existing=entries, period=p)
    check_park(park, strict=True)
    inv = account_simulated(
        store, park, p, entries=[*entries, *validation.entries], overrides=overrides
    )
    if coverage < 1.0:
        inv.warnings.append(
            f"stored history covers {coverage:.1%} of the quarter-hours of {p.label}; missing "
            "quarter-hours count as zero, so the inventory is incomplete"
        )
    return uc.AccountRun(park, p, inv, validation)


def file_sync(store: Store, park: Park, folder: str | Path, user: str = "file-sync") -> FolderSync:
    """Return a :class:`FolderSync` on ``folder`` that imports each file into ``store``.

    Good rows land, bad rows are quarantined with their reasons, the import is audited,
    and the file moves to ``processed/`` or ``rejected/`` with its result beside it.
    """

    def handle(path: Path) -> tuple[str, dict[str, int], list[dict[str, str]]]:
        result = _import(store, park, [path], user)
        summary = result.summary()
        reasons = [{"rule": q.rule, "reason": q.reason, "ref": q.ref} for q in result.quarantine]
        unreadable = any(q.rule == "file" for q in result.quarantine) and not result.entries
        return ("rejected" if unreadable else "processed"), summary, reasons

    return FolderSync(folder, handle)
