"""Push routes: signed collector batches of readings, and manual activity entries."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from carbontwin.api.dependencies import ApiContext, ApiError, account, context
from carbontwin.runtime import push

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["ingest"])


class ErrorOut(BaseModel):
    """An error: a stable code, a readable message, and the fields at fault if any."""

    code: str = Field(description="stable, machine-readable error code")
    message: str = Field(description="what is wrong and how to fix it")
    errors: list[dict[str, Any]] = Field(
        default_factory=list, description="per field: field, row (1-based) and message"
    )


class BatchIn(BaseModel):
    """A collector's signed batch, as the collector sends it."""

    collector: str = Field(description="the collector's registered id")
    seq: int = Field(description="the batch's sequence number at the collector")
    readings: list[dict[str, Any]] = Field(
        description='readings {"point", "ts" [ms since 1970 UTC], "value", "q"}'
    )
    signature: str = Field(description="HMAC-SHA256 (hex) of the batch under the key")


class BatchOut(BaseModel):
    """What became of a batch's readings."""

    collector: str
    seq: int
    received: int = Field(description="readings in the batch")
    stored: int = Field(description="readings new to the store")
    duplicate: int = Field(description="readings already stored (a batch sent again)")
    quarantined: int = Field(description="readings held in quarantine")
    rules: dict[str, int] = Field(description="quarantined readings per rule")


class EntryRow(BaseModel):
    """One activity row, as in an activity file; checked by the same validation."""

    model_config = ConfigDict(extra="forbid")
    source: str | None = Field(None, description="emission source id")
    stream: str | None = Field(None, description="stream of the source ('' for the main one)")
    start: str | None = Field(None, description="first day, YYYY-MM-DD")
    end: str | None = Field(None, description="last day, YYYY-MM-DD, inclusive")
    quantity: float | str | None = Field(None, description="amount [unit]")
    unit: str | None = Field(None, description="unit of quantity, e.g. t, kWh, 10^4 Nm3")
    ref: str | None = Field(None, description="where the number comes from")
    quality: str | None = Field(None, description="measured, invoice, estimated or default")


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


_REFUSED = {401: {"model": ErrorOut, "description": "refused credential"}}
_INVALID = {422: {"model": ErrorOut, "description": "the request body is not valid"}}


@router.post(
    "/collectors/batches",
    response_model=BatchOut,
    responses={**_REFUSED, **_INVALID},
    summary="Push a signed collector batch",
)
def post_batch(batch: BatchIn, ctx: Annotated[ApiContext, Depends(context)]) -> BatchOut:
    """Verify a collector's batch against its key and ingest its readings.

    A batch sent again (its acknowledgement was lost) lands once: its readings come back
    as ``duplicate``. A refused batch is quarantined and audited; the collector keeps it.
    """
    doc = batch.model_dump()
    try:
        with ctx.lock:
            summary = push.receive_collector_batch(
                ctx.store, ctx.park, doc, ctx.collector_keys, ctx.ingestor
            )
    except push.PushRefused as exc:
        raise ApiError(401, exc.code, str(exc)) from None
    return BatchOut(
        collector=batch.collector,
        seq=batch.seq,
        received=summary.received,
        stored=summary.stored,
        duplicate=summary.duplicate,
        quarantined=summary.quarantined,
        rules=summary.rules,
    )


@router.post(
    "/entries",
    response_model=EntriesOut,
    responses={**_REFUSED, **_INVALID},
    summary="Push manual activity entries",
)
def post_entries(
    rows: list[EntryRow],
    ctx: Annotated[ApiContext, Depends(context)],
    who: Annotated[str, Depends(account)],
) -> EntriesOut:
    """Validate activity rows; store the good ones and quarantine the others with reasons.

    Authenticated by the ``X-Api-Key`` header. Every row is answered, by its position,
    as landed (with its id) or quarantined (with its rule and reason).
    """
    with ctx.lock:
        result = push.push_entries(
            ctx.store, ctx.park, [r.model_dump(exclude_none=True) for r in rows], account=who
        )
    return EntriesOut(
        batch=result.batch,
        summary=result.summary,
        landed=[LandedOut(**asdict(r)) for r in result.landed],
        quarantined=[QuarantinedOut(**asdict(r)) for r in result.quarantined],
    )
