"""Reduction decisions (C2): the park's catalogue of measures, its MACC and portfolios.

The demo park ships an indicative catalogue (``carbontwin/data/measures/demo_measures.yaml``:
PV, storage, efficiency retrofits, electrification, heat recovery, green power, CCUS, with
their sources in its header). :func:`catalogue` reads it; :func:`macc` gives the marginal
abatement cost curve; :func:`portfolio` chooses the least-cost set that meets a target
within a budget (or the most abatement a budget buys) with
:func:`carbontwin.optimizers.portfolio.choose_portfolio`, and says what to do in plain
words (en, zh).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.optimizers.portfolio import (
    Measure,
    choose_portfolio,
    load_measures,
    marginal_abatement_cost,
    suggestions,
)

__all__ = ["catalogue", "macc", "portfolio"]


def catalogue(park: Park) -> list[Measure]:
    """Return the park's catalogue of reduction measures.

    Raises
    ------
    ValidationError
        If the park ships none (only the demo park has one built in).
    """
    if park.id != "binhai":
        msg = f"park {park.id} has no catalogue of reduction measures; only the demo ships one"
        raise ValidationError(msg)
    text = (
        resources.files("carbontwin.data")
        .joinpath("measures/demo_measures.yaml")
        .read_text(encoding="utf-8")
    )
    return load_measures(yaml.safe_load(text))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for key, row in frame.iterrows():
        rec: dict[str, Any] = {"id": str(key)}
        for k, v in row.items():
            if isinstance(v, (float, np.floating)):
                rec[str(k)] = float(v) if np.isfinite(v) else None
            elif isinstance(v, (np.integer, np.bool_)):
                rec[str(k)] = v.item()
            else:
                rec[str(k)] = v
        out.append(rec)
    return out


def macc(park: Park, *, discount_rate: float = 0.06) -> list[dict[str, Any]]:
    """Return the park's marginal abatement cost curve, cheapest tonne first."""
    _check_rate(discount_rate)
    return _records(marginal_abatement_cost(catalogue(park), discount_rate))


def _check_rate(discount_rate: float) -> None:
    if not 0.0 <= discount_rate <= 0.3:
        msg = f"discount_rate(={discount_rate}) must be between 0 and 0.3 per year"
        raise ValidationError(msg)


def portfolio(
    park: Park,
    *,
    target_tco2e_per_yr: float | None = None,
    budget_cny: float | None = None,
    discount_rate: float = 0.06,
    year: int | None = None,
) -> dict[str, Any]:
    """Choose the park's reduction portfolio and explain it.

    Raises
    ------
    ValidationError
        Without a target or a budget, or for a bad discount rate.
    carbontwin.core.errors.SolverError
        When the target cannot be met within the budget (the message gives the most
        the budget reaches).
    """
    _check_rate(discount_rate)
    if target_tco2e_per_yr is None and budget_cny is None:
        msg = "give a target (t CO2e a year), a budget (CNY) or both"
        raise ValidationError(msg)
    result = choose_portfolio(
        catalogue(park),
        target_tco2e_per_yr,
        budget_cny,
        discount_rate,
        year=year,
    )
    return {
        "objective": result.objective,
        "discount_rate": discount_rate,
        "target_tco2e_per_yr": target_tco2e_per_yr,
        "budget_cny": budget_cny,
        "year": year,
        "capex_cny": result.capex_cny,
        "opex_cny_per_yr": result.opex_cny_per_yr,
        "annualised_cost_cny_per_yr": result.annualised_cost_cny_per_yr,
        "abatement_tco2e_per_yr": result.abatement_tco2e_per_yr,
        "marginal_cost_cny_per_tco2e": result.marginal_cost_cny_per_tco2e,
        "shadow_price_lp_cny_per_tco2e": result.shadow_price_lp_cny_per_tco2e,
        "chosen": _records(result.chosen),
        "left_out": _records(result.left_out),
        "suggestions": {lang: suggestions(result, lang) for lang in ("en", "zh")},
    }
