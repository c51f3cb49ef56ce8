"""Alarms, for the API and the dashboard alike.

Two sources: the live twin — a point gone silent, no reading for ``stale_factor`` of its
intervals (the twin state's rule), open while it lasts and never stored — and the store,
where the anomaly detectors' alarms are kept, acknowledged and closed
(:class:`~carbontwin.store.alarms.AlarmsMixin`). Each alarm names the point, its
enterprise, a severity and a message in English and Chinese; :func:`alarm_list` gives both
kinds, as far as the caller may see, and :func:`handle_alarm` acknowledges or closes a
stored one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.runtime.access import Principal, visible_points
from carbontwin.store import NotFoundError, Store
from carbontwin.twin.state import TwinState

__all__ = ["Alarm", "alarm_list", "handle_alarm", "open_alarms"]


@dataclass(frozen=True)
class Alarm:
    """An alarm: of the live state (``id`` None, never stored) or a stored one."""

    kind: str
    severity: str
    point: str
    enterprise: str
    message: dict[str, str]
    since: dt.datetime | None
    age_s: float
    id: int | None = None
    status: str = "open"
    count: int = 1
    score: float | None = None
    acknowledged_by: str | None = None
    closed_by: str | None = None
    note: str = ""


def open_alarms(
    state: TwinState | None,
    park: Park,
    points: Iterable[str] | None = None,
    now: pd.Timestamp | None = None,
) -> list[Alarm]:
    """Return the open alarms of ``points`` (all by default), oldest silence first.

    Parameters
    ----------
    state : TwinState or None
        The live state (no state, no alarms).
    park : Park
        For each point's enterprise.
    points : iterable of str, optional
        The points the caller may see.
    now : pandas.Timestamp, optional
        The platform's time (the live demo's accelerated clock); the wall clock by default.
    """
    if state is None:
        return []
    snap = state.snapshot(now)
    allowed = set(points) if points is not None else None
    owner = {p.id: p.enterprise for p in park.points}
    out = []
    for pid, row in snap.iterrows():
        ts = row["ts"]
        if (
            not row["stale"]
            or ts is None
            or ts != ts
            or (allowed is not None and pid not in allowed)
        ):
            continue
        age = float(row["age_s"]) if math.isfinite(float(row["age_s"])) else 0.0
        out.append(
            Alarm(
                kind="stale",
                severity="warning",
                point=str(pid),
                enterprise=owner.get(str(pid), ""),
                message={
                    "en": f"no reading from {pid} for {age:.0f} s",
                    "zh": f"计量点 {pid} 已 {age:.0f} 秒无数据",
                },
                since=ts.to_pydatetime(),
                age_s=age,
            )
        )
    return sorted(out, key=lambda a: -a.age_s)


def _stored(row: dict) -> Alarm:
    return Alarm(
        kind=row["kind"],
        severity=row["severity"],
        point=row["point"],
        enterprise=row["enterprise"],
        message={"en": row["message_en"], "zh": row["message_zh"] or row["message_en"]},
        since=row["reading_ts"],
        age_s=0.0,
        id=row["id"],
        status=row["status"],
        count=row["count"],
        score=row["score"],
        acknowledged_by=row["acknowledged_by"],
        closed_by=row["closed_by"],
        note=row["note"],
    )


def alarm_list(
    store: Store,
    state: TwinState | None,
    park: Park,
    who: Principal,
    *,
    now: pd.Timestamp | None = None,
    closed: bool = False,
) -> list[Alarm]:
    """Return the alarms ``who`` may see: the live state's, then the stored ones, newest first.

    Parameters
    ----------
    closed : bool
        Include closed stored alarms.
    """
    who.require("alarms.read")
    points = visible_points(who, park)
    live = open_alarms(state, park, points, now)
    status = None if closed else ["open", "acknowledged"]
    stored = [_stored(r) for r in store.alarms(park.id, status=status, points=points)]
    return [*live, *stored]


def handle_alarm(
    store: Store, park: Park, who: Principal, alarm_id: int, action: str, note: str = ""
) -> Alarm:
    """Acknowledge (``action="acknowledge"``) or close (``"close"``, with a note) an alarm.

    Raises
    ------
    AccessDenied
        Unless ``who`` may handle alarms.
    NotFoundError
        If there is no such alarm in ``park`` among the points ``who`` may see.
    ValidationError, ConsistencyError
        For an unknown action, a close without a note, or an alarm closed already.
    """
    who.require("alarms.handle")
    statuses = {"acknowledge": "acknowledged", "close": "closed"}
    if action not in statuses:
        msg = f"an alarm is acknowledged or closed; got action {action!r}"
        raise ValidationError(msg)
    row = store.alarm(alarm_id)
    if row["park_id"] != park.id or row["point"] not in set(visible_points(who, park)):
        msg = f"there is no alarm {alarm_id} in park {park.id!r} that you may see"
        raise NotFoundError(msg)
    return _stored(store.update_alarm(alarm_id, statuses[action], actor=who.name, note=note))
