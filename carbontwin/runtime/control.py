"""Setpoints issued to the park's controllable assets, and what became of them.

A setpoint names one of the twin's controllable inputs (``<asset>.<name>``, see
:func:`carbontwin.twin.control.setpoints`), a value within its limits and how long it is
valid (15 minutes by default, at most a day; OpenEMS-style: a silent platform's commands
expire and devices return to local control). It waits as ``pending`` until the park's
integration fetches it (``delivered``), and the integration reports it applied
(``acknowledged``, with the value read back) or not (``failed``). Every step is audited.

Examples
--------
>>> from carbontwin.runtime.accounting import resolve_park
>>> from carbontwin.store import Store
>>> park = resolve_park("demo")
>>> with Store.open("sqlite://") as store:
...     [s["status"] for s in issue_setpoints(store, park, [
...         {"setpoint": "A-E03-BESS.power_kw", "value": -200}], actor="wang")]
['pending']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.store import Store
from carbontwin.twin.control import Setpoint, setpoints

__all__ = ["DEFAULT_VALIDITY", "MAX_VALIDITY", "controllable", "issue_setpoints", "setpoint_owner"]

DEFAULT_VALIDITY = dt.timedelta(minutes=15)
MAX_VALIDITY = dt.timedelta(days=1)


def controllable(park: Park) -> dict[str, Setpoint]:
    """Return the park's controllable inputs by name."""
    return setpoints(park)


def setpoint_owner(park: Park, name: str) -> str | None:
    """Return the enterprise whose asset a setpoint drives (``None`` if park-level)."""
    asset = name.split(".", 1)[0]
    for a in park.assets:
        if a.id == asset:
            return a.enterprise
    return None


def issue_setpoints(
    store: Store,
    park: Park,
    commands: Sequence[Mapping[str, Any]],
    *,
    actor: str,
    client: str = "",
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Check and store setpoint commands; all or nothing.

    Parameters
    ----------
    commands : sequence of mapping
        ``setpoint`` (name), ``value`` [the setpoint's unit], optionally ``valid_for_s``,
        ``reason`` and ``strategy``.

    Raises
    ------
    ValidationError
        If a setpoint is unknown, a value is outside its limits or a validity is not
        between 1 s and a day; the message names the command.
    """
    now = now or dt.datetime.now(dt.UTC)
    known = controllable(park)
    rows = []
    for n, c in enumerate(commands, start=1):
        name = str(c.get("setpoint", ""))
        sp = known.get(name)
        if sp is None:
            msg = (
                f"command {n}: {name!r} is not a controllable input of park {park.id!r}; "
                "list them at /api/v1/setpoints/controllable"
            )
            raise ValidationError(msg)
        value = float(c["value"])
        if not sp.lo <= value <= sp.hi:
            msg = (
                f"command {n}: {value:g} {sp.unit} is outside the limits of {name} "
                f"({sp.lo:g} to {sp.hi:g} {sp.unit}); nothing was issued"
            )
            raise ValidationError(msg)
        valid = dt.timedelta(seconds=float(c.get("valid_for_s") or DEFAULT_VALIDITY.seconds))
        if not dt.timedelta(seconds=1) <= valid <= MAX_VALIDITY:
            msg = f"command {n}: valid_for_s must be between 1 and {MAX_VALIDITY.days * 86400}"
            raise ValidationError(msg)
        rows.append(
            {
                "point": name,
                "value": value,
                "unit": sp.unit,
                "valid_until": now + valid,
                "reason": str(c.get("reason") or ""),
                "strategy": c.get("strategy"),
            }
        )
    return store.add_setpoints(park.id, rows, actor=actor, client=client)
