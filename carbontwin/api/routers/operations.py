"""Operations: the live twin's state, alarms, and the quarantine of rows that did not land.

An emission unit sees its own enterprise's points, alarms and quarantined rows; rows whose
enterprise cannot be told (a message that could not be decoded) are shown to park-wide
roles only.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from carbontwin.api.dependencies import ApiContext, context, require
from carbontwin.api.schemas import CONFLICT, DENIED, INVALID, NOT_FOUND
from carbontwin.core.park import Park
from carbontwin.runtime.access import Principal, visible_points
from carbontwin.runtime.alarms import alarm_list, handle_alarm
from carbontwin.store import NotFoundError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["operations"])

Ctx = Annotated[ApiContext, Depends(context)]


class PointState(BaseModel):
    """The live state of one metering point."""

    point: str
    enterprise: str
    value: float | None = Field(description="last value [unit]")
    unit: str
    quality: int = Field(description="-1 before the first reading")
    ts: dt.datetime | None
    age_s: float | None
    power: float | None = Field(description="[unit / h]")
    stale: bool


class TwinOut(BaseModel):
    """The live state of the points the caller may see."""

    now: dt.datetime
    points: list[PointState]


class Alarm(BaseModel):
    """An alarm: of the live state (``id`` null: a point gone silent) or a stored one."""

    id: int | None = Field(None, description="the stored alarm's id; null for a live one")
    kind: str = Field(description="stale: no reading for three intervals; else the detector's")
    severity: str
    point: str
    enterprise: str
    message: dict[str, str] = Field(description="en and zh")
    since: dt.datetime | None
    status: str = Field("open", description="open, acknowledged or closed")
    count: int = Field(1, description="times the anomaly was seen while the alarm was open")
    score: float | None = None
    acknowledged_by: str | None = None
    closed_by: str | None = None
    note: str = ""


class AlarmNote(BaseModel):
    """What was found and done (required to close)."""

    note: str = Field("", max_length=2000)


class QuarantinedOut(BaseModel):
    """A row held back, with the rule it broke and why."""

    id: int
    rule: str
    reason: str
    origin: str
    ref: str
    row: dict[str, Any]
    enterprise: str | None
    created_at: dt.datetime
    released_at: dt.datetime | None
    released_by: str | None


def _num(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _states(who: Principal, ctx: ApiContext) -> list[PointState]:
    if ctx.ingestor.state is None:
        return []
    snap = ctx.ingestor.state.snapshot()
    allowed = set(visible_points(who, ctx.park))
    owner = {p.id: p.enterprise for p in ctx.park.points}
    out = []
    for pid, row in snap.iterrows():
        if pid not in allowed:
            continue
        ts = row["ts"]
        out.append(
            PointState(
                point=str(pid),
                enterprise=owner[str(pid)],
                value=_num(row["value"]) if row["quality"] >= 0 else None,
                unit=row["unit"],
                quality=int(row["quality"]),
                ts=None if ts is None or ts != ts else ts.to_pydatetime(),
                age_s=_num(row["age_s"]),
                power=_num(row["power"]),
                stale=bool(row["stale"]),
            )
        )
    return out


@router.get("/twin/state", response_model=TwinOut, responses=DENIED)
def twin_state(who: Annotated[Principal, Depends(require("twin.read"))], ctx: Ctx) -> TwinOut:
    """Return the live value, age and quality of every point the caller may see."""
    with ctx.lock:
        points = _states(who, ctx)
    return TwinOut(now=dt.datetime.now(dt.UTC), points=points)


@router.get("/alarms", response_model=list[Alarm], responses=DENIED)
def alarms(
    who: Annotated[Principal, Depends(require("alarms.read"))],
    ctx: Ctx,
    closed: Annotated[bool, Query(description="include closed stored alarms")] = False,
) -> list[Alarm]:
    """Return the alarms: points gone silent (live), then the stored ones, newest first."""
    with ctx.lock:
        found = alarm_list(ctx.store, ctx.ingestor.state, ctx.park, who, closed=closed)
    return [_alarm_out(a) for a in found]


def _alarm_out(a: object) -> Alarm:
    return Alarm(
        id=a.id,
        kind=a.kind,
        severity=a.severity,
        point=a.point,
        enterprise=a.enterprise,
        message=a.message,
        since=a.since,
        status=a.status,
        count=a.count,
        score=a.score,
        acknowledged_by=a.acknowledged_by,
        closed_by=a.closed_by,
        note=a.note,
    )


@router.post(
    "/alarms/{alarm_id}/{action}",
    response_model=Alarm,
    responses={**DENIED, **INVALID, **NOT_FOUND, **CONFLICT},
)
def handle(
    alarm_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    action: Annotated[str, Path(pattern="^(acknowledge|close)$")],
    body: AlarmNote,
    who: Annotated[Principal, Depends(require("alarms.handle"))],
    ctx: Ctx,
) -> Alarm:
    """Acknowledge a stored alarm, or close it with a note of what was found and done."""
    return _alarm_out(handle_alarm(ctx.store, ctx.park, who, alarm_id, action, body.note))


def _owners(park: Park) -> dict[str, dict[str, str]]:
    """Return the enterprise of each point and source, by the row key that names them."""
    return {
        "point": {p.id: p.enterprise for p in park.points},
        "source": {s.id: s.enterprise for s in park.sources},
    }


def _row_enterprise(owners: dict[str, dict[str, str]], row: dict[str, Any]) -> str | None:
    data = row.get("row") or {}
    for key, table in owners.items():
        value = data.get(key)
        if isinstance(value, str) and value in table:
            return table[value]
    return None


@router.get("/quarantine", response_model=list[QuarantinedOut], responses={**DENIED, **INVALID})
def quarantine(
    who: Annotated[Principal, Depends(require("quarantine.read"))],
    ctx: Ctx,
    include_released: bool = False,
) -> list[QuarantinedOut]:
    """Return the rows held in quarantine with their rules and reasons, oldest first."""
    out = []
    owners = _owners(ctx.park)
    for q in ctx.store.quarantined(ctx.park.id, include_released=include_released):
        ent = _row_enterprise(owners, q)
        if who.scoped and ent != who.enterprise:
            continue
        out.append(
            QuarantinedOut(
                enterprise=ent,
                **{k: q[k] for k in QuarantinedOut.model_fields if k != "enterprise"},
            )
        )
    return out


@router.post(
    "/quarantine/{quarantine_id}/release",
    status_code=204,
    responses={**DENIED, **INVALID, **NOT_FOUND, **CONFLICT},
)
def release(
    quarantine_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    who: Annotated[Principal, Depends(require("quarantine.release"))],
    ctx: Ctx,
) -> None:
    """Mark a quarantined row dealt with (it stays, marked, with who released it)."""
    held = {q["id"] for q in ctx.store.quarantined(ctx.park.id)}
    if quarantine_id not in held:
        msg = f"there is no open quarantined row {quarantine_id} in park {ctx.park.id!r}"
        raise NotFoundError(msg)
    ctx.store.release(quarantine_id, who.name)
