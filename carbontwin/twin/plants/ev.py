"""EV charge points: stochastic arrivals by hour of day, charging within a power limit.

Arrivals are a Poisson process whose rate follows an hourly profile; each session wants
an energy and stays plugged in for a dwell time (both random). Charging draws
``min(limit, wanted / (η Δt))`` from the bus; the car receives ``η`` of it.

Examples
--------
>>> p, need = ev_charge_step(np.array([1.0, 30.0, 5.0]), np.array([True, True, False]),
...     np.array([7.0, 7.0, 7.0]), 1 / 60, 0.95)
>>> np.round(p, 4).tolist(), np.round(need, 4).tolist()
([7.0, 7.0, 0.0], [0.8892, 29.8892, 5.0])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from carbontwin.core.assets import EvChargers

__all__ = ["PROFILES", "SIGNALS", "EvPorts", "arrival_rate_per_h", "ev_charge_step"]

#: Signals of an ``ev`` asset: name → (unit, ``flow`` or ``state``).
SIGNALS: dict[str, tuple[str, str]] = {
    "electricity": ("kWh", "flow"),
    "connected": ("dimensionless", "state"),
}

#: Relative arrival rate by local hour (0–23) of each profile.
# fmt: off
PROFILES: dict[str, np.ndarray] = {
    "workplace": np.array([0, 0, 0, 0, 0, 0.2, 0.8, 3.0, 4.0, 2.5, 1.0, 0.6, 0.8, 1.0, 0.6, 0.4,
                           0.3, 0.3, 0.2, 0.2, 0.1, 0.1, 0, 0], dtype=float),
    "fleet": np.array([0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.3, 0.4, 0.3, 0.3, 0.4, 0.6, 0.8, 0.6, 0.5,
                       0.6, 0.9, 1.8, 2.5, 2.5, 2.0, 1.4, 0.9, 0.5], dtype=float),
    "public": np.array([0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.0, 1.1, 1.2, 1.2, 1.1,
                        1.0, 1.0, 1.1, 1.3, 1.3, 1.1, 0.9, 0.6, 0.4, 0.2], dtype=float),
}
# fmt: on
_WEEKEND = {"workplace": 0.2, "fleet": 1.0, "public": 1.0}


def arrival_rate_per_h(
    profile: str, sessions_per_day: float, hour: float | np.ndarray, weekday: int | np.ndarray
) -> np.ndarray:
    """Arrival rate of a profile at local ``hour`` on ``weekday`` (0 = Monday) [1/h].

    The profile's 24 weights are scaled so a weekday has ``sessions_per_day`` arrivals
    on average; workplaces see a fifth of that at weekends.

    Examples
    --------
    >>> w = [float(arrival_rate_per_h("public", 24.0, h, 0)) for h in range(24)]
    >>> round(sum(w), 9)
    24.0
    """
    weights = PROFILES[profile]
    rate = weights[np.asarray(hour, dtype=int) % 24] * sessions_per_day / weights.sum()
    weekend = np.asarray(weekday) >= 5
    return np.where(weekend, rate * _WEEKEND[profile], rate)


def ev_charge_step(
    need_kwh: np.ndarray,
    connected: np.ndarray,
    limit_kw: np.ndarray,
    dt_h: float,
    efficiency_frac: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray]:
    """Charge the connected cars for one step.

    Parameters
    ----------
    need_kwh : numpy.ndarray
        Energy each car still wants [kWh].
    connected : numpy.ndarray of bool
        Whether a car is plugged in at each port.
    limit_kw : numpy.ndarray
        Power limit of each port (its rating or a lower setpoint) [kW].
    dt_h : float
        Step length [h].
    efficiency_frac : numpy.ndarray or float
        Charger efficiency [fraction].

    Returns
    -------
    power_kw : numpy.ndarray
        Power drawn from the bus [kW].
    need_kwh : numpy.ndarray
        Energy still wanted at the end of the step [kWh].
    """
    p = np.minimum(limit_kw, need_kwh / (efficiency_frac * dt_h)) * connected
    return p, need_kwh - p * efficiency_frac * dt_h


class EvPorts:
    """All charge points of a park, one entry per port, grouped by asset."""

    def __init__(self, assets: Sequence[EvChargers], dt_h: float) -> None:
        self.assets = list(assets)
        self.ids = [a.id for a in self.assets]
        self.dt_h = dt_h
        counts = [a.count for a in self.assets]
        self.group = np.repeat(np.arange(len(self.assets)), counts)
        self.starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.intp)
        n = int(sum(counts))
        self.rating_kw = np.repeat([a.power_kw for a in self.assets], counts).astype(float)
        self.efficiency = np.repeat([a.efficiency_frac for a in self.assets], counts).astype(float)
        #: Per-port power limit [kW]; the controller writes a group's limit to its ports.
        self.limit_kw = self.rating_kw.copy()
        self.connected = np.zeros(n, dtype=bool)
        self.need_kwh = np.zeros(n)
        self.sessions = np.zeros(len(self.assets), dtype=np.int64)
        self.refused = np.zeros(len(self.assets), dtype=np.int64)
        self.unmet_kwh = np.zeros(len(self.assets))
        self._per_kwh = 1.0 / (self.efficiency * dt_h)  # power that delivers 1 kWh in a step
        self._kwh_per_kw = self.efficiency * dt_h

    def __len__(self) -> int:
        return len(self.group)

    def set_limit(self, group: int, limit_kw: float) -> None:
        """Limit every port of group ``group`` to ``limit_kw`` (at most its rating) [kW]."""
        a, count = self.starts[group], self.assets[group].count
        self.limit_kw[a : a + count] = np.minimum(limit_kw, self.rating_kw[a : a + count])

    def plug_in(self, group: int, need_kwh: float) -> int:
        """Connect a car wanting ``need_kwh`` to a free port of ``group``; its index or -1."""
        a, count = self.starts[group], self.assets[group].count
        free = np.flatnonzero(~self.connected[a : a + count])
        if not len(free):
            self.refused[group] += 1
            return -1
        port = int(a + free[0])
        self.connected[port] = True
        self.need_kwh[port] = need_kwh
        self.sessions[group] += 1
        return port

    def unplug(self, port: int) -> None:
        """Disconnect the car at ``port``; what it still wanted is counted as unmet."""
        self.unmet_kwh[self.group[port]] += self.need_kwh[port]
        self.connected[port] = False
        self.need_kwh[port] = 0.0

    def step(self) -> np.ndarray:
        """Charge for one step; return the power of each port [kW].

        The arithmetic of :func:`ev_charge_step` with its constant factors computed once.
        """
        p = np.minimum(self.limit_kw, self.need_kwh * self._per_kwh) * self.connected
        self.need_kwh = np.maximum(self.need_kwh - p * self._kwh_per_kw, 0.0)
        return p
