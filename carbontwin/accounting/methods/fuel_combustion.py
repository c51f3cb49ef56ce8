"""Fossil-fuel combustion (stationary and mobile), GB/T 32150-2015 and GB/T 32151.

Examples
--------
>>> round(emissions_fuel_combustion(100.0, 389.31, 0.0153, 0.99), 6)  # 100 × 10^4 Nm3 NG
2162.188809
"""

from __future__ import annotations

from carbontwin.accounting.methods._base import EnergyTerm, Method, MethodContext, Params, Term
from carbontwin.core.carriers import carrier
from carbontwin.core.fields import quantity
from carbontwin.core.sources import EmissionSource

__all__ = ["FuelCombustion", "emissions_fuel_combustion", "emissions_fuel_measured_carbon"]

C_TO_CO2 = 44.0 / 12.0


def emissions_fuel_combustion(
    fuel: float, ncv: float, cc_tc_per_gj: float, oxidation_frac: float
) -> float:
    r"""CO2 from burning a fuel by default factors.

    Parameters
    ----------
    fuel : float
        Fuel consumed [t, or 10^4 Nm3 for gases].
    ncv : float
        Net calorific value [GJ/t or GJ/10^4 Nm3].
    cc_tc_per_gj : float
        Carbon content per unit heat [tC/GJ].
    oxidation_frac : float
        Carbon oxidation rate [fraction].

    Returns
    -------
    float
        CO2 emitted [t].

    Notes
    -----
    .. math:: E = FC \times NCV \times CC \times OF \times 44/12

    References
    ----------
    GB/T 32150-2015, 6.3 and appendix; GB/T 32151.10-2015 (chemical production), 6.2.1.
    """
    return fuel * ncv * cc_tc_per_gj * oxidation_frac * C_TO_CO2


def emissions_fuel_measured_carbon(
    fuel: float, carbon_tc_per_t: float, oxidation_frac: float
) -> float:
    r"""CO2 from burning a fuel whose element carbon content was measured.

    Parameters
    ----------
    fuel : float
        Fuel consumed [t, or 10^4 Nm3 for gases].
    carbon_tc_per_t : float
        Measured carbon content, as received [tC/t or tC/10^4 Nm3].
    oxidation_frac : float
        Carbon oxidation rate [fraction].

    Returns
    -------
    float
        CO2 emitted [t].

    Notes
    -----
    .. math:: E = FC \times C_{ar} \times OF \times 44/12

    References
    ----------
    GB/T 32151.10-2015, 6.2.1; T/CPCIF draft, 5.1.2.2 (element carbon content data).
    """
    return fuel * carbon_tc_per_t * oxidation_frac * C_TO_CO2


class FuelCombustionParams(Params):
    """Parameters of fuel combustion; measured test data may replace each from a date."""

    ncv: float | None = quantity("GJ/t or GJ/10^4 Nm3", "net calorific value", None, gt=0)
    cc_tc_per_gj: float | None = quantity("tC/GJ", "carbon content per unit heat", None, gt=0)
    oxidation_frac: float | None = quantity("frac", "carbon oxidation rate", None, gt=0, le=1)
    carbon_tc_per_t: float | None = quantity(
        "tC/t or tC/10^4 Nm3", "measured element carbon content", None, gt=0
    )


class FuelCombustion(Method):
    """Fossil-fuel combustion: FC × NCV × CC × OF × 44/12, or with measured carbon."""

    name = "fuel_combustion"
    title_en = "fossil fuel combustion"
    title_zh = "化石燃料燃烧"
    reference = "GB/T 32150-2015 6.3; GB/T 32151.10-2015 6.2.1"
    formula = "E = FC × NCV × CC × OF × 44/12 (or FC × C_ar × OF × 44/12)"
    Params = FuelCombustionParams

    def terms(
        self, source: EmissionSource, params: FuelCombustionParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the CO2 term and the energy term per unit of fuel."""
        fuel = source.carrier
        per = carrier(fuel).unit.replace("wNm3", "10^4 Nm3")
        ox = ctx.value("oxidation_frac", params, f"of:{fuel}", "1")
        measured_c = ctx.measured("carbon_tc_per_t")
        if measured_c is not None or params.carbon_tc_per_t is not None:
            c = ctx.value("carbon_tc_per_t", params, None, f"tC/{per}")
            coef = emissions_fuel_measured_carbon(1.0, c, ox)
            formula = "E = FC × C_ar × OF × 44/12"
        else:
            ncv = ctx.value("ncv", params, f"ncv:{fuel}", f"GJ/{carrier(fuel).unit}")
            cc = ctx.value("cc_tc_per_gj", params, f"cc:{fuel}", "tC/GJ")
            coef = emissions_fuel_combustion(1.0, ncv, cc, ox)
            formula = "E = FC × NCV × CC × OF × 44/12"
        emission_labels = tuple(ctx.used)
        ctx.used.clear()
        tce = energy_tce_per_unit(source, params, ctx)
        term = Term(
            "", "CO2", coef, source.scope, source.category, factors=emission_labels, formula=formula
        )
        return [term], [EnergyTerm("", fuel, "consumption", 1.0, tce, tce, tuple(ctx.used))]


def energy_tce_per_unit(source: EmissionSource, params: Params, ctx: MethodContext) -> float:
    """Return tce per canonical unit of a fuel, by GB/T 2589-2020, 4.3.

    A measured NCV comes first (NCV / 29.3076 GJ/tce); without one, the appendix reference
    coefficient; without that, the library's default NCV.
    """
    fuel = source.carrier
    unit = carrier(fuel).unit
    measured = ctx.measured("ncv")
    own = getattr(params, "ncv", None)
    tce_gj = ctx.factor("const:tce_gj", "GJ/tce")
    if measured is not None or own is not None:
        return ctx.value("ncv", params, None, f"GJ/{unit}") / tce_gj
    try:
        return ctx.factor(f"tce:{fuel}", f"tce/{unit}")
    except KeyError:
        return ctx.value("ncv", params, f"ncv:{fuel}", f"GJ/{unit}") / tce_gj
