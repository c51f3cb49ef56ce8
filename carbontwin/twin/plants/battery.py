"""Stationary batteries: power and energy limits, charge and discharge efficiencies.

Sign convention (as PyPSA's storage units): positive power discharges into the bus,
negative power charges from it.

Examples
--------
>>> p, e = battery_step(np.array([500.0]), np.array([-300.0]), 0.25, np.array([100.0]),
...     np.array([950.0]), np.array([250.0]), np.array([0.95]), np.array([0.95]))
>>> float(p[0]), float(e[0])  # charging limited to 250 kW
(-250.0, 559.375)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from carbontwin.core.assets import Battery

__all__ = ["SIGNALS", "Batteries", "battery_step"]

#: Signals of a ``battery`` asset: name → (unit, ``flow`` or ``state``).
SIGNALS: dict[str, tuple[str, str]] = {
    "charge": ("kWh", "flow"),
    "discharge": ("kWh", "flow"),
    "soc": ("dimensionless", "state"),
    "energy_kwh": ("kWh", "state"),
}


def battery_step(
    energy_kwh: np.ndarray,
    power_kw: np.ndarray,
    dt_h: float,
    energy_min_kwh: np.ndarray,
    energy_max_kwh: np.ndarray,
    power_max_kw: np.ndarray,
    charge_efficiency_frac: np.ndarray,
    discharge_efficiency_frac: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Apply a power setpoint for one step within the power and energy limits.

    Parameters
    ----------
    energy_kwh : numpy.ndarray
        Stored energy at the start of the step [kWh].
    power_kw : numpy.ndarray
        Requested AC power, positive discharging [kW].
    dt_h : float
        Step length [h].
    energy_min_kwh, energy_max_kwh : numpy.ndarray
        Limits of the stored energy (``soc_min × capacity``, ``soc_max × capacity``) [kWh].
    power_max_kw : numpy.ndarray
        Power limit, either way [kW].
    charge_efficiency_frac, discharge_efficiency_frac : numpy.ndarray
        One-way efficiencies [fraction].

    Returns
    -------
    power_kw : numpy.ndarray
        AC power delivered, positive discharging [kW].
    energy_kwh : numpy.ndarray
        Stored energy at the end of the step [kWh], within the limits.

    Notes
    -----
    .. math:: E_{t+1} = E_t + \Delta t\,(\eta_c P^- - P^+ / \eta_d)

    with :math:`P^+ \le \min(P_{max}, (E_t - E_{min})\eta_d/\Delta t)` and
    :math:`P^- \le \min(P_{max}, (E_{max} - E_t)/(\eta_c \Delta t))`, so the stored energy
    never leaves its band. Losses are :math:`P^-(1 - \eta_c) + P^+(1/\eta_d - 1)`.
    """
    hi = np.minimum(
        power_max_kw,
        np.maximum(energy_kwh - energy_min_kwh, 0.0) * discharge_efficiency_frac / dt_h,
    )
    lo = np.minimum(
        power_max_kw, np.maximum(energy_max_kwh - energy_kwh, 0.0) / (charge_efficiency_frac * dt_h)
    )
    p = np.minimum(np.maximum(power_kw, -lo), hi)
    out = np.maximum(p, 0.0)
    inn = out - p
    e = energy_kwh + dt_h * (charge_efficiency_frac * inn - out / discharge_efficiency_frac)
    return p, np.minimum(np.maximum(e, energy_min_kwh), energy_max_kwh)


class Batteries:
    """The batteries of a park, as arrays (one entry per battery)."""

    def __init__(self, assets: Sequence[Battery], dt_h: float) -> None:
        self.assets = list(assets)
        self.ids = [a.id for a in self.assets]
        self.dt_h = dt_h

        def arr(name: str) -> np.ndarray:
            return np.array([float(getattr(a, name)) for a in self.assets], dtype=float)

        cap = arr("energy_kwh")
        self.capacity_kwh = cap
        self.energy_min_kwh = arr("soc_min_frac") * cap
        self.energy_max_kwh = arr("soc_max_frac") * cap
        self.power_max_kw = arr("power_kw")
        self.eta_c = arr("charge_efficiency_frac")
        self.eta_d = arr("discharge_efficiency_frac")
        self.energy_kwh = np.clip(
            arr("initial_soc_frac") * cap, self.energy_min_kwh, self.energy_max_kwh
        )
        #: Power setpoints, written by the controller [kW], positive discharging.
        self.setpoint_kw = np.zeros(len(self.assets))
        self._k_out = self.eta_d / dt_h  # most discharge per kWh above the floor [kW]
        self._k_in = 1.0 / (self.eta_c * dt_h)  # most charge per kWh below the ceiling
        self._c_in = self.eta_c * dt_h
        self._c_out = dt_h / self.eta_d

    def __len__(self) -> int:
        return len(self.assets)

    def step(self) -> tuple[np.ndarray, np.ndarray]:
        """Apply the setpoints for one step; return power [kW] and end energy [kWh].

        The arithmetic of :func:`battery_step` with its constant factors computed once
        (the stored energy never leaves its band, so its distance to each limit is never
        negative).
        """
        e = self.energy_kwh
        hi = np.minimum(self.power_max_kw, (e - self.energy_min_kwh) * self._k_out)
        lo = np.minimum(self.power_max_kw, (self.energy_max_kwh - e) * self._k_in)
        p = np.minimum(np.maximum(self.setpoint_kw, -lo), hi)
        out = np.maximum(p, 0.0)
        self.energy_kwh = e + (out - p) * self._c_in - out * self._c_out
        return p, self.energy_kwh

    def losses_kw(self, power_kw: np.ndarray) -> np.ndarray:
        """Conversion losses at AC power ``power_kw`` (``(..., batteries)``, + discharging) [kW]."""
        out = np.maximum(power_kw, 0.0)
        inn = out - power_kw
        return inn * (1 - self.eta_c) + out * (1 / self.eta_d - 1)
