"""Accounting and the carbon overview: inventories, drill-down and the park overview (O1).

Inventories by period and grouping, the drill-down to the activity rows and factors behind
them, and the overview of the park.

Queries are answered from the stored monthly inventories (``POST /inventories`` computes
and stores one; ``carbontwin demo`` stores a year) through
:class:`carbontwin.runtime.overview.Answers`, so a repeated query costs a lookup. An
emission unit's answers contain its own enterprise only.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from carbontwin.api.dependencies import ApiContext, context, require
from carbontwin.api.middleware import kept_response
from carbontwin.api.schemas import CONFLICT, DENIED, INVALID, NOT_FOUND
from carbontwin.core.errors import ValidationError
from carbontwin.runtime import integrity
from carbontwin.runtime import overview as ov
from carbontwin.runtime.access import Principal
from carbontwin.store import NotFoundError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["accounting"])

Ctx = Annotated[ApiContext, Depends(context)]
#: A month from 2000-01 to 2100-12.
MONTH = r"^(20\d\d|2100)-(0[1-9]|1[0-2])$"
Grouping = Annotated[str, Query(pattern="^(" + "|".join(ov.GROUPINGS) + ")$")]


class Share(BaseModel):
    """An amount and its share of the total."""

    model_config = ConfigDict(extra="allow")
    tco2e: float = Field(description="t CO2e")
    share: float


class RankRow(BaseModel):
    """An enterprise's place in the ranking."""

    rank: int
    enterprise: str
    name: dict[str, str]
    zone: str
    industry: str
    tco2e: float
    share: float


class OverviewOut(BaseModel):
    """The carbon overview of a year: totals and breakdowns [t CO2e; energy in tce]."""

    park: str
    year: int
    months: list[str] = Field(description="months with a stored inventory")
    total_tco2e: float
    energy_tce: float
    offsets_tco2e: float
    by_scope: list[Share]
    by_zone: list[Share]
    by_industry: list[Share]
    by_category: list[Share]
    by_gas: list[Share]
    by_month: list[dict[str, Any]]
    ranking: list[RankRow]
    energy_by_carrier: list[dict[str, Any]]


class InventoryOut(BaseModel):
    """An inventory query's answer [t CO2e; energy in tce]."""

    park: str
    start: dt.date
    end: dt.date
    by: str
    rows: list[Share]
    tco2e: float
    energy_tce: float
    missing_months: list[str] = Field(description="months of the period with no inventory")


class InventoryRecord(BaseModel):
    """A stored inventory."""

    model_config = ConfigDict(extra="ignore")
    id: str
    start: dt.date
    end: dt.date
    as_of: dt.date
    status: str
    computed_by: str
    computed_at: dt.datetime


class RunIn(BaseModel):
    """Which month to account and store."""

    model_config = ConfigDict(extra="forbid")
    period: str = Field(pattern=MONTH, description="a month, YYYY-MM (2000 to 2100)")


class TraceRow(BaseModel):
    """One source term and stretch of constant factors behind the numbers."""

    model_config = ConfigDict(extra="allow")
    enterprise: str
    source: str
    method: str
    kind: str | None = None
    scope: int | None = None
    category: str | None = None
    gas: str | None = None
    activity: float | None = None
    activity_unit: str | None = None
    coefficient: float | None = None
    emissions_t: float | None = None
    emissions_tco2e: float | None = None
    factors: str = ""
    formula: str = ""
    activity_refs: str = ""


def _answers(ctx: ApiContext) -> ov.Answers:
    answers = ctx.cache.get("answers")
    if answers is None:
        park_id = ctx.park.id
        answers = ov.Answers(lambda: ov.inventory_revision(ctx.store, park_id))
        ctx.cache["answers"] = answers
    return answers


@router.get("/overview", response_model=OverviewOut, responses={**DENIED, **INVALID})
async def get_overview(
    who: Annotated[Principal, Depends(require("overview.read"))],
    ctx: Ctx,
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> Response:
    """Return the carbon overview of a year from its stored monthly inventories."""
    key = ("overview", year, ov.scope_key(who))

    def compute() -> tuple[bytes, str]:
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        lines = ov.stored_lines(ctx.store, ctx.park.id, start, end)
        allowed = {who.enterprise} if who.scoped else None
        return kept_response(ov.overview(lines, ctx.park, year, allowed))

    return _kept(_answers(ctx).get(key, compute))


def _kept(answer: tuple[bytes, str]) -> Response:
    body, digest = answer
    return Response(body, media_type="application/json", headers={"content-digest": digest})


@router.get("/inventory", response_model=InventoryOut, responses={**DENIED, **INVALID})
async def get_inventory(
    who: Annotated[Principal, Depends(require("inventory.read"))],
    ctx: Ctx,
    start: Annotated[dt.date, Query(description="a first day of a month")],
    end: Annotated[dt.date, Query(description="a last day of a month")],
    by: Grouping = "enterprise",
    enterprise: Annotated[list[str] | None, Query(max_length=200)] = None,
) -> Response:
    """Return emissions of whole months grouped by enterprise, zone, industry, scope ...

    Only stored inventories are read; months without one are listed in
    ``missing_months`` (store them with ``POST /inventories``).
    """
    months = ov.month_range(start, end)
    if len(months) > 120:
        msg = "ask for at most 120 months at once"
        raise ValidationError(msg)
    wanted = who.narrow(enterprise, (e.id for e in ctx.park.enterprises))
    key = ("inventory", start, end, by, tuple(wanted))

    def compute() -> tuple[bytes, str]:
        lines = ov.stored_lines(ctx.store, ctx.park.id, start, end)
        lines = lines[lines["enterprise"].isin(wanted)]
        have = set(lines["month"].unique())
        doc = {
            "park": ctx.park.id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "by": by,
            **ov.aggregate(lines, by),
            "missing_months": [m for m in months if m not in have],
        }
        return kept_response(doc)

    return _kept(_answers(ctx).get(key, compute))


@router.get(
    "/inventory/trace",
    response_model=list[TraceRow],
    responses={**DENIED, **INVALID, **NOT_FOUND},
)
def trace(
    who: Annotated[Principal, Depends(require("inventory.read"))],
    ctx: Ctx,
    period: Annotated[str, Query(pattern=MONTH, description="YYYY-MM (2000 to 2100)")],
    enterprise: Annotated[str | None, Query(max_length=64)] = None,
    source: Annotated[str | None, Query(max_length=64)] = None,
    scope: Annotated[int | None, Query(ge=1, le=3)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
) -> list[dict[str, Any]]:
    """Drill down: the activity, factors and formula behind a month's numbers.

    An emission unit must name its own enterprise or one of its sources.
    """
    if source is not None:
        try:
            owner = ctx.park.source(source).enterprise
        except KeyError:
            msg = f"there is no source {source!r} in park {ctx.park.id!r}"
            raise NotFoundError(msg) from None
        who.check_enterprise(owner)
        if enterprise is not None and enterprise != owner:
            return []
    if who.scoped:
        if enterprise is not None:
            who.check_enterprise(enterprise)
        enterprise = who.enterprise
    rows = ov.inventory_trace(
        ctx.store,
        ctx.park,
        period,
        enterprise=enterprise,
        source=source,
        scope=scope,
        category=category,
        answers=_answers(ctx),
    )
    return [{k: _finite(v) for k, v in r.items()} for r in rows]


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@router.get("/inventories", response_model=list[InventoryRecord], responses=DENIED)
def list_inventories(
    who: Annotated[Principal, Depends(require("inventory.read"))], ctx: Ctx
) -> list[dict[str, Any]]:
    """List the stored inventories, newest first."""
    return ctx.store.inventories(ctx.park.id)[::-1]


@router.post(
    "/inventories",
    response_model=InventoryRecord,
    status_code=201,
    responses={**DENIED, **INVALID, **CONFLICT},
)
def run_inventory(
    body: RunIn, who: Annotated[Principal, Depends(require("inventory.run"))], ctx: Ctx
) -> dict[str, Any]:
    """Account a month from the stored history and ledgers, and store its inventory.

    The stored inventory is chained for integrity; queries answer from it at once.
    """
    inventory_id = integrity.save_inventory(ctx.store, ctx.park, body.period, actor=who.name)
    _answers(ctx).invalidate()
    found = [i for i in ctx.store.inventories(ctx.park.id) if i["id"] == inventory_id]
    return found[0]


@router.get(
    "/inventories/{inventory_id}/lines",
    response_model=list[dict[str, Any]],
    responses={**DENIED, **INVALID, **NOT_FOUND},
)
def inventory_lines(
    inventory_id: Annotated[str, Path(max_length=64)],
    who: Annotated[Principal, Depends(require("inventory.read"))],
    ctx: Ctx,
) -> list[dict[str, Any]]:
    """Return the lines of one stored inventory (an emission unit's own only)."""
    record = ctx.store.inventory(inventory_id)
    if record["park_id"] != ctx.park.id:
        msg = f"there is no stored inventory {inventory_id!r} in park {ctx.park.id!r}"
        raise NotFoundError(msg)
    frame = ctx.store.inventory_lines(inventory_id, frame=True)
    if who.scoped:
        frame = frame[frame["enterprise"] == who.enterprise]
    return [{k: _finite(v) for k, v in r.items()} for r in frame.to_dict("records")]
