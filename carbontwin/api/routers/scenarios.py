"""Carbon-peak scenario studies (S1, N4) and reduction decisions (C2).

A study run projects every scenario of the park's study from its accounted base year, draws
the drivers' uncertainty (Monte Carlo) and ranks them; decoupling gives Tapio's states of
the projections. Reduction portfolios choose the least-cost measures for a target within
a budget. Park-level planning: for park-wide roles only (``scenarios.run``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from carbontwin.api.dependencies import ApiContext, context, require
from carbontwin.api.schemas import DENIED, INVALID
from carbontwin.runtime import reduction
from carbontwin.runtime.access import Principal
from carbontwin.runtime.scenarios import decoupling_of, load_park_study, run_study, track_plan

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["scenarios"])

Ctx = Annotated[ApiContext, Depends(context)]


class ScenarioInfo(BaseModel):
    """One scenario of the park's study."""

    id: str
    name: str
    name_zh: str
    description: str


class StudyOut(BaseModel):
    """The park's study: its scenarios and where its base year comes from."""

    id: str
    name: str
    base_year: int
    horizon: int
    base_source: str = Field(description="accounting (the store's inventories) or shipped")
    notes: list[str]
    scenarios: list[ScenarioInfo]


class RunIn(BaseModel):
    """What to run."""

    scenarios: list[str] | None = Field(None, description="default: all")
    draws: int = Field(
        2000, ge=0, le=20_000, description="Monte Carlo draws per scenario (the CLI runs more)"
    )
    seed: int = Field(0, ge=0, le=2**31 - 1)
    by_year: int = Field(2030, ge=2000, le=2100)
    sensitivity: bool = Field(False, description="tornado and suggestions of each scenario")


class RunOut(BaseModel):
    """A study run: trajectories, peak statistics, sensitivity and suggestions."""

    park: str
    base_source: str
    notes: list[str]
    years: list[int]
    trajectories: dict[str, dict[str, list[float | None]]] = Field(
        description="scenario → net_emissions_tco2e and energy_tce per year"
    )
    summary: list[dict[str, Any]] = Field(
        description="per scenario: peak_year, peak_tco2e, peaked and, with draws, "
        "p_peak_by, peaked_frac, peak_tco2e_mean and the p05/p50/p95 of the peak year "
        "and value"
    )
    by_year: int
    peak_year_pmf: dict[str, dict[str, float | None]]
    sensitivity: dict[str, list[dict[str, Any]]]
    suggestions: dict[str, dict[str, list[str]]] = Field(description="scenario → en, zh")


class PortfolioIn(BaseModel):
    """A reduction target and budget."""

    target_tco2e_per_yr: float | None = Field(None, gt=0, le=1e9)
    budget_cny: float | None = Field(None, gt=0, le=1e13)
    discount_rate: float = Field(0.06, ge=0, le=0.3)
    year: int | None = Field(None, ge=2000, le=2100, description="measures available by")


@router.get("/scenarios", response_model=StudyOut, responses={**DENIED})
def study(who: Annotated[Principal, Depends(require("scenarios.run"))], ctx: Ctx) -> dict:
    """Describe the park's scenario study."""
    ps = load_park_study(ctx.store, ctx.park)
    st = ps.study
    return {
        "id": st.id,
        "name": st.name,
        "base_year": st.base_year,
        "horizon": st.horizon,
        "base_source": ps.base_source,
        "notes": ps.notes,
        "scenarios": [
            {
                "id": k,
                "name": v.name,
                "name_zh": v.name_zh,
                "description": v.description,
            }
            for k, v in st.scenarios.items()
        ],
    }


@router.post("/scenarios/run", response_model=RunOut, responses={**DENIED, **INVALID})
def run(
    body: RunIn, who: Annotated[Principal, Depends(require("scenarios.run"))], ctx: Ctx
) -> dict[str, Any]:
    """Project, draw and rank the park's scenarios."""
    result = run_study(
        ctx.store,
        ctx.park,
        scenarios=body.scenarios,
        draws=body.draws,
        seed=body.seed,
        by_year=body.by_year,
        sensitivity=body.sensitivity,
    )
    return result.to_dict()


@router.get("/scenarios/decoupling", responses={**DENIED, **INVALID})
def decoupling(
    who: Annotated[Principal, Depends(require("scenarios.run"))],
    ctx: Ctx,
    level: Annotated[str, Query(pattern="^(park|industry)$")] = "park",
    lang: Annotated[str, Query(pattern="^(en|zh)$")] = "en",
) -> list[dict[str, Any]]:
    """Return Tapio's decoupling states of each scenario's projection, year by year."""
    table = decoupling_of(run_study(ctx.store, ctx.park, draws=0), level=level, lang=lang)
    return table.astype(object).where(table.notna(), None).to_dict(orient="records")


@router.get("/scenarios/tracking", responses={**DENIED, **INVALID})
def tracking(
    who: Annotated[Principal, Depends(require("scenarios.run"))],
    ctx: Ctx,
    scenario: Annotated[str, Query(min_length=1, max_length=64)] = "policy",
) -> dict[str, Any]:
    """Compare the accounted years with a scenario's plan; project again from the latest."""
    out = track_plan(ctx.store, ctx.park, scenario)
    dev = out["deviation"].reset_index()
    again = out["reprojection"].sel(scenario=scenario)
    return {
        "scenario": scenario,
        "deviation": dev.astype(object).where(dev.notna(), None).to_dict(orient="records"),
        "reprojection": {
            "years": [int(y) for y in again.year.values],
            "gross_emissions_tco2e": [float(v) for v in again.gross_emissions_tco2e.values],
            "peak_year": int(again.peak_year),
            "peak_tco2e": float(again.peak_tco2e),
        },
        "notes": out["notes"],
    }


@router.get("/reduction/macc", responses={**DENIED, **INVALID})
def macc(
    who: Annotated[Principal, Depends(require("scenarios.run"))],
    ctx: Ctx,
    discount_rate: Annotated[float, Query(ge=0, le=0.3)] = 0.06,
) -> list[dict[str, Any]]:
    """Return the park's marginal abatement cost curve, cheapest tonne first."""
    return reduction.macc(ctx.park, discount_rate=discount_rate)


@router.post("/reduction/portfolio", responses={**DENIED, **INVALID})
def portfolio(
    body: PortfolioIn, who: Annotated[Principal, Depends(require("scenarios.run"))], ctx: Ctx
) -> dict[str, Any]:
    """Choose the least-cost measures that meet a target within a budget, and say why."""
    return reduction.portfolio(
        ctx.park,
        target_tco2e_per_yr=body.target_tco2e_per_yr,
        budget_cny=body.budget_cny,
        discount_rate=body.discount_rate,
        year=body.year,
    )
