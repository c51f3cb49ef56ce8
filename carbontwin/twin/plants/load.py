"""Electric loads on schedules: IT, tools, conveyors, lighting of a yard.

Examples
--------
>>> load_power_kw(np.array([0.0, 1.0]), 100.0, 0.2).tolist()
[20.0, 100.0]
"""

from __future__ import annotations

import numpy as np

__all__ = ["SIGNALS", "load_power_kw"]

#: Signals of a ``load`` asset: name → (unit, ``flow`` or ``state``).
SIGNALS: dict[str, tuple[str, str]] = {"electricity": ("kWh", "flow")}


def load_power_kw(
    schedule_frac: np.ndarray, power_kw: float | np.ndarray, base_frac: float | np.ndarray
) -> np.ndarray:
    r"""Power of a load that draws ``base_frac`` of its rating outside its schedule [kW].

    Notes
    -----
    .. math:: P = P_0 (b + (1 - b) s)
    """
    return power_kw * (base_frac + (1 - base_frac) * np.asarray(schedule_frac, dtype=float))
