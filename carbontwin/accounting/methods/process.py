"""Industrial process emissions of chemical production (GB/T 32151.10-2015, 6.3).

Carbon mass balance of feedstocks, carbonate decomposition and N2O from nitric and
adipic acid.

Examples
--------
>>> round(emissions_carbon_mass_balance([(1000.0, 0.75)], [(1600.0, 0.375)], []), 6)
550.0
>>> round(emissions_carbonates(100.0, 0.4397, 0.9), 6)
39.573
>>> round(emissions_nitrous_oxide(10000.0, 293.0, 0.9, 0.95), 6)
424.85
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from carbontwin.accounting.methods._base import EnergyTerm, Method, MethodContext, Params, Term
from carbontwin.core.carriers import CARRIERS
from carbontwin.core.errors import ValidationError
from carbontwin.core.fields import quantity
from carbontwin.core.sources import EmissionSource

__all__ = [
    "CarbonMassBalance",
    "Carbonates",
    "NitrousOxide",
    "emissions_carbon_mass_balance",
    "emissions_carbonates",
    "emissions_nitrous_oxide",
]

C_TO_CO2 = 44.0 / 12.0


def emissions_carbon_mass_balance(
    inputs: list[tuple[float, float]],
    products: list[tuple[float, float]],
    wastes: list[tuple[float, float]],
) -> float:
    r"""CO2 from fossil carbon in feedstocks that leaves neither in products nor wastes.

    Parameters
    ----------
    inputs, products, wastes : list of (amount, carbon content)
        Amount [t or 10^4 Nm3] and carbon content [tC/t or tC/10^4 Nm3] of each
        carbon-bearing feedstock, product (main and by-products) and waste stream.

    Returns
    -------
    float
        CO2 [t]; negative when more carbon leaves in products than enters.

    Notes
    -----
    .. math:: E = \left[\sum_r AD_r CC_r - \left(\sum_p Y_p CC_p + \sum_w Q_w CC_w\right)
              \right] \times 44/12

    References
    ----------
    GB/T 32151.10-2015, 6.3.1 (raw-material carbon balance).
    """
    c_in = sum(a * c for a, c in inputs)
    c_out = sum(a * c for a, c in products) + sum(a * c for a, c in wastes)
    return (c_in - c_out) * C_TO_CO2


def emissions_carbonates(
    carbonate_t: float, factor_tco2_per_t: float, purity_frac: float = 1.0
) -> float:
    r"""CO2 from decomposing carbonates used as raw material.

    Parameters
    ----------
    carbonate_t : float
        Carbonate consumed [t].
    factor_tco2_per_t : float
        Stoichiometric factor [tCO2/t], e.g. 0.4397 for CaCO3.
    purity_frac : float
        Carbonate purity [fraction].

    Returns
    -------
    float
        CO2 [t].

    Notes
    -----
    .. math:: E = AD \times EF \times PUR

    References
    ----------
    GB/T 32151.10-2015, 6.3.2.
    """
    return carbonate_t * factor_tco2_per_t * purity_frac


def emissions_nitrous_oxide(
    product_t: float, ef_kg_per_t: float, removal_frac: float = 0.0, utilisation_frac: float = 0.0
) -> float:
    r"""N2O from nitric-acid or adipic-acid production with an abatement unit.

    Parameters
    ----------
    product_t : float
        Product output [t].
    ef_kg_per_t : float
        N2O generation factor [kg N2O/t product].
    removal_frac : float
        Removal efficiency η of the abatement technology [fraction].
    utilisation_frac : float
        Utilisation μ: share of time the abatement runs [fraction].

    Returns
    -------
    float
        N2O [t] (multiply by the GWP of N2O for tCO2e).

    Notes
    -----
    .. math:: E_{N_2O} = AD \times EF \times (1 - \eta \mu) \times 10^{-3}

    References
    ----------
    GB/T 32151.10-2015, 6.3.3.
    """
    return product_t * ef_kg_per_t * (1.0 - removal_frac * utilisation_frac) * 1e-3


class CarbonStream(BaseModel):
    """One carbon-bearing stream of a mass balance."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="stream name; a fuel id (e.g. natural_gas) for fuel feedstock")
    role: Literal["input", "product", "waste"]
    carbon_content: float | None = quantity("tC/t or tC/10^4 Nm3", "carbon content", None, ge=0)
    material: str | None = Field(
        None,
        description="library key for the carbon content, "
        "e.g. 'methanol' (product_cc) or a fuel id (NCV × CC)",
    )


class MassBalanceParams(Params):
    """The streams of a carbon mass balance."""

    streams: list[CarbonStream] = Field(min_length=1)


class CarbonMassBalance(Method):
    """Carbon mass balance of a chemical process."""

    name = "carbon_mass_balance"
    title_en = "carbon mass balance"
    title_zh = "碳质量平衡"
    reference = "GB/T 32151.10-2015 6.3.1"
    formula = "E = [Σ AD_r CC_r − (Σ Y_p CC_p + Σ Q_w CC_w)] × 44/12"
    Params = MassBalanceParams

    def streams(self, source: EmissionSource, params: MassBalanceParams) -> dict[str, str]:
        """Each stream takes its own activity; fuel feedstocks in their fuel's unit."""
        return {
            s.name: CARRIERS[s.name].unit if s.name in CARRIERS else "t" for s in params.streams
        }

    def terms(
        self, source: EmissionSource, params: MassBalanceParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return a ± CO2 term per stream and the energy of fuel feedstocks."""
        terms, energy = [], []
        for s in params.streams:
            ctx.used.clear()
            material = s.material or s.name
            if s.carbon_content is not None:
                cc = s.carbon_content
                ctx.used.append(f"param:{s.name}.carbon_content={cc:g}")
            elif material in CARRIERS and CARRIERS[material].kind in ("solid", "liquid", "gas"):
                unit = CARRIERS[material].unit
                cc = ctx.factor(f"ncv:{material}", f"GJ/{unit}") * ctx.factor(
                    f"cc:{material}", "tC/GJ"
                )
            else:
                try:
                    cc = ctx.factor(f"product_cc:{material}", "tC/t")
                except KeyError:
                    msg = (
                        f"source {source.id!r}: stream {s.name!r} needs carbon_content "
                        f"[tC/t] (no library value for {material!r})"
                    )
                    raise ValidationError(msg) from None
            sign = 1.0 if s.role == "input" else -1.0
            one = [(1.0, cc)]
            coef = emissions_carbon_mass_balance(
                one if sign > 0 else [],
                one if s.role == "product" else [],
                one if s.role == "waste" else [],
            )
            terms.append(
                Term(
                    s.name,
                    "CO2",
                    coef,
                    source.scope,
                    source.category,
                    factors=tuple(ctx.used),
                    formula=self.formula,
                )
            )
            if (
                s.role == "input"
                and s.name in CARRIERS
                and CARRIERS[s.name].kind in ("solid", "liquid", "gas")
            ):
                ctx.used.clear()
                unit = CARRIERS[s.name].unit
                tce = ctx.factor(f"ncv:{s.name}", f"GJ/{unit}") / ctx.factor(
                    "const:tce_gj", "GJ/tce"
                )
                energy.append(
                    EnergyTerm(s.name, s.name, "feedstock", 1.0, tce, tce, tuple(ctx.used))
                )
        return terms, energy


class CarbonatesParams(Params):
    """Which carbonate and how pure."""

    carbonate: Literal["caco3", "mgco3", "dolomite", "na2co3"] | None = None
    factor_tco2_per_t: float | None = quantity("tCO2/t", "emission factor", None, gt=0)
    purity_frac: float = quantity("frac", "carbonate purity", 1.0, gt=0, le=1)


class Carbonates(Method):
    """Carbonate decomposition: AD × EF × PUR."""

    name = "carbonates"
    title_en = "carbonate use"
    title_zh = "碳酸盐使用"
    reference = "GB/T 32151.10-2015 6.3.2"
    formula = "E = AD × EF × PUR"
    Params = CarbonatesParams

    def terms(
        self, source: EmissionSource, params: CarbonatesParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the CO2 term per tonne of carbonate."""
        key = f"carbonate:{params.carbonate}" if params.carbonate else None
        ef = ctx.value("factor_tco2_per_t", params, key, "tCO2/t")
        ctx.used.append(f"param:purity_frac={params.purity_frac:g}")
        return [
            Term(
                "",
                "CO2",
                emissions_carbonates(1.0, ef, params.purity_frac),
                source.scope,
                source.category,
                factors=tuple(ctx.used),
                formula=self.formula,
            )
        ], []


class NitrousOxideParams(Params):
    """Product, generation factor and abatement of an N2O process."""

    product: Literal["adipic_acid", "nitric_acid"]
    ef_kg_per_t: float | None = quantity("kg/t", "N2O generation factor", None, gt=0)
    removal_frac: float = quantity("frac", "abatement removal efficiency η", 0.0, ge=0, le=1)
    utilisation_frac: float = quantity("frac", "abatement utilisation μ", 0.0, ge=0, le=1)


class NitrousOxide(Method):
    """N2O from nitric or adipic acid: AD × EF × (1 − η μ) × 10^-3."""

    name = "nitrous_oxide"
    title_en = "nitric / adipic acid N2O"
    title_zh = "硝酸/己二酸生产N2O"
    reference = "GB/T 32151.10-2015 6.3.3"
    formula = "E_N2O = AD × EF × (1 − η μ) × 10^-3; CO2e = E_N2O × GWP_N2O"
    Params = NitrousOxideParams

    def terms(
        self, source: EmissionSource, params: NitrousOxideParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the N2O term per tonne of product."""
        ef = ctx.value("ef_kg_per_t", params, f"n2o_ef:{params.product}", "kg/t")
        ctx.used.append(f"param:removal_frac={params.removal_frac:g}")
        ctx.used.append(f"param:utilisation_frac={params.utilisation_frac:g}")
        coef = emissions_nitrous_oxide(1.0, ef, params.removal_frac, params.utilisation_frac)
        return [
            Term(
                "",
                "N2O",
                coef,
                source.scope,
                source.category,
                factors=tuple(ctx.used),
                formula=self.formula,
            )
        ], []
