"""Enterprises of the park registry as people see and edit them (the dashboard's Park page).

A thin layer over :mod:`carbontwin.runtime.registry`: the same :func:`upsert_record` and
:func:`retire_record` the API uses, plus what a form needs before them — the principal's
permission and scope, required text that is not blank, an id the API would accept, no
change dated in the future, no second retirement — and the rows of the enterprise list
and of one enterprise's version history. Every refusal is one of :data:`EDIT_ERRORS`, its
message saying what is wrong and what to do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.core.park import Enterprise, Park
from carbontwin.runtime import registry as reg
from carbontwin.runtime.access import AccessDenied, Principal
from carbontwin.store import Store
from carbontwin.store.errors import StoreError

__all__ = [
    "EDITABLE",
    "EDIT_ERRORS",
    "check_day",
    "enterprise_history",
    "enterprise_rows",
    "is_retired",
    "retire_enterprise",
    "save_enterprise",
    "visible_enterprises",
]

#: The enterprise fields a person edits in the form (``id`` only when creating).
EDITABLE = ("name", "name_zh", "uscc", "industry", "zone", "entry_date", "key_emitter")
#: Fields that may not be blank.
REQUIRED = ("id", "name", "uscc", "industry", "zone")
#: The ids the API accepts in its URLs (``RecordId`` of the registry routes).
RECORD_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
#: What a refused edit raises: a bad value, a conflict, a missing record, the database,
#: or the principal's role or scope.
EDIT_ERRORS: tuple[type[Exception], ...] = (ValueError, StoreError, AccessDenied)


def is_retired(enterprise: Enterprise, today: dt.date | None = None) -> bool:
    """Whether ``enterprise`` has left the park by ``today`` (its exit date has come)."""
    today = today or dt.date.today()
    return enterprise.exit_date is not None and enterprise.exit_date <= today


def visible_enterprises(
    who: Principal, park: Park, *, retired: bool = False, today: dt.date | None = None
) -> list[Enterprise]:
    """Return the enterprises ``who`` may see, in the park's order; retired ones if asked."""
    who.require("registry.read")
    allowed = who.enterprises(e.id for e in park.enterprises)
    return [
        e for e in park.enterprises if e.id in allowed and (retired or not is_retired(e, today))
    ]


def enterprise_rows(
    who: Principal, park: Park, *, retired: bool = False, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """One row per enterprise ``who`` may see: its key fields and ``retired``."""
    rows = []
    for e in visible_enterprises(who, park, retired=retired, today=today):
        rows.append(
            {
                "id": e.id,
                "name": e.name,
                "name_zh": e.name_zh,
                "zone": e.zone,
                "industry": e.industry,
                "uscc": e.uscc,
                "key_emitter": e.key_emitter,
                "entry_date": e.entry_date.isoformat() if e.entry_date else "",
                "exit_date": e.exit_date.isoformat() if e.exit_date else "",
                "retired": is_retired(e, today),
            }
        )
    return rows


def check_day(on: dt.date | None, today: dt.date | None = None) -> dt.date:
    """Return the day a change takes effect: ``on``, today by default, never in the future.

    The registry serves one current definition of the park, so a change dated ahead would
    be current at once (the API refuses it the same way).
    """
    today = today or dt.date.today()
    if on is None:
        return today
    if isinstance(on, dt.datetime):
        on = on.date()
    if on > today:
        msg = (
            f"the valid-from date {on} is in the future; a registry change takes effect today "
            "or on a past day — make it on the day it applies"
        )
        raise ValidationError(msg)
    return on


def _clean(fields: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key in ("id", *EDITABLE):
        if key not in fields:
            continue
        value = fields[key]
        if isinstance(value, str):
            value = value.strip()
        elif isinstance(value, dt.datetime):
            value = value.date().isoformat()
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[key] = value
    blank = [k for k in REQUIRED if k in out and out[k] in ("", None)]
    if "id" not in out:
        blank.insert(0, "id")
    if blank:
        msg = f"{', '.join(blank)} may not be empty; fill in every required field"
        raise ValidationError(msg)
    rid = str(out["id"])
    if not RECORD_ID.match(rid):
        msg = (
            f"enterprise id {rid!r} is not valid; use up to 64 letters, digits and . _ : - "
            "(no spaces), e.g. 'E11'"
        )
        raise ValidationError(msg)
    return out


def save_enterprise(
    store: Store,
    park: Park,
    who: Principal,
    fields: Mapping[str, object],
    *,
    create: bool,
    on: dt.date | None = None,
) -> Park:
    """Create (``create``) or change an enterprise from a form's ``fields``; return the park.

    ``fields`` holds ``id`` and any of :data:`EDITABLE`; a change keeps the fields it does
    not name (exit date, contacts). The change is a new version from ``on`` (today).

    Raises
    ------
    AccessDenied
        Unless ``who`` may write the registry (and, if scoped, the enterprise is its own).
    ValidationError
        If a required field is blank, the id is not valid, ``on`` is in the future, or
        the enterprise or the park it makes is invalid (unknown zone, bad code ...).
    ConsistencyError
        If a created id exists, a changed one does not, or ``on`` is before the park's
        latest stored change.
    """
    who.require("registry.write")
    record = _clean(fields)
    rid = str(record["id"])
    who.check_enterprise(rid)
    day = check_day(on)
    ids = [e.id for e in park.enterprises]
    if create and rid in ids:
        msg = f"enterprise {rid!r} exists already; choose another id, or select it to change it"
        raise ConsistencyError(msg)
    if not create:
        if rid not in ids:
            msg = f"there is no enterprise {rid!r} to change; create it instead"
            raise ConsistencyError(msg)
        record = {**park.enterprise(rid).model_dump(mode="json"), **record}
    return reg.upsert_record(
        store, park, "enterprise", record, user=who.name, create=create, on=day
    )


def retire_enterprise(
    store: Store, park: Park, who: Principal, enterprise_id: str, *, on: dt.date | None = None
) -> Park:
    """Retire an enterprise from ``on`` (today): its exit date is set, its versions stay.

    Raises ``AccessDenied`` unless ``who`` may write the registry, ``NotFoundError`` if
    there is no such enterprise, ``ValidationError`` if it is retired already or ``on``
    is in the future.
    """
    who.require("registry.write")
    who.check_enterprise(enterprise_id)
    day = check_day(on)
    for e in park.enterprises:
        if e.id == enterprise_id and e.exit_date is not None and e.exit_date <= day:
            msg = f"enterprise {enterprise_id!r} is retired already (exit date {e.exit_date})"
            raise ValidationError(msg)
    return reg.retire_record(store, park, "enterprise", enterprise_id, user=who.name, on=day)


def _shown(value: object) -> str:
    if value is None or value == "":
        return "—"
    return str(value)


def enterprise_history(
    store: Store, park_id: str, who: Principal, enterprise_id: str
) -> list[dict[str, Any]]:
    """Return every version of one enterprise, oldest first, and what each one changed.

    Rows hold ``valid_from``, ``valid_to`` (``None`` for the current version),
    ``changed_by``, ``changed_at``, ``note`` and ``changes`` (``field: old → new; ...``,
    empty for the first version). ``AccessDenied`` if the enterprise is not ``who``'s to
    see.
    """
    who.require("registry.read")
    who.check_enterprise(enterprise_id)
    rows = []
    before: dict[str, Any] | None = None
    for v in store.history(park_id, "enterprise", enterprise_id):
        data = v["data"]
        changes = ""
        if before is not None:
            keys = [k for k in data if k != "id"] + [k for k in before if k not in data]
            changes = "; ".join(
                f"{k}: {_shown(before.get(k))} → {_shown(data.get(k))}"
                for k in keys
                if before.get(k) != data.get(k)
            )
        rows.append(
            {
                "valid_from": v["valid_from"],
                "valid_to": v["valid_to"],
                "changed_by": v["changed_by"],
                "changed_at": v["changed_at"],
                "note": v["note"],
                "changes": changes,
            }
        )
        before = data
    return rows
