"""The system: health, the role matrix, the audit log and the integrity chain."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from carbontwin.api.dependencies import ApiContext, Caller, context, require
from carbontwin.api.schemas import DENIED, INVALID
from carbontwin.runtime import integrity
from carbontwin.runtime.access import ROLE_LABELS, ROLES, Principal, permission_matrix

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["system"])

Ctx = Annotated[ApiContext, Depends(context)]


class Health(BaseModel):
    """Whether the service is up."""

    status: str
    park: str
    time: dt.datetime


class RoleMatrix(BaseModel):
    """Which role holds which permission."""

    roles: dict[str, dict[str, str]]
    permissions: list[dict[str, str]]


class AuditOut(BaseModel):
    """One record of the audit log."""

    id: int
    ts: dt.datetime
    actor: str
    action: str
    object: str
    detail: dict[str, Any]
    outcome: str
    client: str
    hash: str


class AuditCheck(BaseModel):
    """The result of checking the audit log's hash chain."""

    intact: bool
    first_broken: int | None = Field(description="id of the first record that does not match")


@router.get("/health", response_model=Health)
async def health(ctx: Ctx) -> Health:
    """Say the service is up (no credential needed, not logged)."""
    return Health(status="ok", park=ctx.park.id, time=dt.datetime.now(dt.UTC))


@router.get("/access/roles", response_model=RoleMatrix, responses={**DENIED, **INVALID})
async def roles(who: Caller, lang: Annotated[str, Query(pattern="^(en|zh)$")] = "en") -> RoleMatrix:
    """Return the role × permission matrix (the one the API enforces)."""
    li = 0 if lang == "en" else 1
    return RoleMatrix(
        roles={r: {"label": ROLE_LABELS[r][li]} for r in ROLES},
        permissions=permission_matrix(lang),
    )


@router.get("/audit", response_model=list[AuditOut], responses={**DENIED, **INVALID})
def audit(
    who: Annotated[Principal, Depends(require("audit.read"))],
    ctx: Ctx,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[AuditOut]:
    """Return audit records, newest first: who did what, when, from where, and the outcome.

    Requests are written in batches a fraction of a second after they are answered.
    """
    rows = ctx.store.audit_log(limit=limit, actor=actor, action=action)
    return [AuditOut(**{k: r[k] for k in AuditOut.model_fields}) for r in rows]


@router.get("/audit/verify", response_model=AuditCheck, responses=DENIED)
def audit_verify(
    who: Annotated[Principal, Depends(require("integrity.verify"))], ctx: Ctx
) -> AuditCheck:
    """Recompute the audit log's hash chain from the first record."""
    broken = ctx.store.verify_audit()
    return AuditCheck(intact=broken is None, first_broken=broken)


@router.get("/integrity/verify", response_model=dict[str, Any], responses=DENIED)
def integrity_verify(
    who: Annotated[Principal, Depends(require("integrity.verify"))], ctx: Ctx
) -> dict[str, Any]:
    """Recompute the integrity chain of readings, entries and inventories, and the audit log.

    ``ok`` is false when something was changed in the database behind the platform's
    back; ``problems`` names the first broken batch of each kind.
    """
    return integrity.verify(ctx.store).to_dict()
