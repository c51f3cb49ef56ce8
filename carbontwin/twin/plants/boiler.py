"""Fuel-fired boilers: heat demand to fuel.

Examples
--------
>>> round(float(boiler_gas_1e4nm3_per_h(1000.0, 0.9, 389.31)), 6)
0.010275
"""

from __future__ import annotations

import numpy as np

__all__ = ["GJ_PER_KWH", "SIGNALS", "boiler_gas_1e4nm3_per_h", "steam_heat_gj_per_t"]

GJ_PER_KWH = 0.0036

#: Signals of a ``boiler`` asset: name → (unit, ``flow`` or ``state``).
SIGNALS: dict[str, tuple[str, str]] = {
    "gas": ("wNm3", "flow"),
    "heat": ("GJ", "flow"),
    "steam": ("t", "flow"),
    "unmet_heat": ("GJ", "flow"),
}


def boiler_gas_1e4nm3_per_h(
    heat_kw: np.ndarray | float, efficiency_frac: float, ncv_gj_per_1e4nm3: float
) -> np.ndarray:
    r"""Gas burnt to deliver heat.

    Parameters
    ----------
    heat_kw : array_like
        Heat delivered [kW].
    efficiency_frac : float
        Thermal efficiency on the net calorific value [fraction].
    ncv_gj_per_1e4nm3 : float
        Net calorific value of the gas [GJ/10^4 Nm3].

    Returns
    -------
    numpy.ndarray
        Gas [10^4 Nm3/h].

    Notes
    -----
    .. math:: V = \frac{0.0036\,Q}{\eta\,NCV}
    """
    return np.asarray(heat_kw, dtype=float) * GJ_PER_KWH / (efficiency_frac * ncv_gj_per_1e4nm3)


def steam_heat_gj_per_t(enthalpy_kj_per_kg: float) -> float:
    """Heat per tonne of steam [GJ/t] from its enthalpy [kJ/kg] (1 kJ/kg = 1 MJ/t).

    Examples
    --------
    >>> steam_heat_gj_per_t(2950.0)
    2.95
    """
    return enthalpy_kj_per_kg / 1000.0
