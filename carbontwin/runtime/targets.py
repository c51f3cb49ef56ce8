"""Pre-allocate a park target from its stored accounting history (T2).

:func:`stored_history` reads the stored monthly inventory lines of every year the store
holds and sums them per year (and month) and enterprise: gross emissions (scope 1 and
location-based scope 2, t CO2e) or energy (tce). :func:`suggest_allocation` hands them to
:func:`carbontwin.forecasting.allocation.allocate`, with the park's own target for the year
(``targets:`` in the park definition) unless another is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd

from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.forecasting.allocation import Allocation, allocate
from carbontwin.runtime.overview import stored_lines
from carbontwin.store import Store

__all__ = ["stored_history", "suggest_allocation"]


def stored_history(store: Store, park: Park, indicator: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(years × enterprises, months × enterprises)`` of the indicator as stored.

    ``indicator`` is ``emissions_tco2e`` or ``energy_tce``. Months are ``pandas.Period``
    labels; only months with a stored inventory appear.
    """
    kinds = {"emissions_tco2e": ("emission", "tco2e"), "energy_tce": ("energy", "energy_tce")}
    if indicator not in kinds:
        msg = f"indicator {indicator!r} is not one of {', '.join(kinds)}"
        raise ValidationError(msg)
    rows = store.inventories(park.id)
    if not rows:
        msg = f"the store holds no inventory of {park.id}; store monthly inventories first"
        raise ValidationError(msg)
    start = min(r["start"] for r in rows)
    end = max(r["end"] for r in rows)
    lines = stored_lines(store, park.id, start, end)
    kind, column = kinds[indicator]
    lines = lines[lines["kind"] == kind]
    monthly = lines.groupby(["month", "enterprise"])[column].sum().unstack(fill_value=0.0)
    monthly.index = pd.PeriodIndex(monthly.index, freq="M")
    yearly = monthly.groupby(monthly.index.year).sum()
    return yearly, monthly


def suggest_allocation(
    store: Store,
    park: Park,
    *,
    year: int,
    method: str = "historical_share",
    indicator: str = "emissions_tco2e",
    target: float | None = None,
    fixed: Mapping[str, float] | None = None,
    level: str = "enterprise",
) -> Allocation:
    """Suggest how the park's target of ``year`` is shared among enterprises (or industries).

    The split by month (``Allocation.monthly``) is there when the store holds a complete
    year of monthly inventories before ``year`` (``monthly_history`` is None otherwise).

    Raises
    ------
    ValidationError
        Without a target (none given and none in the park for the year), without stored
        history before ``year``, or for the method's own refusals.
    """
    if target is None:
        own = [
            g
            for g in park.targets
            if g.year == year and g.indicator == indicator and g.enterprise is None
        ]
        if not own:
            msg = (
                f"the park has no {indicator} target for {year}; give one, or add it to the "
                "park definition's targets"
            )
            raise ValidationError(msg)
        target = own[0].value
    yearly, monthly = stored_history(store, park, indicator)
    yearly = yearly[yearly.index < year]
    if yearly.empty:
        msg = f"the store holds no inventory before {year} to allocate {year}'s target from"
        raise ValidationError(msg)
    on = dt.date(year, 1, 1)
    members = [e.id for e in park.enterprises if e.exit_date is None or e.exit_date > on]
    history = yearly.reindex(columns=members)
    before = monthly[monthly.index.year < year]
    # The monthly split needs a complete year of months; without one there is none.
    whole = before.groupby(before.index.year).size() == 12
    monthly_history = None
    if whole.any():
        monthly_history = before.reindex(columns=members)
        monthly_history.index = monthly_history.index.to_timestamp()
    return allocate(
        method,
        float(target),
        industry=park,
        history=history,
        year=year,
        indicator=indicator,
        level=level,
        fixed=fixed,
        monthly_history=monthly_history,
    )
