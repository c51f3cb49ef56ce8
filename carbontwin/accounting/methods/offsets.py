"""Carbon assets credited as offsets: green electricity, green certificates (GEC), CCER.

CECS 5.5.5 counts them as offset items of the park's annual emissions. They are kept
apart from gross emissions (ISO 14064-1 and the GHG Protocol do not net them) and the
inventory reports gross, offsets and net side by side.

Examples
--------
>>> round(offset_green_electricity(2000.0, 0.5366), 6)
1073.2
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from carbontwin.accounting.methods._base import EnergyTerm, Method, MethodContext, Params, Term
from carbontwin.core.sources import EmissionSource

__all__ = ["Ccer", "GreenElectricity", "offset_green_electricity"]


def offset_green_electricity(electricity_mwh: float, factor_tco2_per_mwh: float) -> float:
    r"""Offset credited for green electricity bought or certified.

    Parameters
    ----------
    electricity_mwh : float
        Green electricity traded, or certificates retired (1 GEC = 1 MWh) [MWh].
    factor_tco2_per_mwh : float
        Location-based grid factor the green power displaces [tCO2/MWh].

    Returns
    -------
    float
        Offset [tCO2e].

    Notes
    -----
    .. math:: O = AD_{green} \times EF_{grid}

    References
    ----------
    CECS park smart carbon management specification, 5.5.5; GHG Protocol Scope 2
    Guidance (2015), market-based method (for the market-based scope 2 view).
    """
    return electricity_mwh * factor_tco2_per_mwh


class GreenParams(Params):
    """Which instrument the green electricity is."""

    instrument: Literal["green_power", "gec", "self_generated"] = Field(
        "green_power",
        description="traded green power, green certificates, or on-site "
        "renewable generation consumed (avoided emissions, not an offset)",
    )
    factor: str | None = Field(None, description="grid factor key, default the park's")
    count_as_offset: bool = Field(
        False,
        description="self_generated only: credit on-site renewables as an offset (CECS 5.5.5) "
        "instead of a memo of avoided emissions. Off by default: power generated and used on "
        "site already lowers the grid purchase, so crediting it again counts it twice; turn "
        "it on for generation that is exported or sold with its environmental attributes",
    )


class GreenElectricity(Method):
    """Green electricity: an offset at the location factor, zero in market-based scope 2."""

    name = "green_electricity"
    title_en = "green electricity"
    title_zh = "绿电绿证"
    reference = "CECS 5.5.5; GHG Protocol Scope 2 Guidance"
    formula = "O = AD_green × EF_grid"
    Params = GreenParams

    def terms(
        self, source: EmissionSource, params: GreenParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the offset (or avoided) term per kWh."""
        ef = ctx.factor(params.factor or ctx.settings.grid_factor, "tCO2/MWh")
        coef = offset_green_electricity(1e-3, ef)
        labels = tuple(ctx.used)
        if params.instrument == "self_generated":
            ctx.used.clear()
            calorific, equivalent = ctx.electricity_tce()
            return [
                Term(
                    "",
                    "CO2",
                    coef,
                    None,
                    None,
                    kind="offset" if params.count_as_offset else "avoided",
                    factors=labels,
                    formula="O = AD_generated × EF_grid"
                    if params.count_as_offset
                    else "avoided = AD_generated × EF_grid",
                    instrument="self_generated",
                )
            ], [
                EnergyTerm(
                    "", "electricity", "renewable", 1.0, calorific, equivalent, tuple(ctx.used)
                )
            ]
        return [
            Term(
                "",
                "CO2",
                coef,
                None,
                None,
                kind="offset",
                factors=labels,
                formula=self.formula,
                market="green",
                instrument=params.instrument,
            )
        ], []


class Ccer(Method):
    """Certified emission reductions retired (activity in tCO2e, carrier other:tCO2e)."""

    name = "ccer"
    title_en = "CCER retired"
    title_zh = "核证自愿减排量"
    reference = "CECS 5.5.5; MEE CCER rules (2023)"
    formula = "O = CCER retired"
    Params = Params

    def terms(
        self, source: EmissionSource, params: Params, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return a unit offset term per tCO2e retired."""
        return [
            Term(
                "",
                "CO2e",
                1.0,
                None,
                None,
                kind="offset",
                factors=("retired CCER",),
                formula=self.formula,
                instrument="ccer",
            )
        ], []
