"""Control strategies (C3): proposed by the optimiser, decided by energy managers.

A strategy is a day's setpoint schedule with its expected cost, energy and emissions
against the rule-based baseline and the reasons (en, zh). It moves ``proposed →
accepted | rejected → dispatched | advised → verified``; every step is audited.
Park-level data: for park-wide roles only (``strategies.read``), never an emission unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from carbontwin.api.dependencies import ApiContext, client_address, context, require
from carbontwin.api.schemas import CONFLICT, DENIED, INVALID, NOT_FOUND
from carbontwin.runtime import strategies as S
from carbontwin.runtime.access import Principal
from carbontwin.store import NotFoundError
from carbontwin.store.strategies import STRATEGY_STATUSES

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["strategies"])

Ctx = Annotated[ApiContext, Depends(context)]
StrategyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class StrategyOut(BaseModel):
    """A control strategy and where it stands."""

    id: int
    mode: str = Field(description="dispatch (setpoints) or advice (operators are told)")
    status: str = Field(description=", ".join(STRATEGY_STATUSES))
    title: str
    start: dt.datetime
    interval_s: int
    steps: int
    schedule: dict[str, list[float]] = Field(
        description="setpoint → its value per interval from start [the setpoint's unit]"
    )
    expected: dict[str, Any] = Field(
        description="plan, baseline and saving: cost_cny, energy_cny, demand_charge_cny, "
        "carbon_cny, import_kwh, emissions_tco2e, peak_kw; sites: per battery, its load "
        "forecast, SOC and baseline schedule"
    )
    reasons: dict[str, list[str]] = Field(description="en and zh")
    solver: dict[str, Any]
    created_by: str
    created_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    comment: str
    dispatched_by: str | None
    dispatched_at: dt.datetime | None
    setpoints: list[int] | None = Field(description="ids of the setpoints issued")
    verified_at: dt.datetime | None
    measured: dict[str, Any] | None = Field(
        description="import_kwh, energy_cny, emissions_tco2e, peak_kw, and vs_plan / "
        "vs_baseline differences"
    )


class StrategySummary(BaseModel):
    """One strategy in a list."""

    id: int
    status: str
    mode: str
    title: str
    start: dt.datetime
    cost_cny: float | None
    saving_cny: float | None
    decided_by: str | None


class ProposeIn(BaseModel):
    """What to plan."""

    day: dt.date = Field(description="the local day planned")
    mode: str = Field("dispatch", pattern="^(dispatch|advice)$")


class DecisionIn(BaseModel):
    """An energy manager's decision (rejecting needs a comment)."""

    comment: str = Field("", max_length=2000)


def _mine(ctx: ApiContext, strategy_id: int) -> dict[str, Any]:
    s = ctx.store.strategy(strategy_id)
    if s["park_id"] != ctx.park.id:
        msg = f"there is no strategy {strategy_id}"
        raise NotFoundError(msg)
    return s


@router.get("/strategies", response_model=list[StrategySummary], responses={**DENIED})
def list_strategies(
    who: Annotated[Principal, Depends(require("strategies.read"))],
    ctx: Ctx,
    status: Annotated[list[str] | None, Query(description="only these statuses")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """List the park's strategies, newest first."""
    return S.strategy_rows(ctx.store.strategies(ctx.park.id, status=status, limit=limit))


@router.get(
    "/strategies/{strategy_id}", response_model=StrategyOut, responses={**DENIED, **NOT_FOUND}
)
def get_strategy(
    strategy_id: StrategyId,
    who: Annotated[Principal, Depends(require("strategies.read"))],
    ctx: Ctx,
) -> dict[str, Any]:
    """Return one strategy: its schedule, what it is expected to do and why."""
    return _mine(ctx, strategy_id)


@router.post(
    "/strategies", response_model=StrategyOut, status_code=201, responses={**DENIED, **INVALID}
)
def propose(
    body: ProposeIn,
    request: Request,
    who: Annotated[Principal, Depends(require("strategies.propose"))],
    ctx: Ctx,
) -> dict[str, Any]:
    """Propose the day-ahead schedule of the park's batteries for ``day``."""
    return S.propose_day_ahead(
        ctx.store,
        ctx.park,
        body.day,
        actor=who.name,
        mode=body.mode,
        client=client_address(request),
    )


@router.post(
    "/strategies/{strategy_id}/verify",
    response_model=StrategyOut,
    responses={**DENIED, **NOT_FOUND, **CONFLICT},
)
def verify(
    strategy_id: StrategyId,
    request: Request,
    who: Annotated[Principal, Depends(require("strategies.propose"))],
    ctx: Ctx,
) -> dict[str, Any]:
    """Record a strategy's measured effect from the stored history, once its day is over."""
    _mine(ctx, strategy_id)
    return S.verify(
        ctx.store, ctx.park, strategy_id, actor=who.name, client=client_address(request)
    )


@router.post(
    "/strategies/{strategy_id}/{decision}",
    response_model=StrategyOut,
    responses={**DENIED, **INVALID, **NOT_FOUND, **CONFLICT},
)
def decide(
    strategy_id: StrategyId,
    decision: Annotated[str, Path(pattern="^(accept|reject|dispatch|advise)$")],
    body: DecisionIn,
    request: Request,
    who: Annotated[Principal, Depends(require("strategies.accept"))],
    ctx: Ctx,
) -> dict[str, Any]:
    """Accept or reject a proposed strategy; dispatch (setpoints) or advise an accepted one.

    Dispatching issues the setpoint of the quarter-hour in force now; the runtime issues
    each later one as its quarter-hour begins.
    """
    _mine(ctx, strategy_id)
    client = client_address(request)
    if decision in ("accept", "reject"):
        return S.decide(
            ctx.store,
            strategy_id,
            accept=decision == "accept",
            actor=who.name,
            comment=body.comment,
            client=client,
        )
    if decision == "dispatch":
        return S.dispatch(ctx.store, ctx.park, strategy_id, actor=who.name, client=client)
    return S.advise(ctx.store, strategy_id, actor=who.name, client=client)
