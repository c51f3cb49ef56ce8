"""Reduction decisions: a catalogue of measures, its MACC and the least-cost portfolio.

A *measure* is one thing the park or an enterprise can do to cut emissions: rooftop PV,
a battery, an efficiency retrofit, electrifying a boiler, recovering waste heat, cutting
process emissions, buying green power, capturing CO2, retiring voluntary credits. Each
carries its capital cost, its yearly running cost (negative when it saves energy), its
service life and its yearly abatement, per unit. From a catalogue this module computes

- the annualised cost of each measure with a capital recovery factor,
- the marginal abatement cost curve (MACC): measures sorted by cost per tonne with the
  cumulative abatement,
- the least-cost portfolio that meets an abatement target within a capital budget (a
  mixed-integer programme in Pyomo solved by HiGHS), or the portfolio that abates most
  within the budget when no target is given,
- plain-word suggestions in English and Chinese, including the measures left out and why.

The measure kinds follow the reduction types of the platform standards: energy saving and
waste-heat use (节能诊断, 余热利用), green power and certificates, self-generated or bought
(绿电/绿证), process reduction (工艺过程减排), voluntary reductions (自愿减排量), plus PV,
storage, electrification and CCUS. Compute only: the catalogue arrives as an
already-parsed mapping (:func:`load_measures`); reading the file is the runtime's job.

References
----------
CECS technical specification for smart carbon management systems of parks (园区智慧碳管理
系统技术规程), 5.7.3: reduction analysis and decisions. T/CPCIF draft, technical
requirements for the carbon management information system of chemical parks
(化工园区双碳管理信息系统技术要求), 5.3.1–5.3.4: energy saving, green power and
certificates, process reduction, voluntary reductions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from carbontwin.core.errors import SolverError, ValidationError
from carbontwin.core.fields import quantity

__all__ = [
    "KINDS",
    "Measure",
    "PortfolioResult",
    "SolverError",
    "annualised_cost_cny_per_yr",
    "build_portfolio_model",
    "capital_recovery_factor",
    "choose_portfolio",
    "load_measures",
    "marginal_abatement_cost",
    "suggestions",
]

KINDS: tuple[str, ...] = (
    "pv",
    "storage",
    "efficiency",
    "electrification",
    "heat_recovery",
    "process",
    "green_power",
    "ccus",
    "offset",
    "other",
)
"""Measure kinds. ``process`` is process-emission reduction (T/CPCIF 5.3.3), ``offset`` a
voluntary reduction such as CCER retired (T/CPCIF 5.3.4): it lowers net, not gross,
emissions; leave it out of gross targets with ``exclude_kinds=("offset",)``."""

Kind = Literal[
    "pv",
    "storage",
    "efficiency",
    "electrification",
    "heat_recovery",
    "process",
    "green_power",
    "ccus",
    "offset",
    "other",
]

# Tolerance under which a chosen number of units counts as zero [unit].
_UNITS_TOL = 1e-6


class Measure(BaseModel):
    """One reduction measure; money, energy and abatement figures are *per unit*.

    A unit is what ``unit`` names: one MWp of PV, one MWh of storage, one truck, one GWh
    of green power a year, or the whole retrofit for an adopt-or-not measure.
    ``divisibility`` says how many units may be chosen: ``binary`` (0 or 1),
    ``integer`` (0, 1, … ``max_units``) or ``continuous`` (any amount up to ``max_units``,
    e.g. a green-power purchase).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="unique id of the measure")
    name: str = Field(min_length=1, description="English name, used in suggestions")
    name_zh: str = Field("", description="Chinese name; the English name when empty")
    kind: Kind = Field(description="measure kind, one of KINDS")
    enterprise: str | None = Field(None, description="enterprise id where it is carried out")
    zone: str | None = Field(None, description="zone id where it is carried out")
    description: str = Field("", description="what is done, in a sentence")
    unit: str = Field("unit", description="what one unit is (MWp, MWh, trucks, GWh …)")
    unit_zh: str = Field("", description="the unit in Chinese; ``unit`` when empty")
    divisibility: Literal["binary", "integer", "continuous"] = Field(
        "binary", description="binary adopt-or-not, integer units, or a continuous amount"
    )
    max_units: float = quantity("1", "most units that can be chosen", 1.0)
    min_units: float = quantity(
        "1", "fewest units when adopted (continuous measures; 0 = any amount)", 0.0
    )
    capex_cny: float = quantity("CNY", "capital cost per unit")
    opex_cny_per_yr: float = quantity(
        "CNY/yr", "running cost per unit; negative when savings exceed running costs", 0.0
    )
    lifetime_yr: float = quantity("yr", "service life, over which capital is recovered")
    abatement_tco2e_per_yr: float = quantity("tCO2e/yr", "emissions avoided per unit")
    start_year: int | None = Field(None, description="first year the measure can operate")
    excludes: list[str] = Field(
        default_factory=list, description="ids of alternatives that cannot be chosen with it"
    )
    requires: list[str] = Field(
        default_factory=list, description="ids of measures it needs (prerequisites)"
    )
    source: str = Field("", description="where the cost and abatement figures come from")

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, value: Any, info: Any) -> Any:
        if value not in KINDS:
            mid = info.data.get("id", "?")
            msg = (
                f"kind(={value!r}) is not a known measure kind for measure {mid}; "
                f"use one of {', '.join(KINDS)}"
            )
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _check_values(self) -> Measure:
        problems: list[str] = []
        mid = self.id
        if not math.isfinite(self.lifetime_yr) or self.lifetime_yr <= 0:
            problems.append(
                f"lifetime_yr(={self.lifetime_yr}) must be > 0 for measure {mid}; "
                "give the service life in years"
            )
        if not math.isfinite(self.capex_cny) or self.capex_cny < 0:
            problems.append(
                f"capex_cny(={self.capex_cny}) must be >= 0 for measure {mid}; "
                "enter savings as a negative opex_cny_per_yr"
            )
        if not math.isfinite(self.opex_cny_per_yr):
            problems.append(
                f"opex_cny_per_yr(={self.opex_cny_per_yr}) must be a finite number "
                f"for measure {mid}"
            )
        if not math.isfinite(self.abatement_tco2e_per_yr):
            problems.append(
                f"abatement_tco2e_per_yr(={self.abatement_tco2e_per_yr}) must be a finite "
                f"number for measure {mid}"
            )
        elif self.abatement_tco2e_per_yr < 0 and self.kind != "other":
            problems.append(
                f"abatement_tco2e_per_yr(={self.abatement_tco2e_per_yr}) must be >= 0 for "
                f"measure {mid} of kind {self.kind}; only kind 'other' may add emissions"
            )
        if not math.isfinite(self.max_units) or self.max_units <= 0:
            problems.append(
                f"max_units(={self.max_units}) must be > 0 for measure {mid}; "
                "remove the measure instead of offering none of it"
            )
        elif self.divisibility == "binary" and self.max_units != 1:
            problems.append(
                f"max_units(={self.max_units}) must be 1 for binary measure {mid}; "
                "use divisibility: integer for several units"
            )
        elif self.divisibility == "integer" and self.max_units != int(self.max_units):
            problems.append(
                f"max_units(={self.max_units}) must be a whole number for integer measure "
                f"{mid}; round it or use divisibility: continuous"
            )
        if self.min_units < 0 or self.min_units > self.max_units:
            problems.append(
                f"min_units(={self.min_units}) must lie in [0, max_units={self.max_units}] "
                f"for measure {mid}"
            )
        if mid in self.excludes or mid in self.requires:
            problems.append(f"measure {mid} cannot exclude or require itself; remove {mid}")
        if problems:
            msg = "; ".join(problems)
            raise ValueError(msg)
        return self

    @property
    def label_zh(self) -> str:
        """The Chinese name, or the English one when none is given."""
        return self.name_zh or self.name


def _check_catalogue(measures: Sequence[Measure]) -> None:
    """Raise if ids repeat or exclusions / prerequisites name unknown measures."""
    seen: set[str] = set()
    problems: list[str] = []
    for m in measures:
        if m.id in seen:
            problems.append(f"id(={m.id!r}) appears twice; give every measure its own id")
        seen.add(m.id)
    by_id = {m.id: m for m in measures}
    for m in measures:
        for ref in m.excludes:
            if ref not in by_id:
                problems.append(
                    f"excludes(={ref!r}) of measure {m.id} names no measure; "
                    "fix the id or remove it"
                )
        for ref in m.requires:
            if ref not in by_id:
                problems.append(
                    f"requires(={ref!r}) of measure {m.id} names no measure; "
                    "fix the id or remove it"
                )
            elif by_id[ref].divisibility == "continuous" and by_id[ref].min_units <= 0:
                problems.append(
                    f"requires(={ref!r}) of measure {m.id} names a continuous measure with "
                    f"min_units=0; give {ref} a min_units > 0 so that 'adopted' has a meaning"
                )
    if problems:
        msg = "; ".join(problems)
        raise ValidationError(msg)


def load_measures(data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[Measure]:
    """Validate a measure catalogue that has already been parsed (from YAML or JSON).

    Parameters
    ----------
    data : mapping or sequence of mappings
        ``{"measures": [{...}, ...], ...}`` (other top-level keys, such as ``about``, are
        ignored) or the list of measures itself.

    Returns
    -------
    list of Measure

    Raises
    ------
    carbontwin.core.errors.ValidationError
        Naming every bad entry as ``measures[i].field``, its value and the fix.

    Examples
    --------
    >>> ms = load_measures({"measures": [{"id": "M1", "name": "LED lighting",
    ...     "kind": "efficiency", "capex_cny": 1e5, "opex_cny_per_yr": -3e4,
    ...     "lifetime_yr": 10, "abatement_tco2e_per_yr": 50}]})
    >>> ms[0].kind, ms[0].divisibility
    ('efficiency', 'binary')
    """
    if isinstance(data, Mapping):
        if "measures" not in data:
            msg = "measures: key missing; the catalogue needs a list under 'measures'"
            raise ValidationError(msg)
        rows = data["measures"]
    else:
        rows = data
    if not isinstance(rows, Sequence) or isinstance(rows, str):
        msg = f"measures(={type(rows).__name__}) must be a list of measures"
        raise ValidationError(msg)
    measures: list[Measure] = []
    problems: list[str] = []
    for i, row in enumerate(rows):
        try:
            measures.append(Measure.model_validate(row))
        except PydanticValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                where = f"measures[{i}].{loc}" if loc else f"measures[{i}]"
                text = str(err["msg"]).removeprefix("Value error, ")
                value = err.get("input")
                if err["type"] != "value_error" and not isinstance(value, Mapping):
                    text = f"{text} (got {value!r})"
                problems.append(f"{where}: {text}")
    if problems:
        msg = "\n".join(problems)
        raise ValidationError(msg)
    _check_catalogue(measures)
    return measures


def capital_recovery_factor(discount_rate: float, lifetime_yr: float) -> float:
    r"""Return the capital recovery factor: the yearly annuity that repays one unit of capital.

    Parameters
    ----------
    discount_rate : float
        Real discount rate [frac/yr], ``>= 0``.
    lifetime_yr : float
        Service life [yr], ``> 0``.

    Returns
    -------
    float
        Capital recovery factor [1/yr].

    Notes
    -----
    .. math:: \mathrm{CRF}(r, n) = \frac{r (1+r)^n}{(1+r)^n - 1}, \qquad
              \mathrm{CRF}(0, n) = \frac{1}{n}

    Examples
    --------
    >>> round(capital_recovery_factor(0.06, 25), 6)
    0.078227
    >>> capital_recovery_factor(0.0, 10)
    0.1
    """
    if not math.isfinite(discount_rate) or discount_rate < 0:
        msg = f"discount_rate(={discount_rate}) must be >= 0; give it as a fraction, e.g. 0.06"
        raise ValidationError(msg)
    if not math.isfinite(lifetime_yr) or lifetime_yr <= 0:
        msg = f"lifetime_yr(={lifetime_yr}) must be > 0; give the service life in years"
        raise ValidationError(msg)
    # (1 + r)^n - 1 through expm1/log1p: exact for rates too small for (1 + r)^n - 1.
    grown = math.expm1(lifetime_yr * math.log1p(discount_rate))
    if grown <= 0.0:
        return 1.0 / lifetime_yr
    return discount_rate * (grown + 1.0) / grown


def annualised_cost_cny_per_yr(measure: Measure, discount_rate: float) -> float:
    r"""Return the equivalent yearly cost of one unit of a measure.

    Parameters
    ----------
    measure : Measure
        The measure.
    discount_rate : float
        Real discount rate [frac/yr].

    Returns
    -------
    float
        Annualised cost per unit [CNY/yr]; negative when the measure saves money.

    Notes
    -----
    .. math:: C_\mathrm{ann} = \mathrm{CAPEX} \cdot \mathrm{CRF}(r, n) + \mathrm{OPEX}

    Examples
    --------
    >>> m = Measure(id="M1", name="PV", kind="pv", capex_cny=1000.0,
    ...             opex_cny_per_yr=-50.0, lifetime_yr=10, abatement_tco2e_per_yr=1.0)
    >>> annualised_cost_cny_per_yr(m, 0.0)
    50.0
    """
    crf = capital_recovery_factor(discount_rate, measure.lifetime_yr)
    return measure.capex_cny * crf + measure.opex_cny_per_yr


def _payback_yr(capex_cny: float, opex_cny_per_yr: float) -> float:
    """Return the simple payback [yr]: capex over yearly savings, inf when none."""
    if opex_cny_per_yr >= 0:
        return math.inf
    return capex_cny / -opex_cny_per_yr


def marginal_abatement_cost(measures: Sequence[Measure], discount_rate: float) -> pd.DataFrame:
    r"""Return the marginal abatement cost curve (MACC) of a catalogue.

    Each measure enters at its full size (``max_units``). Rows are sorted by cost per tonne,
    cheapest first; measures that abate nothing (cost per tonne undefined) come last.

    Parameters
    ----------
    measures : sequence of Measure
        The catalogue.
    discount_rate : float
        Real discount rate [frac/yr].

    Returns
    -------
    pandas.DataFrame
        Indexed by measure id, with columns ``name``, ``name_zh``, ``kind``,
        ``enterprise``, ``units`` [unit], ``unit``, ``capex_cny`` [CNY],
        ``opex_cny_per_yr`` [CNY/yr], ``annualised_cost_cny_per_yr`` [CNY/yr],
        ``abatement_tco2e_per_yr`` [tCO2e/yr], ``cost_cny_per_tco2e`` [CNY/tCO2e],
        ``payback_yr`` [yr], ``cumulative_abatement_tco2e_per_yr`` [tCO2e/yr] and
        ``cumulative_capex_cny`` [CNY].

    Notes
    -----
    .. math:: c_i = \frac{\mathrm{CAPEX}_i \, \mathrm{CRF}(r, n_i) + \mathrm{OPEX}_i}
                        {A_i}

    The curve ignores exclusions and prerequisites, and adds abatements as if measures
    did not interact; :func:`choose_portfolio` honours the first two.

    Examples
    --------
    >>> ms = [Measure(id=i, name=i, kind="efficiency", capex_cny=c, lifetime_yr=10,
    ...               abatement_tco2e_per_yr=a) for i, c, a in [("A", 100, 10), ("B", 300, 20)]]
    >>> marginal_abatement_cost(ms, 0.0)["cumulative_abatement_tco2e_per_yr"].tolist()
    [10.0, 30.0]
    """
    _check_catalogue(measures)
    rows = []
    for m in measures:
        ann = annualised_cost_cny_per_yr(m, discount_rate)
        abate = m.abatement_tco2e_per_yr
        rows.append(
            {
                "id": m.id,
                "name": m.name,
                "name_zh": m.label_zh,
                "kind": m.kind,
                "enterprise": m.enterprise,
                "units": m.max_units,
                "unit": m.unit,
                "capex_cny": m.capex_cny * m.max_units,
                "opex_cny_per_yr": m.opex_cny_per_yr * m.max_units,
                "annualised_cost_cny_per_yr": ann * m.max_units,
                "abatement_tco2e_per_yr": abate * m.max_units,
                "cost_cny_per_tco2e": ann / abate if abate > 0 else math.nan,
                "payback_yr": _payback_yr(m.capex_cny, m.opex_cny_per_yr),
            }
        )
    columns = [
        "name",
        "name_zh",
        "kind",
        "enterprise",
        "units",
        "unit",
        "capex_cny",
        "opex_cny_per_yr",
        "annualised_cost_cny_per_yr",
        "abatement_tco2e_per_yr",
        "cost_cny_per_tco2e",
        "payback_yr",
    ]
    frame = pd.DataFrame(rows, columns=["id", *columns]).set_index("id")
    frame = frame.sort_values("cost_cny_per_tco2e", kind="stable", na_position="last")
    frame["cumulative_abatement_tco2e_per_yr"] = frame["abatement_tco2e_per_yr"].cumsum()
    frame["cumulative_capex_cny"] = frame["capex_cny"].cumsum()
    return frame


def build_portfolio_model(
    measures: Sequence[Measure],
    discount_rate: float,
    *,
    target_tco2e_per_yr: float | None = None,
    budget_cny: float | None = None,
    objective: Literal["min_cost", "max_abatement"] = "min_cost",
    relax: bool = False,
) -> pyo.ConcreteModel:
    r"""Build the portfolio programme as a Pyomo model.

    Parameters
    ----------
    measures : sequence of Measure
        The measures on offer (already filtered for year and kind).
    discount_rate : float
        Real discount rate [frac/yr].
    target_tco2e_per_yr : float, optional
        Lower bound on total abatement [tCO2e/yr]; none when omitted.
    budget_cny : float, optional
        Upper bound on total capital cost [CNY]; none when omitted.
    objective : {"min_cost", "max_abatement"}
        Minimise total annualised cost, or maximise total abatement.
    relax : bool
        Make every variable continuous (the LP relaxation, whose duals give shadow prices).

    Returns
    -------
    pyomo.environ.ConcreteModel
        Variables ``units[i]`` (units chosen) and ``adopt[i]`` (1 when chosen);
        constraints ``Portfolio-abatement_tco2e_per_yr-lower``,
        ``Portfolio-capex_cny-upper``, ``Measure-units-upper``, ``Measure-units-lower``,
        ``Measure-exclusion`` and ``Measure-prerequisite``; objective ``objective``.

    Notes
    -----
    With :math:`x_i` the units chosen, :math:`y_i \in \{0, 1\}` adoption,
    :math:`C_i` the annualised cost, :math:`K_i` the capex and :math:`A_i` the abatement
    per unit:

    .. math::
        \min \sum_i C_i x_i \quad \text{s.t.} \quad
        \sum_i A_i x_i \ge T, \quad \sum_i K_i x_i \le B, \\
        \underline{x}_i y_i \le x_i \le \bar{x}_i y_i, \quad
        y_i + y_j \le 1 \ (i \text{ excludes } j), \quad
        y_i \le y_j \ (i \text{ requires } j)

    with :math:`\underline{x}_i = 1` for binary and integer measures and ``min_units``
    for continuous ones. ``max_abatement`` maximises :math:`\sum_i A_i x_i` instead.
    """
    by_id = {m.id: m for m in measures}
    ids = list(by_id)
    model = pyo.ConcreteModel(name="reduction_portfolio")
    model.M = pyo.Set(initialize=ids, ordered=True)

    def _units_domain(_model: pyo.ConcreteModel, i: str) -> Any:
        if relax or by_id[i].divisibility == "continuous":
            return pyo.NonNegativeReals
        return pyo.NonNegativeIntegers

    def _units_bounds(_model: pyo.ConcreteModel, i: str) -> tuple[float, float]:
        return (0.0, by_id[i].max_units)

    model.units = pyo.Var(model.M, domain=_units_domain, bounds=_units_bounds)
    model.adopt = pyo.Var(
        model.M, domain=pyo.UnitInterval if relax else pyo.Binary, bounds=(0.0, 1.0)
    )
    cost = {i: annualised_cost_cny_per_yr(by_id[i], discount_rate) for i in ids}
    model.annualised_cost_cny_per_yr = pyo.Expression(
        expr=sum(cost[i] * model.units[i] for i in ids)
    )
    model.abatement_tco2e_per_yr = pyo.Expression(
        expr=sum(by_id[i].abatement_tco2e_per_yr * model.units[i] for i in ids)
    )
    model.capex_cny = pyo.Expression(expr=sum(by_id[i].capex_cny * model.units[i] for i in ids))

    def _upper(m: pyo.ConcreteModel, i: str) -> Any:
        return m.units[i] <= by_id[i].max_units * m.adopt[i]

    def _lower(m: pyo.ConcreteModel, i: str) -> Any:
        meas = by_id[i]
        low = meas.min_units if meas.divisibility == "continuous" else 1.0
        if low <= 0:
            return pyo.Constraint.Skip
        return m.units[i] >= low * m.adopt[i]

    model.add_component("Measure-units-upper", pyo.Constraint(model.M, rule=_upper))
    model.add_component("Measure-units-lower", pyo.Constraint(model.M, rule=_lower))

    pairs = sorted({tuple(sorted((m.id, j))) for m in measures for j in m.excludes if j in by_id})
    model.exclusion_pairs = pyo.Set(initialize=pairs, dimen=2, ordered=True)
    model.add_component(
        "Measure-exclusion",
        pyo.Constraint(model.exclusion_pairs, rule=lambda m, i, j: m.adopt[i] + m.adopt[j] <= 1),
    )
    needs = sorted({(m.id, j) for m in measures for j in m.requires if j in by_id})
    model.prerequisite_pairs = pyo.Set(initialize=needs, dimen=2, ordered=True)
    model.add_component(
        "Measure-prerequisite",
        pyo.Constraint(model.prerequisite_pairs, rule=lambda m, i, j: m.adopt[i] <= m.adopt[j]),
    )
    # A measure whose prerequisite is not on offer cannot be chosen at all.
    for m in measures:
        if any(j not in by_id for j in m.requires):
            model.adopt[m.id].fix(0)
            model.units[m.id].fix(0)

    if target_tco2e_per_yr is not None:
        model.add_component(
            "Portfolio-abatement_tco2e_per_yr-lower",
            pyo.Constraint(expr=model.abatement_tco2e_per_yr >= target_tco2e_per_yr),
        )
    if budget_cny is not None:
        model.add_component(
            "Portfolio-capex_cny-upper", pyo.Constraint(expr=model.capex_cny <= budget_cny)
        )
    if objective == "min_cost":
        model.objective = pyo.Objective(expr=model.annualised_cost_cny_per_yr, sense=pyo.minimize)
    else:
        model.objective = pyo.Objective(expr=model.abatement_tco2e_per_yr, sense=pyo.maximize)
    return model


def _solve(
    model: pyo.ConcreteModel, time_limit_s: float, mip_rel_gap: float, *, duals: bool = False
) -> dict[Any, float] | None:
    """Solve with HiGHS and load the solution; return None when the model is infeasible."""
    solver = Highs()
    if not solver.available():
        msg = "HiGHS is not available; install highspy (pip install highspy)"
        raise SolverError(msg)
    results = solver.solve(
        model,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        time_limit=time_limit_s,
        rel_gap=mip_rel_gap,
    )
    if results.termination_condition in (
        TerminationCondition.provenInfeasible,
        TerminationCondition.infeasibleOrUnbounded,
    ):
        return None
    if results.solution_status not in (SolutionStatus.optimal, SolutionStatus.feasible):
        msg = (
            f"HiGHS stopped without a solution ({results.termination_condition.name}); "
            f"raise time_limit_s(={time_limit_s}) or shrink the catalogue"
        )
        raise SolverError(msg)
    results.solution_loader.load_vars()
    if duals:
        return dict(results.solution_loader.get_duals())
    return {}


@dataclass(frozen=True)
class PortfolioResult:
    """A chosen reduction portfolio; totals are per year unless they are capital.

    Attributes
    ----------
    objective : {"min_cost", "max_abatement"}
        What was optimised.
    discount_rate : float
        Real discount rate [frac/yr].
    target_tco2e_per_yr : float or None
        Abatement target [tCO2e/yr].
    budget_cny : float or None
        Capital budget [CNY].
    table : pandas.DataFrame
        One row per measure of the catalogue (index: id): ``units`` chosen [unit],
        ``max_units``, ``unit``, ``adopted`` (bool), ``capex_cny`` [CNY],
        ``opex_cny_per_yr`` [CNY/yr], ``annualised_cost_cny_per_yr`` [CNY/yr],
        ``abatement_tco2e_per_yr`` [tCO2e/yr] (of the units chosen),
        ``cost_cny_per_tco2e`` [CNY/tCO2e], ``payback_yr`` [yr], and for measures left out
        ``reason`` (``not_available``, ``kind_excluded``, ``no_abatement``, ``excluded``,
        ``prerequisite``, ``too_expensive``, ``over_budget``, ``not_needed``) with
        ``reason_ref`` (the chosen alternative, the missing prerequisite or the start year).
    capex_cny : float
        Total capital cost [CNY].
    opex_cny_per_yr : float
        Total running cost [CNY/yr]; negative when the portfolio saves money.
    annualised_cost_cny_per_yr : float
        Total annualised cost [CNY/yr].
    abatement_tco2e_per_yr : float
        Total abatement [tCO2e/yr].
    marginal_cost_cny_per_tco2e : float or None
        Extra annualised cost of raising the target by ``marginal_step_tco2e_per_yr``,
        per tonne, from a re-solve [CNY/tCO2e]; None when the raised target is
        unreachable or no target was given.
    shadow_price_lp_cny_per_tco2e : float or None
        Dual of the target in the LP relaxation [CNY/tCO2e]; None without a target.
    max_abatement_tco2e_per_yr : float or None
        Most abatement the budget can reach [tCO2e/yr] (``max_abatement`` runs).
    measures : tuple of Measure
        The catalogue the result was computed from.
    """

    objective: Literal["min_cost", "max_abatement"]
    discount_rate: float
    target_tco2e_per_yr: float | None
    budget_cny: float | None
    table: pd.DataFrame
    capex_cny: float
    opex_cny_per_yr: float
    annualised_cost_cny_per_yr: float
    abatement_tco2e_per_yr: float
    marginal_cost_cny_per_tco2e: float | None
    shadow_price_lp_cny_per_tco2e: float | None
    max_abatement_tco2e_per_yr: float | None = None
    measures: tuple[Measure, ...] = field(default=(), repr=False)

    @property
    def units(self) -> dict[str, float]:
        """Units chosen of each adopted measure [unit]."""
        chosen = self.table[self.table["adopted"]]
        return {str(k): float(v) for k, v in chosen["units"].items()}

    @property
    def chosen(self) -> pd.DataFrame:
        """Rows of the adopted measures, cheapest per tonne first."""
        rows = self.table[self.table["adopted"]]
        return rows.sort_values("cost_cny_per_tco2e", kind="stable", na_position="last")

    @property
    def left_out(self) -> pd.DataFrame:
        """Rows of the measures not adopted, with ``reason`` and ``reason_ref``."""
        return self.table[~self.table["adopted"]]


def choose_portfolio(
    measures: Sequence[Measure],
    target_tco2e_per_yr: float | None = None,
    budget_cny: float | None = None,
    discount_rate: float = 0.06,
    *,
    year: int | None = None,
    exclude_kinds: Iterable[str] = (),
    marginal_step_tco2e_per_yr: float = 1.0,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-9,
    extra_constraints: Callable[[pyo.ConcreteModel], None] | None = None,
) -> PortfolioResult:
    """Choose the least-cost set of measures that meets a target within a budget.

    Parameters
    ----------
    measures : sequence of Measure
        The catalogue.
    target_tco2e_per_yr : float, optional
        Abatement to reach [tCO2e/yr]. When omitted the portfolio abates as much as the
        budget allows (then at least cost).
    budget_cny : float, optional
        Capital budget [CNY]; unlimited when omitted.
    discount_rate : float
        Real discount rate [frac/yr] for the capital recovery factor.
    year : int, optional
        Decision year: measures with a later ``start_year`` are left out.
    exclude_kinds : iterable of str
        Kinds not to consider (e.g. ``("offset",)`` for a gross-emissions target).
    marginal_step_tco2e_per_yr : float
        Step by which the target is raised to measure its marginal cost [tCO2e/yr].
    time_limit_s : float
        Time limit of each HiGHS solve [s].
    mip_rel_gap : float
        Relative optimality gap of the MILP [frac].
    extra_constraints : callable, optional
        ``f(model)`` adding constraints to the Pyomo model before each solve (see
        :func:`build_portfolio_model` for its components).

    Returns
    -------
    PortfolioResult

    Raises
    ------
    SolverError
        When the target cannot be met: the message gives the most abatement the budget
        (and an unlimited budget) can reach.
    carbontwin.core.errors.ValidationError
        For a bad catalogue or negative target, budget or discount rate.

    Notes
    -----
    The programme is given in :func:`build_portfolio_model`. Measures with a negative
    annualised cost (no-regret measures) are chosen even beyond the target when the
    budget allows, since they lower the total cost. Without a target, the first solve
    maximises abatement and a second one finds the cheapest portfolio reaching that
    abatement. The marginal cost of the target comes from re-solving with the target
    raised by ``marginal_step_tco2e_per_yr``; the LP shadow price from the dual of the
    relaxed problem. Whole measures make the two differ: the re-solve is 0 when the chosen
    set overshoots the target, and jumps when one more tonne needs another lump. Where the
    relaxation meets the target exactly at a vertex (degenerate), any dual between the
    cost of a tonne less and a tonne more is valid, and HiGHS returns one of them.
    """
    _check_catalogue(measures)
    capital_recovery_factor(discount_rate, 1.0)  # validates the rate
    if target_tco2e_per_yr is not None and not (
        math.isfinite(target_tco2e_per_yr) and target_tco2e_per_yr >= 0
    ):
        msg = f"target_tco2e_per_yr(={target_tco2e_per_yr}) must be >= 0; give tCO2e a year"
        raise ValidationError(msg)
    if budget_cny is not None and not (math.isfinite(budget_cny) and budget_cny >= 0):
        msg = f"budget_cny(={budget_cny}) must be >= 0; omit it for no limit"
        raise ValidationError(msg)
    if marginal_step_tco2e_per_yr <= 0:
        msg = f"marginal_step_tco2e_per_yr(={marginal_step_tco2e_per_yr}) must be > 0"
        raise ValidationError(msg)
    skip_kinds = set(exclude_kinds)
    unknown = skip_kinds - set(KINDS)
    if unknown:
        msg = f"exclude_kinds(={sorted(unknown)}) names unknown kinds; use {', '.join(KINDS)}"
        raise ValidationError(msg)

    by_id = {m.id: m for m in measures}
    offered: list[Measure] = []
    reasons: dict[str, tuple[str, str]] = {}
    for m in measures:
        if m.kind in skip_kinds:
            reasons[m.id] = ("kind_excluded", m.kind)
        elif year is not None and m.start_year is not None and m.start_year > year:
            reasons[m.id] = ("not_available", str(m.start_year))
        else:
            offered.append(m)

    def build(objective: Literal["min_cost", "max_abatement"], **kw: Any) -> pyo.ConcreteModel:
        model = build_portfolio_model(offered, discount_rate, objective=objective, **kw)
        if extra_constraints is not None:
            extra_constraints(model)
        return model

    def reachable(budget: float | None) -> float:
        model = build("max_abatement", budget_cny=budget)
        if _solve(model, time_limit_s, mip_rel_gap) is None:
            return math.nan
        return float(pyo.value(model.abatement_tco2e_per_yr))

    marginal: float | None = None
    shadow: float | None = None
    max_abate: float | None = None
    if target_tco2e_per_yr is not None:
        model = build("min_cost", target_tco2e_per_yr=target_tco2e_per_yr, budget_cny=budget_cny)
        if _solve(model, time_limit_s, mip_rel_gap) is None:
            most = reachable(budget_cny)
            most_free = reachable(None)
            if budget_cny is not None:
                msg = (
                    f"target_tco2e_per_yr(={target_tco2e_per_yr:,.0f}) cannot be met within "
                    f"budget_cny(={budget_cny:,.0f}): the measures reach at most "
                    f"{most:,.0f} tCO2e/yr under this budget ({most_free:,.0f} tCO2e/yr "
                    "with no budget limit); lower the target, raise the budget or add measures"
                )
            else:
                msg = (
                    f"target_tco2e_per_yr(={target_tco2e_per_yr:,.0f}) cannot be met: the "
                    f"measures reach at most {most_free:,.0f} tCO2e/yr; lower the target or "
                    "add measures"
                )
            raise SolverError(msg)
        base_cost = float(pyo.value(model.annualised_cost_cny_per_yr))
        # Marginal cost: re-solve with the target raised by one step.
        raised = build(
            "min_cost",
            target_tco2e_per_yr=target_tco2e_per_yr + marginal_step_tco2e_per_yr,
            budget_cny=budget_cny,
        )
        if _solve(raised, time_limit_s, mip_rel_gap) is not None:
            marginal = (
                float(pyo.value(raised.annualised_cost_cny_per_yr)) - base_cost
            ) / marginal_step_tco2e_per_yr
        # LP relaxation: the dual of the target constraint.
        lp = build(
            "min_cost", target_tco2e_per_yr=target_tco2e_per_yr, budget_cny=budget_cny, relax=True
        )
        lp_duals = _solve(lp, time_limit_s, mip_rel_gap, duals=True)
        if lp_duals is not None:
            con = lp.component("Portfolio-abatement_tco2e_per_yr-lower")
            shadow = abs(float(lp_duals.get(con, 0.0)))
    else:
        most = reachable(budget_cny)
        if math.isnan(most):
            msg = "no portfolio satisfies the constraints; check extra_constraints"
            raise SolverError(msg)
        max_abate = most
        model = build(
            "min_cost",
            budget_cny=budget_cny,
            target_tco2e_per_yr=most - max(1e-7 * abs(most), 1e-6),
        )
        if _solve(model, time_limit_s, mip_rel_gap) is None:  # pragma: no cover - numerics
            msg = "the cheapest portfolio at the largest abatement could not be found"
            raise SolverError(msg)

    units = {i: _snap(float(pyo.value(model.units[i])), by_id[i]) for i in model.M}
    table = _result_table(
        measures,
        units,
        discount_rate,
        reasons,
        budget_cny,
        marginal,
        objective="min_cost" if target_tco2e_per_yr is not None else "max_abatement",
    )
    adopted = table[table["adopted"]]
    return PortfolioResult(
        objective="min_cost" if target_tco2e_per_yr is not None else "max_abatement",
        discount_rate=discount_rate,
        target_tco2e_per_yr=target_tco2e_per_yr,
        budget_cny=budget_cny,
        table=table,
        capex_cny=float(adopted["capex_cny"].sum()),
        opex_cny_per_yr=float(adopted["opex_cny_per_yr"].sum()),
        annualised_cost_cny_per_yr=float(adopted["annualised_cost_cny_per_yr"].sum()),
        abatement_tco2e_per_yr=float(adopted["abatement_tco2e_per_yr"].sum()),
        marginal_cost_cny_per_tco2e=marginal,
        shadow_price_lp_cny_per_tco2e=shadow,
        max_abatement_tco2e_per_yr=max_abate,
        measures=tuple(measures),
    )


def _snap(value: float, measure: Measure) -> float:
    """Round solver noise: whole units for integer measures, the bounds for continuous ones."""
    if measure.divisibility != "continuous":
        return float(round(value))
    scale = max(1.0, measure.max_units)
    if abs(value) < _UNITS_TOL * scale:
        return 0.0
    if abs(value - measure.max_units) < _UNITS_TOL * scale:
        return measure.max_units
    return value


def _result_table(
    measures: Sequence[Measure],
    units: Mapping[str, float],
    discount_rate: float,
    reasons: Mapping[str, tuple[str, str]],
    budget_cny: float | None,
    marginal: float | None,
    objective: str,
) -> pd.DataFrame:
    """Tabulate the chosen units and say why each measure left out was left out."""
    by_id = {m.id: m for m in measures}
    chosen = {i for i, v in units.items() if v > 0}
    capex_used = sum(by_id[i].capex_cny * units[i] for i in chosen)
    per_t = {}
    for m in measures:
        ann = annualised_cost_cny_per_yr(m, discount_rate)
        per_t[m.id] = ann / m.abatement_tco2e_per_yr if m.abatement_tco2e_per_yr > 0 else math.nan
    dearest = max((per_t[i] for i in chosen if not math.isnan(per_t[i])), default=math.nan)
    threshold = marginal if marginal is not None and marginal > 0 else dearest
    rows = []
    for m in measures:
        x = units.get(m.id, 0.0)
        ann = annualised_cost_cny_per_yr(m, discount_rate)
        reason, ref = "", ""
        if m.id not in chosen:
            if m.id in reasons:
                reason, ref = reasons[m.id]
            elif any(j in chosen for j in m.excludes) or any(
                m.id in by_id[j].excludes for j in chosen
            ):
                reason = "excluded"
                ref = next(j for j in chosen if j in m.excludes or m.id in by_id[j].excludes)
            elif any(j not in chosen for j in m.requires):
                reason = "prerequisite"
                ref = next(j for j in m.requires if j not in chosen)
            elif m.abatement_tco2e_per_yr <= 0:
                reason = "no_abatement"
            elif (
                objective == "min_cost"
                and not math.isnan(threshold)
                and per_t[m.id] > threshold + 1e-9
            ):
                reason = "too_expensive"
            elif budget_cny is not None and capex_used + m.capex_cny * (
                1.0 if m.divisibility != "continuous" else max(m.min_units, _UNITS_TOL)
            ) > budget_cny * (1 + 1e-9):
                reason = "over_budget"
            else:
                reason = "not_needed"
        rows.append(
            {
                "id": m.id,
                "name": m.name,
                "name_zh": m.label_zh,
                "kind": m.kind,
                "enterprise": m.enterprise,
                "units": x,
                "max_units": m.max_units,
                "unit": m.unit,
                "adopted": m.id in chosen,
                "capex_cny": m.capex_cny * x,
                "opex_cny_per_yr": m.opex_cny_per_yr * x,
                "annualised_cost_cny_per_yr": ann * x,
                "abatement_tco2e_per_yr": m.abatement_tco2e_per_yr * x,
                "cost_cny_per_tco2e": per_t[m.id],
                "payback_yr": _payback_yr(m.capex_cny, m.opex_cny_per_yr),
                "reason": reason,
                "reason_ref": ref,
            }
        )
    return pd.DataFrame(rows).set_index("id")


# --- plain-word suggestions -------------------------------------------------------------
# The texts are kept beside the code that fills them until they move to the locale files.

_VERB = {
    "en": {
        "pv": "Install",
        "storage": "Install",
        "green_power": "Buy",
        "offset": "Buy and retire",
        "ccus": "Build",
    },
    "zh": {
        "pv": "安装",
        "storage": "安装",
        "green_power": "购买",
        "offset": "购买并注销",
        "ccus": "建设",
    },
}
_VERB_DEFAULT = {"en": "Adopt", "zh": "实施"}
# Kinds whose units read as an amount ("2 MWp of rooftop PV"); others as a count in brackets.
_AMOUNT_KINDS = frozenset({"pv", "storage", "green_power", "offset"})

_TEXT = {
    "en": {
        "summary.min_cost": (
            "The least-cost portfolio of {n} measures abates {abate} t CO2e a year "
            "(target {target}) for {capex} of investment{budget}, at a net annualised cost "
            "of {ann} a year ({avg} CNY/t on average)."
        ),
        "summary.max_abatement": (
            "Within {budget_phrase}, {n} measures abate at most {abate} t CO2e a year, for "
            "{capex} of investment, at a net annualised cost of {ann} a year "
            "({avg} CNY/t on average)."
        ),
        "budget": " (budget {budget})",
        "budget.none": "an unlimited budget",
        "budget.some": "the budget of {budget}",
        "marginal": (
            "Raising the target by one tonne would cost {marginal} CNY a year more "
            "(LP shadow price {shadow} CNY/t)."
        ),
        "marginal.slack": (
            "The target is not binding: measures that pay for themselves already exceed it."
        ),
        "marginal.lumpy": (
            "The chosen measures exceed the target by {slack} t CO2e a year, so one more "
            "tonne costs nothing; if measures could be taken in part, a tonne would cost "
            "{shadow} CNY (LP shadow price)."
        ),
        "marginal.none": "The target cannot be raised further within the budget.",
        "measure": "{action}: {abate} t CO2e a year at {cost} CNY/t; {payback}.",
        "qty": "{verb} {qty} {unit} of {name}{at}",
        "qty.partial": "{verb} {qty} {unit} (of {max} possible) of {name}{at}",
        "count": "{verb} {name}{at} ({qty} {unit})",
        "count.partial": "{verb} {name}{at} ({qty} of {max} possible {unit})",
        "plain": "{verb} {name}{at}",
        "at": " at {ent}",
        "payback": "pays back in {years} years",
        "payback.free": "saves {saving} a year with no investment",
        "payback.never": "adds {cost} a year in running costs and does not pay back",
        "payback.none": "no running cost",
        "payback.late": "pays back only after {years} years, beyond its {life}-year life",
        "noregret": " (no-regret: it saves more than it costs)",
        "left": "Left out: {name}{at} ({abate} t CO2e a year at {cost} CNY/t): {why}.",
        "why.too_expensive": (
            "it costs more per tonne than the {threshold} CNY/t that the last tonne of the "
            "target costs"
        ),
        "why.too_expensive.dearest": (
            "it costs more per tonne than any measure chosen (the dearest: {threshold} CNY/t)"
        ),
        "why.excluded": "it is an alternative to {ref}, which was chosen",
        "why.prerequisite": "it needs {ref}, which was not chosen",
        "why.over_budget": "it does not fit in what is left of the budget",
        "why.not_needed": "the target is met more cheaply without it",
        "why.no_abatement": "it abates nothing by itself",
        "why.not_available": "it cannot start before {ref}",
        "why.kind_excluded": "measures of kind {ref} were not considered",
    },
    "zh": {
        "summary.min_cost": (
            "成本最低的组合包含 {n} 项措施，每年减排 {abate} t CO2e（目标 {target}），"
            "投资 {capex}{budget}，年化净成本每年 {ann}（平均 {avg} 元/t）。"
        ),
        "summary.max_abatement": (
            "在{budget_phrase}内，{n} 项措施每年最多减排 {abate} t CO2e，投资 {capex}，"
            "年化净成本每年 {ann}（平均 {avg} 元/t）。"
        ),
        "budget": "（预算 {budget}）",
        "budget.none": "不限预算",
        "budget.some": "{budget}预算",
        "marginal": "目标每提高 1 t，年成本增加 {marginal} 元（线性松弛影子价格 {shadow} 元/t）。",
        "marginal.slack": "目标不起约束作用：自身可回收成本的措施已超额完成目标。",
        "marginal.lumpy": (
            "所选措施超出目标 {slack} t CO2e/年，目标再提高 1 t 不增加成本；"
            "若措施可部分实施，每吨成本为 {shadow} 元（线性松弛影子价格）。"
        ),
        "marginal.none": "在预算内目标无法再提高。",
        "measure": "{action}：每年减排 {abate} t CO2e，减排成本 {cost} 元/t；{payback}。",
        "qty": "{at}{verb}{name} {qty} {unit}",
        "qty.partial": "{at}{verb}{name} {qty} {unit}（最多可达 {max}）",
        "count": "{at}{verb}{name}（{qty} {unit}）",
        "count.partial": "{at}{verb}{name}（{qty} {unit}，最多可达 {max}）",
        "plain": "{at}{verb}{name}",
        "at": "在{ent}",
        "payback": "{years} 年收回投资",
        "payback.free": "无需投资，每年节省 {saving}",
        "payback.never": "每年增加运行费用 {cost}，无法靠节省收回投资",
        "payback.none": "无运行费用",
        "payback.late": "需 {years} 年才能收回投资，超过 {life} 年寿命",
        "noregret": "（无悔措施：节省大于成本）",
        "left": "未选：{at}{name}（每年减排 {abate} t CO2e，{cost} 元/t）：{why}。",
        "why.too_expensive": "每吨成本高于目标的边际减排成本 {threshold} 元/t",
        "why.too_expensive.dearest": "每吨成本高于所选措施中最高的 {threshold} 元/t",
        "why.excluded": "与已选的{ref}互斥",
        "why.prerequisite": "需要先实施未入选的{ref}",
        "why.over_budget": "剩余预算不足",
        "why.not_needed": "不选它能以更低成本完成目标",
        "why.no_abatement": "其本身不产生减排量",
        "why.not_available": "{ref} 年前无法实施",
        "why.kind_excluded": "未考虑 {ref} 类措施",
    },
}


def _num(value: float, digits: int = 0) -> str:
    """Format with thousands separators and a true minus sign."""
    text = f"{value:,.{digits}f}"
    if text.startswith("-"):
        text = "\u2212" + text[1:]
    return "0" if text in ("\u22120", "\u22120.0") else text


def _tonnes(value: float) -> str:
    return _num(value, 0 if abs(value) >= 100 or float(value).is_integer() else 1)


def _money(value: float, lang: str) -> str:
    """Format an amount of money [CNY] the way each language reads it."""
    if lang == "zh":
        if abs(value) >= 1e8:
            return f"{_num(value / 1e8, 2)} 亿元"
        if abs(value) >= 1e4:
            return f"{_num(value / 1e4, 1)} 万元"
        return f"{_num(value)} 元"
    if abs(value) >= 1e6:
        return f"{_num(value / 1e6, 1)} million CNY"
    return f"{_num(value)} CNY"


def _qty(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _action(row: pd.Series, measure: Measure, lang: str) -> str:
    t = _TEXT[lang]
    verb = _VERB[lang].get(measure.kind, _VERB_DEFAULT[lang])
    name = measure.name if lang == "en" else measure.label_zh
    at = t["at"].format(ent=measure.enterprise) if measure.enterprise else ""
    if measure.divisibility == "binary":
        return t["plain"].format(verb=verb, name=name, at=at)
    key = "qty" if measure.kind in _AMOUNT_KINDS else "count"
    if row["units"] < measure.max_units - _UNITS_TOL:
        key += ".partial"
    return t[key].format(
        verb=verb,
        qty=_qty(row["units"]),
        unit=measure.unit if lang == "en" else (measure.unit_zh or measure.unit),
        max=_qty(measure.max_units),
        name=name,
        at=at,
    )


def _payback_text(measure: Measure, units: float, lang: str) -> str:
    t = _TEXT[lang]
    capex, opex = measure.capex_cny * units, measure.opex_cny_per_yr * units
    if opex < 0 and capex > 0:
        years = capex / -opex
        if years > measure.lifetime_yr:
            return t["payback.late"].format(years=f"{years:.1f}", life=_qty(measure.lifetime_yr))
        return t["payback"].format(years=f"{years:.1f}")
    if opex < 0:
        return t["payback.free"].format(saving=_money(-opex, lang))
    if opex > 0:
        return t["payback.never"].format(cost=_money(opex, lang))
    return t["payback.none"]


def suggestions(result: PortfolioResult, lang: str = "en") -> list[str]:
    """Write the portfolio as plain-word suggestions.

    Parameters
    ----------
    result : PortfolioResult
        From :func:`choose_portfolio`.
    lang : {"en", "zh"}
        Language.

    Returns
    -------
    list of str
        A summary line, one line per chosen measure (cheapest per tonne first) and one
        per measure left out, saying why.
    """
    if lang not in _TEXT:
        msg = f"lang(={lang!r}) is not supported; use one of {', '.join(_TEXT)}"
        raise ValidationError(msg)
    t = _TEXT[lang]
    by_id = {m.id: m for m in result.measures}
    chosen = result.chosen
    abate = result.abatement_tco2e_per_yr
    avg = result.annualised_cost_cny_per_yr / abate if abate > 0 else math.nan
    common = {
        "n": len(chosen),
        "abate": _tonnes(abate),
        "capex": _money(result.capex_cny, lang),
        "ann": _money(result.annualised_cost_cny_per_yr, lang),
        "avg": _num(avg) if not math.isnan(avg) else "–",
    }
    lines: list[str] = []
    if result.objective == "min_cost":
        budget = (
            t["budget"].format(budget=_money(result.budget_cny, lang))
            if result.budget_cny is not None
            else ""
        )
        lines.append(
            t["summary.min_cost"].format(
                target=_tonnes(result.target_tco2e_per_yr or 0.0), budget=budget, **common
            )
        )
        marginal = result.marginal_cost_cny_per_tco2e
        if marginal is None:
            lines.append(t["marginal.none"])
        elif abs(marginal) < 1e-6 and (result.shadow_price_lp_cny_per_tco2e or 0.0) < 1e-6:
            lines.append(t["marginal.slack"])
        elif abs(marginal) < 1e-6:
            slack = result.abatement_tco2e_per_yr - (result.target_tco2e_per_yr or 0.0)
            lines.append(
                t["marginal.lumpy"].format(
                    slack=_tonnes(slack), shadow=_num(result.shadow_price_lp_cny_per_tco2e or 0)
                )
            )
        else:
            lines.append(
                t["marginal"].format(
                    marginal=_num(marginal), shadow=_num(result.shadow_price_lp_cny_per_tco2e or 0)
                )
            )
    else:
        phrase = (
            t["budget.some"].format(budget=_money(result.budget_cny, lang))
            if result.budget_cny is not None
            else t["budget.none"]
        )
        lines.append(t["summary.max_abatement"].format(budget_phrase=phrase, **common))

    for mid, row in chosen.iterrows():
        m = by_id[str(mid)]
        cost = row["cost_cny_per_tco2e"]
        line = t["measure"].format(
            action=_action(row, m, lang),
            abate=_tonnes(row["abatement_tco2e_per_yr"]),
            cost=_num(cost) if not math.isnan(cost) else "–",
            payback=_payback_text(m, row["units"], lang),
        )
        if row["annualised_cost_cny_per_yr"] < 0:
            line = line[:-1] + t["noregret"] + line[-1]
        lines.append(line)

    chosen_costs = chosen["cost_cny_per_tco2e"].dropna()
    marginal = result.marginal_cost_cny_per_tco2e
    from_marginal = marginal is not None and marginal > 0
    threshold = (
        marginal if from_marginal else (chosen_costs.max() if len(chosen_costs) else math.nan)
    )
    for mid, row in result.left_out.iterrows():
        m = by_id[str(mid)]
        name = m.name if lang == "en" else m.label_zh
        at = t["at"].format(ent=m.enterprise) if m.enterprise else ""
        reason = row["reason"]
        ref = row["reason_ref"]
        if reason in ("excluded", "prerequisite") and ref in by_id:
            ref_name = by_id[ref].name if lang == "en" else by_id[ref].label_zh
            ref = f"{ref_name} ({ref})" if lang == "en" else f"{ref_name}（{ref}）"
        key = f"why.{reason}"
        if reason == "too_expensive" and not from_marginal:
            key += ".dearest"
        why = t[key].format(
            ref=ref, threshold=_num(threshold) if not math.isnan(threshold) else "–"
        )
        cost = row["cost_cny_per_tco2e"]
        lines.append(
            t["left"].format(
                name=name,
                at=at,
                abate=_tonnes(m.abatement_tco2e_per_yr * m.max_units),
                cost=_num(cost) if not math.isnan(cost) else "–",
                why=why,
            )
        )
    return lines
