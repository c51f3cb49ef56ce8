"""Pumps, fans and blowers on variable-speed drives.

Examples
--------
>>> round(float(pump_power_kw(0.5, 100.0, 0.3)), 4)
23.75
"""

from __future__ import annotations

import numpy as np

__all__ = ["SIGNALS", "pump_power_kw"]

#: Signals of a ``pump`` asset: name → (unit, ``flow`` or ``state``).
SIGNALS: dict[str, tuple[str, str]] = {
    "electricity": ("kWh", "flow"),
    "flow": ("dimensionless", "state"),
}


def pump_power_kw(
    flow_frac: np.ndarray | float, power_kw: np.ndarray | float, static_head_frac: float = 0.3
) -> np.ndarray:
    r"""Electric power of a pump at part flow.

    Parameters
    ----------
    flow_frac : array_like
        Flow as a fraction of the design flow [fraction].
    power_kw : array_like
        Power at design flow [kW].
    static_head_frac : float
        Share of the design power that works against static head and scales with flow
        [fraction]; the rest follows the cube of the flow (affinity laws).

    Returns
    -------
    numpy.ndarray
        Electric power [kW].

    Notes
    -----
    .. math:: P = P_0 \left(s f + (1 - s) f^3\right)

    References
    ----------
    Europump and Hydraulic Institute (2004), *Variable Speed Pumping*, ch. 2.
    """
    f = np.asarray(flow_frac, dtype=float)
    return np.asarray(power_kw, dtype=float) * (
        static_head_frac * f + (1 - static_head_frac) * f**3
    )
