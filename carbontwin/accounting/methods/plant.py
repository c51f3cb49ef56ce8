"""The self-owned (captive) power plant: its own supply factors for power and heat.

A chemical enterprise's own plant supplies power and heat across the park. Its
emissions are accounted where it burns fuel; what it supplies carries the plant's own
factor instead of the grid's, so intra-park supply and use cancel in the park total.

Examples
--------
>>> ef_power, ef_heat = plant_supply_factors(100_000.0, 80_000.0, 300_000.0)
>>> round(ef_power, 6), round(ef_heat, 6)
(0.612245, 0.170068)
"""

from __future__ import annotations

from carbontwin.accounting.methods._base import EnergyTerm, Method, MethodContext, Params, Term
from carbontwin.core.errors import ValidationError
from carbontwin.core.fields import quantity
from carbontwin.core.sources import EmissionSource

__all__ = ["PlantGeneration", "plant_supply_factors"]

GJ_PER_MWH = 3.6


def plant_supply_factors(
    emissions_t: float,
    electricity_mwh: float,
    heat_gj: float,
    power_share_frac: float | None = None,
) -> tuple[float, float]:
    r"""Supply emission factors of a combined heat and power plant.

    Parameters
    ----------
    emissions_t : float
        The plant's CO2 over the period (fuel combustion and desulphurisation) [t].
    electricity_mwh : float
        Electricity supplied [MWh].
    heat_gj : float
        Heat supplied [GJ].
    power_share_frac : float, optional
        Share of emissions allocated to power [fraction]; by energy content when omitted.

    Returns
    -------
    ef_power_tco2_per_mwh, ef_heat_tco2_per_gj : float
        The plant's own factors (NaN where nothing of that kind was supplied).

    Notes
    -----
    .. math:: \alpha = \frac{3.6\,E_{el}}{3.6\,E_{el} + Q_{heat}},\quad
              EF_{power} = \frac{\alpha E}{E_{el}},\quad
              EF_{heat} = \frac{(1-\alpha) E}{Q_{heat}}

    References
    ----------
    GB/T 32151.1-2015 (power generation), 6; MEE power-generation guideline (2022), heat
    supply ratio; research note on captive plants in cross-industry accounting (CPCIF 5.2.1 c).
    """
    total_gj = GJ_PER_MWH * electricity_mwh + heat_gj
    if power_share_frac is None:
        if total_gj <= 0:
            return float("nan"), float("nan")
        power_share_frac = GJ_PER_MWH * electricity_mwh / total_gj
    ef_power = (
        power_share_frac * emissions_t / electricity_mwh if electricity_mwh > 0 else float("nan")
    )
    ef_heat = (1 - power_share_frac) * emissions_t / heat_gj if heat_gj > 0 else float("nan")
    return ef_power, ef_heat


class PlantParams(Params):
    """How the plant's emissions are split between power and heat."""

    power_share_frac: float | None = quantity(
        "frac", "emissions allocated to power", None, ge=0, le=1
    )


class PlantGeneration(Method):
    """Memo of a self-owned plant's output: streams 'electricity' [kWh] and 'heat' [GJ].

    The source must sit at a facility of kind ``power_plant``; the inventory reads these
    streams to find the plant's own supply factors each calendar year.
    """

    name = "plant_generation"
    title_en = "self-owned plant output"
    title_zh = "自备电厂供电供热"
    reference = "GB/T 32151.1-2015; CPCIF 5.2.1 c"
    formula = "EF_power = α E / E_el; EF_heat = (1 − α) E / Q_heat"
    Params = PlantParams

    def streams(self, source: EmissionSource, params: PlantParams) -> dict[str, str]:
        """Electricity and heat supplied."""
        if not source.facility:
            msg = f"source {source.id!r}: plant_generation needs the plant's facility id"
            raise ValidationError(msg)
        return {"electricity": "kWh", "heat": "GJ"}

    def terms(
        self, source: EmissionSource, params: PlantParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return no emission terms: the output is a memo for the plant factors."""
        return [], []
