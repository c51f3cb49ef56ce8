"""Tapio decoupling of emissions from economic output, by year and by period.

The elasticity ``e = (ΔC / C₀) / (ΔG / G₀)`` of emissions ``C`` to output ``G`` (value
added or GDP) over a year or a period, with the signs of ``ΔG`` and ``ΔC``, places the
pair in one of Tapio's eight states:

========  ========  ======================  =================================
ΔG        ΔC        e                       state
========  ========  ======================  =================================
> 0       < 0       e < 0                   strong decoupling
> 0       ≥ 0       0 ≤ e < 0.8             weak decoupling
> 0       > 0       0.8 ≤ e ≤ 1.2           expansive coupling
> 0       > 0       e > 1.2                 expansive negative decoupling
< 0       > 0       e < 0                   strong negative decoupling
< 0       ≤ 0       0 ≤ e < 0.8             weak negative decoupling
< 0       < 0       0.8 ≤ e ≤ 1.2           recessive coupling
< 0       < 0       e > 1.2                 recessive decoupling
========  ========  ======================  =================================

Boundaries: Tapio (2005) names the coupling band "0.8 to 1.2"; we read it as closed, so
``e = 0.8`` and ``e = 1.2`` are coupling (expansive or recessive), the reading of most
applications of the model; an elasticity within ``1e-9`` of a boundary is on it.
``ΔC = 0`` gives ``e = 0``: weak decoupling when output grows, weak negative decoupling
when it falls. ``ΔG = 0`` leaves ``e`` undefined (state ``undefined``).

References
----------
Tapio P. (2005), Towards a theory of decoupling: degrees of decoupling in the EU and the
case of road traffic in Finland between 1970 and 2001, Transport Policy 12(2), 137–151.
T/ISC 0029-2023, 5.1.3 b (decoupling analysis).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from carbontwin.core.errors import ValidationError
from carbontwin.scenarios._texts import text

__all__ = ["TAPIO_STATES", "decoupling", "tapio_elasticity", "tapio_state"]

#: The eight Tapio states (and ``undefined``), in the order of the table above.
TAPIO_STATES = (
    "strong_decoupling",
    "weak_decoupling",
    "expansive_coupling",
    "expansive_negative_decoupling",
    "strong_negative_decoupling",
    "weak_negative_decoupling",
    "recessive_coupling",
    "recessive_decoupling",
    "undefined",
)
LOWER = 0.8
UPPER = 1.2
#: Elasticities this close to a boundary count as on it [1].
BOUNDARY_TOL = 1e-9


def tapio_elasticity(c0: Any, c1: Any, g0: Any, g1: Any) -> np.ndarray:
    """Return Tapio's decoupling elasticity ``e = (ΔC / C₀) / (ΔG / G₀)`` [1].

    Parameters
    ----------
    c0, c1 : array_like
        Emissions at the start and the end [tCO2e].
    g0, g1 : array_like
        Output (value added, GDP) at the start and the end [10^4 CNY].

    Returns
    -------
    numpy.ndarray
        The elasticity; NaN where output does not change or a start value is 0.

    Examples
    --------
    >>> round(float(tapio_elasticity(100.0, 104.0, 100.0, 110.0)), 12)
    0.4
    """
    c0, c1, g0, g1 = (np.asarray(v, dtype=float) for v in (c0, c1, g0, g1))
    with np.errstate(divide="ignore", invalid="ignore"):
        rc = (c1 - c0) / c0
        rg = (g1 - g0) / g0
        e = rc / rg
    return np.where((rg == 0) | ~np.isfinite(e), np.nan, e)


def tapio_state(elasticity: Any, delta_g: Any, delta_c: Any) -> np.ndarray:
    """Return Tapio's state for an elasticity and the signs of ΔG and ΔC.

    Parameters
    ----------
    elasticity : array_like
        ``e`` [1].
    delta_g, delta_c : array_like
        The changes of output and emissions (only their signs count).

    Returns
    -------
    numpy.ndarray of str
        One of :data:`TAPIO_STATES`; the coupling bands include 0.8 and 1.2.

    Examples
    --------
    >>> tapio_state([-0.5, 0.8, 1.2], [1, 1, 1], [-1, 1, 1]).tolist()
    ['strong_decoupling', 'expansive_coupling', 'expansive_coupling']
    """
    e = np.asarray(elasticity, dtype=float)
    dg = np.asarray(delta_g, dtype=float)
    dc = np.asarray(delta_c, dtype=float)
    e, dg, dc = np.broadcast_arrays(e, dg, dc)
    # an elasticity within BOUNDARY_TOL of 0.8 or 1.2 is on the boundary (float ratios of
    # changes such as 0.08 / 0.1 miss 0.8 by an ulp)
    e = np.where(np.abs(e - LOWER) <= BOUNDARY_TOL, LOWER, e)
    e = np.where(np.abs(e - UPPER) <= BOUNDARY_TOL, UPPER, e)
    band = np.select(
        [dc == 0, e < 0, e < LOWER, e <= UPPER], [1, 0, 1, 2], default=3
    )  # 0 negative, 1 [0, 0.8), 2 [0.8, 1.2], 3 > 1.2
    grow = np.array(TAPIO_STATES[:4], dtype=object)
    fall = np.array(TAPIO_STATES[4:8], dtype=object)
    out = np.where(dg > 0, grow[band], fall[band])
    out = np.where((dg == 0) | np.isnan(dg) | (np.isnan(e) & (dc != 0)), "undefined", out)
    return out.astype(str)


def decoupling(
    frame: pd.DataFrame,
    *,
    level: str = "park",
    periods: Sequence[tuple[int, int]] | None = None,
    emissions: str = "emissions_tco2e",
    output: str = "value_added_1e4cny",
    year: str = "year",
    lang: str = "en",
) -> pd.DataFrame:
    """Tapio decoupling of a history, year on year or over given periods.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long table with a ``year`` column, the emissions [tCO2e] and the output
        [10^4 CNY], and an ``industry`` or ``enterprise`` column for those levels. Rows of
        the same entity and year are summed (so enterprise rows give the park and
        industry figures).
    level : {"park", "industry", "enterprise"}
        The entity: the whole park (every row summed), each industry or each enterprise.
    periods : sequence of (int, int), optional
        ``(start, end)`` years compared end to start (e.g. ``[(2015, 2020), (2020,
        2025)]``); year on year when omitted.
    emissions, output, year : str
        Column names.
    lang : {"en", "zh"}
        Language of the ``state_name`` column.

    Returns
    -------
    pandas.DataFrame
        One row per entity and year (or period): ``entity``, ``start``, ``end`` [yr],
        ``emissions_start``, ``emissions_end`` [tCO2e], ``output_start``, ``output_end``
        [10^4 CNY], ``emissions_change_frac``, ``output_change_frac`` [frac],
        ``elasticity`` [1], ``state`` (a key of :data:`TAPIO_STATES`) and ``state_name``.

    Raises
    ------
    ValidationError
        If a column is missing, the level unknown, or a period's year has no data.

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2023, 2024, 2025], "emissions_tco2e": [100.0, 98.0, 103.0],
    ...                    "value_added_1e4cny": [50.0, 55.0, 57.0]})
    >>> decoupling(df)["state"].tolist()
    ['strong_decoupling', 'expansive_negative_decoupling']
    """
    levels = {"park": None, "industry": "industry", "enterprise": "enterprise"}
    if level not in levels:
        msg = f"level(={level!r}) must be one of {', '.join(levels)}"
        raise ValidationError(msg)
    key = levels[level]
    need = [year, emissions, output] + ([key] if key else [])
    missing = [c for c in need if c not in frame]
    if missing:
        msg = f"columns {missing} are missing from the frame (it has {list(frame.columns)})"
        raise ValidationError(msg)
    df = frame.assign(_entity=frame[key] if key else "park")
    totals = df.groupby(["_entity", year])[[emissions, output]].sum().sort_index()
    rows = []
    for entity, grp in totals.groupby(level=0, sort=False):
        g = grp.droplevel(0)
        years = list(g.index)
        pairs = list(itertools.pairwise(years)) if periods is None else periods
        for a, b in pairs:
            if a not in g.index or b not in g.index:
                msg = (
                    f"period {a}–{b} of {entity!r}: no data for "
                    f"{a if a not in g.index else b}; give a period within {years[0]}–{years[-1]}"
                )
                raise ValidationError(msg)
            c0, c1 = float(g.at[a, emissions]), float(g.at[b, emissions])
            g0, g1 = float(g.at[a, output]), float(g.at[b, output])
            rows.append((entity, int(a), int(b), c0, c1, g0, g1))
    out = pd.DataFrame(
        rows,
        columns=[
            "entity",
            "start",
            "end",
            "emissions_start",
            "emissions_end",
            "output_start",
            "output_end",
        ],
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["emissions_change_frac"] = (
            out.emissions_end - out.emissions_start
        ) / out.emissions_start
        out["output_change_frac"] = (out.output_end - out.output_start) / out.output_start
    out["elasticity"] = tapio_elasticity(
        out.emissions_start, out.emissions_end, out.output_start, out.output_end
    )
    out["state"] = tapio_state(
        out.elasticity, out.output_end - out.output_start, out.emissions_end - out.emissions_start
    )
    out["state_name"] = [text(f"tapio.{s}", lang) for s in out.state]
    out.attrs.update({"level": level, "emissions": emissions, "output": output})
    return out
