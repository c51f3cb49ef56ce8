"""The self-owned combined heat and power plant (extraction-condensing turbine).

Examples
--------
>>> p, q, fuel, short_e, short_h = chp_dispatch(np.array([40_000.0]), np.array([80_000.0]),
...     50_000.0, 90_000.0, 0.35, 0.15, 22.8)
>>> float(p[0]), float(q[0]), round(float(fuel[0]), 4), float(short_e[0])
(40000.0, 80000.0, 23.4586, 0.0)
"""

from __future__ import annotations

import numpy as np

from carbontwin.twin.plants.boiler import GJ_PER_KWH

__all__ = ["SIGNALS", "chp_dispatch", "chp_fuel_kw"]

#: Signals of a ``chp`` asset: name → (unit, ``flow`` or ``state``).
SIGNALS: dict[str, tuple[str, str]] = {
    "fuel": ("t", "flow"),
    "electricity": ("kWh", "flow"),
    "heat": ("GJ", "flow"),
    "steam": ("t", "flow"),
    "export_electricity": ("kWh", "flow"),
    "export_steam": ("t", "flow"),
    "unserved_electricity": ("kWh", "flow"),
    "unmet_heat": ("GJ", "flow"),
}


def chp_fuel_kw(
    electric_kw: np.ndarray, heat_kw: np.ndarray, efficiency_frac: float, power_loss_ratio: float
) -> np.ndarray:
    r"""Fuel input of an extraction-condensing CHP unit [kW].

    Parameters
    ----------
    electric_kw : numpy.ndarray
        Electric output [kW].
    heat_kw : numpy.ndarray
        Heat extracted [kW].
    efficiency_frac : float
        Electric efficiency in condensing mode [fraction].
    power_loss_ratio : float
        β, electricity lost per unit of heat extracted [1].

    Returns
    -------
    numpy.ndarray
        Fuel input on the net calorific value [kW].

    Notes
    -----
    .. math:: F = \frac{P + \beta Q}{\eta_{el}}

    References
    ----------
    Horlock, J. H. (1987), *Cogeneration — Combined Heat and Power*, ch. 3 (the Z-ratio
    of extraction turbines).
    """
    return (electric_kw + power_loss_ratio * heat_kw) / efficiency_frac


def chp_dispatch(
    electric_demand_kw: np.ndarray,
    heat_demand_kw: np.ndarray,
    electric_max_kw: float,
    heat_max_kw: float,
    efficiency_frac: float,
    power_loss_ratio: float,
    fuel_ncv_gj_per_t: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Follow the electric and heat demand within the ratings.

    Parameters
    ----------
    electric_demand_kw, heat_demand_kw : numpy.ndarray
        What the plant's users draw [kW].
    electric_max_kw, heat_max_kw : float
        Ratings [kW].
    efficiency_frac, power_loss_ratio : float
        See :func:`chp_fuel_kw`.
    fuel_ncv_gj_per_t : float
        Net calorific value of the fuel [GJ/t].

    Returns
    -------
    electric_kw, heat_kw : numpy.ndarray
        Output [kW].
    fuel_t_per_h : numpy.ndarray
        Fuel burnt [t/h].
    unserved_kw, unmet_heat_kw : numpy.ndarray
        Demand above the ratings [kW].
    """
    p = np.minimum(np.maximum(electric_demand_kw, 0.0), electric_max_kw)
    q = np.minimum(np.maximum(heat_demand_kw, 0.0), heat_max_kw)
    fuel = chp_fuel_kw(p, q, efficiency_frac, power_loss_ratio) * GJ_PER_KWH / fuel_ncv_gj_per_t
    return p, q, fuel, electric_demand_kw - p, heat_demand_kw - q
