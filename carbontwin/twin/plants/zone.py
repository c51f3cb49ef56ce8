"""Building thermal zones (1R1C) with chillers, heat pumps, lighting and plug loads.

The pure functions are the published methods; :class:`Zones` holds the arrays of every
zone of a park and steps them together.

Examples
--------
>>> round(float(rc_zone_step(20.0, 0.0, 30.0, 2.0, 5.0, 10.0)), 4)  # one time constant
26.3212
>>> round(float(chiller_cop(35.0, 3.5)), 3), round(float(chiller_cop(25.0, 3.5)), 3)
(3.5, 4.667)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from carbontwin.core.assets import HvacZone

__all__ = [
    "SIGNALS",
    "Zones",
    "chiller_cop",
    "heat_pump_cop",
    "rc_thermostat_step",
    "rc_zone_step",
]

#: Signals of an ``hvac`` asset: name → (unit, ``flow`` or ``state``).
SIGNALS: dict[str, tuple[str, str]] = {
    "temp_c": ("degC", "state"),
    "setpoint_c": ("degC", "state"),
    "occupancy": ("dimensionless", "state"),
    "electricity": ("kWh", "flow"),
    "hvac_electricity": ("kWh", "flow"),
    "cooling_electricity": ("kWh", "flow"),
    "heating_electricity": ("kWh", "flow"),
    "lighting": ("kWh", "flow"),
    "plug": ("kWh", "flow"),
    "cooling": ("kWh", "flow"),
    "heating": ("kWh", "flow"),
}

_COP_MIN, _COP_MAX_FACTOR = 1.0, 2.5


def rc_zone_step(
    temp_c: np.ndarray | float,
    q_kw: np.ndarray | float,
    temp_out_c: np.ndarray | float,
    r_k_per_kw: np.ndarray | float,
    c_kwh_per_k: np.ndarray | float,
    dt_h: float,
) -> np.ndarray:
    r"""Advance a 1R1C zone by one step with the exact exponential solution.

    Parameters
    ----------
    temp_c : array_like
        Zone air temperature at the start of the step [°C].
    q_kw : array_like
        Net heat into the zone, constant over the step (gains + heating − cooling) [kW].
    temp_out_c : array_like
        Outdoor air temperature [°C].
    r_k_per_kw : array_like
        Thermal resistance to the outdoors, 1/UA [K/kW].
    c_kwh_per_k : array_like
        Heat capacity [kWh/K].
    dt_h : float
        Step length [h].

    Returns
    -------
    numpy.ndarray
        Temperature at the end of the step [°C].

    Notes
    -----
    :math:`C\,dT/dt = (T_{out} - T)/R + Q` has, for constant inputs, the solution

    .. math:: T(t + \Delta t) = T_{eq} + (T(t) - T_{eq})\, e^{-\Delta t / RC},
              \quad T_{eq} = T_{out} + R\,Q

    so a step response reaches :math:`1 - e^{-1}` (63.2 %) of its change after one time
    constant :math:`\tau = RC`, whatever the step length.

    References
    ----------
    ISO 13790:2008, simple hourly method (the 5R1C network reduced to one node).

    Examples
    --------
    >>> float(rc_zone_step(20.0, 10.0, 20.0, 2.0, 5.0, 1e6))  # steady state T_out + R Q
    40.0
    """
    r = np.asarray(r_k_per_kw, dtype=float)
    teq = np.asarray(temp_out_c, dtype=float) + r * np.asarray(q_kw, dtype=float)
    a = np.exp(-dt_h / (r * np.asarray(c_kwh_per_k, dtype=float)))
    return teq + (np.asarray(temp_c, dtype=float) - teq) * a


def rc_thermostat_step(
    temp_c: np.ndarray,
    teq_free_c: np.ndarray,
    decay: np.ndarray,
    r_k_per_kw: np.ndarray,
    cooling_setpoint_c: np.ndarray,
    heating_setpoint_c: np.ndarray,
    cooling_kw: np.ndarray,
    heating_kw: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Advance zones one step under ideal thermostats with limited capacity.

    The HVAC delivers the constant heat flow that brings the zone to its setpoint at the
    end of the step, within its capacity; within the band between the heating and the
    cooling setpoint it is off.

    Parameters
    ----------
    temp_c : numpy.ndarray
        Temperatures at the start of the step [°C].
    teq_free_c : numpy.ndarray
        Equilibrium temperature without HVAC, :math:`T_{out} + R\,Q_{gains}` [°C].
    decay : numpy.ndarray
        :math:`e^{-\Delta t / RC}` of each zone.
    r_k_per_kw : numpy.ndarray
        Thermal resistance [K/kW].
    cooling_setpoint_c, heating_setpoint_c : numpy.ndarray
        Setpoints [°C].
    cooling_kw, heating_kw : numpy.ndarray
        Capacities [kW] (0 where a zone cannot cool or heat).

    Returns
    -------
    temp_c : numpy.ndarray
        Temperatures at the end of the step [°C].
    cooling_kw : numpy.ndarray
        Cooling delivered [kW thermal].
    heating_kw : numpy.ndarray
        Heating delivered [kW thermal].

    Notes
    -----
    Free-running, :math:`T_f = T_{eq} + (T - T_{eq}) a` with :math:`a = e^{-\Delta t/RC}`.
    Heat :math:`Q` changes the end temperature by :math:`R (1 - a) Q`, so the cooling that
    reaches the setpoint is :math:`(T_f - T_{sp}) / (R (1 - a))`, clipped to the capacity.

    Examples
    --------
    >>> t, qc, qh = rc_thermostat_step(np.array([26.0]), np.array([40.0]), np.array([0.9]),
    ...     np.array([1.0]), np.array([26.0]), np.array([20.0]), np.array([100.0]),
    ...     np.array([0.0]))
    >>> round(float(t[0]), 9), round(float(qc[0]), 9), float(qh[0])
    (26.0, 14.0, 0.0)
    """
    free = teq_free_c + (temp_c - teq_free_c) * decay
    gain = r_k_per_kw * (1.0 - decay)
    qc = np.minimum(np.maximum((free - cooling_setpoint_c) / gain, 0.0), cooling_kw)
    qh = np.minimum(np.maximum((heating_setpoint_c - free) / gain, 0.0), heating_kw)
    return free - gain * (qc - qh), qc, qh


def chiller_cop(
    temp_out_c: np.ndarray | float,
    cop_rated: np.ndarray | float,
    rated_temp_c: np.ndarray | float = 35.0,
    approach_k: np.ndarray | float = 10.0,
    evaporator_temp_c: np.ndarray | float = 5.0,
) -> np.ndarray:
    r"""Chiller COP at an outdoor temperature, a constant fraction of the Carnot COP.

    Parameters
    ----------
    temp_out_c : array_like
        Outdoor air temperature [°C].
    cop_rated : array_like
        COP at ``rated_temp_c`` [1].
    rated_temp_c : array_like
        Outdoor temperature of the rating [°C].
    approach_k : array_like
        Condensing temperature above the outdoor air [K].
    evaporator_temp_c : array_like
        Evaporating temperature [°C].

    Returns
    -------
    numpy.ndarray
        COP [1], between 1 and 2.5 × ``cop_rated``.

    Notes
    -----
    With the evaporating temperature fixed, the Carnot COP
    :math:`T_e / (T_c - T_e)` scales as :math:`1 / (T_{out} + \Delta T - T_e)`, so

    .. math:: COP(T_{out}) = COP_{rated}\,
              \frac{T_{rated} + \Delta T - T_e}{T_{out} + \Delta T - T_e}

    which falls as the outdoor air warms.

    Examples
    --------
    >>> float(chiller_cop(45.0, 3.0))
    2.4
    """
    lift = np.asarray(temp_out_c, dtype=float) + approach_k - evaporator_temp_c
    rated_lift = np.asarray(rated_temp_c, dtype=float) + approach_k - evaporator_temp_c
    cop = np.asarray(cop_rated, dtype=float) * rated_lift / np.maximum(lift, 1.0)
    return np.clip(cop, _COP_MIN, _COP_MAX_FACTOR * np.asarray(cop_rated, dtype=float))


def heat_pump_cop(
    temp_out_c: np.ndarray | float,
    cop_rated: np.ndarray | float,
    supply_temp_c: np.ndarray | float = 45.0,
    rated_temp_c: float = 7.0,
    approach_k: float = 5.0,
) -> np.ndarray:
    r"""Air-source heat-pump heating COP at an outdoor temperature (Carnot fraction).

    Parameters
    ----------
    temp_out_c : array_like
        Outdoor air temperature [°C].
    cop_rated : array_like
        COP at ``rated_temp_c`` outdoors [1].
    supply_temp_c : array_like
        Water supply temperature [°C].
    rated_temp_c : float
        Outdoor temperature of the rating [°C] (EN 14511: 7 °C).
    approach_k : float
        Evaporating temperature below the outdoor air [K].

    Returns
    -------
    numpy.ndarray
        COP [1], between 1 and 2.5 × ``cop_rated``.

    Notes
    -----
    .. math:: COP(T_{out}) = COP_{rated}\,
              \frac{T_s - (T_{rated} - \Delta T)}{T_s - (T_{out} - \Delta T)}

    which rises as the outdoor air warms.

    Examples
    --------
    >>> round(float(heat_pump_cop(-5.0, 3.0)), 4)
    2.3455
    """
    lift = np.asarray(supply_temp_c, dtype=float) - (np.asarray(temp_out_c) - approach_k)
    rated_lift = np.asarray(supply_temp_c, dtype=float) - (rated_temp_c - approach_k)
    cop = np.asarray(cop_rated, dtype=float) * rated_lift / np.maximum(lift, 1.0)
    return np.clip(cop, _COP_MIN, _COP_MAX_FACTOR * np.asarray(cop_rated, dtype=float))


class Zones:
    """The thermal zones of a park, as arrays (one entry per zone).

    Parameters
    ----------
    assets : sequence of HvacZone
        The zones.
    dt_h : float
        Step length [h].
    """

    def __init__(self, assets: Sequence[HvacZone], dt_h: float) -> None:
        self.assets = list(assets)
        self.ids = [a.id for a in self.assets]
        n = len(self.assets)

        def arr(name: str) -> np.ndarray:
            return np.array([float(getattr(a, name)) for a in self.assets], dtype=float)

        area = arr("floor_area_m2")
        self.r_k_per_kw = 1.0 / (arr("ua_w_per_m2_k") * area / 1000.0)
        self.c_kwh_per_k = arr("capacitance_wh_per_m2_k") * area / 1000.0
        self.tau_h = self.r_k_per_kw * self.c_kwh_per_k
        self.decay = np.exp(-dt_h / self.tau_h)
        self.cooling_kw = arr("cooling_kw")
        self.heating_kw = np.array(
            [a.heating_kw if a.heating != "none" else 0.0 for a in self.assets], dtype=float
        )
        self.heat_pump = np.array([a.heating == "heat_pump" for a in self.assets], dtype=bool)
        self.lighting_kw = arr("lighting_w_per_m2") * area / 1000.0
        self.plug_kw = arr("plug_w_per_m2") * area / 1000.0
        self.people_kw = arr("people_w_per_m2") * area / 1000.0
        self.fan_kw = arr("fan_w_per_m2") * area / 1000.0
        self.plug_base_frac = arr("plug_base_frac")
        self.aperture_m2 = arr("solar_aperture_frac") * area
        self.comfort_low_c = arr("comfort_low_c")
        self.comfort_high_c = arr("comfort_high_c")
        # Lighting heat raises the free equilibrium by R × lighting kW × dimming.
        self.teq_per_dimming = self.r_k_per_kw * self.lighting_kw
        self.temp_c = np.array(
            [a.initial_temp_c if a.initial_temp_c is not None else a.setpoint_c for a in assets],
            dtype=float,
        )
        # Setpoints and dimming: written by the controller, read by every step.
        self.cooling_setpoint_c = arr("setpoint_c")
        self.heating_setpoint_c = np.array(
            [a.heating_setpoint_c if a.heating != "none" else -1e9 for a in self.assets], float
        )
        self.dimming_frac = np.ones(n)
        # Heat delivered per kW changes the end temperature by R (1 - a).
        self.gain = self.r_k_per_kw * (1.0 - self.decay)
        self.inv_gain = 1.0 / self.gain
        # Capacities today (zero while the zone's enterprise is out of the park).
        self.cooling_now_kw = self.cooling_kw.copy()
        self.heating_now_kw = self.heating_kw.copy()
        self.teq_light_now = self.teq_per_dimming.copy()

    def __len__(self) -> int:
        return len(self.assets)

    def cop_arrays(self, temp_out_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return chiller and heat-pump COPs (steps × zones) at outdoor temperatures."""
        t = temp_out_c[:, None]
        cop_c = chiller_cop(
            t,
            np.array([a.cop for a in self.assets]),
            np.array([a.cop_rated_temp_c for a in self.assets]),
            np.array([a.condenser_approach_k for a in self.assets]),
            np.array([a.evaporator_temp_c for a in self.assets]),
        )
        cop_h = heat_pump_cop(
            t,
            np.array([a.heating_cop for a in self.assets]),
            np.array([a.heating_supply_temp_c for a in self.assets]),
        )
        return cop_c, cop_h

    def step(self, teq_base_c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance every zone one step; return end temperatures, cooling and heating [kW].

        ``teq_base_c`` is the free equilibrium without lighting (outdoor temperature plus
        R × the other gains) for this step [°C]. The arithmetic is
        :func:`rc_thermostat_step`'s, with the constant factors computed once.
        """
        teq = teq_base_c + self.teq_light_now * self.dimming_frac
        free = teq + (self.temp_c - teq) * self.decay
        qc = np.minimum(
            np.maximum((free - self.cooling_setpoint_c) * self.inv_gain, 0.0), self.cooling_now_kw
        )
        qh = np.minimum(
            np.maximum((self.heating_setpoint_c - free) * self.inv_gain, 0.0), self.heating_now_kw
        )
        self.temp_c = free - self.gain * (qc - qh)
        return self.temp_c, qc, qh
