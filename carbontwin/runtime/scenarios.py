"""Carbon-peak scenario studies of a park, from its stored accounting (S1, N4, T1).

A study (:mod:`carbontwin.scenarios`) is a document of drivers and their uncertainty; the
demo park ships one (``carbontwin/data/scenarios/demo.yaml``: baseline, policy and
enhanced low-carbon). :func:`load_park_study` reads it and replaces its base year by the
park's own accounting where the store holds it:

- energy [tce] and emissions [t CO2e] by study industry and scope from the stored monthly
  inventories of the base year (all twelve months; the shipped illustrative base stays
  otherwise, and the answer says which was used);
- the process part of scope 1 from the same lines (the grid electricity is the study's
  default: scope-2 emissions over the grid factor, so the CHP plant's supply to other
  enterprises, accounted at the plant's own factors, is not taken for grid power);
- value added by industry from the stored statistics of the base year (the demo park's
  statistics file when the store has none).

Enterprises map to the study's industries by their GB/T 4754 codes
(:data:`INDUSTRY_GROUPS`, or a mapping passed in). :func:`run_study` projects every
scenario, draws the Monte Carlo and, when asked, the sensitivity and suggestions;
:func:`decoupling_of` gives Tapio's states of the projections or of stored years.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import yaml

from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.core.units import conversion_factor
from carbontwin.runtime.accounting import demo_statistics_path, read_statistics
from carbontwin.runtime.overview import stored_lines
from carbontwin.scenarios import (
    base_from_frame,
    decoupling,
    demo_study_path,
    load_study,
    monte_carlo,
    peak_summary,
    peak_year_pmf,
    plan_deviation,
    project,
    reproject,
    suggestions,
    tornado,
)
from carbontwin.store import Store

__all__ = [
    "INDUSTRY_GROUPS",
    "StudyRun",
    "decoupling_of",
    "industry_group",
    "load_park_study",
    "run_study",
    "track_plan",
]

#: The demo study's industries by GB/T 4754 code prefix (longest prefix wins; a letter is
#: a whole section). Chemicals: C25–C28; building materials: C30; other manufacturing: C;
#: the rest of the economy: services.
INDUSTRY_GROUPS: dict[str, str] = {
    "C25": "chemicals",
    "C26": "chemicals",
    "C27": "chemicals",
    "C28": "chemicals",
    "C30": "building_materials",
    "C": "manufacturing",
    "B": "manufacturing",
    "D": "services",
    "E": "services",
    "F": "services",
    "G": "services",
    "H": "services",
    "I": "services",
    "J": "services",
    "K": "services",
    "L": "services",
    "M": "services",
    "N": "services",
    "O": "services",
    "P": "services",
    "Q": "services",
    "R": "services",
    "S": "services",
}

_PURCHASED = {"purchased_electricity", "purchased_heat"}


def industry_group(code: str, groups: Mapping[str, str] = INDUSTRY_GROUPS) -> str | None:
    """Return the study industry of a GB/T 4754 code (the longest matching prefix)."""
    for n in range(len(code), 0, -1):
        if code[:n] in groups:
            return groups[code[:n]]
    return None


@dataclass(frozen=True)
class ParkStudy:
    """A study with its base year, and where the base came from.

    Attributes
    ----------
    study : carbontwin.scenarios.Study
        The validated study.
    base_source : str
        ``accounting`` (the store's inventories and statistics) or ``shipped`` (the
        study file's illustrative base).
    notes : list of str
        Why the shipped base was kept, or which parts came from where.
    """

    study: Any
    base_source: str
    notes: list[str]


def _study_doc() -> dict[str, Any]:
    return yaml.safe_load(demo_study_path().read_text(encoding="utf-8"))


def _value_added(store: Store, park: Park, year: int) -> dict[str, float]:
    """Value added of the base year by enterprise [10^4 CNY] (stored, else the demo file)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    stats = store.statistics(park.id, first, last)
    if not any(s.name == "value_added" for s in stats) and park.id == "binhai":
        stats, _ = read_statistics([demo_statistics_path()])
    out: dict[str, float] = {}
    for s in stats:
        if s.name != "value_added" or s.entity == "park" or s.start.year != year:
            continue
        out[s.entity] = out.get(s.entity, 0.0) + s.value * conversion_factor(s.unit, "wCNY")
    return out


def load_park_study(
    store: Store,
    park: Park,
    *,
    document: Mapping[str, Any] | None = None,
    groups: Mapping[str, str] = INDUSTRY_GROUPS,
) -> ParkStudy:
    """Return the park's study with its base year from the store's accounting.

    Parameters
    ----------
    document : mapping, optional
        A parsed study document; the shipped demo study by default.
    groups : mapping of str to str
        GB/T 4754 code prefix → study industry.
    """
    doc = dict(document or _study_doc())
    year = int(doc["study"]["base_year"])
    shipped = doc["study"]["base"]
    notes: list[str] = []
    lines = stored_lines(store, park.id, dt.date(year, 1, 1), dt.date(year, 12, 31))
    months = set(lines["month"].astype(str)) if len(lines) else set()
    if len(months) < 12:
        notes.append(
            f"the store holds {len(months)} of the 12 monthly inventories of {year}; the "
            "study's shipped illustrative base year is used (store the year's inventories "
            "to project from the park's own accounting)"
        )
        return ParkStudy(load_study(doc), "shipped", notes)
    industry_of = {e.id: industry_group(e.industry, groups) for e in park.enterprises}
    unknown = sorted(e for e, g in industry_of.items() if g is None)
    if unknown:
        msg = (
            f"enterprises {', '.join(unknown)} have industry codes no study industry covers; "
            "pass groups= mapping their GB/T 4754 codes"
        )
        raise ValidationError(msg)
    lines = lines.assign(industry=lines["enterprise"].map(industry_of))
    em = lines[(lines["kind"] == "emission") & lines["scope"].isin([1, 2])]
    en = lines[lines["kind"] == "energy"]
    en = en[en["use"].isin(["consumption"])]
    en_scope = np.where(en["carrier"].isin(["electricity", "heat", "steam"]), 2, 1)
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "industry": em["industry"],
                    "scope": em["scope"].astype(int),
                    "emissions_tco2e": em["tco2e"],
                    "energy_tce": 0.0,
                }
            ),
            pd.DataFrame(
                {
                    "industry": en["industry"],
                    "scope": en_scope,
                    "emissions_tco2e": 0.0,
                    "energy_tce": en["energy_tce"],
                }
            ),
        ],
        ignore_index=True,
    )
    process = em[em["category"] == "process"].groupby("industry")["tco2e"].sum()
    grid = float(shipped["grid_factor_tco2_per_mwh"])
    va = pd.Series(_value_added(store, park, year), dtype=float)
    va = va.groupby(va.index.map(industry_of)).sum()
    industries = sorted(set(frame["industry"]))
    missing = [i for i in industries if i not in va.index or va[i] <= 0]
    if missing:
        notes.append(f"no value added of {year} for {', '.join(missing)}; the shipped base is used")
        return ParkStudy(load_study(doc), "shipped", notes)
    names = {
        k: (v.get("name", k), v.get("name_zh", k))
        for k, v in (shipped.get("industries") or {}).items()
    }
    base = base_from_frame(
        frame,
        va,
        grid_factor_tco2_per_mwh=grid,
        process_emissions_tco2e=process,
        names={k: names.get(k, (k, k)) for k in industries},
        pv_capacity_mw=float(shipped.get("pv_capacity_mw", 0.0)),
        storage_capacity_mwh=float(shipped.get("storage_capacity_mwh", 0.0)),
        sinks_tco2e=float(shipped.get("sinks_tco2e", 0.0)),
    )
    notes.append(
        f"base year {year} from the stored inventories (12 months) and value added of "
        f"{len(va)} industries"
    )
    return ParkStudy(load_study(doc, overrides={"base": base}), "accounting", notes)


@dataclass(frozen=True)
class StudyRun:
    """What a study run answers.

    Attributes
    ----------
    projection : xarray.Dataset
        The deterministic projection (scenario × year × industry × scope).
    draws : xarray.Dataset or None
        The Monte Carlo result (scenario × draw …), when draws were asked for.
    summary : pandas.DataFrame
        Per scenario: the deterministic peak year and value, the draws' peak-year and
        peak-value quantiles and the probability of peaking by ``by_year``.
    """

    park: str
    base_source: str
    notes: list[str]
    projection: Any
    draws: Any
    summary: pd.DataFrame
    by_year: int
    sensitivity: dict[str, pd.DataFrame]
    suggestions: dict[str, dict[str, list[str]]]

    def to_dict(self) -> dict[str, Any]:
        """Return the run as JSON-ready data."""
        p = self.projection

        def num(x: Any) -> float | None:
            x = float(x)
            return x if np.isfinite(x) else None

        years = [int(y) for y in p.year.values]
        trajectories = {
            str(s): {
                "net_emissions_tco2e": [
                    num(v) for v in p.net_emissions_tco2e.sel(scenario=s).values
                ],
                "energy_tce": [num(v) for v in p.total_energy_tce.sel(scenario=s).values],
            }
            for s in p.scenario.values
        }
        pmf = {}
        if self.draws is not None:
            table = peak_year_pmf(self.draws)
            pmf = {
                str(s): {
                    str(int(y)): num(v)
                    for y, v in zip(
                        table.peak_year.values, table.sel(scenario=s).values, strict=True
                    )
                    if v > 0
                }
                for s in table.scenario.values
            }
        return {
            "park": self.park,
            "base_source": self.base_source,
            "notes": self.notes,
            "years": years,
            "trajectories": trajectories,
            "summary": [
                {
                    k: (num(v) if isinstance(v, (int, float, np.floating, np.integer)) else v)
                    for k, v in row.items()
                }
                | {"scenario": str(idx)}
                for idx, row in self.summary.iterrows()
            ],
            "by_year": self.by_year,
            "peak_year_pmf": pmf,
            "sensitivity": {
                s: t.reset_index().to_dict(orient="records") for s, t in self.sensitivity.items()
            },
            "suggestions": self.suggestions,
        }


def run_study(
    store: Store,
    park: Park,
    *,
    scenarios: Sequence[str] | None = None,
    draws: int = 2000,
    seed: int = 0,
    by_year: int = 2030,
    sensitivity: bool = False,
    dask: Any = None,
    document: Mapping[str, Any] | None = None,
    progress: Any = None,
) -> StudyRun:
    """Project the park's study, draw its uncertainty and rank its drivers.

    Parameters
    ----------
    scenarios : sequence of str, optional
        Scenario ids; every scenario of the study by default.
    draws : int
        Monte Carlo draws per scenario (0: the deterministic projection only).
    by_year : int
        The year of "probability of peaking by".
    sensitivity : bool
        Whether to compute the tornado and the suggestions of each scenario.
    dask : optional
        ``True`` (a local cluster), a client or a scheduler address.
    progress : callable, optional
        Called as ``progress(step, done, total)``.

    Raises
    ------
    ValidationError
        For an unknown scenario, or draws out of range.
    """
    ps = load_park_study(store, park, document=document)
    study = ps.study
    known = list(study.scenarios)
    chosen = list(scenarios or known)
    unknown = [s for s in chosen if s not in known]
    if unknown:
        msg = f"unknown scenario {', '.join(unknown)}; the study has {', '.join(known)}"
        raise ValidationError(msg)
    if not 0 <= draws <= 1_000_000:
        msg = f"draws(={draws}) must be between 0 and 1,000,000"
        raise ValidationError(msg)
    total = 2 + (len(chosen) if sensitivity else 0)
    tick = progress or (lambda *a: None)
    projection = project(study, chosen)
    tick("project", 1, total)
    mc = None
    rows = []
    if draws:
        mc = monte_carlo(study, draws, seed=seed, scenarios=chosen, dask=dask, keep_paths=False)
        summary = peak_summary(mc, by_year=by_year)
    tick("monte carlo", 2, total)
    for s in chosen:
        row: dict[str, Any] = {
            "peak_year": int(projection.peak_year.sel(scenario=s)),
            "peak_tco2e": float(projection.peak_tco2e.sel(scenario=s)),
            "peaked": bool(projection.peaked.sel(scenario=s)),
        }
        if mc is not None:
            one = summary.sel(scenario=s)
            row["p_peak_by"] = float(one.prob_peak_by)
            row["peaked_frac"] = float(one.peaked_frac)
            row["peak_tco2e_mean"] = float(one.peak_tco2e_mean)
            for q in one["quantile"].values:
                pct = f"p{round(float(q) * 100):02d}"
                row[f"peak_year_{pct}"] = int(one.peak_year_quantile.sel(quantile=q))
                row[f"peak_tco2e_{pct}"] = float(one.peak_tco2e_quantile.sel(quantile=q))
        rows.append(pd.Series(row, name=s))
    table = pd.DataFrame(rows)
    sens: dict[str, pd.DataFrame] = {}
    words: dict[str, dict[str, list[str]]] = {}
    if sensitivity:
        for i, s in enumerate(chosen, start=1):
            t = tornado(study, s)
            sens[s] = t
            words[s] = {
                lang: suggestions(study, s, lang=lang, tornado_table=t) for lang in ("en", "zh")
            }
            tick("sensitivity", 2 + i, total)
    return StudyRun(park.id, ps.base_source, ps.notes, projection, mc, table, by_year, sens, words)


def decoupling_of(run: StudyRun, *, level: str = "park", lang: str = "en") -> pd.DataFrame:
    """Return Tapio's decoupling states of each scenario's projection, by year.

    ``level`` is ``park`` or ``industry``; emissions are the net (park) or gross
    (industry) emissions against value added.
    """
    if level not in ("park", "industry"):
        msg = f"level(={level!r}) must be park or industry"
        raise ValidationError(msg)
    p = run.projection
    frames = []
    for s in p.scenario.values:
        one = p.sel(scenario=s)
        em = one.emissions_tco2e.sum("scope")
        va = one.value_added_1e4cny
        frame = pd.DataFrame(
            {
                "year": np.repeat(one.year.values, one.sizes["industry"]),
                "industry": np.tile(one.industry.values, one.sizes["year"]),
                "emissions_tco2e": em.transpose("year", "industry").values.ravel(),
                "value_added_1e4cny": va.transpose("year", "industry").values.ravel(),
            }
        )
        out = decoupling(frame, level=level, lang=lang)
        frames.append(out.assign(scenario=str(s)))
    return pd.concat(frames, ignore_index=True)


def accounted_years(store: Store, park: Park) -> pd.Series:
    """Return the park's gross emissions (scopes 1 + 2) of each fully stored year [t CO2e].

    A year counts when its twelve monthly inventories are stored.
    """
    rows = store.inventories(park.id)
    if not rows:
        return pd.Series(dtype=float, name="gross_tco2e")
    start = min(r["start"] for r in rows)
    end = max(r["end"] for r in rows)
    lines = stored_lines(store, park.id, start, end)
    em = lines[(lines["kind"] == "emission") & lines["scope"].isin([1, 2])]
    month = pd.PeriodIndex(em["month"].astype(str), freq="M")
    by_year = em.groupby(month.year)["tco2e"].sum()
    months = pd.Series(month.month, index=month.year).groupby(level=0).nunique()
    full = months[months == 12].index
    return by_year.loc[by_year.index.isin(full)].rename("gross_tco2e").astype(float)


def track_plan(store: Store, park: Park, scenario: str, *, warn_frac: float = 0.05) -> dict:
    """Compare the accounted years with a scenario's plan and project again from the latest.

    Returns
    -------
    dict
        ``deviation`` (a frame by year: actual, plan, deviation, deviation_frac,
        above_plan, warning), ``reprojection`` (the scenario projected from the latest
        accounted year) and ``notes``.

    Raises
    ------
    ValidationError
        For an unknown scenario, or when no complete accounted year overlaps the plan.
    """
    ps = load_park_study(store, park)
    if scenario not in ps.study.scenarios:
        msg = f"unknown scenario {scenario!r}; the study has {', '.join(ps.study.scenarios)}"
        raise ValidationError(msg)
    actual = accounted_years(store, park)
    if actual.empty:
        msg = (
            f"the store holds no complete accounted year of {park.id} (twelve monthly "
            "inventories); store a year's inventories to track the plan"
        )
        raise ValidationError(msg)
    projection = project(ps.study, [scenario])
    plan = projection.gross_emissions_tco2e.sel(scenario=scenario)
    deviation = plan_deviation(actual, plan.to_pandas(), warn_frac=warn_frac)
    notes = list(ps.notes)
    if int(actual.index.max()) > ps.study.base_year:
        again = reproject(ps.study, actual, scenarios=[scenario])
    else:
        again = projection
        notes.append(
            f"the latest accounted year is the base year {ps.study.base_year}: the "
            "projection from it is the plan itself"
        )
    return {"deviation": deviation, "reprojection": again, "notes": notes}
