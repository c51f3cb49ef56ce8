"""Fugitive emissions of fluorinated gases, CH4 and others, weighted by GWP."""

from __future__ import annotations

from carbontwin.accounting.methods._base import EnergyTerm, Method, MethodContext, Params, Term
from carbontwin.core.carriers import carrier
from carbontwin.core.errors import ValidationError
from carbontwin.core.fields import quantity
from carbontwin.core.sources import EmissionSource

__all__ = ["Fugitive", "emissions_fugitive"]


def emissions_fugitive(refill_t: float, recovered_t: float = 0.0, leak_frac: float = 1.0) -> float:
    r"""Mass of gas released from equipment (mass-balance of refills).

    Parameters
    ----------
    refill_t : float
        Gas charged into equipment over the period, or measured leak [t].
    recovered_t : float
        Gas recovered and destroyed or sent back [t].
    leak_frac : float
        Share of the net charge that leaked [fraction]; 1 for a refill balance.

    Returns
    -------
    float
        Gas released [t]; multiply by its GWP for tCO2e.

    Notes
    -----
    .. math:: E = (M_{refill} - M_{recovered}) \times f

    References
    ----------
    GB/T 32150-2015, 6.2 (fugitive emissions); ISO 14064-1:2018, category 1.

    Examples
    --------
    >>> emissions_fugitive(0.12, 0.02)
    0.09999999999999999
    """
    return (refill_t - recovered_t) * leak_frac


class FugitiveParams(Params):
    """Share of the charged gas that leaks."""

    leak_frac: float = quantity("frac", "share of the charge that leaked", 1.0, gt=0, le=1)


class Fugitive(Method):
    """Fugitive release of a gas (carrier ``gas:<GAS>``), its mass × GWP."""

    name = "fugitive"
    title_en = "fugitive emissions"
    title_zh = "逸散排放"
    reference = "GB/T 32150-2015 6.2"
    formula = "E = M_refill × f × GWP"
    Params = FugitiveParams

    def terms(
        self, source: EmissionSource, params: FugitiveParams, ctx: MethodContext
    ) -> tuple[list[Term], list[EnergyTerm]]:
        """Return the gas-mass term per tonne charged."""
        c = carrier(source.carrier)
        if c.kind != "ghg":
            msg = f"source {source.id!r}: method fugitive takes carrier 'gas:<GAS>'"
            raise ValidationError(msg)
        return [
            Term(
                "",
                c.name_en,
                emissions_fugitive(1.0, 0.0, params.leak_frac),
                source.scope,
                source.category,
                factors=(f"param:leak_frac={params.leak_frac:g}",),
                formula=self.formula,
            )
        ], []
