"""Target pre-allocation (T2): suggest enterprise, industry and monthly shares of a park target.

Given the park's target for a year — a total ``[t CO2e]`` or ``[tce]``, or an intensity
``[t per 10^4 CNY of value added]`` — the methods here suggest how to divide it among the
enterprises (or industries) of the park and among the months of the year, each row with
its reasoning in English and Chinese. The planner reviews the suggestion, pins the rows
they have agreed (``fixed``) and the rest of the target is redistributed by the method's
weights (CECS 5.4.3 and its note: "the park manager adjusts each item on the basis of the
suggestion and negotiates with the managed units").

Three documented methods, one function each:

``historical_share``
    weight = the enterprise's mean of the last ``base_years`` years (default 3).
``intensity_benchmark``
    weight = benchmark intensity of its industry × its planned activity (value added).
``growth_adjusted``
    weight = its forecast for the target year: given, or extrapolated from history at its
    compound annual growth over the base years, capped at ``±growth_cap`` (default 10 %).

Every method ends the same way: ``allocation_i = R × w_i / Σ_free w`` with ``R`` the
target less the pinned rows, rounded to ``resolution`` (default 1 t) by the largest-remainder
method so that the rows sum exactly to the target. See ``docs/allocation.md``.

A compute module: it takes pandas objects and returns pandas objects, and does no I/O.

References
----------
CECS park smart carbon management specification, 5.4.3 and its note (pre-allocation from
history); T/ISC 0029-2023, 5.1.5 a) (decomposition by level and period); T/CPCIF draft
5.5.3.3 (time decomposition to quarters and months, manual correction) and 5.5.3.4
(decomposition down to enterprises).

Examples
--------
>>> history = pd.DataFrame(
...     {"E1": [100.0, 120.0, 140.0], "E2": [300.0, 280.0, 260.0]}, index=[2022, 2023, 2024]
... )
>>> industry = pd.Series({"E1": "C26", "E2": "C30"})
>>> a = allocate("historical_share", 1000.0, history=history, industry=industry)
>>> a.frame["allocation"].to_dict()
{'E1': 300.0, 'E2': 700.0}
>>> float(a.frame["allocation"].sum()) == 1000.0
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park, Target

__all__ = [
    "DEFAULT_BASE_YEARS",
    "DEFAULT_GROWTH_CAP",
    "METHODS",
    "Allocation",
    "allocate",
    "growth_adjusted",
    "historical_share",
    "industry_map",
    "intensity_benchmark",
    "largest_remainder",
    "monthly_profile",
    "monthly_split",
    "total_from_intensity",
]

DEFAULT_BASE_YEARS = 3
"""Years in the base period of ``historical_share`` and ``growth_adjusted``."""

DEFAULT_GROWTH_CAP = 0.10
"""Cap on the extrapolated compound annual growth of ``growth_adjusted`` [fraction/yr]."""

METHODS = ("historical_share", "intensity_benchmark", "growth_adjusted")

Level = Literal["enterprise", "industry"]
Indicator = Literal["emissions_tco2e", "energy_tce"]

_UNIT = {"emissions_tco2e": "t CO2e", "energy_tce": "tce"}
_UNIT_ZH = {"emissions_tco2e": "tCO2e", "energy_tce": "tce"}
_ACTIVITY_ZH = {"10^4 CNY": "万元", "1e4 CNY": "万元"}


# ----------------------------------------------------------------------------------------
# Formatting of the reasoning
# ----------------------------------------------------------------------------------------
def _num(x: float) -> str:
    """Format a quantity with thousands separators, decimals only where it has them."""
    if math.isclose(x, round(x), rel_tol=0, abs_tol=1e-9 * max(1.0, abs(x))):
        return f"{round(x):,}"
    if abs(x) >= 100:
        return f"{x:,.1f}"
    return f"{x:,.4g}"


def _pct(frac: float) -> str:
    return f"{100 * frac:.1f} %"


def _years(years: list[int]) -> str:
    return f"{years[0]}" if len(years) == 1 else f"{years[0]}–{years[-1]}"


# ----------------------------------------------------------------------------------------
# Exact rounding
# ----------------------------------------------------------------------------------------
def _units(value: float, resolution: float, what: str) -> int:
    """Return ``value / resolution`` as an integer, or raise if it is not a multiple."""
    q = value / resolution
    n = round(q)
    if not math.isclose(q, n, rel_tol=1e-12, abs_tol=1e-9):
        msg = (
            f"{what}(={value}) is not a multiple of the resolution {resolution}; round it to "
            f"{n * resolution:g} or pass a finer resolution"
        )
        raise ValidationError(msg)
    return int(n)


def largest_remainder(total: float, weights: pd.Series, resolution: float = 1.0) -> pd.Series:
    """Divide ``total`` in proportion to ``weights`` into multiples of ``resolution``.

    Parameters
    ----------
    total : float
        The amount to divide, a multiple of ``resolution`` [unit of the target].
    weights : pandas.Series
        Non-negative finite weights, one per row; at least one positive unless ``total``
        is 0.
    resolution : float, default 1.0
        The rounding step [unit of the target].

    Returns
    -------
    pandas.Series
        ``k_i × resolution`` with integers ``k_i`` summing to ``total / resolution``; same
        index as ``weights``.

    Raises
    ------
    ValidationError
        If ``total`` is negative or not a multiple of ``resolution``, a weight is negative
        or not finite, or all weights are zero while ``total`` is not.

    Notes
    -----
    Hamilton's (largest-remainder) method: the quota of row ``i`` is
    ``q_i = (total / resolution) × w_i / Σ w``; each row gets ``floor(q_i)`` steps and the
    ``d = total / resolution - Σ floor(q_i)`` steps left go one each to the rows with the
    largest fractional parts ``q_i - floor(q_i)`` (ties: the larger weight, then the
    earlier row). The sum is therefore exact; with an integer ``resolution`` the float
    sum of the result equals ``total`` exactly (integers below 2^53 are exact floats).

    Examples
    --------
    >>> largest_remainder(10, pd.Series({"a": 1.0, "b": 1.0, "c": 1.0})).to_dict()
    {'a': 4.0, 'b': 3.0, 'c': 3.0}
    """
    if not resolution > 0 or not math.isfinite(resolution):
        msg = f"resolution(={resolution}) must be a positive finite number, e.g. 1 (t)"
        raise ValidationError(msg)
    if not math.isfinite(total) or total < 0:
        msg = f"total(={total}) must be a finite number >= 0"
        raise ValidationError(msg)
    steps = _units(total, resolution, "total")
    w = weights.astype(float)
    bad = w[~np.isfinite(w.to_numpy()) | (w.to_numpy() < 0)]
    if len(bad):
        msg = f"weights must be finite and >= 0; got {bad.to_dict()}"
        raise ValidationError(msg)
    if len(w) == 0 or w.sum() == 0:
        if steps == 0:
            return pd.Series(0.0, index=weights.index, dtype=float)
        msg = f"cannot divide {total} among rows whose weights are all zero ({list(w.index)})"
        raise ValidationError(msg)
    quota = steps * (w.to_numpy() / w.sum())
    base = np.floor(quota)
    frac = quota - base
    left = steps - int(base.sum())
    n = len(w)
    counts = base.astype(np.int64) + left // n
    left %= n
    # Largest fraction first; ties to the larger weight, then the earlier row.
    order = np.lexsort((np.arange(n), -w.to_numpy(), -frac))
    counts[order[:left]] += 1
    return pd.Series(counts * resolution, index=weights.index, dtype=float)


# ----------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------
def industry_map(park: Park, year: int | None = None) -> pd.Series:
    """Return each enterprise's GB/T 4754 industry code, optionally only those in ``year``.

    Parameters
    ----------
    park : Park
        The park definition.
    year : int, optional
        Keep only enterprises in the park at some time in ``year`` (by ``entry_date`` and
        ``exit_date``).

    Returns
    -------
    pandas.Series
        Industry code by enterprise id, named ``industry``.
    """
    import datetime as dt

    rows = {}
    for e in park.enterprises:
        if year is not None and not (
            (e.entry_date is None or e.entry_date <= dt.date(year, 12, 31))
            and (e.exit_date is None or e.exit_date >= dt.date(year, 1, 1))
        ):
            continue
        rows[e.id] = e.industry
    out = pd.Series(rows, dtype=object, name="industry")
    out.index.name = "enterprise"
    return out


def total_from_intensity(
    intensity: float, value_added_1e4cny: float, resolution: float = 1.0
) -> float:
    """Return the total implied by an intensity target, rounded down to ``resolution``.

    Parameters
    ----------
    intensity : float
        Target intensity [t CO2e / 10^4 CNY] or [tce / 10^4 CNY] of value added.
    value_added_1e4cny : float
        The park's planned value added for the target year [10^4 CNY].
    resolution : float, default 1.0
        Rounding step of the total [t].

    Returns
    -------
    float
        ``floor(intensity × value_added / resolution) × resolution`` [t]: a ceiling is
        rounded down so that meeting the total meets the intensity.

    Examples
    --------
    >>> total_from_intensity(0.85, 1_000_000.5)
    850000.0
    """
    for name, v in (("intensity", intensity), ("value_added_1e4cny", value_added_1e4cny)):
        if not math.isfinite(v) or v <= 0:
            msg = f"{name}(={v}) must be a finite number > 0"
            raise ValidationError(msg)
    raw = intensity * value_added_1e4cny / resolution
    return float(math.floor(raw + 1e-9 * max(1.0, raw))) * resolution


def _industry(
    industry: pd.Series | Mapping[str, str] | Park, year: int | None, target: object = None
) -> pd.Series:
    if year is None and isinstance(target, Target):
        year = target.year
    if isinstance(industry, Park):
        ind = industry_map(industry, year)
    else:
        ind = pd.Series(industry, dtype=object)
    if len(ind) == 0:
        msg = "industry names no enterprise; give each enterprise's GB/T 4754 industry code"
        raise ValidationError(msg)
    if ind.index.has_duplicates:
        dup = sorted(set(ind.index[ind.index.duplicated()]))
        msg = f"industry lists enterprise(s) {dup} more than once"
        raise ValidationError(msg)
    if ind.isna().any():
        msg = f"industry code missing for enterprise(s) {list(ind.index[ind.isna()])}"
        raise ValidationError(msg)
    ind.index = ind.index.astype(str)
    return ind.astype(str)


def _check_known(names: Any, known: pd.Index, what: str) -> None:
    unknown = [str(n) for n in names if str(n) not in set(known)]
    if unknown:
        msg = (
            f"{what} names enterprise(s) {unknown} that are not in the park's list "
            f"(known: {', '.join(known)})"
        )
        raise ValidationError(msg)


def _check_history(history: pd.DataFrame | None, universe: pd.Index, year: int) -> pd.DataFrame:
    """Return the usable annual history: years before ``year``, enterprises as columns."""
    if history is None or history.size == 0:
        msg = (
            "history is empty; give a DataFrame of the indicator [t] with years as index and "
            "enterprises as columns"
        )
        raise ValidationError(msg)
    h = history.copy()
    h.columns = h.columns.astype(str)
    if h.columns.has_duplicates:
        dup = sorted(set(h.columns[h.columns.duplicated()]))
        msg = f"history has duplicate enterprise columns {dup}"
        raise ValidationError(msg)
    try:
        years = pd.Index([int(y) for y in h.index])
    except (TypeError, ValueError):
        msg = f"history index must be calendar years (int), got {list(h.index[:3])}"
        raise ValidationError(msg) from None
    if years.has_duplicates:
        msg = f"history has duplicate years {sorted(set(years[years.duplicated()]))}"
        raise ValidationError(msg)
    h.index = years
    _check_known(h.columns, universe, "history")
    h = h.sort_index().astype(float)
    h = h[h.index < year]
    if len(h) == 0:
        msg = f"history has no year before the target year {year}"
        raise ValidationError(msg)
    values = h.to_numpy()
    bad = ~np.isnan(values) & (~np.isfinite(values) | (values < 0))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        msg = (
            f"history of {h.columns[j]} in {h.index[i]} is {values[i, j]}; the indicator must "
            "be a finite number >= 0 [t]"
        )
        raise ValidationError(msg)
    return h


def _base(h: pd.DataFrame, base_years: int) -> tuple[pd.DataFrame, list[int]]:
    """Return the last ``base_years`` rows and refuse gaps after an enterprise's first value."""
    if base_years < 1:
        msg = f"base_years(={base_years}) must be >= 1"
        raise ValidationError(msg)
    b = h.iloc[-base_years:]
    for col in b.columns:
        s = b[col]
        seen = s.notna().cumsum() > 0
        gap = s.isna() & seen
        if gap.any():
            y = int(s.index[gap.to_numpy()][0])
            msg = (
                f"history of {col} has no value for {y} after earlier values; fill the gap "
                "(0 if it did not operate) — a missing value is not read as zero, and only "
                "years before an enterprise's first record may be missing (a late entrant)"
            )
            raise ValidationError(msg)
    return b, [int(y) for y in b.index]


def _target(
    target: float | Target,
    year: int | None,
    indicator: Indicator | None,
    default_year: Callable[[], int],
) -> tuple[float, int, Indicator]:
    if isinstance(target, Target):
        if target.enterprise is not None:
            msg = (
                f"target {target.indicator} {target.year} belongs to enterprise "
                f"{target.enterprise!r}; pre-allocation divides the park's own target"
            )
            raise ValidationError(msg)
        if year is not None and year != target.year:
            msg = f"year(={year}) disagrees with the target's year {target.year}"
            raise ValidationError(msg)
        if indicator is not None and indicator != target.indicator:
            msg = f"indicator(={indicator}) disagrees with the target's {target.indicator}"
            raise ValidationError(msg)
        return float(target.value), target.year, target.indicator
    value = float(target)
    if not math.isfinite(value) or value <= 0:
        msg = f"target(={target}) must be a finite number > 0 (the park's ceiling for the year)"
        raise ValidationError(msg)
    ind = indicator or "emissions_tco2e"
    if ind not in _UNIT:
        msg = f"indicator(={ind!r}) must be one of {sorted(_UNIT)}"
        raise ValidationError(msg)
    return value, (year if year is not None else default_year()), ind


def _series(s: pd.Series | Mapping[str, float] | None, what: str, universe: pd.Index) -> pd.Series:
    if s is None:
        return pd.Series(dtype=float)
    out = pd.Series(s, dtype=float)
    out.index = out.index.astype(str)
    _check_known(out.index, universe, what)
    v = out.to_numpy()
    bad = ~np.isfinite(v) | (v < 0)
    if bad.any():
        msg = (
            f"{what} of {out.index[bad][0]} is {v[bad][0]}; it must be a finite number >= 0 "
            "(drop the row if there is none)"
        )
        raise ValidationError(msg)
    return out


# ----------------------------------------------------------------------------------------
# The result
# ----------------------------------------------------------------------------------------
@dataclass
class Allocation:
    """A suggested (or planner-edited) division of a park target.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per enterprise or industry (index named ``enterprise`` or ``industry``):
        ``allocation`` [t], ``share`` (of the target) [frac], ``weight`` (the method's
        weight) [t], ``reason_en``, ``reason_zh``, ``fixed`` (pinned by the planner).
    method : str
        The method's name.
    params : dict
        The method's parameters and what it derived (base years, scaling factor, ...).
    target : float
        The park total divided [t CO2e] or [tce].
    year : int
        The target year.
    indicator : str
        ``emissions_tco2e`` or ``energy_tce``.
    level : str
        ``enterprise`` or ``industry``.
    members : dict of str to list of str
        The enterprises of each row (one per row at enterprise level).
    resolution : float
        The rounding step [t].
    monthly_history : pandas.DataFrame, optional
        Monthly history by enterprise for :meth:`monthly`.
    """

    frame: pd.DataFrame
    method: str
    params: dict[str, Any]
    target: float
    year: int
    indicator: str
    level: str
    members: dict[str, list[str]]
    resolution: float = 1.0
    monthly_history: pd.DataFrame | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the rows, with method, parameters and target in ``attrs``."""
        out = self.frame.copy()
        out.attrs = {
            "method": self.method,
            "params": dict(self.params),
            "target": self.target,
            "year": self.year,
            "indicator": self.indicator,
            "level": self.level,
            "resolution": self.resolution,
        }
        return out

    def monthly(
        self, monthly_history: pd.DataFrame | None = None, years: int | None = None
    ) -> pd.DataFrame:
        """Split each row's annual allocation into months by its historical monthly profile.

        Parameters
        ----------
        monthly_history : pandas.DataFrame, optional
            The indicator per month [t], enterprises as columns, a monthly
            ``DatetimeIndex`` or ``PeriodIndex``; defaults to the one given to
            :func:`allocate`.
        years : int, optional
            Complete calendar years in the profile; defaults to the base years of the
            method (``params["base_years"]``, else 3).

        Returns
        -------
        pandas.DataFrame
            Month (1–12) × row [t]; each column sums exactly to the row's allocation.

        Raises
        ------
        ValidationError
            If there is no monthly history, or no complete year for the park as a whole.

        Notes
        -----
        See :func:`monthly_profile` and :func:`monthly_split`. A row at industry level uses
        the sum of its enterprises' months; a row with no complete year of its own (a new
        entrant) takes the park's profile.
        """
        mh = monthly_history if monthly_history is not None else self.monthly_history
        if mh is None:
            msg = "no monthly history; pass monthly_history (t per month, enterprises as columns)"
            raise ValidationError(msg)
        mh = mh.copy()
        mh.columns = mh.columns.astype(str)
        known = [e for es in self.members.values() for e in es]
        _check_known(mh.columns, pd.Index(known), "monthly_history")
        rows = pd.DataFrame(
            {
                row: mh[[e for e in es if e in mh.columns]].sum(axis=1, min_count=1)
                if any(e in mh.columns for e in es)
                else pd.Series(np.nan, index=mh.index)
                for row, es in self.members.items()
            },
            index=mh.index,
        )
        n = years if years is not None else int(self.params.get("base_years", DEFAULT_BASE_YEARS))
        return monthly_split(
            self.frame["allocation"], rows, years=n, resolution=self.resolution, before=self.year
        )


# ----------------------------------------------------------------------------------------
# Monthly split
# ----------------------------------------------------------------------------------------
def _month_table(monthly_history: pd.DataFrame | pd.Series) -> pd.DataFrame:
    mh = monthly_history.to_frame() if isinstance(monthly_history, pd.Series) else monthly_history
    idx = mh.index
    if isinstance(idx, pd.DatetimeIndex):
        periods = idx.tz_localize(None).to_period("M") if idx.tz is not None else idx.to_period("M")
    elif isinstance(idx, pd.PeriodIndex):
        periods = idx.asfreq("M")
    else:
        msg = (
            "monthly_history needs a monthly DatetimeIndex or PeriodIndex, got "
            f"{type(idx).__name__}"
        )
        raise ValidationError(msg)
    if periods.has_duplicates:
        msg = f"monthly_history has duplicate months {sorted(set(periods[periods.duplicated()]))}"
        raise ValidationError(msg)
    out = mh.astype(float).copy()
    out.index = pd.MultiIndex.from_arrays([periods.year, periods.month], names=["year", "month"])
    v = out.to_numpy()
    bad = ~np.isnan(v) & (~np.isfinite(v) | (v < 0))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        msg = (
            f"monthly_history of {out.columns[j]} in {periods[i]} is {v[i, j]}; it must be "
            "a finite number >= 0 [t]"
        )
        raise ValidationError(msg)
    return out


def monthly_profile(
    monthly_history: pd.DataFrame | pd.Series,
    years: int = DEFAULT_BASE_YEARS,
    before: int | None = None,
) -> pd.DataFrame:
    """Return each column's mean share of the year per calendar month.

    Parameters
    ----------
    monthly_history : pandas.DataFrame or pandas.Series
        The indicator per month [t] (columns: enterprises, industries or the park), with a
        monthly ``DatetimeIndex`` (interval starts) or ``PeriodIndex``.
    years : int, default 3
        The last ``years`` complete calendar years of each column are used.
    before : int, optional
        Use only years before this one (the target year).

    Returns
    -------
    pandas.DataFrame
        Month (1–12) × column [frac]; each column sums to 1. A column with no complete year
        (12 values and a positive total) takes the profile of the sum of all columns; its
        ``attrs["fallback"]`` lists such columns and ``attrs["years"]`` the years used.

    Raises
    ------
    ValidationError
        If no column, nor their sum, has a complete year.

    Notes
    -----
    For a column with complete years ``Y``: ``p_m = mean_{y ∈ Y} E_{y,m} / Σ_m' E_{y,m'}``;
    each year's shares sum to 1, so their mean does.
    """
    if years < 1:
        msg = f"years(={years}) must be >= 1"
        raise ValidationError(msg)
    table = _month_table(monthly_history)
    if before is not None:
        table = table[table.index.get_level_values("year") < before]

    def one(s: pd.Series) -> tuple[pd.Series | None, list[int]]:
        wide = s.unstack("month").reindex(columns=range(1, 13))
        full = wide.notna().all(axis=1) & (wide.sum(axis=1) > 0)
        wide = wide[full].sort_index().iloc[-years:]
        if len(wide) == 0:
            return None, []
        shares = wide.div(wide.sum(axis=1), axis=0)
        return shares.mean(axis=0), [int(y) for y in wide.index]

    park_profile, park_years = one(table.sum(axis=1, min_count=1))
    out: dict[str, pd.Series] = {}
    fallback: list[str] = []
    used: dict[str, list[int]] = {}
    for col in table.columns:
        p, ys = one(table[col])
        if p is None:
            if park_profile is None:
                msg = (
                    f"monthly_history of {col} has no complete year (12 months, total > 0) "
                    "before the target year, and neither has the park as a whole"
                )
                raise ValidationError(msg)
            p, ys = park_profile, park_years
            fallback.append(str(col))
        out[str(col)] = p
        used[str(col)] = ys
    prof = pd.DataFrame(out)
    prof.index.name = "month"
    prof.attrs = {"fallback": fallback, "years": used}
    return prof


def monthly_split(
    annual: float | pd.Series,
    monthly_history: pd.DataFrame | pd.Series,
    years: int = DEFAULT_BASE_YEARS,
    resolution: float = 1.0,
    before: int | None = None,
) -> pd.DataFrame:
    """Split annual amounts into months by the historical monthly profile, exactly.

    Parameters
    ----------
    annual : float or pandas.Series
        The annual allocation(s) [t], one per column of ``monthly_history`` (a float with a
        one-column history, e.g. the park's total).
    monthly_history : pandas.DataFrame or pandas.Series
        The indicator per month [t]; see :func:`monthly_profile`.
    years : int, default 3
        Complete years in the profile.
    resolution : float, default 1.0
        Rounding step [t]; each annual amount must be a multiple of it.
    before : int, optional
        Use only years before this one.

    Returns
    -------
    pandas.DataFrame
        Month (1–12) × entity [t]; column ``c`` sums exactly to ``annual[c]`` (largest
        remainder, see :func:`largest_remainder`).

    Examples
    --------
    >>> idx = pd.period_range("2024-01", periods=12, freq="M")
    >>> hist = pd.Series([1.0] * 6 + [3.0] * 6, index=idx, name="park")
    >>> split = monthly_split(800.0, hist)["park"]  # quotas 33.33 x 6, then 100 x 6
    >>> split.tolist()
    [34.0, 34.0, 33.0, 33.0, 33.0, 33.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0]
    >>> float(split.sum())
    800.0
    """
    prof = monthly_profile(monthly_history, years=years, before=before)
    if not isinstance(annual, pd.Series):
        if prof.shape[1] != 1:
            msg = "annual is a single number; give a Series with one value per column instead"
            raise ValidationError(msg)
        annual = pd.Series({prof.columns[0]: float(annual)})
    annual = annual.astype(float)
    annual.index = annual.index.astype(str)
    missing = [c for c in annual.index if c not in prof.columns]
    if missing:
        msg = (
            f"no monthly history for {missing}; add their months or (for a new entrant) a "
            "column of NaN so that the park's profile is used"
        )
        raise ValidationError(msg)
    out = pd.DataFrame(
        {c: largest_remainder(annual[c], prof[c], resolution) for c in annual.index},
        index=prof.index,
    )
    out.index.name = "month"
    out.attrs = dict(prof.attrs)
    return out


# ----------------------------------------------------------------------------------------
# The shared end of every method
# ----------------------------------------------------------------------------------------
@dataclass
class _Weights:
    """Method weights per enterprise and the per-enterprise facts for the reasoning."""

    weights: pd.Series
    facts: dict[str, dict[str, Any]]
    params: dict[str, Any]
    # basis(row, facts of its enterprises) -> (en, zh)
    basis: Callable[[str, list[dict[str, Any]]], tuple[str, str]]
    # scaled: the reasoning names the scaling factor (intensity_benchmark) instead of a share
    scaled: bool = False


def _finish(
    w: _Weights,
    method: str,
    target: float,
    year: int,
    indicator: Indicator,
    industry: pd.Series,
    level: Level,
    fixed: Mapping[str, float] | None,
    resolution: float,
    monthly_history: pd.DataFrame | None,
    extra: dict[str, Any],
) -> Allocation:
    if level not in ("enterprise", "industry"):
        msg = f"level(={level!r}) must be 'enterprise' or 'industry'"
        raise ValidationError(msg)
    if not resolution > 0 or not math.isfinite(resolution):
        msg = f"resolution(={resolution}) must be a positive finite number, e.g. 1 (t)"
        raise ValidationError(msg)
    unit, unit_zh = _UNIT[indicator], _UNIT_ZH[indicator]
    _units(target, resolution, "target")
    if level == "enterprise":
        members = {e: [e] for e in industry.index}
    else:
        members = {k: list(g.index) for k, g in industry.groupby(industry, sort=True)}
    rows = pd.Index(list(members), name=level)
    weights = pd.Series({r: float(w.weights.reindex(es).sum()) for r, es in members.items()})
    weights = weights.reindex(rows)

    pins = {str(k): float(v) for k, v in (fixed or {}).items()}
    unknown = [k for k in pins if k not in members]
    if unknown:
        what = "enterprise(s)" if level == "enterprise" else "industr(y/ies)"
        msg = (
            f"fixed names {what} {unknown} not in the park (known at level={level!r}: "
            f"{', '.join(rows)})"
        )
        raise ValidationError(msg)
    for k, v in pins.items():
        if not math.isfinite(v) or v < 0:
            msg = f"fixed[{k!r}](={v}) must be a finite number >= 0 [{unit}]"
            raise ValidationError(msg)
        _units(v, resolution, f"fixed[{k!r}]")
    pinned = math.fsum(pins.values())
    if pinned > target * (1 + 1e-12):
        msg = (
            f"fixed allocations sum to {_num(pinned)} {unit}, more than the target "
            f"{_num(target)} {unit}; lower them or raise the target"
        )
        raise ValidationError(msg)
    free = [r for r in rows if r not in pins]
    rest = (
        _units(target, resolution, "target")
        - sum(_units(v, resolution, "fixed") for v in pins.values())
    ) * resolution
    free_w = weights.reindex(free)
    if rest > 0 and (len(free) == 0 or free_w.sum() == 0):
        who = f" ({', '.join(free)} have zero weight)" if free else ""
        msg = (
            f"the fixed allocations leave {_num(rest)} {unit} of the target with no row to "
            f"take it{who}; unpin a row or make the fixed values sum to {_num(target)}"
        )
        raise ValidationError(msg)

    alloc = pd.Series(0.0, index=rows)
    if free:
        alloc[free] = largest_remainder(rest, free_w, resolution).to_numpy()
    for k, v in pins.items():
        alloc[k] = v
    # What the method would give without pins, for the reasoning of pinned rows.
    plain = largest_remainder(target, weights, resolution) if weights.sum() > 0 else None

    pool_w = float(free_w.sum())
    k_scale = rest / pool_w if pool_w > 0 else 0.0
    reasons_en, reasons_zh = [], []
    for r in rows:
        facts = [w.facts[e] for e in members[r] if e in w.facts]
        b_en, b_zh = w.basis(r, facts)
        if r in pins:
            sug = f"{_num(plain[r])} {unit}" if plain is not None else "none"
            sug_zh = f"{_num(plain[r])} {unit_zh}" if plain is not None else "无"
            reasons_en.append(
                f"fixed by the planner at {_num(pins[r])} {unit} (the method suggested {sug}: "
                f"{b_en})"
            )
            reasons_zh.append(
                f"规划人员固定为 {_num(pins[r])} {unit_zh}（方法建议 {sug_zh}：{b_zh}）"
            )
            continue
        share = float(weights[r]) / pool_w if pool_w > 0 else 0.0
        if pins:
            base_en = (
                f"the remaining {_num(rest)} {unit} (target {_num(target)} less "
                f"{_num(pinned)} fixed)"
            )
            base_zh = (
                f"剩余 {_num(rest)} {unit_zh}（目标 {_num(target)} 减去已固定 {_num(pinned)}）"
            )
            pool_en, pool_zh = "of the unfixed rows' total", "占未固定部分"
        else:
            base_en = f"the park target {_num(target)} {unit}"
            base_zh = f"园区目标 {_num(target)} {unit_zh}"
            pool_en, pool_zh = "of the park's total", "占园区合计"
        if w.scaled:
            en = f"{b_en}; scaled ×{k_scale:.4f} so the rows sum to {base_en}"
            zh = f"{b_zh}；按系数 {k_scale:.4f} 缩放，使合计等于{base_zh}"
        else:
            en = f"{b_en}; share {_pct(share)} {pool_en} × {base_en}"
            zh = f"{b_zh}；{pool_zh} {_pct(share)} × {base_zh}"
        reasons_en.append(en)
        reasons_zh.append(zh)

    frame = pd.DataFrame(
        {
            "allocation": alloc.astype(float),
            "share": alloc / target,
            "weight": weights.astype(float),
            "reason_en": reasons_en,
            "reason_zh": reasons_zh,
            "fixed": [r in pins for r in rows],
        },
        index=rows,
    )
    params = {
        **w.params,
        **extra,
        "level": level,
        "resolution": resolution,
        "fixed": dict(pins),
        "remaining": rest,
    }
    if w.scaled:
        params["scale"] = k_scale
    return Allocation(
        frame=frame,
        method=method,
        params=params,
        target=target,
        year=year,
        indicator=indicator,
        level=level,
        members=members,
        resolution=resolution,
        monthly_history=monthly_history,
    )


def _resolve_target(
    target: float | Target,
    target_basis: Literal["total", "intensity"],
    activity: pd.Series,
    year: int | None,
    indicator: Indicator | None,
    default_year: Callable[[], int],
    resolution: float,
) -> tuple[float, int, Indicator, dict[str, Any]]:
    if target_basis == "total":
        total, y, ind = _target(target, year, indicator, default_year)
        return total, y, ind, {"target_basis": "total"}
    if target_basis != "intensity":
        msg = f"target_basis(={target_basis!r}) must be 'total' or 'intensity'"
        raise ValidationError(msg)
    if isinstance(target, Target):
        msg = (
            "a Target holds a total; with target_basis='intensity' pass the intensity "
            "[t per 10^4 CNY] as a number"
        )
        raise ValidationError(msg)
    if len(activity) == 0:
        msg = (
            "target_basis='intensity' needs activity: each enterprise's planned value added "
            "[10^4 CNY] for the target year"
        )
        raise ValidationError(msg)
    intensity = float(target)
    va = float(activity.sum())
    total = total_from_intensity(intensity, va, resolution)
    if total <= 0:
        msg = (
            f"intensity {intensity} × value added {va} gives no allowance at resolution "
            f"{resolution}"
        )
        raise ValidationError(msg)
    _, y, ind = _target(total, year, indicator, default_year)
    info = {
        "target_basis": "intensity",
        "intensity_t_per_1e4cny": intensity,
        "value_added_1e4cny": va,
        "total": total,
    }
    return total, y, ind, info


# ----------------------------------------------------------------------------------------
# The methods
# ----------------------------------------------------------------------------------------
def historical_share(
    target: float | Target,
    history: pd.DataFrame,
    industry: pd.Series | Mapping[str, str] | Park,
    *,
    year: int | None = None,
    indicator: Indicator | None = None,
    base_years: int = DEFAULT_BASE_YEARS,
    level: Level = "enterprise",
    fixed: Mapping[str, float] | None = None,
    resolution: float = 1.0,
    target_basis: Literal["total", "intensity"] = "total",
    activity: pd.Series | Mapping[str, float] | None = None,
    monthly_history: pd.DataFrame | None = None,
) -> Allocation:
    """Allocate a park target by each enterprise's share of a historical base period.

    Parameters
    ----------
    target : float or Target
        The park's target for the year: a total [t CO2e] or [tce], or with
        ``target_basis="intensity"`` an intensity [t / 10^4 CNY of value added].
    history : pandas.DataFrame
        The indicator per year [t]: years (int) as index, enterprises as columns. NaN only
        before an enterprise's first record (a late entrant).
    industry : pandas.Series, mapping or Park
        Each enterprise's GB/T 4754 industry code; its enterprises are the rows.
    year : int, optional
        The target year; defaults to the target's, else the year after the last history.
    indicator : {"emissions_tco2e", "energy_tce"}, optional
        Defaults to the target's, else ``emissions_tco2e``.
    base_years : int, default 3
        The base period is the last ``base_years`` years of history before ``year``.
    level : {"enterprise", "industry"}, default "enterprise"
        Rows are enterprises, or industries (the sum of their enterprises' weights).
    fixed : mapping of str to float, optional
        Rows pinned by the planner [t]; the rest of the target goes to the others.
    resolution : float, default 1.0
        Rounding step [t].
    target_basis : {"total", "intensity"}, default "total"
        How to read ``target``; ``intensity`` needs ``activity`` (planned value added
        [10^4 CNY]) and makes the total ``floor(intensity × Σ activity)``.
    activity : pandas.Series or mapping, optional
        Planned value added per enterprise for the target year [10^4 CNY].
    monthly_history : pandas.DataFrame, optional
        The indicator per month [t] for :meth:`Allocation.monthly`.

    Returns
    -------
    Allocation
        The rows sum exactly to the target.

    Raises
    ------
    ValidationError
        On an empty history, an enterprise without history in the base period that is not
        fixed (named in the message), a gap, NaN or negative value, a non-positive target,
        fixed values above the target or naming an unknown row.

    Notes
    -----
    Weight ``w_i = mean_{y ∈ B_i} E_{i,y}`` over the base years ``B`` (``B_i`` the years of
    ``B`` from the enterprise's first record); ``A_i = R × w_i / Σ_{j free} w_j`` with ``R``
    the target less the fixed rows, rounded by :func:`largest_remainder`.

    References
    ----------
    CECS park smart carbon management specification, 5.4.3 (pre-allocation from history).
    """
    ind = _industry(industry, year, target)
    act = _series(activity, "activity", ind.index)
    hist_in = history if history is not None else pd.DataFrame()

    def default_year() -> int:
        try:
            return int(max(int(y) for y in hist_in.index)) + 1
        except (TypeError, ValueError):
            msg = "history must have calendar years (int) as index and at least one row"
            raise ValidationError(msg) from None

    total, y, indic, info = _resolve_target(
        target, target_basis, act, year, indicator, default_year, resolution
    )
    h = _check_history(history, ind.index, y)
    b, years = _base(h, base_years)
    means = b.mean(axis=0, skipna=True).dropna()
    missing = [e for e in ind.index if e not in means.index]
    pins = {str(k) for k in (fixed or {})}
    _need_pin(missing, pins, level, ind, f"no history in {_years(years)}", "historical_share")
    unit, unit_zh = _UNIT[indic], _UNIT_ZH[indic]
    facts = {}
    for e, m in means.items():
        ys = [int(yy) for yy in b.index[b[e].notna().to_numpy()]]
        facts[str(e)] = {"mean": float(m), "years": ys}

    def basis(row: str, fs: list[dict[str, Any]]) -> tuple[str, str]:
        if not fs:
            return "no history", "无历史数据"
        m = sum(f["mean"] for f in fs)
        ys = sorted({yy for f in fs for yy in f["years"]})
        n = len(ys)
        who = f" of its {len(fs)} enterprises" if level == "industry" else ""
        who_zh = f"（{len(fs)} 家企业合计）" if level == "industry" else ""
        return (
            f"{n}-year mean {_num(m)} {unit}{who} ({_years(ys)})",
            f"{_years(ys)} 年 {n} 年平均 {_num(m)} {unit_zh}{who_zh}",
        )

    w = _Weights(
        weights=means.astype(float),
        facts=facts,
        params={"base_years": base_years, "base_period": years, **info},
        basis=basis,
    )
    if means.sum() == 0 and not fixed:
        msg = f"history sums to zero over {_years(years)}; there is no share to take"
        raise ValidationError(msg)
    return _finish(
        w, "historical_share", total, y, indic, ind, level, fixed, resolution,
        monthly_history, {},
    )  # fmt: skip


def _need_pin(
    missing: list[str],
    pins: set[str],
    level: Level,
    industry: pd.Series,
    why: str,
    method: str,
    strict: bool = False,
) -> None:
    """Refuse rows with no weight from the method unless the planner pinned them.

    At industry level an enterprise without data is accepted when its industry is pinned,
    or (unless ``strict``) when other enterprises of its industry have data.
    """
    if level == "enterprise":
        left = [e for e in missing if e not in pins]
    else:
        left = [
            e
            for e in missing
            if industry[e] not in pins
            and (strict or all(m in missing for m in industry.index[industry == industry[e]]))
        ]
    if left:
        msg = (
            f"{method}: enterprise(s) {left} have {why} (a new entrant?); fix their "
            f"allocation with fixed={{{left[0]!r}: ...}} or use a method that has data for "
            "them (intensity_benchmark needs only planned activity)"
        )
        raise ValidationError(msg)


def intensity_benchmark(
    target: float | Target,
    activity: pd.Series | Mapping[str, float],
    industry: pd.Series | Mapping[str, str] | Park,
    benchmark: pd.Series | Mapping[str, float],
    *,
    year: int | None = None,
    indicator: Indicator | None = None,
    level: Level = "enterprise",
    fixed: Mapping[str, float] | None = None,
    resolution: float = 1.0,
    target_basis: Literal["total", "intensity"] = "total",
    activity_unit: str = "10^4 CNY",
    monthly_history: pd.DataFrame | None = None,
) -> Allocation:
    """Allocate a park target by industry benchmark intensity × planned activity, scaled.

    Parameters
    ----------
    target : float or Target
        The park's target for the year [t], or an intensity with
        ``target_basis="intensity"``.
    activity : pandas.Series or mapping
        Each enterprise's planned activity for the target year, usually value added
        [10^4 CNY] (or output, with benchmarks per unit of output).
    industry : pandas.Series, mapping or Park
        Each enterprise's GB/T 4754 industry code.
    benchmark : pandas.Series or mapping
        Benchmark intensity per industry [t CO2e / 10^4 CNY] or [tce / 10^4 CNY]; keys are
        industry codes or their prefixes (``C26`` covers ``C2614``; the longest matching
        key applies).
    year : int
        The target year (required unless ``target`` is a :class:`Target`).
    indicator : {"emissions_tco2e", "energy_tce"}, optional
        Defaults to the target's, else ``emissions_tco2e``.
    level : {"enterprise", "industry"}, default "enterprise"
        Rows are enterprises or industries (sums of their enterprises' allowances).
    fixed : mapping of str to float, optional
        Rows pinned by the planner [t].
    resolution : float, default 1.0
        Rounding step [t].
    target_basis : {"total", "intensity"}, default "total"
        With ``intensity`` the total is ``floor(intensity × Σ activity)``.
    activity_unit : str, default "10^4 CNY"
        Unit of ``activity``, for the reasoning only.
    monthly_history : pandas.DataFrame, optional
        The indicator per month [t] for :meth:`Allocation.monthly`.

    Returns
    -------
    Allocation
        The rows sum exactly to the target; ``params["scale"]`` is the scaling factor.

    Raises
    ------
    ValidationError
        If an enterprise has no activity or no benchmark for its industry (and is not
        fixed), a value is negative or NaN, the target is not positive, or ``fixed`` is
        invalid.

    Notes
    -----
    Allowance ``a_i = b_{ind(i)} × x_i``; ``A_i = k × a_i`` with
    ``k = R / Σ_{j free} a_j`` (``R`` the target less the fixed rows), rounded by
    :func:`largest_remainder`. ``k < 1`` means the target is tighter than the benchmarks.

    References
    ----------
    CECS park smart carbon management specification, 5.4.3 (intensity-based targets).
    """
    ind = _industry(industry, year, target)
    act = _series(activity, "activity", ind.index)
    bench = pd.Series(benchmark, dtype=float)
    bench.index = bench.index.astype(str)
    if len(bench) == 0:
        msg = "benchmark is empty; give the benchmark intensity [t / 10^4 CNY] per industry"
        raise ValidationError(msg)
    bad = bench[~np.isfinite(bench.to_numpy()) | (bench.to_numpy() < 0)]
    if len(bad):
        msg = f"benchmark of industry {bad.index[0]} is {bad.iloc[0]}; it must be finite and >= 0"
        raise ValidationError(msg)

    def default_year() -> int:
        msg = "year is required with a numeric target for intensity_benchmark"
        raise ValidationError(msg)

    total, y, indic, info = _resolve_target(
        target, target_basis, act, year, indicator, default_year, resolution
    )
    unit, unit_zh = _UNIT[indic], _UNIT_ZH[indic]
    a_zh = _ACTIVITY_ZH.get(activity_unit, activity_unit)
    pins = {str(k) for k in (fixed or {})}
    no_act = [e for e in ind.index if e not in act.index]
    _need_pin(no_act, pins, level, ind, "no planned activity", "intensity_benchmark", True)
    facts: dict[str, dict[str, Any]] = {}
    no_bench = []
    for e in act.index:
        code = ind[e]
        keys = [k for k in bench.index if code.startswith(k)]
        if not keys:
            no_bench.append(e)
            continue
        key = max(keys, key=len)
        facts[e] = {
            "benchmark": float(bench[key]),
            "key": key,
            "activity": float(act[e]),
            "allowance": float(bench[key]) * float(act[e]),
        }
    if no_bench:
        row_of = (lambda e: e) if level == "enterprise" else (lambda e: ind[e])
        left = [e for e in no_bench if row_of(e) not in pins]
        if left:
            codes = sorted({ind[e] for e in left})
            msg = (
                f"intensity_benchmark: no benchmark for industry {codes} of enterprise(s) "
                f"{left}; add it to benchmark (a code or its prefix, e.g. {codes[0][:3]!r})"
            )
            raise ValidationError(msg)
    weights = pd.Series({e: f["allowance"] for e, f in facts.items()}, dtype=float)

    def basis(row: str, fs: list[dict[str, Any]]) -> tuple[str, str]:
        if not fs:
            return "no planned activity", "无计划活动水平"
        if level == "enterprise":
            f = fs[0]
            return (
                f"benchmark {f['benchmark']:g} {unit}/{activity_unit} ({f['key']}) × planned "
                f"{_num(f['activity'])} {activity_unit} = {_num(f['allowance'])} {unit}",
                f"行业基准 {f['benchmark']:g} {unit_zh}/{a_zh}（{f['key']}）× 计划 "
                f"{_num(f['activity'])} {a_zh} = {_num(f['allowance'])} {unit_zh}",
            )
        a = sum(f["allowance"] for f in fs)
        x = sum(f["activity"] for f in fs)
        return (
            f"Σ benchmark × planned activity of its {len(fs)} enterprises "
            f"({_num(x)} {activity_unit}) = {_num(a)} {unit}",
            f"{len(fs)} 家企业行业基准 × 计划活动水平之和（{_num(x)} {a_zh}）= {_num(a)} {unit_zh}",
        )

    w = _Weights(
        weights=weights,
        facts=facts,
        params={"benchmark": bench.to_dict(), "activity_unit": activity_unit, **info},
        basis=basis,
        scaled=True,
    )
    return _finish(
        w, "intensity_benchmark", total, y, indic, ind, level, fixed, resolution,
        monthly_history, {},
    )  # fmt: skip


def growth_adjusted(
    target: float | Target,
    history: pd.DataFrame | None,
    industry: pd.Series | Mapping[str, str] | Park,
    *,
    forecast: pd.Series | Mapping[str, float] | None = None,
    year: int | None = None,
    indicator: Indicator | None = None,
    base_years: int = DEFAULT_BASE_YEARS,
    growth_cap: float = DEFAULT_GROWTH_CAP,
    level: Level = "enterprise",
    fixed: Mapping[str, float] | None = None,
    resolution: float = 1.0,
    target_basis: Literal["total", "intensity"] = "total",
    activity: pd.Series | Mapping[str, float] | None = None,
    monthly_history: pd.DataFrame | None = None,
) -> Allocation:
    """Allocate a park target in proportion to each enterprise's forecast for the year.

    Parameters
    ----------
    target : float or Target
        The park's target for the year [t], or an intensity with
        ``target_basis="intensity"``.
    history : pandas.DataFrame or None
        The indicator per year [t] (years × enterprises) to extrapolate enterprises without
        a forecast; may be None if ``forecast`` covers every enterprise.
    industry : pandas.Series, mapping or Park
        Each enterprise's GB/T 4754 industry code.
    forecast : pandas.Series or mapping, optional
        Forecast of the indicator for the target year per enterprise [t], e.g. from a
        forecaster of this package; it takes precedence over extrapolation.
    year : int, optional
        The target year; defaults to the target's, else the year after the last history.
    indicator : {"emissions_tco2e", "energy_tce"}, optional
        Defaults to the target's, else ``emissions_tco2e``.
    base_years : int, default 3
        Years of history for the growth rate.
    growth_cap : float, default 0.10
        Cap on the absolute compound annual growth [frac/yr].
    level : {"enterprise", "industry"}, default "enterprise"
        Rows are enterprises or industries (sums of their enterprises' forecasts).
    fixed : mapping of str to float, optional
        Rows pinned by the planner [t].
    resolution : float, default 1.0
        Rounding step [t].
    target_basis : {"total", "intensity"}, default "total"
        With ``intensity`` the total is ``floor(intensity × Σ activity)``.
    activity : pandas.Series or mapping, optional
        Planned value added per enterprise [10^4 CNY] (for an intensity target).
    monthly_history : pandas.DataFrame, optional
        The indicator per month [t] for :meth:`Allocation.monthly`.

    Returns
    -------
    Allocation
        The rows sum exactly to the target.

    Raises
    ------
    ValidationError
        If an enterprise has neither a forecast nor history (and is not fixed), on NaN,
        negative or gapped data, a non-positive target or invalid ``fixed``.

    Notes
    -----
    Without a given forecast, with the enterprise's values in the base years from
    ``y_0`` to the last base year ``y_1``:
    ``g = clip((E_{y_1} / E_{y_0})^{1/(y_1 - y_0)} - 1, -cap, +cap)`` (0 with one year;
    ``+cap`` if ``E_{y_0} = 0 < E_{y_1}``) and ``F = E_{y_1} (1 + g)^{Y - y_1}``.
    Then ``A_i = R × F_i / Σ_{j free} F_j``, rounded by :func:`largest_remainder`.

    References
    ----------
    CECS park smart carbon management specification, 5.4.3 and its note (pre-allocation
    from forecasts of energy, emissions and their drivers).
    """
    if not (math.isfinite(growth_cap) and growth_cap >= 0):
        msg = f"growth_cap(={growth_cap}) must be a finite fraction >= 0, e.g. 0.10"
        raise ValidationError(msg)
    ind = _industry(industry, year, target)
    act = _series(activity, "activity", ind.index)
    fc = _series(forecast, "forecast", ind.index)

    def default_year() -> int:
        if history is None or len(history) == 0:
            msg = "year is required when there is no history"
            raise ValidationError(msg)
        return int(max(int(yy) for yy in history.index)) + 1

    total, y, indic, info = _resolve_target(
        target, target_basis, act, year, indicator, default_year, resolution
    )
    unit, unit_zh = _UNIT[indic], _UNIT_ZH[indic]
    need_hist = [e for e in ind.index if e not in fc.index]
    facts: dict[str, dict[str, Any]] = {}
    for e, v in fc.items():
        facts[str(e)] = {"forecast": float(v), "given": True}
    years: list[int] = []
    if need_hist:
        if history is None or history.size == 0:
            pins = {str(k) for k in (fixed or {})}
            _need_pin(need_hist, pins, level, ind, "no forecast and no history", "growth_adjusted")
        else:
            h = _check_history(history, ind.index, y)
            b, years = _base(h, base_years)
            for e in need_hist:
                if e not in b.columns or b[e].notna().sum() == 0:
                    continue
                s = b[e].dropna()
                y0, y1 = int(s.index[0]), int(s.index[-1])
                e0, e1 = float(s.iloc[0]), float(s.iloc[-1])
                if y1 == y0 or (e0 == 0 and e1 == 0):
                    g = 0.0
                elif e0 == 0:
                    g = growth_cap
                else:
                    g = (e1 / e0) ** (1.0 / (y1 - y0)) - 1.0
                capped = abs(g) > growth_cap * (1 + 1e-9)  # not for float noise at the cap
                g = float(np.clip(g, -growth_cap, growth_cap))
                f = e1 * (1.0 + g) ** (y - y1)
                facts[e] = {
                    "forecast": f,
                    "given": False,
                    "last": e1,
                    "y0": y0,
                    "y1": y1,
                    "growth": g,
                    "capped": capped,
                }
            missing = [e for e in need_hist if e not in facts]
            pins = {str(k) for k in (fixed or {})}
            _need_pin(
                missing, pins, level, ind, f"no forecast and no history in {_years(years)}",
                "growth_adjusted",
            )  # fmt: skip
    weights = pd.Series({e: f["forecast"] for e, f in facts.items()}, dtype=float)

    def basis(row: str, fs: list[dict[str, Any]]) -> tuple[str, str]:
        if not fs:
            return "no forecast", "无预测"
        if level == "industry":
            f = sum(x["forecast"] for x in fs)
            n_given = sum(x["given"] for x in fs)
            return (
                f"forecast {y} {_num(f)} {unit}, sum of its {len(fs)} enterprises "
                f"({n_given} given, {len(fs) - n_given} extrapolated)",
                f"{y} 年预测 {_num(f)} {unit_zh}，{len(fs)} 家企业合计"
                f"（{n_given} 家给定，{len(fs) - n_given} 家外推）",
            )
        x = fs[0]
        if x["given"]:
            return (
                f"forecast {y} {_num(x['forecast'])} {unit} (given)",
                f"{y} 年预测 {_num(x['forecast'])} {unit_zh}（给定）",
            )
        cap = f", capped at ±{_pct(growth_cap)}" if x["capped"] else ""
        cap_zh = f"，限幅 ±{_pct(growth_cap)}" if x["capped"] else ""
        span = _years([x["y0"], x["y1"]]) if x["y1"] > x["y0"] else str(x["y1"])
        return (
            f"{_num(x['last'])} {unit} in {x['y1']} × (1 {100 * x['growth']:+.1f} %)^"
            f"{y - x['y1']} = {_num(x['forecast'])} {unit} forecast for {y} (compound annual "
            f"growth {span}{cap})",
            f"{x['y1']} 年 {_num(x['last'])} {unit_zh} × (1 {100 * x['growth']:+.1f} %)^"
            f"{y - x['y1']} = {y} 年预测 {_num(x['forecast'])} {unit_zh}（{span} 年复合增长率"
            f"{cap_zh}）",
        )

    w = _Weights(
        weights=weights,
        facts=facts,
        params={
            "base_years": base_years,
            "base_period": years,
            "growth_cap": growth_cap,
            "forecast_given": sorted(fc.index),
            **info,
        },
        basis=basis,
    )
    if weights.sum() == 0 and not fixed:
        msg = "every forecast is zero; there is no share to take"
        raise ValidationError(msg)
    return _finish(
        w, "growth_adjusted", total, y, indic, ind, level, fixed, resolution,
        monthly_history, {},
    )  # fmt: skip


# ----------------------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------------------
def allocate(
    method: Literal["historical_share", "intensity_benchmark", "growth_adjusted"],
    target: float | Target,
    *,
    industry: pd.Series | Mapping[str, str] | Park,
    history: pd.DataFrame | None = None,
    activity: pd.Series | Mapping[str, float] | None = None,
    benchmark: pd.Series | Mapping[str, float] | None = None,
    forecast: pd.Series | Mapping[str, float] | None = None,
    year: int | None = None,
    indicator: Indicator | None = None,
    level: Level = "enterprise",
    fixed: Mapping[str, float] | None = None,
    base_years: int = DEFAULT_BASE_YEARS,
    growth_cap: float = DEFAULT_GROWTH_CAP,
    resolution: float = 1.0,
    target_basis: Literal["total", "intensity"] = "total",
    activity_unit: str = "10^4 CNY",
    monthly_history: pd.DataFrame | None = None,
) -> Allocation:
    """Suggest an allocation of a park target by the named method.

    Parameters
    ----------
    method : {"historical_share", "intensity_benchmark", "growth_adjusted"}
        See :func:`historical_share`, :func:`intensity_benchmark`, :func:`growth_adjusted`.
    target : float or Target
        The park's target [t CO2e] or [tce], or an intensity [t / 10^4 CNY] with
        ``target_basis="intensity"``.
    industry : pandas.Series, mapping or Park
        Each enterprise's GB/T 4754 industry code (the enterprises are the rows).
    history, activity, benchmark, forecast : optional
        The inputs the method needs (see each method).
    year : int, optional
        The target year.
    indicator : {"emissions_tco2e", "energy_tce"}, optional
        The indicator.
    level : {"enterprise", "industry"}, default "enterprise"
        Rows are enterprises or industries.
    fixed : mapping of str to float, optional
        Rows pinned by the planner [t].
    base_years : int, default 3
        Years in the base period.
    growth_cap : float, default 0.10
        Cap on the extrapolated annual growth [frac/yr].
    resolution : float, default 1.0
        Rounding step [t].
    target_basis : {"total", "intensity"}, default "total"
        How to read ``target``.
    activity_unit : str, default "10^4 CNY"
        Unit of ``activity`` for the reasoning.
    monthly_history : pandas.DataFrame, optional
        The indicator per month [t] for :meth:`Allocation.monthly`.

    Returns
    -------
    Allocation
        Rows summing exactly to the target, with reasoning in en and zh.

    Raises
    ------
    ValidationError
        On an unknown method, a missing input of the method, or bad input (see each method).
    """
    common: dict[str, Any] = {
        "year": year,
        "indicator": indicator,
        "level": level,
        "fixed": fixed,
        "resolution": resolution,
        "target_basis": target_basis,
        "monthly_history": monthly_history,
    }
    if method == "historical_share":
        if history is None:
            msg = "historical_share needs history (years × enterprises) [t]"
            raise ValidationError(msg)
        return historical_share(
            target, history, industry, base_years=base_years, activity=activity, **common
        )
    if method == "intensity_benchmark":
        if activity is None or benchmark is None:
            msg = (
                "intensity_benchmark needs activity (planned value added per enterprise "
                "[10^4 CNY]) and benchmark (intensity per industry [t / 10^4 CNY])"
            )
            raise ValidationError(msg)
        return intensity_benchmark(
            target, activity, industry, benchmark, activity_unit=activity_unit, **common
        )
    if method == "growth_adjusted":
        if history is None and forecast is None:
            msg = "growth_adjusted needs a forecast per enterprise or history to extrapolate"
            raise ValidationError(msg)
        return growth_adjusted(
            target,
            history,
            industry,
            forecast=forecast,
            base_years=base_years,
            growth_cap=growth_cap,
            activity=activity,
            **common,
        )
    msg = f"method(={method!r}) is not known; use one of {', '.join(METHODS)}"
    raise ValidationError(msg)
