"""Emissions measured by a continuous emission monitoring system (CEMS)."""

from __future__ import annotations

from carbontwin.accounting.methods._base import EnergyTerm, Method, MethodContext, Params, Term
from carbontwin.core.carriers import carrier
from carbontwin.core.errors import ValidationError
from carbontwin.core.sources import EmissionSource

__all__ = ["Cems", "emissions_cems"]


def emissions_cems(concentration_mg_per_m3: float, flow_m3: float) -> float:
    r"""Mass of a gas from a measured concentration and dry flue-gas volume.

    Parameters
    ----------
    concentration_mg_per_m3 : float
        Mean dry concentration of the gas [mg/m3 at standard conditions].
    flow_m3 : float
        Dry flue-gas volume over the period [m3 at standard conditions].

    Returns
    -------
    float
        Mass of the gas [t].

    Notes
    -----
    .. math:: E = \bar{c} \times Q \times 10^{-9}

    The monitoring system usually reports the period's mass directly; the inventory takes
    that mass as activity. This function serves hourly concentration × flow records.

    References
    ----------
    HJ 1286-2023 (CO2 CEMS for stationary sources); T/CPCIF draft 5.1.7, 5.2.2.

    Examples
    --------
    >>> emissions_cems(180_000.0, 1.0e6)
    180.0
    """
    return concentration_mg_per_m3 * flow_m3 * 1e-9


class Cems(Method):
    """Measured mass of a greenhouse gas (carrier ``gas:<GAS>``), counted as reported."""

    name = "cems"
    title_en = "CEMS measurement"
    title_zh = "在线监测"
    reference = "T/CPCIF draft 5.1.7; HJ 1286-2023"
    formula = "E = measured mass"
    Params = Params

    def terms(
        self, source: EmissionSource, params: Params, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return a unit term for the measured gas."""
        c = carrier(source.carrier)
        if c.kind != "ghg":
            msg = f"source {source.id!r}: method cems takes carrier 'gas:<GAS>', e.g. gas:CO2"
            raise ValidationError(msg)
        return [
            Term(
                "",
                c.name_en,
                1.0,
                source.scope,
                source.category,
                factors=("measured:cems",),
                formula=self.formula,
            )
        ], []
