"""Scope 3 (value-chain) emissions by category, from activity or spend factors."""

from __future__ import annotations

from pydantic import Field

from carbontwin.accounting.methods._base import EnergyTerm, Method, MethodContext, Params, Term
from carbontwin.core.fields import quantity
from carbontwin.core.sources import EmissionSource

__all__ = ["Scope3", "emissions_scope3"]


def emissions_scope3(activity: float, factor_tco2e_per_unit: float) -> float:
    r"""Value-chain emissions from an activity amount or a spend.

    Parameters
    ----------
    activity : float
        Activity [any unit: t, t·km, 10^4 CNY, ...].
    factor_tco2e_per_unit : float
        Emission factor for that unit [tCO2e per unit], from the supplier or a database.

    Returns
    -------
    float
        Emissions [tCO2e].

    Notes
    -----
    .. math:: E = AD \times EF

    References
    ----------
    GHG Protocol Scope 3 Standard (2011), ch. 5–7; ISO 14064-1:2018, categories 3–6.

    Examples
    --------
    >>> emissions_scope3(120.0, 0.5)
    60.0
    """
    return activity * factor_tco2e_per_unit


class Scope3Params(Params):
    """The emission factor of a value-chain activity and where it comes from."""

    factor_tco2e_per_unit: float = quantity("tCO2e per activity unit", "emission factor", ge=0)
    factor_source: str = Field(min_length=2, description="database or supplier of the factor")


class Scope3(Method):
    """Scope 3 by category: AD × EF, mixed gases already in tCO2e (gas ``CO2e``)."""

    name = "scope3"
    title_en = "value-chain emissions"
    title_zh = "价值链间接排放"
    reference = "GHG Protocol Scope 3 Standard; ISO 14064-1:2018"
    formula = "E = AD × EF"
    Params = Scope3Params

    def terms(
        self, source: EmissionSource, params: Scope3Params, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the tCO2e term per unit of activity."""
        label = (
            f"param:factor_tco2e_per_unit={params.factor_tco2e_per_unit:g} ({params.factor_source})"
        )
        return [
            Term(
                "",
                "CO2e",
                emissions_scope3(1.0, params.factor_tco2e_per_unit),
                source.scope,
                source.category,
                factors=(label,),
                formula=self.formula,
            )
        ], []
