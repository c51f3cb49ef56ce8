"""Energy carriers and materials: identifiers, names and canonical units.

A carrier id names what a stream of activity data measures. Energy carriers are listed
here; process materials are written ``material:<name>`` and gases ``gas:<formula>``.

Examples
--------
>>> carrier("natural_gas").unit
'wNm3'
>>> carrier("material:limestone").kind
'material'
"""

from __future__ import annotations

from dataclasses import dataclass

from carbontwin.core.errors import ValidationError

__all__ = ["CARRIERS", "GASES", "Carrier", "carrier"]


@dataclass(frozen=True)
class Carrier:
    """One carrier: what it is and the canonical unit its activity is kept in."""

    id: str
    kind: str  # solid, liquid, gas, electricity, heat, steam, hot_water, material, ghg, money
    unit: str
    name_en: str
    name_zh: str


_ROWS = [
    ("anthracite", "solid", "t", "anthracite", "无烟煤"),
    ("bituminous_coal", "solid", "t", "bituminous coal", "烟煤"),
    ("lignite", "solid", "t", "lignite", "褐煤"),
    ("washed_coal", "solid", "t", "washed coal", "洗精煤"),
    ("raw_coal", "solid", "t", "raw coal", "原煤"),
    ("coke", "solid", "t", "coke", "焦炭"),
    ("petroleum_coke", "solid", "t", "petroleum coke", "石油焦"),
    ("crude_oil", "liquid", "t", "crude oil", "原油"),
    ("fuel_oil", "liquid", "t", "fuel oil", "燃料油"),
    ("gasoline", "liquid", "t", "gasoline", "汽油"),
    ("diesel", "liquid", "t", "diesel", "柴油"),
    ("kerosene", "liquid", "t", "kerosene", "一般煤油"),
    ("naphtha", "liquid", "t", "naphtha", "石脑油"),
    ("lpg", "liquid", "t", "liquefied petroleum gas", "液化石油气"),
    ("lng", "liquid", "t", "liquefied natural gas", "液化天然气"),
    ("refinery_gas", "liquid", "t", "refinery dry gas", "炼厂干气"),
    ("natural_gas", "gas", "wNm3", "natural gas", "天然气"),
    ("coke_oven_gas", "gas", "wNm3", "coke oven gas", "焦炉煤气"),
    ("blast_furnace_gas", "gas", "wNm3", "blast furnace gas", "高炉煤气"),
    ("converter_gas", "gas", "wNm3", "converter gas", "转炉煤气"),
    ("electricity", "electricity", "kWh", "electricity", "电力"),
    ("heat", "heat", "GJ", "heat", "热力"),
    ("steam", "steam", "t", "steam", "蒸汽"),
    ("hot_water", "hot_water", "t", "hot water", "热水"),
    ("co2", "gas", "wNm3", "carbon dioxide gas", "二氧化碳气体"),
]

CARRIERS: dict[str, Carrier] = {r[0]: Carrier(*r) for r in _ROWS}

#: The seven Kyoto gases and the fluorinated gases with GWP values in the factor library.
GASES: tuple[str, ...] = (
    "CO2",
    "CH4",
    "N2O",
    "HFC-23",
    "HFC-32",
    "HFC-125",
    "HFC-134a",
    "HFC-143a",
    "HFC-152a",
    "HFC-227ea",
    "CF4",
    "SF6",
    "NF3",
)


def carrier(carrier_id: str) -> Carrier:
    """Return the carrier for ``carrier_id``.

    ``material:<name>`` is a process material in tonnes, ``gas:<GAS>`` a measured mass of a
    greenhouse gas in tonnes, ``money`` an amount in 10^4 CNY and ``other:<unit>`` any
    other activity (for scope 3 spend or distance data) in that unit.

    Raises
    ------
    ValidationError
        If the id is unknown.
    """
    if carrier_id in CARRIERS:
        return CARRIERS[carrier_id]
    prefix, _, rest = carrier_id.partition(":")
    if prefix == "material" and rest:
        return Carrier(carrier_id, "material", "t", rest, rest)
    if prefix == "gas" and rest in GASES:
        return Carrier(carrier_id, "ghg", "t", rest, rest)
    if prefix == "other" and rest:
        return Carrier(carrier_id, "other", rest, rest, rest)
    if carrier_id == "money":
        return Carrier("money", "money", "wCNY", "money", "金额")
    known = ", ".join(sorted(CARRIERS))
    msg = (
        f"carrier {carrier_id!r} is not known; use one of {known}, or 'material:<name>', "
        f"'gas:<GAS>' (GAS in {', '.join(GASES)}), 'money' or 'other:<unit>'"
    )
    raise ValidationError(msg)
