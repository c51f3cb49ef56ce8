"""Purchased and exported electricity (scope 2), location-based, with the self-owned plant.

Examples
--------
>>> round(emissions_purchased_electricity(1000.0, 0.5366), 6)
536.6
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from carbontwin.accounting.methods._base import EnergyTerm, Method, MethodContext, Params, Term
from carbontwin.core.sources import EmissionSource

__all__ = [
    "ExportedElectricity",
    "PurchasedElectricity",
    "emissions_purchased_electricity",
]


def emissions_purchased_electricity(electricity_mwh: float, factor_tco2_per_mwh: float) -> float:
    r"""CO2 attributed to purchased (or, with a minus sign, exported) electricity.

    Parameters
    ----------
    electricity_mwh : float
        Electricity bought or sold [MWh].
    factor_tco2_per_mwh : float
        Emission factor of the supply [tCO2/MWh]: the regional grid average published by
        the authority, or a self-owned plant's own supply factor.

    Returns
    -------
    float
        CO2 [t].

    Notes
    -----
    .. math:: E = AD_{elec} \times EF_{grid}

    References
    ----------
    GB/T 32150-2015, 6.5 (purchased and exported electricity); T/CPCIF draft 5.1.4.2.
    """
    return electricity_mwh * factor_tco2_per_mwh


class ElectricityParams(Params):
    """Where the electricity comes from (or goes to) and which factor prices it."""

    supplier: str = Field(
        "grid",
        description="'grid', or 'plant:<facility>' for a self-owned "
        "power plant whose own supply factor applies",
    )
    factor: str | None = Field(None, description="factor key replacing the park's grid factor")


def _electricity(
    source: EmissionSource,
    params: ElectricityParams,
    ctx: MethodContext,
    sign: float,
    use: Literal["consumption", "export"],
) -> tuple[list[Term], list[EnergyTerm]]:
    calorific, equivalent = ctx.electricity_tce()
    energy_labels = tuple(ctx.used)
    ctx.used.clear()
    energy = EnergyTerm(
        "", "electricity", use, sign, sign * calorific, sign * equivalent, energy_labels
    )
    if params.supplier.startswith("plant:"):
        plant = params.supplier.split(":", 1)[1]
        term = Term(
            "",
            "CO2",
            sign * 1e-3,
            source.scope,
            source.category,
            factors=(f"plant:{plant}:power",),
            formula="E = AD × EF_plant (self-owned plant's supply factor)",
            plant=plant,
            plant_part="power",
        )
        return [term], [energy]
    key = params.factor or ctx.settings.grid_factor
    ef = ctx.factor(key, "tCO2/MWh")
    term = Term(
        "",
        "CO2",
        sign * emissions_purchased_electricity(1e-3, ef),
        source.scope,
        source.category,
        factors=tuple(ctx.used),
        formula="E = AD × EF_grid",
        market="grid" if sign > 0 else None,
    )
    return [term], [energy]


class PurchasedElectricity(Method):
    """Electricity bought from the grid or a self-owned plant: AD × EF."""

    name = "purchased_electricity"
    title_en = "purchased electricity"
    title_zh = "外购电力"
    reference = "GB/T 32150-2015 6.5"
    formula = "E = AD_elec × EF_grid"
    Params = ElectricityParams

    def terms(
        self, source: EmissionSource, params: ElectricityParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the CO2 term per kWh and the electricity consumed."""
        return _electricity(source, params, ctx, 1.0, "consumption")


class ExportedElectricity(Method):
    """Electricity sold outside the enterprise: deducted at the same factor."""

    name = "exported_electricity"
    title_en = "exported electricity"
    title_zh = "输出电力"
    reference = "GB/T 32150-2015 6.5"
    formula = "E = −AD_elec × EF"
    Params = ElectricityParams

    def terms(
        self, source: EmissionSource, params: ElectricityParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the negative CO2 term per kWh and the electricity exported."""
        return _electricity(source, params, ctx, -1.0, "export")
