"""CO2 recovered and supplied outside the boundary or used as feedstock (deducted).

Examples
--------
>>> round(co2_recovered(50.0, 0.98), 6)
968.73
"""

from __future__ import annotations

from carbontwin.accounting.methods._base import EnergyTerm, Method, MethodContext, Params, Term
from carbontwin.core.fields import quantity
from carbontwin.core.sources import EmissionSource

__all__ = ["Co2Recovery", "co2_recovered"]


def co2_recovered(
    gas_1e4nm3: float, purity_frac: float, density_t_per_1e4nm3: float = 19.77
) -> float:
    r"""CO2 recovered for supply outside the boundary or for use as feedstock.

    Parameters
    ----------
    gas_1e4nm3 : float
        Recovered gas supplied [10^4 Nm3].
    purity_frac : float
        CO2 purity of that gas [fraction].
    density_t_per_1e4nm3 : float
        CO2 density at standard conditions [t/10^4 Nm3]; 19.77.

    Returns
    -------
    float
        CO2 recovered [t], deducted from the enterprise's emissions.

    Notes
    -----
    .. math:: R_{CO_2} = Q \times PUR \times 19.77

    References
    ----------
    GB/T 32151.10-2015, 6.4; T/CPCIF draft 5.1.8.
    """
    return gas_1e4nm3 * purity_frac * density_t_per_1e4nm3


class RecoveryParams(Params):
    """Purity of the recovered gas."""

    purity_frac: float = quantity("frac", "CO2 purity of the gas supplied", gt=0, le=1)


class Co2Recovery(Method):
    """CO2 recovery deduction: −Q × PUR × 19.77."""

    name = "co2_recovery"
    title_en = "CO2 recovery"
    title_zh = "CO2回收利用"
    reference = "GB/T 32151.10-2015 6.4"
    formula = "R = Q × PUR × 19.77 (deducted)"
    Params = RecoveryParams

    def terms(
        self, source: EmissionSource, params: RecoveryParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the negative CO2 term per 10^4 Nm3 recovered."""
        rho = ctx.factor("const:co2_density", "t/wNm3")
        ctx.used.append(f"param:purity_frac={params.purity_frac:g}")
        return [
            Term(
                "",
                "CO2",
                -co2_recovered(1.0, params.purity_frac, rho),
                source.scope,
                source.category,
                factors=tuple(ctx.used),
                formula=self.formula,
            )
        ], []
