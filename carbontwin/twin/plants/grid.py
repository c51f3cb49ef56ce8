"""An enterprise's electrical bus: on-site supply first, then its plant, then the grid.

Examples
--------
>>> supply, imp, exp, curt, short = bus_dispatch(np.array([-50.0, 300.0, 900.0]),
...     500.0, True, False)
>>> supply.tolist(), imp.tolist(), exp.tolist(), curt.tolist(), short.tolist()
([0.0, 300.0, 500.0], [0.0, 0.0, 400.0], [0.0, 0.0, 0.0], [50.0, 0.0, 0.0], [0.0, 0.0, 0.0])
"""

from __future__ import annotations

import numpy as np

__all__ = ["SIGNALS", "WEATHER_SIGNALS", "bus_dispatch"]

#: Signals of a ``grid`` asset: name → (unit, ``flow`` or ``state``).
SIGNALS: dict[str, tuple[str, str]] = {
    "import": ("kWh", "flow"),
    "export": ("kWh", "flow"),
    "supply": ("kWh", "flow"),
    "demand": ("kWh", "flow"),
    "curtailed": ("kWh", "flow"),
    "unserved": ("kWh", "flow"),
    "power_kw": ("kW", "state"),
}

#: Signals of a ``weather`` asset (the weather station).
WEATHER_SIGNALS: dict[str, tuple[str, str]] = {
    "temp_air_c": ("degC", "state"),
    "relative_humidity_pct": ("percent", "state"),
    "ghi_w_per_m2": ("W/m^2", "state"),
}


def bus_dispatch(
    net_kw: np.ndarray,
    supply_max_kw: float | np.ndarray,
    grid: bool,
    export_allowed: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Balance a bus: the plant's supply first, then the grid; surplus out or curtailed.

    Parameters
    ----------
    net_kw : numpy.ndarray
        Loads plus charging minus on-site generation and discharging [kW].
    supply_max_kw : float or numpy.ndarray
        Most the self-owned plant supplies (0 without a supplier, ``inf`` unlimited) [kW].
    grid : bool
        Whether the bus may import from the grid.
    export_allowed : bool
        Whether surplus may be exported; otherwise it is curtailed.

    Returns
    -------
    supply_kw, import_kw, export_kw, curtailed_kw, unserved_kw : numpy.ndarray
        Each non-negative, with
        ``supply + import − export − curtailed + unserved = net`` exactly.
    """
    need = np.maximum(net_kw, 0.0)
    surplus = need - net_kw
    supply = np.minimum(need, supply_max_kw)
    rest = need - supply
    zero = np.zeros_like(rest)
    imp, short = (rest, zero) if grid else (zero, rest)
    exp, curt = (surplus, zero) if export_allowed else (zero, surplus)
    return supply, imp, exp, curt, short
