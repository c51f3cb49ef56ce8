"""Emission factors: the built-in library with provenance, and the park's overrides (A5).

Overrides are audited; an emission unit sees the park-wide overrides and those of its own
enterprise and sources only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from carbontwin.accounting import FactorLibrary
from carbontwin.api.dependencies import ApiContext, context, require
from carbontwin.api.schemas import CONFLICT, DENIED, INVALID, NOT_FOUND
from carbontwin.runtime import registry as reg
from carbontwin.runtime.access import Principal
from carbontwin.store import NotFoundError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/factors", tags=["factors"])

Ctx = Annotated[ApiContext, Depends(context)]
Reader = Annotated[Principal, Depends(require("factors.read"))]
Writer = Annotated[Principal, Depends(require("factors.write"))]
_LIBRARY = FactorLibrary.builtin()


class FactorOut(BaseModel):
    """A built-in factor with where it comes from."""

    key: str
    set: str
    value: float
    unit: str
    source: str
    clause: str
    year: str
    version: str
    verified: bool
    ref: str
    notes: str


class OverrideIn(BaseModel):
    """A replacement of a library factor for the park, an enterprise or a source."""

    model_config = ConfigDict(extra="forbid")
    factor: str = Field(min_length=3, max_length=100, description="e.g. ncv:natural_gas")
    value: float = Field(allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=3, max_length=1000)
    applies_to: str = Field("park", pattern="^(park|enterprise|source)$")
    target: str = Field("", max_length=64)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    source: str = Field("", max_length=500, description="the document the value comes from")


class OverrideOut(OverrideIn):
    """A stored override."""

    id: str
    created_by: str
    revoked: bool


class RevokeIn(BaseModel):
    """Why an override is revoked."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=1000)


def _owner(ctx: ApiContext, applies_to: str, target: str) -> str | None:
    if applies_to == "enterprise":
        return target
    if applies_to == "source":
        try:
            return ctx.park.source(target).enterprise
        except KeyError:
            return None
    return None


@router.get("", response_model=list[FactorOut], responses={**DENIED, **INVALID})
async def list_factors(
    who: Reader,
    kind: Annotated[str | None, Query(max_length=32, description="ncv, cc, of, grid ...")] = None,
    factor_set: Annotated[str | None, Query(alias="set", max_length=64)] = None,
) -> list[FactorOut]:
    """List the built-in factors with their provenance."""
    return [
        FactorOut(**{k: getattr(f, k) for k in FactorOut.model_fields})
        for f in _LIBRARY
        if (kind is None or f.kind == kind) and (factor_set is None or f.set == factor_set)
    ]


@router.get("/overrides", response_model=list[OverrideOut], responses={**DENIED, **INVALID})
def list_overrides(who: Reader, ctx: Ctx, include_revoked: bool = False) -> list[OverrideOut]:
    """List the park's factor overrides."""
    out = []
    for o in ctx.store.overrides(ctx.park.id, include_revoked=include_revoked):
        owner = _owner(ctx, o.applies_to, o.target)
        if who.scoped and owner is not None and owner != who.enterprise:
            continue
        out.append(OverrideOut(**o.model_dump(include=set(OverrideOut.model_fields))))
    return out


@router.post(
    "/overrides",
    response_model=OverrideOut,
    status_code=201,
    responses={**DENIED, **INVALID, **NOT_FOUND},
)
def add_override(body: OverrideIn, who: Writer, ctx: Ctx) -> OverrideOut:
    """Override a library factor (audited); the unit must have the factor's dimension."""
    try:
        o = reg.set_override(
            ctx.store,
            ctx.park,
            key=body.factor,
            value=body.value,
            unit=body.unit,
            reason=body.reason,
            applies_to=body.applies_to,
            target=body.target,
            valid_from=body.valid_from.isoformat() if body.valid_from else None,
            valid_to=body.valid_to.isoformat() if body.valid_to else None,
            source=body.source,
            user=who.name,
        )
    except KeyError as exc:
        raise NotFoundError(str(exc).strip("'\"")) from None
    return OverrideOut(**o.model_dump(include=set(OverrideOut.model_fields)))


@router.post(
    "/overrides/{override_id}/revoke",
    status_code=204,
    responses={**DENIED, **INVALID, **NOT_FOUND, **CONFLICT},
)
def revoke_override(
    override_id: Annotated[str, Path(max_length=64)], body: RevokeIn, who: Writer, ctx: Ctx
) -> None:
    """Revoke an override (it stays, marked, with who revoked it and why)."""
    ctx.store.revoke_override(override_id, who.name, body.reason)


@router.get("/{key}", response_model=list[FactorOut], responses={**DENIED, **INVALID, **NOT_FOUND})
async def get_factor(key: Annotated[str, Path(max_length=100)], who: Reader) -> list[FactorOut]:
    """Return every set's value of one factor, with source, clause, year and notes."""
    rows = _LIBRARY.find(key)
    if not rows:
        msg = f"there is no factor {key!r}; list them at /api/v1/factors"
        raise NotFoundError(msg)
    return [FactorOut(**{k: getattr(f, k) for k in FactorOut.model_fields}) for f in rows]
