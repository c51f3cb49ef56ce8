"""The control endpoint: setpoints issued by energy managers, received by integrations.

An energy manager issues setpoints (``setpoints.write``) within each input's limits; the
park's BMS integration, a service account with an API key, fetches the pending ones
(``GET /setpoints/pending``, which marks them delivered to it) and acknowledges each with
the value it read back. Commands expire when not delivered in time.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from carbontwin.api.dependencies import ApiContext, client_address, context, require
from carbontwin.api.schemas import CONFLICT, DENIED, INVALID, NOT_FOUND
from carbontwin.runtime import control
from carbontwin.runtime.access import Principal

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/setpoints", tags=["control"])

Ctx = Annotated[ApiContext, Depends(context)]


class Controllable(BaseModel):
    """A controllable input of the park."""

    setpoint: str
    asset: str
    enterprise: str | None
    lo: float
    hi: float
    default: float
    unit: str


class SetpointIn(BaseModel):
    """A setpoint command."""

    model_config = ConfigDict(extra="forbid")
    setpoint: str = Field(min_length=3, max_length=100, description="<asset>.<input>")
    value: float = Field(allow_inf_nan=False, description="[the input's unit]")
    valid_for_s: float | None = Field(None, ge=1, le=86400, description="default 900")
    reason: str = Field("", max_length=1000)
    strategy: str | None = Field(None, max_length=64)


class SetpointOut(BaseModel):
    """A setpoint command and what became of it."""

    id: int
    setpoint: str
    value: float
    unit: str
    valid_until: dt.datetime
    status: str
    reason: str
    strategy: str | None
    created_by: str
    created_at: dt.datetime
    delivered_to: str | None
    delivered_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    readback: float | None
    detail: str


class AckIn(BaseModel):
    """An integration's answer to a delivered setpoint."""

    model_config = ConfigDict(extra="forbid")
    applied: bool
    readback: float | None = Field(None, allow_inf_nan=False)
    detail: str = Field("", max_length=1000)


def _out(row: dict) -> SetpointOut:
    return SetpointOut(
        setpoint=row["point"], **{k: row[k] for k in SetpointOut.model_fields if k != "setpoint"}
    )


@router.get("/controllable", response_model=list[Controllable], responses=DENIED)
def controllable(
    who: Annotated[Principal, Depends(require("setpoints.read"))], ctx: Ctx
) -> list[Controllable]:
    """List the park's controllable inputs with their limits."""
    return [
        Controllable(
            setpoint=name,
            asset=sp.asset,
            enterprise=control.setpoint_owner(ctx.park, name),
            lo=sp.lo,
            hi=sp.hi,
            default=sp.default,
            unit=sp.unit,
        )
        for name, sp in control.controllable(ctx.park).items()
    ]


@router.post("", response_model=list[SetpointOut], status_code=201, responses={**DENIED, **INVALID})
def issue(
    request: Request,
    commands: Annotated[list[SetpointIn], Field(min_length=1, max_length=500)],
    who: Annotated[Principal, Depends(require("setpoints.write"))],
    ctx: Ctx,
) -> list[SetpointOut]:
    """Issue setpoints (all or nothing: one outside its limits refuses the request)."""
    rows = control.issue_setpoints(
        ctx.store,
        ctx.park,
        [c.model_dump() for c in commands],
        actor=who.name,
        client=client_address(request),
    )
    return [_out(r) for r in rows]


@router.get("", response_model=list[SetpointOut], responses={**DENIED, **INVALID})
def history(
    who: Annotated[Principal, Depends(require("setpoints.read"))],
    ctx: Ctx,
    status: Annotated[list[str] | None, Query(max_length=10)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[SetpointOut]:
    """Return setpoints and their outcome, newest first."""
    return [_out(r) for r in ctx.store.setpoints(ctx.park.id, status=status, limit=limit)]


@router.get("/pending", response_model=list[SetpointOut], responses=DENIED)
def pending(
    who: Annotated[Principal, Depends(require("setpoints.receive"))], ctx: Ctx
) -> list[SetpointOut]:
    """Fetch the pending setpoints: they are marked delivered to the caller."""
    names = list(control.controllable(ctx.park))
    return [_out(r) for r in ctx.store.deliver_setpoints(ctx.park.id, names, to=who.name)]


@router.post(
    "/{setpoint_id}/ack",
    response_model=SetpointOut,
    responses={**DENIED, **INVALID, **NOT_FOUND, **CONFLICT},
)
def acknowledge(
    setpoint_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: AckIn,
    who: Annotated[Principal, Depends(require("setpoints.receive"))],
    ctx: Ctx,
) -> SetpointOut:
    """Report a delivered setpoint applied (with the value read back) or not."""
    row = ctx.store.acknowledge_setpoint(
        setpoint_id, by=who.name, applied=body.applied, readback=body.readback, detail=body.detail
    )
    return _out(row)
