"""Tracking a plan: deviation of actuals from the plan and where the park is heading now.

:func:`plan_deviation` compares actual emissions (or energy) with a plan trajectory, year
by year, absolute and relative, and flags the years beyond a warning threshold.
:func:`rebase` moves a study's base year to the latest actual year, scaling the projected
state of that year to the actual; :func:`reproject` projects from there ("where are we
heading now"). Trajectories are by calendar year, so the drivers of the later years keep
their meaning; measures count from their level in the new base year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import xarray as xr

from carbontwin.core.errors import ValidationError
from carbontwin.scenarios.definition import BaseData, Study, load_study
from carbontwin.scenarios.projection import project

__all__ = ["plan_deviation", "rebase", "reproject"]


def _series(values: Any, name: str) -> pd.Series:
    if isinstance(values, xr.DataArray):
        values = values.to_series()
    if isinstance(values, Mapping):
        values = pd.Series(dict(values))
    if not isinstance(values, pd.Series):
        msg = f"{name} must be a pandas Series (or a mapping) indexed by year, not {type(values)}"
        raise ValidationError(msg)
    s = values.astype(float)
    s.index = s.index.astype(int)
    return s.sort_index()


def plan_deviation(actual: Any, plan: Any, *, warn_frac: float = 0.05) -> pd.DataFrame:
    """Deviation of actual values from a plan, by year.

    Parameters
    ----------
    actual : pandas.Series or mapping
        Actual values by year (e.g. accounted emissions) [tCO2e].
    plan : pandas.Series, mapping or xarray.DataArray
        Planned values by year [same unit], e.g. ``project(study).net_emissions_tco2e
        .sel(scenario="policy")``.
    warn_frac : float
        A year whose actual exceeds the plan by more than this share is flagged.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year`` (the years with both values): ``actual``, ``plan``,
        ``deviation`` (actual − plan) [unit], ``deviation_frac`` (÷ plan) [frac],
        ``above_plan`` and ``warning`` (``deviation_frac > warn_frac``).

    Raises
    ------
    ValidationError
        If no year has both an actual and a planned value.

    Examples
    --------
    >>> dev = plan_deviation({2024: 105.0, 2025: 98.0}, {2024: 100.0, 2025: 100.0})
    >>> dev["deviation_frac"].round(6).tolist()
    [0.05, -0.02]
    """
    a = _series(actual, "actual")
    p = _series(plan, "plan")
    years = a.index.intersection(p.index)
    if years.empty:
        msg = (
            f"no year has both an actual and a planned value (actual: {list(a.index)}, "
            f"plan: {list(p.index)})"
        )
        raise ValidationError(msg)
    out = pd.DataFrame({"actual": a[years], "plan": p[years]})
    out.index.name = "year"
    out["deviation"] = out.actual - out.plan
    out["deviation_frac"] = out.deviation / out.plan
    out["above_plan"] = out.deviation > 0
    out["warning"] = out.deviation_frac > warn_frac
    return out


def rebase(
    study: Study,
    scenario: str,
    year: int,
    *,
    actual_tco2e: float | None = None,
    base: BaseData | None = None,
) -> Study:
    """Return the study restarted from ``year`` on the path of ``scenario``.

    Parameters
    ----------
    study : Study
        The study.
    scenario : str
        The scenario whose projected state in ``year`` becomes the new base.
    year : int
        The latest actual year; after the base year and before the horizon.
    actual_tco2e : float, optional
        The actual gross emissions of ``year`` (scope 1 + 2) [tCO2e]: the projected energy,
        emissions and electricity of every industry are scaled by actual ÷ projected.
    base : BaseData, optional
        The accounted base data of ``year``; replaces the projected state entirely.

    Returns
    -------
    Study
        With ``base_year = year``, the new base, and only ``scenario``; events before
        ``year`` dropped.
    """
    if not study.base_year < year < study.horizon:
        msg = (
            f"year(={year}) must be after the base year {study.base_year} and before the "
            f"horizon {study.horizon}"
        )
        raise ValidationError(msg)
    if base is None:
        ds = project(study, [scenario]).sel(scenario=scenario, year=year)
        scale = 1.0
        if actual_tco2e is not None:
            projected = float(ds.gross_emissions_tco2e)
            if not projected > 0:
                msg = f"the projected gross emissions of {year} are {projected}; cannot scale"
                raise ValidationError(msg)
            scale = float(actual_tco2e) / projected
        industries = {}
        for ind, spec in study.base.industries.items():
            d = ds.sel(industry=ind)
            industries[ind] = {
                "name": spec.name,
                "name_zh": spec.name_zh,
                "value_added_1e4cny": float(d.value_added_1e4cny),
                "energy_tce": {s: scale * float(d.energy_tce.sel(scope=s)) for s in (1, 2)},
                "emissions_tco2e": {
                    s: scale * float(d.emissions_tco2e.sel(scope=s)) for s in (1, 2)
                },
                "process_emissions_tco2e": 0.0,
                "electricity_mwh": scale * float(d.electricity_mwh),
            }
        # the process part of scope 1, after cuts and capture, scaled likewise
        proc = _process_emissions(study, scenario, year)
        for ind in industries:
            industries[ind]["process_emissions_tco2e"] = min(
                scale * proc[ind], industries[ind]["emissions_tco2e"][1]
            )
        base_doc: dict[str, Any] = {
            "industries": industries,
            "grid_factor_tco2_per_mwh": float(ds.grid_factor_tco2_per_mwh),
            "pv_capacity_mw": _level_at(study, scenario, "pv_capacity_mw", year),
            "storage_capacity_mwh": _level_at(study, scenario, "storage_capacity_mwh", year),
            "sinks_tco2e": float(ds.sinks_tco2e),
        }
    else:
        base_doc = base.model_dump()
    doc = study.model_dump()
    sc = doc["scenarios"][scenario]
    sc["extends"] = None
    sc["events"] = [e for e in sc["events"] if e["year"] > year]
    sc["drivers"] = _rebased_drivers(study, scenario, year)
    doc.update({"base_year": year, "base": base_doc, "scenarios": {scenario: sc}})
    return load_study(doc)


def _level_at(study: Study, scenario: str, kind: str, year: int) -> float:
    from carbontwin.scenarios.projection import compile_scenario

    comp = compile_scenario(study, scenario)
    return float(comp.paths[kind].nominal[year - study.base_year])


def _process_emissions(study: Study, scenario: str, year: int) -> dict[str, float]:
    from carbontwin.scenarios.projection import compile_scenario, evaluate

    comp = compile_scenario(study, scenario)
    r = evaluate(comp, None, detail=True)
    k = year - study.base_year
    s1 = r["emissions_tco2e"][k, 0, :, 0]
    # process = scope 1 - combustion; combustion = c0 × ec × (1 - x)
    out = {}
    for i, ind in enumerate(comp.industries):
        paths = comp.paths
        a = paths[f"value_added_1e4cny:{ind}"].index[k]
        for ev in comp.events:
            if ev.industry == i and k >= ev.start:
                a *= 1.0 + ev.frac
        pr = paths[f"process_reduction_frac:{ind}"].nominal[k]
        cc = paths[f"ccus_capture_frac:{ind}"].nominal[k]
        out[ind] = float(min(comp.p0[i] * a * (1 - pr) * (1 - cc), s1[i]))
    return out


def _rebased_drivers(study: Study, scenario: str, year: int) -> dict[str, Any]:
    """Return the drivers from ``year`` on.

    Value trajectories keep their later anchors only; share drivers restart from their
    level in ``year`` (``(x_t - x_y) / (1 - x_y)``).
    """
    from carbontwin.scenarios.definition import SHARE_DRIVERS
    from carbontwin.scenarios.projection import compile_scenario

    comp = compile_scenario(study, scenario)
    k = year - study.base_year
    out: dict[str, Any] = {}
    for kind, spec in study.scenarios[scenario].drivers.items():
        items = spec.items() if isinstance(spec, dict) else [(None, spec)]
        new: dict[str, Any] = {}
        for ind, traj in items:
            doc = traj.model_dump()
            if traj.values is not None:
                later = {y: v for y, v in traj.values.items() if y > year}
                if kind in SHARE_DRIVERS:
                    inds = comp.industries if ind == "*" else [ind]
                    for one in inds:
                        x_y = float(comp.paths[f"{kind}:{one}"].nominal[k])
                        vals = {y: (v - x_y) / (1 - x_y) for y, v in later.items()}
                        if not vals:
                            continue
                        new[one] = {**doc, "values": {y: max(v, 0.0) for y, v in vals.items()}}
                    continue
                if not later:
                    continue  # the path is flat from here: the base value holds
                doc["values"] = later
            if ind is None:
                out[kind] = doc
            else:
                new[ind] = doc
        if new:
            out[kind] = new
    return out


def reproject(
    study: Study,
    actual: Any,
    *,
    scenarios: Sequence[str] | None = None,
) -> xr.Dataset:
    """Project each scenario again from the latest actual year ("where are we heading").

    Parameters
    ----------
    study : Study
        The study.
    actual : pandas.Series or mapping
        Actual gross emissions by year (scopes 1 + 2) [tCO2e]; the latest year is the new
        base year.
    scenarios : sequence of str, optional
        The scenarios; all by default.

    Returns
    -------
    xarray.Dataset
        As :func:`~carbontwin.scenarios.projection.project`, over the years from the latest
        actual year to the horizon, with ``actual_year`` and ``actual_tco2e`` in attrs.
    """
    a = _series(actual, "actual").dropna()
    if a.empty:
        msg = "actual has no values; give the accounted emissions by year"
        raise ValidationError(msg)
    year = int(a.index.max())
    names = list(study.scenarios) if scenarios is None else list(scenarios)
    parts = [
        project(rebase(study, name, year, actual_tco2e=float(a[year])), [name]) for name in names
    ]
    out = xr.concat(parts, dim="scenario")
    out.attrs.update({"actual_year": year, "actual_tco2e": float(a[year])})
    return out
