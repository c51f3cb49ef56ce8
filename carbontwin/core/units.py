"""The one unit registry of carbontwin.

Everything that converts a unit uses :data:`ureg`. Quantities cross package boundaries
in canonical units named in the field (``energy_kwh``, ``heat_gj``, ``fuel_t``,
``gas_1e4nm3``, ``energy_tce``, ``emissions_tco2e``); conversion happens once, at the edge,
with a float factor that :func:`conversion_factor` computes once per unit pair.

Examples
--------
>>> conversion_factor("万Nm3", "Nm3")
10000.0
>>> round(conversion_factor("tce", "GJ"), 4)
29.3076
>>> parse_unit("度") == parse_unit("kWh")
True
"""

from __future__ import annotations

import functools
import re
from importlib import resources

import pint

from carbontwin.core.errors import UnitError

__all__ = [
    "CANONICAL_UNITS",
    "Q_",
    "conversion_factor",
    "dimensionality",
    "parse_unit",
    "ureg",
]

ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True, cache_folder=None)
ureg.load_definitions(str(resources.files("carbontwin.core").joinpath("units.txt")))
pint.set_application_registry(ureg)
Q_ = ureg.Quantity

# Spellings users write in Chinese ledgers, invoices and meter exports.
_ALIASES: dict[str, str] = {
    "吨": "t",
    "t": "t",
    "千克": "kg",
    "公斤": "kg",
    "万吨": "wt",
    "度": "kWh",
    "千瓦时": "kWh",
    "万千瓦时": "wkWh",
    "万度": "wkWh",
    "兆瓦时": "MWh",
    "吉焦": "GJ",
    "百万千焦": "GJ",
    "千焦": "kJ",
    "兆焦": "MJ",
    "吨标准煤": "tce",
    "吨标煤": "tce",
    "千克标准煤": "kgce",
    "万吨标准煤": "wtce",
    "吨二氧化碳当量": "tCO2e",
    "吨CO2e": "tCO2e",
    "万元": "wCNY",
    "元": "CNY",
    "亿元": "yiCNY",
    "标立方米": "Nm3",
    "标准立方米": "Nm3",
    "万标立方米": "wNm3",
    "万标准立方米": "wNm3",
    # In Chinese energy statistics gas volumes are at standard conditions.
    "万立方米": "wNm3",
    "万Nm3": "wNm3",
    "万m3": "wNm3",
    "10^4Nm3": "wNm3",
    "1e4Nm3": "wNm3",
    "10⁴Nm3": "wNm3",
    "10^4m3": "wNm3",
    "10000Nm3": "wNm3",
    "tco2": "tCO2e",
    "tco2e": "tCO2e",
}

#: Canonical unit of each quantity kind; activity is converted to these on the way in.
CANONICAL_UNITS: dict[str, str] = {
    "electricity": "kWh",
    "heat": "GJ",
    "mass": "t",
    "gas": "wNm3",
    "energy_tce": "tce",
    "emissions": "tCO2e",
    "money": "wCNY",
}


@functools.lru_cache(maxsize=4096)
def parse_unit(text: str) -> pint.Unit:
    """Parse a unit string, accepting the Chinese spellings used in ledgers.

    Parameters
    ----------
    text : str
        A unit such as ``"t"``, ``"万Nm3"``, ``"10^4 Nm3"``, ``"MWh"`` or ``"度"``.

    Returns
    -------
    pint.Unit
        The unit in the carbontwin registry.

    Raises
    ------
    UnitError
        If the text is empty or names no known unit.
    """
    if text is None or not str(text).strip():
        msg = "unit is empty; give a unit such as 't', 'MWh' or '10^4 Nm3'"
        raise UnitError(msg)
    raw = str(text).strip()
    compact = re.sub(r"\s+", "", raw)
    name = _ALIASES.get(compact, _ALIASES.get(compact.lower(), raw))
    try:
        unit = ureg.Unit(name)
    except Exception as exc:  # pint raises tokenizer, syntax and lookup errors alike
        msg = f"unit {raw!r} is not known; use e.g. 't', 'kg', 'MWh', 'GJ', '10^4 Nm3', 'tce'"
        raise UnitError(msg) from exc
    return unit


@functools.lru_cache(maxsize=4096)
def conversion_factor(src: str, dst: str) -> float:
    """Return the float factor that converts a magnitude in ``src`` to ``dst``.

    Computed once per pair with pint and cached, so hot paths multiply arrays by a float
    instead of converting quantities one by one.

    Parameters
    ----------
    src, dst : str
        Unit strings (Chinese spellings accepted).

    Returns
    -------
    float
        ``x [src] * factor == x [dst]``.

    Raises
    ------
    UnitError
        If either unit is unknown or the two have different dimensions.
    """
    u_src, u_dst = parse_unit(src), parse_unit(dst)
    try:
        return float(Q_(1.0, u_src).to(u_dst).magnitude)
    except pint.errors.DimensionalityError as exc:
        msg = (
            f"unit {src!r} ({dimensionality(src)}) cannot be converted to {dst!r} "
            f"({dimensionality(dst)})"
        )
        raise UnitError(msg) from exc


def dimensionality(unit: str) -> str:
    """Return a readable dimensionality of ``unit``, e.g. ``'[mass]'``.

    Examples
    --------
    >>> dimensionality("万Nm3")
    '[normal_volume]'
    """
    return str(parse_unit(unit).dimensionality)
