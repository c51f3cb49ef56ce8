"""Waste treatment: incineration of fossil carbon and CH4 from wastewater treatment.

Examples
--------
>>> round(emissions_waste_incineration(1000.0, 0.4, 0.4, 0.95), 6)
557.333333
>>> round(emissions_wastewater_ch4(500.0, 0.25, 0.8), 6)
100.0
"""

from __future__ import annotations

from carbontwin.accounting.methods._base import EnergyTerm, Method, MethodContext, Params, Term
from carbontwin.core.fields import quantity
from carbontwin.core.sources import EmissionSource

__all__ = [
    "WasteIncineration",
    "WastewaterCh4",
    "emissions_waste_incineration",
    "emissions_wastewater_ch4",
]

C_TO_CO2 = 44.0 / 12.0


def emissions_waste_incineration(
    waste_t: float, carbon_frac: float, fossil_frac: float, oxidation_frac: float
) -> float:
    r"""Fossil CO2 from burning waste.

    Parameters
    ----------
    waste_t : float
        Waste incinerated, wet weight [t].
    carbon_frac : float
        Carbon content of the waste [fraction of wet weight].
    fossil_frac : float
        Share of that carbon that is fossil [fraction]; biogenic carbon is reported apart.
    oxidation_frac : float
        Combustion efficiency [fraction].

    Returns
    -------
    float
        Fossil CO2 [t].

    Notes
    -----
    .. math:: E = W \times CCW \times FCF \times OF \times 44/12

    References
    ----------
    2006 IPCC Guidelines, Vol. 5, Ch. 5, Eq. 5.1; GB/T 32150-2015 (waste treatment).
    """
    return waste_t * carbon_frac * fossil_frac * oxidation_frac * C_TO_CO2


def emissions_wastewater_ch4(
    cod_t: float,
    bo_kg_ch4_per_kg_cod: float,
    mcf_frac: float,
    sludge_cod_t: float = 0.0,
    recovered_ch4_t: float = 0.0,
) -> float:
    r"""CH4 from anaerobic treatment of industrial wastewater.

    Parameters
    ----------
    cod_t : float
        Organic load treated [t COD].
    bo_kg_ch4_per_kg_cod : float
        Maximum CH4 producing capacity [kg CH4/kg COD]; 0.25 by IPCC default.
    mcf_frac : float
        Methane correction factor of the treatment system [fraction].
    sludge_cod_t : float
        Organic load removed as sludge [t COD].
    recovered_ch4_t : float
        CH4 recovered and flared or used [t].

    Returns
    -------
    float
        CH4 [t].

    Notes
    -----
    .. math:: E = (TOW - S) \times B_o \times MCF - R

    References
    ----------
    2006 IPCC Guidelines, Vol. 5, Ch. 6, Eqs. 6.4 and 6.6; GB/T 32151.10-2015 (waste water).
    """
    return (cod_t - sludge_cod_t) * bo_kg_ch4_per_kg_cod * mcf_frac - recovered_ch4_t


class IncinerationParams(Params):
    """Composition of the waste burnt."""

    carbon_frac: float = quantity("frac", "carbon content, wet weight", gt=0, le=1)
    fossil_frac: float = quantity("frac", "fossil share of the carbon", gt=0, le=1)
    oxidation_frac: float = quantity("frac", "combustion efficiency", 1.0, gt=0, le=1)


class WasteIncineration(Method):
    """Fossil CO2 from incinerating waste on site."""

    name = "waste_incineration"
    title_en = "waste incineration"
    title_zh = "废弃物焚烧"
    reference = "2006 IPCC Guidelines Vol. 5 Eq. 5.1"
    formula = "E = W × CCW × FCF × OF × 44/12"
    Params = IncinerationParams

    def terms(
        self, source: EmissionSource, params: IncinerationParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the CO2 term per tonne of waste."""
        coef = emissions_waste_incineration(
            1.0, params.carbon_frac, params.fossil_frac, params.oxidation_frac
        )
        labels = (
            f"param:carbon_frac={params.carbon_frac:g}",
            f"param:fossil_frac={params.fossil_frac:g}",
            f"param:oxidation_frac={params.oxidation_frac:g}",
        )
        return [
            Term(
                "", "CO2", coef, source.scope, source.category, factors=labels, formula=self.formula
            )
        ], []


class WastewaterParams(Params):
    """Treatment system of a wastewater plant."""

    mcf_frac: float = quantity("frac", "methane correction factor", ge=0, le=1)
    bo_kg_ch4_per_kg_cod: float | None = quantity("kg/kg", "CH4 producing capacity", None, gt=0)


class WastewaterCh4(Method):
    """CH4 from wastewater treatment.

    Streams '' (COD treated), 'sludge' (COD in sludge) and 'recovered' (CH4 recovered),
    each in tonnes.
    """

    name = "wastewater_ch4"
    title_en = "wastewater treatment CH4"
    title_zh = "废水处理CH4"
    reference = "2006 IPCC Guidelines Vol. 5 Eq. 6.4, 6.6"
    formula = "E = (TOW − S) × Bo × MCF − R"
    Params = WastewaterParams

    def streams(self, source: EmissionSource, params: WastewaterParams) -> dict[str, str]:
        """COD treated, COD removed with sludge and CH4 recovered, all in tonnes."""
        return {"": "t", "sludge": "t", "recovered": "t"}

    def terms(
        self, source: EmissionSource, params: WastewaterParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return CH4 terms for COD treated, sludge (negative) and recovery (negative)."""
        bo = ctx.value("bo_kg_ch4_per_kg_cod", params, "wastewater:bo_cod", "kg/kg")
        ctx.used.append(f"param:mcf_frac={params.mcf_frac:g}")
        labels = tuple(ctx.used)
        per_cod = emissions_wastewater_ch4(1.0, bo, params.mcf_frac)
        return [
            Term(
                "",
                "CH4",
                per_cod,
                source.scope,
                source.category,
                factors=labels,
                formula=self.formula,
            ),
            Term(
                "sludge",
                "CH4",
                -per_cod,
                source.scope,
                source.category,
                factors=labels,
                formula=self.formula,
            ),
            Term(
                "recovered",
                "CH4",
                emissions_wastewater_ch4(0.0, bo, params.mcf_frac, 0.0, 1.0),
                source.scope,
                source.category,
                factors=("recovered CH4",),
                formula=self.formula,
            ),
        ], []
