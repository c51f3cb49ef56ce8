"""Standby generators: fuel burnt while running.

Examples
--------
>>> float(generator_fuel_t_per_h(1000.0, 0.22))
0.22
"""

from __future__ import annotations

import numpy as np

__all__ = ["SIGNALS", "generator_fuel_t_per_h"]

#: Signals of a ``generator`` asset: name → (unit, ``flow`` or ``state``).
SIGNALS: dict[str, tuple[str, str]] = {
    "electricity": ("kWh", "flow"),
    "fuel": ("t", "flow"),
}


def generator_fuel_t_per_h(power_kw: np.ndarray | float, fuel_kg_per_kwh: float) -> np.ndarray:
    """Fuel of a generator at ``power_kw`` [kW] with specific consumption [kg/kWh] [t/h]."""
    return np.asarray(power_kw, dtype=float) * fuel_kg_per_kwh / 1000.0
