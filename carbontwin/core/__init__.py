"""The domain model of carbontwin: park definition, units, carriers and time."""

from carbontwin.core.assets import Asset
from carbontwin.core.carriers import CARRIERS, GASES, Carrier, carrier
from carbontwin.core.errors import (
    ConsistencyError,
    ParkDefinitionError,
    UnitError,
    ValidationError,
)
from carbontwin.core.park import (
    AccountingSettings,
    Enterprise,
    Facility,
    Park,
    Zone,
    demo_park_path,
    load_park,
    park_from_dict,
)
from carbontwin.core.points import MeteringPoint
from carbontwin.core.sources import CATEGORIES, EmissionSource, ParamEntry
from carbontwin.core.time import Period, parse_period
from carbontwin.core.units import Q_, conversion_factor, parse_unit, ureg

__all__ = [
    "CARRIERS",
    "CATEGORIES",
    "GASES",
    "Q_",
    "AccountingSettings",
    "Asset",
    "Carrier",
    "ConsistencyError",
    "EmissionSource",
    "Enterprise",
    "Facility",
    "MeteringPoint",
    "ParamEntry",
    "Park",
    "ParkDefinitionError",
    "Period",
    "UnitError",
    "ValidationError",
    "Zone",
    "carrier",
    "conversion_factor",
    "demo_park_path",
    "load_park",
    "park_from_dict",
    "parse_period",
    "parse_unit",
    "ureg",
]
