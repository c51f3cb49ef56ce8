"""Carbon-peak scenario studies declared as data: base year, base data, horizon, drivers.

A study holds the park's base-year data by industry and scope (from its accounting
history), the horizon, a few model parameters and named scenarios. Each scenario sets its
drivers, each a piecewise :class:`Trajectory` of a quantity (a rate per period, or explicit
year values) with an :class:`Uncertainty`. ``load_study(mapping)`` validates an already
parsed document (the package reads no files; the runtime does).

Drivers (``kind``, the level it sets, and whether it is set per industry):

========================================  ================  ============  ==============
kind                                      unit              per industry  base value
========================================  ================  ============  ==============
``value_added_1e4cny``                    10^4 CNY          yes           base data
``energy_intensity_tce_per_1e4cny``       tce / 10^4 CNY    yes           base data
``carbon_intensity_tco2_per_tce``         tCO2 / tce        yes           base data
``electrification_frac``                  frac              yes           0
``process_reduction_frac``                frac              yes           0
``ccus_capture_frac``                     frac              yes           0
``grid_factor_tco2_per_mwh``              tCO2 / MWh        no            base data
``pv_capacity_mw``                        MW                no            base data
``storage_capacity_mwh``                  MWh               no            base data
``sinks_tco2e``                           tCO2e / yr        no            base data
========================================  ================  ============  ==============

Enterprise entry and exit are :class:`EnterpriseEvent` items of a scenario.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from carbontwin.core.errors import ValidationError
from carbontwin.core.fields import quantity

__all__ = [
    "DRIVER_KINDS",
    "INDUSTRY_DRIVERS",
    "PARK_DRIVERS",
    "BaseData",
    "EnterpriseEvent",
    "IndustryBase",
    "ModelParameters",
    "RatePeriod",
    "Scenario",
    "ScenarioDefinitionError",
    "Study",
    "Trajectory",
    "Uncertainty",
    "base_from_frame",
    "demo_study_path",
    "load_study",
]

#: Drivers set per industry, with their unit.
INDUSTRY_DRIVERS: dict[str, str] = {
    "value_added_1e4cny": "1e4 CNY",
    "energy_intensity_tce_per_1e4cny": "tce/1e4 CNY",
    "carbon_intensity_tco2_per_tce": "tCO2/tce",
    "electrification_frac": "frac",
    "process_reduction_frac": "frac",
    "ccus_capture_frac": "frac",
}
#: Drivers set for the whole park, with their unit.
PARK_DRIVERS: dict[str, str] = {
    "grid_factor_tco2_per_mwh": "tCO2/MWh",
    "pv_capacity_mw": "MW",
    "storage_capacity_mwh": "MWh",
    "sinks_tco2e": "tCO2e/yr",
}
#: Every driver kind and its unit.
DRIVER_KINDS: dict[str, str] = {**INDUSTRY_DRIVERS, **PARK_DRIVERS}
#: Share drivers: fractions of the base year's quantity, 0 in the base year, below 1.
SHARE_DRIVERS = ("electrification_frac", "process_reduction_frac", "ccus_capture_frac")

#: Drivers whose level must stay positive (they multiply in the Kaya identity).
_POSITIVE = (
    "value_added_1e4cny",
    "energy_intensity_tce_per_1e4cny",
    "carbon_intensity_tco2_per_tce",
)

_PERIOD_KEY = re.compile(r"^\s*(\d{4})\s*(?:-|–|—|to|\.\.)\s*(\d{4})\s*$")


class ScenarioDefinitionError(ValidationError):
    """A scenario study is invalid.

    Parameters
    ----------
    problems : list of tuple of (str, str)
        ``(location, message)`` pairs; location is a path such as
        ``scenarios.policy.drivers.pv_capacity_mw``.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = [f"{loc}: {msg}" if loc else msg for loc, msg in problems]
        super().__init__("\n".join(lines))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Uncertainty(_Model):
    """How uncertain a trajectory is: one draw per Monte Carlo sample shifts it all.

    ``normal``: the shift is normal with standard deviation ``spread``; ``uniform``: uniform
    on ``±spread``; ``triangular``: triangular on ``±spread`` with its mode at 0; all three
    are added to the rates (``periods``) or to the given year values (``values``), in the
    trajectory's unit. ``lognormal``: the rates or values are multiplied by ``exp(spread z)``
    with ``z`` standard normal (median factor 1). ``spread = 0`` makes the driver certain.
    """

    dist: Literal["normal", "lognormal", "uniform", "triangular"] = "normal"
    spread: float = quantity(
        "driver unit",
        "standard deviation (normal), half-width (uniform, triangular) or sigma of ln factor "
        "(lognormal); in the rate's unit [frac/yr] for periods, the value's unit for values",
        0.0,
    )

    @field_validator("spread")
    @classmethod
    def _spread(cls, value: float) -> float:
        if not value >= 0:
            msg = (
                f"spread(={value}) must be >= 0; give the standard deviation or half-width "
                "as a positive number (0 for a certain driver)"
            )
            raise ValueError(msg)
        return value


class RatePeriod(_Model):
    """A rate of change held over the years ``start`` to ``end`` (both included)."""

    start: int = quantity("yr", "first year of the period (included)")
    end: int = quantity("yr", "last year of the period (included)")
    rate_frac_per_yr: float = quantity("frac/yr", "annual rate of change of the quantity", gt=-1)

    @model_validator(mode="after")
    def _order(self) -> RatePeriod:
        if self.end < self.start:
            msg = f"period {self.start}–{self.end} ends before it starts; swap the years"
            raise ValueError(msg)
        return self


class Trajectory(_Model):
    """A driver's path over the horizon: rates per period, or explicit year values.

    ``periods`` compound the quantity from its base-year value:
    ``x_t = x_(t-1) (1 + r_t)``; the last period's rate holds after its end, and the periods
    must cover every year from the base year + 1 without gaps. ``values`` give the quantity
    in some years after the base year; it runs linearly from its base-year value through
    them and stays at the last one. In YAML, ``periods`` may be a mapping
    ``{"2026-2030": -0.03, "2031-2035": -0.04}``.
    """

    periods: list[RatePeriod] | None = None
    values: dict[int, float] | None = Field(
        None, description="the quantity in given years after the base year [driver unit]"
    )
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"periods": [{"start": 1, "end": 9999, "rate_frac_per_yr": data}]}
        if not isinstance(data, dict):
            return data
        periods = data.get("periods")
        if isinstance(periods, Mapping):
            items = []
            for key, rate in periods.items():
                m = _PERIOD_KEY.match(str(key))
                if m is None:
                    msg = (
                        f"period {key!r} must be written 'YYYY-YYYY' (e.g. '2026-2030'), "
                        "or give a list of {start, end, rate_frac_per_yr}"
                    )
                    raise ValueError(msg)
                items.append(
                    {"start": int(m.group(1)), "end": int(m.group(2)), "rate_frac_per_yr": rate}
                )
            data = {**data, "periods": items}
        return data

    @model_validator(mode="after")
    def _one_form(self) -> Trajectory:
        if (self.periods is None) == (self.values is None):
            msg = "give either 'periods' (a rate per period) or 'values' (year: value), not both"
            raise ValueError(msg)
        if self.periods is not None:
            if not self.periods:
                msg = "periods is empty; give at least one period with its rate"
                raise ValueError(msg)
            ps = sorted(self.periods, key=lambda p: p.start)
            for a, b in itertools.pairwise(ps):
                if b.start != a.end + 1:
                    msg = (
                        f"periods {a.start}–{a.end} and {b.start}–{b.end} must follow each "
                        "other without gap or overlap"
                    )
                    raise ValueError(msg)
            self.periods = ps
        elif not self.values:
            msg = "values is empty; give at least one year: value"
            raise ValueError(msg)
        return self


class EnterpriseEvent(_Model):
    """An enterprise entering (value added > 0) or leaving (< 0) an industry.

    From ``year`` on, the industry's activity (value added, and the energy and process
    emissions that go with it) changes by ``value_added_1e4cny``, taken at the industry's
    nominal value added of that year and growing with the industry afterwards. The
    enterprise carries the industry's energy and carbon intensities.
    """

    name: str
    name_zh: str = ""
    industry: str
    year: int = quantity("yr", "first year with (entry) or without (exit) the enterprise")
    value_added_1e4cny: float = quantity(
        "1e4 CNY", "value added the enterprise brings (> 0) or takes away (< 0)"
    )
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)


class IndustryBase(_Model):
    """Base-year data of one industry of the park, from the accounting history."""

    name: str = ""
    name_zh: str = ""
    value_added_1e4cny: float = quantity("1e4 CNY", "value added in the base year", gt=0)
    energy_tce: dict[int, float] = Field(
        description="energy by scope: 1 fuels burnt on site, 2 purchased electricity and heat [tce]"
    )
    emissions_tco2e: dict[int, float] = Field(
        description="emissions by scope (1 direct, 2 purchased electricity and heat) [tCO2e]"
    )
    process_emissions_tco2e: float = quantity(
        "tCO2e", "industrial-process part of the scope-1 emissions", 0.0, ge=0
    )
    electricity_mwh: float | None = quantity(
        "MWh",
        "purchased electricity; by default scope-2 emissions / the base grid factor",
        None,
        ge=0,
    )

    @model_validator(mode="after")
    def _scopes(self) -> IndustryBase:
        for name in ("energy_tce", "emissions_tco2e"):
            values = getattr(self, name)
            unknown = set(values) - {1, 2}
            if unknown:
                msg = f"{name} has scopes {sorted(unknown)}; only scopes 1 and 2 are projected"
                raise ValueError(msg)
            for scope in (1, 2):
                values.setdefault(scope, 0.0)
                if values[scope] < 0:
                    msg = f"{name}[{scope}](={values[scope]}) must be >= 0"
                    raise ValueError(msg)
        if self.process_emissions_tco2e > self.emissions_tco2e[1]:
            msg = (
                f"process_emissions_tco2e(={self.process_emissions_tco2e}) exceeds the scope-1 "
                f"emissions (={self.emissions_tco2e[1]}); it is a part of scope 1"
            )
            raise ValueError(msg)
        return self


class BaseData(_Model):
    """The park in the base year: industries and park-wide levels."""

    industries: dict[str, IndustryBase]
    grid_factor_tco2_per_mwh: float = quantity(
        "tCO2/MWh", "grid emission factor of purchased electricity in the base year", gt=0
    )
    pv_capacity_mw: float = quantity("MW", "PV capacity installed in the base year", 0.0, ge=0)
    storage_capacity_mwh: float = quantity(
        "MWh", "storage capacity installed in the base year", 0.0, ge=0
    )
    sinks_tco2e: float = quantity("tCO2e/yr", "green-space sinks in the base year", 0.0, ge=0)

    @model_validator(mode="after")
    def _heat(self) -> BaseData:
        if not self.industries:
            msg = "industries is empty; give the base-year data of at least one industry"
            raise ValueError(msg)
        for key, ind in self.industries.items():
            if ind.electricity_mwh is not None:
                grid = ind.electricity_mwh * self.grid_factor_tco2_per_mwh
                if grid > ind.emissions_tco2e[2] * (1 + 1e-9):
                    msg = (
                        f"industries.{key}: electricity_mwh × grid factor (={grid:.6g} tCO2) "
                        f"exceeds the scope-2 emissions (={ind.emissions_tco2e[2]:.6g}); "
                        "check the electricity or the grid factor"
                    )
                    raise ValueError(msg)
        return self


class ModelParameters(_Model):
    """Fixed parameters of the bottom-up measures."""

    electricity_tce_per_mwh: float = quantity(
        "tce/MWh", "coal equivalent of electricity, calorific method (GB/T 2589)", 0.1229, gt=0
    )
    electrification_ratio: float = quantity(
        "1", "tce of electricity needed per tce of fossil fuel replaced", 0.9, gt=0
    )
    pv_yield_mwh_per_mw: float = quantity(
        "MWh/MW", "annual PV generation per MW installed (East China ~1,100 h)", 1100.0, gt=0
    )
    pv_self_consumption_frac: float = quantity(
        "frac", "share of new PV output used on site without storage", 0.85, ge=0, le=1
    )
    storage_cycles_per_yr: float = quantity(
        "1/yr", "full cycles a year that storage shifts PV surplus", 300.0, ge=0
    )
    storage_efficiency_frac: float = quantity(
        "frac", "round-trip efficiency of storage", 0.88, gt=0, le=1
    )


class Scenario(_Model):
    """One named scenario: its drivers and enterprise events.

    ``drivers`` maps a driver kind to a :class:`Trajectory` (park-wide kinds) or to a
    mapping industry → :class:`Trajectory` (per-industry kinds). An industry-wide default
    may be given under the key ``"*"``. ``extends`` names another scenario of the study
    whose drivers and events this one starts from.
    """

    name: str = ""
    name_zh: str = ""
    description: str = ""
    extends: str | None = None
    drivers: dict[str, Any] = Field(default_factory=dict)
    events: list[EnterpriseEvent] = Field(default_factory=list)

    @field_validator("drivers", mode="before")
    @classmethod
    def _drivers(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        out: dict[str, Any] = {}
        for kind, spec in value.items():
            if kind not in DRIVER_KINDS:
                msg = (
                    f"unknown driver {kind!r}; known drivers: {', '.join(DRIVER_KINDS)} "
                    "(see docs/scenarios.md)"
                )
                raise ValueError(msg)
            if kind in INDUSTRY_DRIVERS:
                if not isinstance(spec, Mapping) or "periods" in spec or "values" in spec:
                    msg = (
                        f"driver {kind!r} is set per industry: give a mapping "
                        "industry → trajectory (use '*' for every industry)"
                    )
                    raise ValueError(msg)
                out[kind] = {str(ind): Trajectory.model_validate(t) for ind, t in spec.items()}
            else:
                out[kind] = Trajectory.model_validate(spec)
        return out


class Study(_Model):
    """A carbon-peak study: base year and data, horizon, parameters, scenarios."""

    id: str = "study"
    name: str = ""
    name_zh: str = ""
    base_year: int = quantity("yr", "the last accounted year; projections start after it")
    horizon: int = quantity("yr", "the last projected year")
    base: BaseData
    parameters: ModelParameters = Field(default_factory=ModelParameters)
    scenarios: dict[str, Scenario]

    @model_validator(mode="before")
    @classmethod
    def _inherit(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("scenarios"), Mapping):
            return data
        raw = {str(k): v for k, v in data["scenarios"].items()}
        resolved: dict[str, Any] = {}

        def resolve(key: str, chain: tuple[str, ...]) -> Any:
            if key in resolved:
                return resolved[key]
            spec = raw[key]
            if not isinstance(spec, Mapping) or not spec.get("extends"):
                resolved[key] = spec
                return spec
            parent = str(spec["extends"])
            if parent not in raw:
                msg = f"scenario {key!r} extends {parent!r}, which is not a scenario of the study"
                raise ValueError(msg)
            if parent in chain:
                msg = f"scenarios extend each other in a loop: {' → '.join((*chain, parent))}"
                raise ValueError(msg)
            base = resolve(parent, (*chain, key))
            merged = copy.deepcopy(dict(base)) if isinstance(base, Mapping) else {}
            drivers = copy.deepcopy(dict(merged.get("drivers") or {}))
            for kind, sub in (spec.get("drivers") or {}).items():
                if kind in INDUSTRY_DRIVERS and isinstance(sub, Mapping):
                    drivers[kind] = {**dict(drivers.get(kind) or {}), **dict(sub)}
                else:
                    drivers[kind] = sub
            merged.update({k: v for k, v in spec.items() if k not in ("drivers",)})
            merged["drivers"] = drivers
            if "events" not in spec:
                merged["events"] = list(merged.get("events") or [])
            resolved[key] = merged
            return merged

        return {**data, "scenarios": {k: resolve(k, (k,)) for k in raw}}

    @model_validator(mode="after")
    def _cross(self) -> Study:
        problems = self.cross_reference_problems()
        if problems:
            msg = "\n".join(f"{loc}: {text}" if loc else text for loc, text in problems)
            raise ValueError(msg)
        return self

    @property
    def years(self) -> list[int]:
        """The years of the projection, base year to horizon [yr]."""
        return list(range(self.base_year, self.horizon + 1))

    @property
    def industries(self) -> list[str]:
        """The industries of the base data, in their order."""
        return list(self.base.industries)

    def cross_reference_problems(self) -> list[tuple[str, str]]:
        """Return ``(location, message)`` for every inconsistency between the parts."""
        problems: list[tuple[str, str]] = []
        if self.horizon <= self.base_year:
            problems.append(
                (
                    "horizon",
                    f"horizon(={self.horizon}) must be after base_year(={self.base_year}); "
                    "give the last year to project",
                )
            )
            return problems
        if not self.scenarios:
            problems.append(("scenarios", "no scenario; give at least one"))
        known = set(self.base.industries)
        for key, sc in self.scenarios.items():
            for kind, spec in sc.drivers.items():
                here = f"scenarios.{key}.drivers.{kind}"
                items = spec.items() if isinstance(spec, dict) else [(None, spec)]
                for ind, traj in items:
                    loc = here if ind is None else f"{here}.{ind}"
                    if ind is not None and ind != "*" and ind not in known:
                        problems.append(
                            (
                                loc,
                                f"industry {ind!r} has no base data; base.industries has "
                                f"{', '.join(sorted(known))} (add its base-year data or fix "
                                "the name)",
                            )
                        )
                    problems += [(loc, m) for m in self._trajectory_problems(kind, traj)]
            for i, ev in enumerate(sc.events):
                loc = f"scenarios.{key}.events[{i}]"
                if ev.industry not in known:
                    problems.append(
                        (
                            loc,
                            f"industry {ev.industry!r} has no base data; base.industries has "
                            f"{', '.join(sorted(known))}",
                        )
                    )
                if not self.base_year < ev.year:
                    problems.append(
                        (
                            loc,
                            f"year(={ev.year}) must be after the base year {self.base_year}; "
                            "the base data hold the enterprises of the base year",
                        )
                    )
        return problems

    def _trajectory_problems(self, kind: str, traj: Trajectory) -> list[str]:
        out = []
        if traj.periods is not None:
            first = traj.periods[0].start
            if first > self.base_year + 1:
                out.append(
                    f"periods start in {first}; they must cover every year from "
                    f"{self.base_year + 1} (the year after the base year)"
                )
        else:
            assert traj.values is not None
            early = [y for y in traj.values if y <= self.base_year]
            if early:
                out.append(
                    f"values for years {early} are not after the base year {self.base_year}; "
                    "the base-year value comes from the base data"
                )
            if kind in SHARE_DRIVERS:
                bad = {y: v for y, v in traj.values.items() if not 0 <= v < 1}
                if bad:
                    out.append(f"values {bad} must be fractions in [0, 1)")
            elif kind in _POSITIVE:
                bad = {y: v for y, v in traj.values.items() if not v > 0}
                if bad:
                    out.append(f"values {bad} must be > 0")
            else:
                bad = {y: v for y, v in traj.values.items() if not v >= 0}
                if bad:
                    out.append(f"values {bad} must be >= 0")
        if kind in SHARE_DRIVERS and traj.periods is not None:
            out.append(
                f"{kind} is a share that starts at 0 in the base year; give it as values "
                "(year: share), not as rates"
            )
        return out

    def trajectory(
        self, scenario: str, kind: str, industry: str | None = None
    ) -> Trajectory | None:
        """Return the trajectory of a driver in a scenario, or ``None`` when not set."""
        spec = self.scenarios[scenario].drivers.get(kind)
        if spec is None:
            return None
        if isinstance(spec, dict):
            return spec.get(str(industry), spec.get("*"))
        return spec


def base_from_frame(
    frame: pd.DataFrame,
    value_added_1e4cny: Mapping[str, float] | pd.Series,
    *,
    grid_factor_tco2_per_mwh: float,
    process_emissions_tco2e: Mapping[str, float] | pd.Series | None = None,
    electricity_mwh: Mapping[str, float] | pd.Series | None = None,
    names: Mapping[str, tuple[str, str]] | None = None,
    pv_capacity_mw: float = 0.0,
    storage_capacity_mwh: float = 0.0,
    sinks_tco2e: float = 0.0,
) -> BaseData:
    """Build the base data from an accounted year in long form.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``industry``, ``scope`` (1 or 2; other scopes are left out) and
        ``energy_tce`` [tce] and ``emissions_tco2e`` [tCO2e]; rows of the same industry and
        scope are summed (enterprise rows give industry totals).
    value_added_1e4cny : mapping or pandas.Series
        Value added of the base year by industry [10^4 CNY].
    grid_factor_tco2_per_mwh : float
        Grid factor of the base year [tCO2/MWh].
    process_emissions_tco2e, electricity_mwh : mapping or pandas.Series, optional
        The process part of scope 1 [tCO2e] and the purchased electricity [MWh] by
        industry.
    names : mapping of str to (str, str), optional
        English and Chinese names by industry.
    pv_capacity_mw, storage_capacity_mwh, sinks_tco2e : float
        Park-wide levels of the base year [MW], [MWh], [tCO2e/yr].

    Returns
    -------
    BaseData

    Raises
    ------
    ScenarioDefinitionError
        If a column is missing, an industry has no value added, or a value is invalid.

    Examples
    --------
    >>> rows = pd.DataFrame({"industry": ["chem", "chem"], "scope": [1, 2],
    ...                      "energy_tce": [400.0, 50.0], "emissions_tco2e": [1000.0, 200.0]})
    >>> base = base_from_frame(rows, {"chem": 500.0}, grid_factor_tco2_per_mwh=0.5617)
    >>> base.industries["chem"].emissions_tco2e
    {1: 1000.0, 2: 200.0}
    """
    need = ["industry", "scope", "energy_tce", "emissions_tco2e"]
    missing = [c for c in need if c not in frame]
    if missing:
        raise ScenarioDefinitionError(
            [("frame", f"columns {missing} are missing (it has {list(frame.columns)})")]
        )
    rows = frame[frame["scope"].isin([1, 2])]
    sums = rows.groupby(["industry", "scope"])[["energy_tce", "emissions_tco2e"]].sum()
    va = dict(value_added_1e4cny)
    proc = {} if process_emissions_tco2e is None else dict(process_emissions_tco2e)
    elec = {} if electricity_mwh is None else dict(electricity_mwh)
    industries: dict[str, Any] = {}
    problems = []
    for ind in sorted(set(rows["industry"])):
        if ind not in va:
            problems.append((f"value_added_1e4cny.{ind}", "no value added for this industry"))
            continue
        one = sums.loc[ind]
        en, zh = (names or {}).get(ind, ("", ""))
        industries[str(ind)] = {
            "name": en,
            "name_zh": zh,
            "value_added_1e4cny": float(va[ind]),
            "energy_tce": {int(s): float(one.at[s, "energy_tce"]) for s in one.index},
            "emissions_tco2e": {int(s): float(one.at[s, "emissions_tco2e"]) for s in one.index},
            "process_emissions_tco2e": float(proc.get(ind, 0.0)),
            "electricity_mwh": None if ind not in elec else float(elec[ind]),
        }
    if problems:
        raise ScenarioDefinitionError(problems)
    doc = {
        "industries": industries,
        "grid_factor_tco2_per_mwh": grid_factor_tco2_per_mwh,
        "pv_capacity_mw": pv_capacity_mw,
        "storage_capacity_mwh": storage_capacity_mwh,
        "sinks_tco2e": sinks_tco2e,
    }
    try:
        return BaseData.model_validate(doc)
    except PydanticValidationError as exc:
        raise ScenarioDefinitionError(_problems(exc, "base")) from None


def demo_study_path() -> Path:
    """Return the path of the demo park's scenario study shipped with the package."""
    return Path(str(resources.files("carbontwin.data").joinpath("scenarios/demo.yaml")))


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_study(mapping: Mapping[str, Any], *, overrides: Mapping[str, Any] | None = None) -> Study:
    """Validate an already parsed study document (the ``study`` key or the whole mapping).

    Parameters
    ----------
    mapping : mapping
        The parsed YAML: ``{"study": {...}}`` or the study itself.
    overrides : mapping, optional
        Top-level keys replacing the document's, e.g. ``{"base": base_data}`` with the
        accounted base year, or ``{"base_year": 2025, "horizon": 2060}``. A
        :class:`BaseData` instance is accepted for ``base``.

    Returns
    -------
    Study

    Raises
    ------
    ScenarioDefinitionError
        Naming the path of every problem found and how to fix it.

    Examples
    --------
    >>> import yaml
    >>> from carbontwin.scenarios import demo_study_path
    >>> study = load_study(yaml.safe_load(demo_study_path().read_text(encoding="utf-8")))
    >>> sorted(study.scenarios)
    ['baseline', 'enhanced', 'policy']
    """
    if not isinstance(mapping, Mapping):
        raise ScenarioDefinitionError([("", "a study must be a mapping with 'study' at top")])
    body = dict(mapping.get("study", mapping))
    for key, value in (overrides or {}).items():
        body[key] = value.model_dump() if isinstance(value, BaseModel) else value
    try:
        return Study.model_validate(body)
    except PydanticValidationError as exc:
        raise ScenarioDefinitionError(_problems(exc)) from None


def _problems(exc: PydanticValidationError, prefix: str = "") -> list[tuple[str, str]]:
    problems = []
    for err in exc.errors():
        parts = tuple(p for p in err["loc"] if not str(p).startswith("function-"))
        loc = _loc((prefix, *parts) if prefix else parts)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field; check its spelling against docs/scenarios.md"
        elif err["type"] == "missing":
            msg = "required field is missing"
        problems.append((loc, msg))
    return problems
