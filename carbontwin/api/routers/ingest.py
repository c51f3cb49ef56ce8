"""Collector batches: signed readings from the park's collectors (offline and API sync).

A collector authenticates by its batch's HMAC signature under its own key, not by a
user's credential; activity rows are pushed at ``/api/v1/entries`` (see ``data``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from carbontwin.api.dependencies import ApiContext, ApiError, context
from carbontwin.api.schemas import ErrorOut
from carbontwin.runtime import push

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["data"])


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
