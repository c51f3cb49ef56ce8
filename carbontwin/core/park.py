"""The park definition: park, zones, enterprises, facilities, sources, points and assets.

A park is one YAML file validated by these pydantic models. The same definition drives
the accounting, and later the simulator, the twin and the connectors.

Examples
--------
>>> park = load_park(demo_park_path())
>>> park.timezone
'Asia/Shanghai'
>>> len(park.enterprises) >= 5
True
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from carbontwin.core.assets import Asset
from carbontwin.core.errors import ParkDefinitionError
from carbontwin.core.fields import quantity
from carbontwin.core.operation import TwinSettings
from carbontwin.core.points import MeteringPoint
from carbontwin.core.sources import EmissionSource

__all__ = [
    "AccountingSettings",
    "Contact",
    "Enterprise",
    "Facility",
    "Park",
    "Target",
    "Zone",
    "demo_park_path",
    "load_park",
    "park_from_dict",
    "validate_industry_code",
    "validate_uscc",
]

# GB/T 4754-2017: the divisions (two-digit codes) that belong to each section letter.
_SECTIONS: dict[str, tuple[int, int]] = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 97),
    "T": (98, 98),
}
_INDUSTRY = re.compile(r"^([A-T])(\d{2,4})?$")


def validate_industry_code(code: str) -> str:
    """Check a GB/T 4754-2017 industry code: a section letter and 2–4 digits.

    The two-digit division must belong to the section, e.g. ``C2614`` (chemical raw
    materials, section C = divisions 13–43).

    Examples
    --------
    >>> validate_industry_code("C2614")
    'C2614'
    >>> validate_industry_code("D2614")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: industry code 'D2614': division 26 is not in section D (divisions 44-46) ...
    """
    m = _INDUSTRY.match(code.strip().upper())
    if not m:
        msg = (
            f"industry code {code!r} is not a GB/T 4754-2017 code; write the section letter "
            "and up to four digits, e.g. 'C2614'"
        )
        raise ValueError(msg)
    letter, digits = m.group(1), m.group(2)
    if digits:
        division = int(digits[:2])
        lo, hi = _SECTIONS[letter]
        if not lo <= division <= hi:
            msg = (
                f"industry code {code!r}: division {division:02d} is not in section {letter} "
                f"(divisions {lo:02d}-{hi:02d}) of GB/T 4754-2017"
            )
            raise ValueError(msg)
    return code.strip().upper()


def validate_uscc(code: str) -> str:
    """Check an 18-character unified social credit code (GB 32100-2015) and its check digit.

    Examples
    --------
    >>> validate_uscc("91110000600037341L")
    '91110000600037341L'
    """
    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError as StdnumError

    try:
        return str(uscc.validate(code))
    except StdnumError as exc:
        msg = (
            f"unified social credit code {code!r} is invalid ({exc}); it has 18 characters "
            "and a GB 32100-2015 check character"
        )
        raise ValueError(msg) from exc


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Contact(_Model):
    """A person to contact at an enterprise or the park."""

    name: str
    role: str = ""
    phone: str = ""
    email: str = ""


class Zone(_Model):
    """A zone of the park (a functional area, a block, a sub-park)."""

    id: str
    name: str
    name_zh: str = ""
    parent: str | None = None
    area_km2: float | None = quantity("km2", "land area", None, ge=0)
    outline: list[list[float]] | None = Field(
        None,
        description="the zone's boundary on the park's site plan: [x east, y north] corners in "
        "km from the plan's origin, drawn on the dashboard's map",
        json_schema_extra={"unit": "km"},
    )

    @field_validator("outline")
    @classmethod
    def _polygon(cls, v: list[list[float]] | None) -> list[list[float]] | None:
        if v is None:
            return v
        if len(v) < 3:
            msg = f"outline has {len(v)} corner(s); a zone's boundary needs at least 3"
            raise ValueError(msg)
        bad = [c for c in v if len(c) != 2]
        if bad:
            msg = f"outline corner {bad[0]} is not [x, y]; give each corner as two numbers"
            raise ValueError(msg)
        return v


class Enterprise(_Model):
    """An enterprise (emission unit, 排放单位) in the park."""

    id: str
    name: str
    name_zh: str = ""
    uscc: str = Field(description="unified social credit code, GB 32100-2015")
    industry: str = Field(description="industry code, GB/T 4754-2017, e.g. C2614")
    zone: str
    entry_date: dt.date | None = None
    exit_date: dt.date | None = None
    key_emitter: bool = False
    contacts: list[Contact] = Field(default_factory=list)

    @field_validator("uscc")
    @classmethod
    def _check_uscc(cls, v: str) -> str:
        return validate_uscc(v)

    @field_validator("industry")
    @classmethod
    def _check_industry(cls, v: str) -> str:
        return validate_industry_code(v)

    @model_validator(mode="after")
    def _dates(self) -> Enterprise:
        if self.entry_date and self.exit_date and self.exit_date < self.entry_date:
            msg = f"exit_date {self.exit_date} is before entry_date {self.entry_date}"
            raise ValueError(msg)
        return self

    def active_on(self, day: dt.date) -> bool:
        """Return whether the enterprise is in the park on ``day``."""
        return (self.entry_date is None or day >= self.entry_date) and (
            self.exit_date is None or day <= self.exit_date
        )


class Facility(_Model):
    """A building or production facility.

    A facility of kind ``power_plant`` is a self-owned (captive) plant whose own emission
    factor applies to what it supplies.
    """

    id: str
    name: str
    name_zh: str = ""
    enterprise: str | None = None
    zone: str | None = None
    kind: Literal["main", "auxiliary", "ancillary", "building", "power_plant", "utility"] = "main"
    start: dt.date | None = None
    stop: dt.date | None = None


class AccountingSettings(_Model):
    """How the park is accounted: which factor set, GWP set and grid factors apply."""

    factor_set: str = Field(
        "ndrc-2015", description="fuel-parameter set: ndrc-2015 or yearbook-ncv"
    )
    gwp_set: Literal["SAR", "AR4", "AR5", "AR6"] = "SAR"
    grid_factor: str = Field("grid:national-2022", description="location-based grid factor key")
    residual_factor: str = Field(
        "grid:national-residual-2022", description="market-based factor for uncovered grid power"
    )
    heat_factor: str = Field("heat:default", description="purchased heat factor key")
    electricity_method: Literal["calorific", "equivalent"] = Field(
        "calorific", description="headline electricity-to-tce method (GB/T 2589)"
    )
    electricity_equivalent_kgce_per_kwh: dict[int, float] = Field(
        default_factory=dict,
        description="coal-equivalent value of electricity by year [kgce/kWh] (GB/T 2589)",
        json_schema_extra={"unit": "kgce/kWh"},
    )
    electricity_equivalent_source: str = ""


class Target(_Model):
    """A control target for a year: the park's or one enterprise's (T1).

    The dashboard shows the year's actual against it; pre-allocation (T2) proposes the
    enterprises' shares of the park's.
    """

    indicator: Literal["emissions_tco2e", "energy_tce"] = Field(
        description="gross emissions (scope 1 + location-based scope 2) or energy consumption"
    )
    year: int = Field(ge=1990, le=2100)
    value: float = Field(gt=0, description="the ceiling, in the indicator's unit (t CO2e or tce)")
    enterprise: str | None = Field(None, description="the enterprise; none for the park's own")
    note: str = ""


class Park(_Model):
    """A park and everything in it."""

    id: str
    name: str
    name_zh: str = ""
    timezone: str = "Asia/Shanghai"
    province: str = ""
    grid_region: str = ""
    address: str = ""
    area_km2: float | None = quantity("km2", "land area", None, ge=0)
    contacts: list[Contact] = Field(default_factory=list)
    accounting: AccountingSettings = Field(default_factory=AccountingSettings)
    zones: list[Zone] = Field(default_factory=list)
    enterprises: list[Enterprise] = Field(default_factory=list)
    facilities: list[Facility] = Field(default_factory=list)
    sources: list[EmissionSource] = Field(default_factory=list)
    points: list[MeteringPoint] = Field(default_factory=list)
    assets: list[Asset] = Field(default_factory=list)
    twin: TwinSettings = Field(default_factory=TwinSettings)
    targets: list[Target] = Field(default_factory=list)

    @model_validator(mode="after")
    def _targets(self) -> Park:
        known = {e.id for e in self.enterprises}
        seen: set[tuple[str, int, str | None]] = set()
        for g in self.targets:
            if g.enterprise is not None and g.enterprise not in known:
                msg = (
                    f"target {g.indicator} {g.year}: enterprise {g.enterprise!r} is not in the park"
                )
                raise ValueError(msg)
            key = (g.indicator, g.year, g.enterprise)
            if key in seen:
                msg = f"target {g.indicator} {g.year} of {g.enterprise or 'the park'} is set twice"
                raise ValueError(msg)
            seen.add(key)
        return self

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            msg = f"time zone {v!r} is not known; use an IANA name such as 'Asia/Shanghai'"
            raise ValueError(msg) from exc
        return v

    # Lookups -------------------------------------------------------------------------
    def enterprise(self, enterprise_id: str) -> Enterprise:
        """Return the enterprise with ``enterprise_id`` (KeyError if absent)."""
        return self._index("enterprises")[enterprise_id]

    def source(self, source_id: str) -> EmissionSource:
        """Return the source with ``source_id`` (KeyError if absent)."""
        return self._index("sources")[source_id]

    def facility(self, facility_id: str) -> Facility:
        """Return the facility with ``facility_id`` (KeyError if absent)."""
        return self._index("facilities")[facility_id]

    def zone(self, zone_id: str) -> Zone:
        """Return the zone with ``zone_id`` (KeyError if absent)."""
        return self._index("zones")[zone_id]

    def point(self, point_id: str) -> MeteringPoint:
        """Return the metering point with ``point_id`` (KeyError if absent)."""
        return self._index("points")[point_id]

    def _index(self, attr: str) -> dict[str, Any]:
        return {item.id: item for item in getattr(self, attr)}

    def cross_reference_problems(self) -> list[tuple[str, str]]:
        """Return ``(location, message)`` for every broken reference or duplicate id."""
        problems: list[tuple[str, str]] = []
        for attr in ("zones", "enterprises", "facilities", "sources", "points", "assets"):
            counts = Counter(item.id for item in getattr(self, attr))
            for i, item in enumerate(getattr(self, attr)):
                if counts[item.id] > 1:
                    problems.append((f"{attr}[{i}].id", f"id {item.id!r} is used more than once"))
        zones = {z.id for z in self.zones}
        ents = {e.id for e in self.enterprises}
        facs = {f.id: f for f in self.facilities}
        srcs = {s.id for s in self.sources}

        def need(loc: str, value: str | None, known: set[str] | dict, what: str) -> None:
            if value is not None and value not in known:
                names = ", ".join(sorted(known)) or "none defined"
                problems.append((loc, f"{what} {value!r} is not defined (known: {names})"))

        for i, z in enumerate(self.zones):
            need(f"zones[{i}].parent", z.parent, zones, "zone")
        for i, e in enumerate(self.enterprises):
            need(f"enterprises[{i}].zone", e.zone, zones, "zone")
        for i, f in enumerate(self.facilities):
            need(f"facilities[{i}].enterprise", f.enterprise, ents, "enterprise")
            need(f"facilities[{i}].zone", f.zone, zones, "zone")
        for i, s in enumerate(self.sources):
            need(f"sources[{i}].enterprise", s.enterprise, ents, "enterprise")
            need(f"sources[{i}].facility", s.facility, facs, "facility")
            fac = facs.get(s.facility) if s.facility else None
            if fac and fac.enterprise and fac.enterprise != s.enterprise:
                problems.append(
                    (
                        f"sources[{i}].facility",
                        f"facility {s.facility!r} belongs to enterprise "
                        f"{fac.enterprise!r}, not {s.enterprise!r}",
                    )
                )
            for key in ("supplier",):
                ref = s.params.get(key)
                if isinstance(ref, str) and ref.startswith("plant:"):
                    plant = ref.split(":", 1)[1]
                    if plant not in facs or facs[plant].kind != "power_plant":
                        problems.append(
                            (
                                f"sources[{i}].params.{key}",
                                f"{ref!r} must name a facility of kind power_plant",
                            )
                        )
        for i, p in enumerate(self.points):
            need(f"points[{i}].enterprise", p.enterprise, ents, "enterprise")
            need(f"points[{i}].source", p.source, srcs, "source")
        for i, a in enumerate(self.assets):
            need(f"assets[{i}].enterprise", a.enterprise, ents, "enterprise")
            need(f"assets[{i}].zone", a.zone, zones, "zone")
        return problems


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def park_from_dict(data: Any, file: str = "<park>") -> Park:
    """Validate a parsed park document.

    Raises
    ------
    ParkDefinitionError
        Naming the file, the path inside it and what is wrong, for every problem found.
    """
    if not isinstance(data, dict):
        raise ParkDefinitionError(file, [("", "the file must hold a mapping with 'park' at top")])
    body = data.get("park", data)
    try:
        park = Park.model_validate(body)
    except PydanticValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _loc(tuple(p for p in err["loc"] if not str(p).startswith("function-")))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field; check its spelling against docs/accounting.md"
            elif err["type"] == "missing":
                msg = "required field is missing"
            problems.append((loc, msg))
        raise ParkDefinitionError(file, problems) from None
    problems = park.cross_reference_problems()
    if problems:
        raise ParkDefinitionError(file, problems)
    return park


def load_park(path: str | Path) -> Park:
    """Load and validate a park YAML file.

    Raises
    ------
    ParkDefinitionError
        If the file cannot be read, is not YAML, or does not describe a valid park.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParkDefinitionError(
            path.name, [("", f"cannot read the file ({exc.strerror})")]
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ParkDefinitionError(path.name, [(where, f"not valid YAML: {exc}")]) from None
    return park_from_dict(data, file=path.name)


def demo_park_path() -> Path:
    """Return the path of the shipped demo park definition."""
    return Path(str(resources.files("carbontwin.data").joinpath("parks/demo.yaml")))
