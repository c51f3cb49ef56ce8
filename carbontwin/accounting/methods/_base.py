"""What a methodology gives the inventory: linear terms per unit of activity.

Every published method in the Chinese guidelines and ISO 14064-1 is linear in its activity
data once its factors are fixed: emissions = activity × coefficient. A method therefore
returns, for one source and a stretch of days with constant factors, a list of
:class:`Term` (tonnes of a gas per canonical unit of one activity stream) and
:class:`EnergyTerm` (physical energy and tce per unit). The inventory multiplies them by
the activity arrays, vectorised over every source and day.
"""

from __future__ import annotations

import abc
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from carbontwin.accounting.factors import Factor, FactorLibrary, factor_unit
from carbontwin.core.errors import ValidationError
from carbontwin.core.park import AccountingSettings
from carbontwin.core.records import FactorOverride
from carbontwin.core.sources import EmissionSource
from carbontwin.core.units import conversion_factor

__all__ = ["EnergyTerm", "Method", "MethodContext", "Params", "Term"]


@dataclass(frozen=True)
class Term:
    """Tonnes of ``gas`` per canonical unit of activity stream ``stream``.

    ``kind`` is ``emission`` (in the inventory), ``offset`` (credited apart, in tCO2e) or
    ``avoided`` (memo). ``plant`` names a self-owned plant whose own factor, found after
    the plant's emissions are known, multiplies ``coefficient``. ``market`` marks grid
    purchases that market-based scope 2 re-prices.
    """

    stream: str
    gas: str
    coefficient: float
    scope: int | None
    category: str | None
    kind: str = "emission"
    factors: tuple[str, ...] = ()
    formula: str = ""
    plant: str | None = None
    plant_part: str | None = None
    market: str | None = None
    instrument: str | None = None


@dataclass(frozen=True)
class EnergyTerm:
    """Energy per canonical unit of activity stream ``stream``.

    ``physical`` is in the canonical unit of ``carrier``; ``tce`` uses the calorific
    (当量值) value for electricity, ``tce_equivalent`` the coal-equivalent (等价值) value
    (NaN when the year's value is not configured). ``use`` is ``consumption``,
    ``export`` (negative), ``feedstock`` or ``renewable`` — kept apart as GB/T 2589 and
    the 2021 policy on feedstock and new renewables ask.
    """

    stream: str
    carrier: str
    use: str
    physical: float
    tce: float
    tce_equivalent: float
    factors: tuple[str, ...] = ()


class Params(BaseModel):
    """Base of every method's parameter declaration (fields carry units)."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class MethodContext:
    """Factor lookups for one source over a stretch of days with constant inputs.

    Every value used is recorded in :attr:`used` as a provenance label, so each term can
    name the factors behind it.
    """

    library: FactorLibrary
    settings: AccountingSettings
    source: EmissionSource
    day: dt.date
    overrides: list[FactorOverride] = field(default_factory=list)
    used: list[str] = field(default_factory=list)

    def _override(self, key: str) -> FactorOverride | None:
        best: FactorOverride | None = None
        for o in self.overrides:
            if o.factor != key or o.revoked or not o.covers(self.day):
                continue
            if o.applies_to == "enterprise" and o.target != self.source.enterprise:
                continue
            if o.applies_to == "source" and o.target != self.source.id:
                continue
            if best is None or o.specificity >= best.specificity:
                best = o
        return best

    def factor(self, key: str, unit: str) -> float:
        """Return factor ``key`` in ``unit``: an applicable override, else the library's."""
        o = self._override(key)
        if o is not None:
            value = o.value * conversion_factor(factor_unit(o.unit), factor_unit(unit))
            self.used.append(f"override:{key}#{o.id or '-'}={o.value:g} {o.unit}")
            return value
        f: Factor = self.library.get(key, self.settings.factor_set, self.settings.gwp_set)
        self.used.append(f.label)
        return f.to(unit)

    def measured(self, name: str) -> tuple[float, str] | None:
        """Return the latest measured value of ``name`` valid on the stretch's day."""
        best = None
        for m in self.source.measured:
            if (
                m.name == name
                and m.valid_from <= self.day
                and (best is None or m.valid_from >= best.valid_from)
            ):
                best = m
        if best is None:
            return None
        return best.value, f"measured:{name}@{best.valid_from}={best.value:g} {best.ref}".rstrip()

    def value(self, name: str, params: BaseModel, key: str | None, unit: str) -> float:
        """Return parameter ``name`` converted to ``unit``.

        Measured test data comes first, then the source's param, then library factor ``key``.

        Raises
        ------
        ValidationError
            If none of the three supplies a value.
        """
        m = self.measured(name)
        if m is not None:
            self.used.append(m[1])
            return m[0]
        v = getattr(params, name, None)
        if v is not None:
            self.used.append(f"param:{name}={v:g}")
            return float(v)
        if key is None:
            msg = (
                f"source {self.source.id!r}: parameter {name!r} is required "
                f"[{unit}] (no library default exists)"
            )
            raise ValidationError(msg)
        try:
            return self.factor(key, unit)
        except KeyError as exc:
            msg = (
                f"source {self.source.id!r}: no value for {name!r}: {exc.args[0]}; set "
                f"params.{name} [{unit}]"
            )
            raise ValidationError(msg) from None

    def electricity_tce(self) -> tuple[float, float]:
        """Return (calorific, equivalent) tce per kWh for the stretch's year (GB/T 2589)."""
        calorific = self.factor("tce:electricity", "tce/kWh")
        eq = self.settings.electricity_equivalent_kgce_per_kwh.get(self.day.year)
        if eq is None:
            return calorific, math.nan
        self.used.append(f"setting:electricity_equivalent@{self.day.year}={eq:g} kgce/kWh")
        return calorific, eq * 1e-3


class Method(abc.ABC):
    """Base class of a registered methodology.

    Subclasses set :attr:`name`, :attr:`Params` and implement :meth:`terms`; streams other
    than the main one (``""``) are listed by :meth:`streams`.
    """

    name: ClassVar[str] = ""
    title_en: ClassVar[str] = ""
    title_zh: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = Params
    #: Formula of the method, in words, for traces and reports.
    formula: ClassVar[str] = ""

    def params(self, source: EmissionSource) -> BaseModel:
        """Validate and return the source's params for this method."""
        try:
            return self.Params.model_validate(source.params)
        except PydanticValidationError as exc:
            problems = "; ".join(
                f"params.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            msg = f"source {source.id!r} (method {self.name}): {problems}"
            raise ValidationError(msg) from None

    def streams(self, source: EmissionSource, params: Any) -> dict[str, str]:
        """Return ``{stream name: canonical unit}`` of the activity this source takes."""
        return {"": source.canonical_unit}

    @abc.abstractmethod
    def terms(
        self, source: EmissionSource, params: Any, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the emission and energy terms per unit of activity."""
