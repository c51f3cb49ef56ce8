"""Forecasts: the park's electric demand of a day, day-ahead, with its band and peak (C1).

Park-level figures: for park-wide roles only (``forecast.read``), never an emission unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from carbontwin.api.dependencies import ApiContext, context, require
from carbontwin.api.schemas import DENIED, INVALID
from carbontwin.runtime.access import Principal
from carbontwin.runtime.forecast import MODELS, forecast_day
from carbontwin.runtime.overview import inventory_revision

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
