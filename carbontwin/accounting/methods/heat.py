"""Purchased and exported heat (steam, hot water), scope 2.

Examples
--------
>>> round(heat_from_steam(100.0, 2800.0), 6)  # 100 t of steam at 2 800 kJ/kg
271.626
>>> round(heat_from_hot_water(1000.0, 80.0), 6)
251.208
"""

from __future__ import annotations

from pydantic import Field

from carbontwin.accounting.methods._base import EnergyTerm, Method, MethodContext, Params, Term
from carbontwin.core.errors import ValidationError
from carbontwin.core.fields import quantity
from carbontwin.core.sources import EmissionSource

__all__ = [
    "ExportedHeat",
    "PurchasedHeat",
    "emissions_purchased_heat",
    "heat_from_hot_water",
    "heat_from_steam",
]

WATER_HEAT_CAPACITY_KJ_PER_KG_K = 4.1868


def heat_from_steam(
    steam_t: float, enthalpy_kj_per_kg: float, feedwater_enthalpy_kj_per_kg: float = 83.74
) -> float:
    r"""Heat carried by steam, relative to water at 20 °C.

    Parameters
    ----------
    steam_t : float
        Steam mass [t].
    enthalpy_kj_per_kg : float
        Steam enthalpy at its temperature and pressure [kJ/kg].
    feedwater_enthalpy_kj_per_kg : float
        Enthalpy of the reference water [kJ/kg]; 83.74 is water at 20 °C.

    Returns
    -------
    float
        Heat [GJ].

    Notes
    -----
    .. math:: AD_{st} = Ma_{st} \times (En_{st} - 83.74) \times 10^{-3}

    References
    ----------
    NDRC enterprise GHG guidelines (2013–2015), heat section; GB/T 32151.10-2015, 6.2.5.
    """
    return steam_t * (enthalpy_kj_per_kg - feedwater_enthalpy_kj_per_kg) * 1e-3


def heat_from_hot_water(water_t: float, temp_c: float) -> float:
    r"""Heat carried by hot water, relative to water at 20 °C.

    Parameters
    ----------
    water_t : float
        Hot water mass [t].
    temp_c : float
        Supply temperature [°C].

    Returns
    -------
    float
        Heat [GJ].

    Notes
    -----
    .. math:: AD_{w} = Ma_{w} \times (T_{w} - 20) \times 4.1868 \times 10^{-3}

    References
    ----------
    NDRC enterprise GHG guidelines (2013–2015), heat section; GB/T 32151.10-2015, 6.2.5.
    """
    return water_t * (temp_c - 20.0) * WATER_HEAT_CAPACITY_KJ_PER_KG_K * 1e-3


def emissions_purchased_heat(heat_gj: float, factor_tco2_per_gj: float) -> float:
    r"""CO2 attributed to purchased (or, with a minus sign, exported) heat.

    Parameters
    ----------
    heat_gj : float
        Heat [GJ].
    factor_tco2_per_gj : float
        Heat supply factor [tCO2/GJ]; 0.11 by default, the supplier's own when provided.

    Returns
    -------
    float
        CO2 [t].

    Notes
    -----
    .. math:: E = AD_{heat} \times EF_{heat}

    References
    ----------
    GB/T 32150-2015, 6.5; T/CPCIF draft 5.1.3.2 (prefer the supplier's factor).
    """
    return heat_gj * factor_tco2_per_gj


class HeatParams(Params):
    """How much heat a unit of activity carries and which factor prices it."""

    supplier: str = Field("external", description="'external', or 'plant:<facility>'")
    factor: str | None = Field(None, description="factor key replacing the default heat factor")
    enthalpy_kj_per_kg: float | None = quantity(
        "kJ/kg", "steam enthalpy (steam only)", None, gt=83.74
    )
    temp_c: float | None = quantity("degC", "hot water temperature (hot water only)", None, gt=20)


def _heat(
    source: EmissionSource, params: HeatParams, ctx: MethodContext, sign: float, use: str
) -> tuple[list[Term], list[EnergyTerm]]:
    kind = source.carrier
    if kind == "heat":
        gj_per_unit = 1.0
    elif kind == "steam":
        en = ctx.value("enthalpy_kj_per_kg", params, None, "kJ/kg")
        ref = ctx.factor("const:steam_feedwater_enthalpy", "kJ/kg")
        gj_per_unit = heat_from_steam(1.0, en, ref)
    elif kind == "hot_water":
        gj_per_unit = heat_from_hot_water(1.0, ctx.value("temp_c", params, None, "degC"))
    else:
        msg = f"source {source.id!r}: heat methods take carrier heat, steam or hot_water"
        raise ValidationError(msg)
    conversion = tuple(ctx.used)
    ctx.used.clear()
    tce = ctx.factor("tce:heat", "tce/GJ") * gj_per_unit
    energy = EnergyTerm(
        "", "heat", use, sign * gj_per_unit, sign * tce, sign * tce, (*conversion, *ctx.used)
    )
    ctx.used.clear()
    if params.supplier.startswith("plant:"):
        plant = params.supplier.split(":", 1)[1]
        term = Term(
            "",
            "CO2",
            sign * gj_per_unit,
            source.scope,
            source.category,
            factors=(*conversion, f"plant:{plant}:heat"),
            formula="E = AD_heat × EF_plant_heat",
            plant=plant,
            plant_part="heat",
        )
        return [term], [energy]
    ef = ctx.factor(params.factor or ctx.settings.heat_factor, "tCO2/GJ")
    term = Term(
        "",
        "CO2",
        sign * emissions_purchased_heat(gj_per_unit, ef),
        source.scope,
        source.category,
        factors=(*conversion, *ctx.used),
        formula="E = AD_heat × EF_heat",
    )
    return [term], [energy]


class PurchasedHeat(Method):
    """Heat, steam or hot water bought: AD (GJ) × EF_heat."""

    name = "purchased_heat"
    title_en = "purchased heat"
    title_zh = "外购热力"
    reference = "GB/T 32150-2015 6.5"
    formula = "E = AD_heat × EF_heat"
    Params = HeatParams

    def terms(
        self, source: EmissionSource, params: HeatParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the CO2 term per unit and the heat consumed."""
        return _heat(source, params, ctx, 1.0, "consumption")


class ExportedHeat(Method):
    """Heat sold outside the enterprise: deducted at the same factor."""

    name = "exported_heat"
    title_en = "exported heat"
    title_zh = "输出热力"
    reference = "GB/T 32150-2015 6.5"
    formula = "E = −AD_heat × EF_heat"
    Params = HeatParams

    def terms(
        self, source: EmissionSource, params: HeatParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the negative CO2 term per unit and the heat exported."""
        return _heat(source, params, ctx, -1.0, "export")
