"""Emission sources: scope → source category → source type → source (CECS 5.5.4).

Each source belongs to an enterprise (and optionally a facility), names the methodology
that turns its activity into emissions, and the carrier its activity measures.
Methodology parameters live in ``params``; the accounting package validates them against
the method's own declaration.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carbontwin.core.carriers import carrier
from carbontwin.core.fields import quantity

__all__ = ["CATEGORIES", "EmissionSource", "ParamEntry"]

#: Source categories by scope. Scope 3 categories follow the GHG Protocol's 15 categories
#: (ISO 14064-1 categories 3–6 group them).
CATEGORIES: dict[int, tuple[str, ...]] = {
    1: ("fuel_combustion", "process", "fugitive", "waste_treatment", "co2_recovery"),
    2: ("purchased_electricity", "purchased_heat", "exported_electricity", "exported_heat"),
    3: tuple(f"scope3_c{n:02d}" for n in range(1, 16)),
}

ParamValue = float | int | str | bool | list | dict


class ParamEntry(BaseModel):
    """A measured parameter valid from a date.

    Test data such as a month's NCV or carbon content (CPCIF 5.1.2.2–5.1.2.3), replacing
    the default from that date on.
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    value: float = quantity("unit of the parameter", "the measured value")
    valid_from: dt.date
    ref: str = ""


class EmissionSource(BaseModel):
    """One emission source, offset instrument or memo flow of an enterprise."""

    model_config = ConfigDict(extra="forbid")
    id: str
    enterprise: str
    facility: str | None = None
    name: str = ""
    name_zh: str = ""
    kind: Literal["emission", "offset", "memo"] = "emission"
    scope: Literal[1, 2, 3] | None = None
    category: str | None = None
    type: str = Field("", description="source type, e.g. 'stationary combustion / boiler'")
    method: str = Field(description="registered methodology name, e.g. 'fuel_combustion'")
    carrier: str = Field(description="what the activity measures, e.g. 'natural_gas'")
    unit: str | None = Field(None, description="unit activity is entered in; default canonical")
    params: dict[str, ParamValue] = Field(default_factory=dict)
    measured: list[ParamEntry] = Field(default_factory=list)
    start: dt.date | None = None
    stop: dt.date | None = None

    @model_validator(mode="after")
    def _check(self) -> EmissionSource:
        carrier(self.carrier)  # raises with the list of known carriers
        if self.kind == "emission":
            if self.scope is None or self.category is None:
                msg = "an emission source needs 'scope' (1, 2 or 3) and 'category'"
                raise ValueError(msg)
            if self.category not in CATEGORIES[self.scope]:
                allowed = ", ".join(CATEGORIES[self.scope])
                msg = f"category {self.category!r} is not in scope {self.scope} ({allowed})"
                raise ValueError(msg)
        if self.start and self.stop and self.stop < self.start:
            msg = f"stop {self.stop} is before start {self.start}"
            raise ValueError(msg)
        return self

    @property
    def canonical_unit(self) -> str:
        """Canonical unit of this source's activity."""
        return carrier(self.carrier).unit

    def active_on(self, day: dt.date) -> bool:
        """Return whether the source operates on ``day`` (equipment start/stop)."""
        return (self.start is None or day >= self.start) and (self.stop is None or day <= self.stop)
