"""Forecasts and targets: the park's demand day-ahead (C1), target pre-allocation (T2).

Park-level figures: for park-wide roles only (``forecast.read``), never an emission unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from carbontwin.api.dependencies import ApiContext, context, require
from carbontwin.api.schemas import DENIED, INVALID
from carbontwin.runtime.access import Principal
from carbontwin.runtime.forecast import MODELS, forecast_day
from carbontwin.runtime.overview import inventory_revision
from carbontwin.runtime.targets import suggest_allocation

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["forecasting"])

Ctx = Annotated[ApiContext, Depends(context)]


class ForecastOut(BaseModel):
    """A day-ahead forecast of the park's electric demand."""

    park: str
    day: dt.date
    model: str
    unit: str
    contracted_kw: float | None
    hours: list[dict[str, Any]] = Field(description="time, forecast, q0.1, q0.5, q0.9, actual")
    peak: dict[str, Any] = Field(
        description="peak [kW], peak_time, peak_hour, peak_q0.1, peak_q0.9 and p_exceed (the "
        "probability of exceeding contracted_kw)"
    )


@router.get("/forecast", response_model=ForecastOut, responses={**DENIED, **INVALID})
def forecast(
    who: Annotated[Principal, Depends(require("forecast.read"))],
    ctx: Ctx,
    day: Annotated[dt.date, Query(description="the local day forecast")],
    model: Annotated[str, Query(pattern="^(" + "|".join(MODELS) + ")$")] = "gbm",
    contracted_kw: Annotated[float | None, Query(gt=0, le=1e9)] = None,
    history_days: Annotated[int, Query(ge=14, le=366, description="days fitted on")] = 56,
) -> dict[str, Any]:
    """Forecast the park's electric demand of ``day``, issued at its local midnight."""
    result = forecast_day(
        ctx.store,
        ctx.park,
        day,
        model=model,
        contracted_kw=contracted_kw,
        history_days=history_days,
        revision=inventory_revision(ctx.store, ctx.park.id),
    )
    return result.to_dict()


class AllocationIn(BaseModel):
    """What to pre-allocate."""

    year: int = Field(ge=1990, le=2100)
    method: str = Field("historical_share", pattern="^(historical_share|growth_adjusted)$")
    indicator: str = Field("emissions_tco2e", pattern="^(emissions_tco2e|energy_tce)$")
    target: float | None = Field(None, gt=0, description="default: the park's own target")
    fixed: dict[str, float] = Field(default_factory=dict, description="rows the planner pins")
    level: str = Field("enterprise", pattern="^(enterprise|industry)$")


class AllocationOut(BaseModel):
    """A suggested allocation: rows that sum exactly to the target, and their months."""

    year: int
    method: str
    indicator: str
    target: float
    rows: list[dict[str, Any]] = Field(
        description="id, allocation, share, fixed, reason (en and zh)"
    )
    monthly: dict[str, dict[str, float]] = Field(
        description="row → month (1–12) → allocation; empty without a complete stored year"
    )


@router.post("/targets/allocation", response_model=AllocationOut, responses={**DENIED, **INVALID})
def target_allocation(
    body: AllocationIn,
    who: Annotated[Principal, Depends(require("forecast.read"))],
    ctx: Ctx,
) -> dict[str, Any]:
    """Suggest how a park target is shared among enterprises or industries, and by month."""
    result = suggest_allocation(
        ctx.store,
        ctx.park,
        year=body.year,
        method=body.method,
        indicator=body.indicator,
        target=body.target,
        fixed=body.fixed or None,
        level=body.level,
    )
    frame = result.to_frame()
    monthly = result.monthly() if result.monthly_history is not None else pd.DataFrame()
    return {
        "year": result.year,
        "method": result.method,
        "indicator": result.indicator,
        "target": result.target,
        "rows": [
            {
                "id": str(key),
                "allocation": float(row["allocation"]),
                "share": float(row["share"]),
                "fixed": bool(row["fixed"]),
                "reason": {"en": row["reason_en"], "zh": row["reason_zh"]},
            }
            for key, row in frame.iterrows()
        ],
        "monthly": {
            str(col): {str(m): float(v) for m, v in monthly[col].items()} for col in monthly
        },
    }
