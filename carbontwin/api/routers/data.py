"""Readings and activity data: query, push and manual entry (CECS 5.4, D5).

An emission unit reads and enters only its own enterprise's points and sources; a row for
another enterprise's source refuses the whole request (nothing is stored) and names the
row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from carbontwin.api.dependencies import ApiContext, ApiError, context, require
from carbontwin.api.schemas import DENIED, INVALID, NOT_FOUND
from carbontwin.runtime import push
from carbontwin.runtime.access import Principal, visible_sources
from carbontwin.runtime.simulate import history_series
from carbontwin.store import NotFoundError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["data"])

Ctx = Annotated[ApiContext, Depends(context)]
MAX_READINGS = 100_000


class ReadingsOut(BaseModel):
    """Readings of one point, oldest first: parallel arrays."""

    point: str
    series: str = Field(
        description="'raw' (as received) or '15min' (each quarter-hour's amount, labelled by "
        "its start; the mean for instantaneous points)"
    )
    unit: str
    ts: list[int] = Field(description="ms since 1970-01-01 UTC")
    value: list[float] = Field(description="[unit]")
    quality: list[int]


class ReadingIn(BaseModel):
    """A reading pushed by an integration."""

    model_config = ConfigDict(extra="forbid")
    point: str = Field(min_length=1, max_length=64)
    ts: int = Field(ge=0, le=32_503_680_000_000, description="ms since 1970-01-01 UTC")
    value: float = Field(allow_inf_nan=False)
    q: int = Field(0, ge=-32768, le=32767, description="quality code (0 good)")


class PushOut(BaseModel):
    """What became of pushed readings."""

    received: int
    stored: int
    duplicate: int
    quarantined: int
    rules: dict[str, int]


class EntryRow(BaseModel):
    """One activity row, as in an activity file; checked by the same validation."""

    model_config = ConfigDict(extra="forbid")
    source: str | None = Field(None, max_length=64, description="emission source id")
    stream: str | None = Field(None, max_length=64, description="stream ('' for the main one)")
    start: str | None = Field(None, max_length=32, description="first day, YYYY-MM-DD")
    end: str | None = Field(None, max_length=32, description="last day, YYYY-MM-DD, inclusive")
    # Strict numbers: JSON true/false is not a quantity (lax mode would read it as 1 or 0).
    quantity: StrictInt | StrictFloat | str | None = Field(None, description="amount [unit]")
    unit: str | None = Field(None, max_length=32, description="unit of quantity, e.g. t, kWh")
    ref: str | None = Field(None, max_length=500, description="where the number comes from")
    quality: str | None = Field(None, max_length=16, description="measured, invoice, estimated")


class LandedOut(BaseModel):
    """A row that was stored, its quantity converted to the stream's canonical unit."""

    row: int = Field(description="1-based position in the request")
    id: str
    source: str
    stream: str
    start: dt.date
    end: dt.date
    quantity: float = Field(description="amount [unit]")
    unit: str


class QuarantinedOut(BaseModel):
    """A row that was quarantined, with the rule it broke and why."""

    row: int = Field(description="1-based position in the request")
    rule: str
    reason: str
    ref: str


class EntriesOut(BaseModel):
    """Which pushed rows landed and which were quarantined."""

    batch: str
    summary: dict[str, int]
    landed: list[LandedOut]
    quarantined: list[QuarantinedOut]


class EntryOut(BaseModel):
    """A stored activity entry."""

    id: str
    enterprise: str
    source: str
    stream: str
    start: dt.date
    end: dt.date
    quantity: float
    unit: str
    origin: str
    quality: str
    ref: str
    entered_by: str


def _ms(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)


@router.get("/readings", response_model=ReadingsOut, responses={**DENIED, **INVALID, **NOT_FOUND})
def readings(
    who: Annotated[Principal, Depends(require("readings.read"))],
    ctx: Ctx,
    point: Annotated[str, Query(min_length=1, max_length=64)],
    start: Annotated[dt.datetime, Query(description="from (ISO 8601; UTC when no offset)")],
    end: Annotated[dt.datetime, Query(description="to, excluded")],
    series: Annotated[str, Query(pattern="^(raw|15min)$")] = "raw",
) -> ReadingsOut:
    """Return the readings of a point in a time range (at most 100,000)."""
    try:
        p = ctx.park.point(point)
    except KeyError:
        msg = f"there is no metering point {point!r} in park {ctx.park.id!r}"
        raise NotFoundError(msg) from None
    who.check_enterprise(p.enterprise)
    lo, hi = _ms(start), _ms(end)
    if hi <= lo:
        raise ApiError(422, "invalid_request", "end must be after start")
    key = point if series == "raw" else history_series(point)
    rows = ctx.store.readings(key, lo, hi)
    if len(rows) > MAX_READINGS:
        msg = f"{len(rows)} readings are in the range; ask for at most {MAX_READINGS} at once"
        raise ApiError(422, "too_many", msg)
    return ReadingsOut(
        point=point,
        series=series,
        unit=p.unit,
        ts=[r[0] for r in rows],
        value=[r[1] for r in rows],
        quality=[r[2] for r in rows],
    )


@router.post("/readings", response_model=PushOut, responses={**DENIED, **INVALID})
def push_readings(
    rows: Annotated[list[ReadingIn], Field(max_length=10_000)],
    who: Annotated[Principal, Depends(require("readings.write"))],
    ctx: Ctx,
) -> PushOut:
    """Push readings of the park's points through the live pipeline (at most 10,000).

    Unknown points, values out of range, stale or future timestamps are quarantined with
    their reasons; a reading stored already is counted as duplicate.
    """
    frame = pd.DataFrame(
        {
            "point": [r.point for r in rows],
            "ts": [r.ts for r in rows],
            "value": [r.value for r in rows],
            "quality": [r.q for r in rows],
        }
    )
    with ctx.lock:
        s = ctx.ingestor.ingest(frame)
    return PushOut(
        received=s.received,
        stored=s.stored,
        duplicate=s.duplicate,
        quarantined=s.quarantined,
        rules=dict(s.rules),
    )


@router.get("/entries", response_model=list[EntryOut], responses={**DENIED, **INVALID})
def entries(
    who: Annotated[Principal, Depends(require("entries.read"))],
    ctx: Ctx,
    start: dt.date,
    end: dt.date,
    enterprise: Annotated[list[str] | None, Query(max_length=200)] = None,
    source: Annotated[list[str] | None, Query(max_length=500)] = None,
) -> list[EntryOut]:
    """Return the activity entries that overlap the days ``start`` to ``end``."""
    park = ctx.park
    allowed = set(who.narrow(enterprise, (e.id for e in park.enterprises)))
    owner = {s.id: s.enterprise for s in park.sources}
    if source is not None:
        for s in source:
            who.check_enterprise(owner.get(s))
    ids = [s for s in visible_sources(who, park) if owner[s] in allowed]
    if source is not None:
        ids = [s for s in ids if s in set(source)]
    out = []
    for e in ctx.store.entries(park.id, start, end, sources=ids):
        fields = e.model_dump(include=set(EntryOut.model_fields))
        out.append(EntryOut(enterprise=owner[e.source], **fields))
    return out


@router.post("/entries", response_model=EntriesOut, responses={**DENIED, **INVALID})
def post_entries(
    rows: Annotated[list[EntryRow], Field(max_length=5_000)],
    who: Annotated[Principal, Depends(require("entries.write"))],
    ctx: Ctx,
) -> EntriesOut:
    """Validate activity rows; store the good ones and quarantine the others with reasons.

    Every row is answered, by its position, as landed (with its id) or quarantined (with
    its rule and reason). An emission unit may enter rows of its own sources only.
    """
    owner = {s.id: s.enterprise for s in ctx.park.sources}
    if who.scoped:
        for n, r in enumerate(rows, start=1):
            if r.source in owner and owner[r.source] != who.enterprise:
                msg = (
                    f"row {n}: source {r.source!r} belongs to enterprise "
                    f"{owner[r.source]!r}; user {who.name!r} may enter data for "
                    f"{who.enterprise!r} only — nothing was stored"
                )
                raise ApiError(403, "out_of_scope", msg)
    with ctx.lock:
        result = push.push_entries(
            ctx.store, ctx.park, [r.model_dump(exclude_none=True) for r in rows], account=who.name
        )
    return EntriesOut(
        batch=result.batch,
        summary=result.summary,
        landed=[LandedOut(**asdict(r)) for r in result.landed],
        quarantined=[QuarantinedOut(**asdict(r)) for r in result.quarantined],
    )
