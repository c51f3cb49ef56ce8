"""Photovoltaic arrays: sun position, plane-of-array irradiance, cell temperature, power.

A PVWatts-style chain in numpy: NOAA solar position, isotropic-sky transposition, the
Faiman cell-temperature model, PVWatts DC power with a temperature coefficient, and an
inverter with a flat efficiency and an AC limit. The tests check each step against pvlib.

Examples
--------
>>> import pandas as pd
>>> t = pd.Timestamp("2025-06-21 12:00", tz="Asia/Shanghai")
>>> z, az = solar_position(np.array([t.value / 1e9]), 34.0, 120.0)
>>> round(float(z[0]), 1), round(float(az[0]), 0)
(10.6, 178.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from carbontwin.core.assets import PvArray

__all__ = [
    "SIGNALS",
    "PvArrays",
    "cell_temperature_faiman",
    "poa_irradiance_isotropic",
    "pv_ac_power_kw",
    "pv_dc_power_kw",
    "solar_position",
]

#: Signals of a ``pv`` asset: name → (unit, ``flow`` or ``state``).
SIGNALS: dict[str, tuple[str, str]] = {
    "ac": ("kWh", "flow"),
    "poa_w_per_m2": ("W/m^2", "state"),
    "cell_temp_c": ("degC", "state"),
}


def solar_position(
    unix_s: np.ndarray, latitude_deg: float, longitude_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""Solar zenith and azimuth, NOAA's algorithm (no refraction).

    Parameters
    ----------
    unix_s : numpy.ndarray
        Instants [s since 1970-01-01 UTC].
    latitude_deg, longitude_deg : float
        Site [deg], north and east positive.

    Returns
    -------
    zenith_deg, azimuth_deg : numpy.ndarray
        True (geometric) zenith angle and azimuth clockwise from north [deg].

    Notes
    -----
    The NOAA solar calculator (after Meeus, *Astronomical Algorithms*): mean longitude and
    anomaly of the sun, equation of centre, apparent longitude, obliquity, declination and
    the equation of time give the hour angle. Accurate to about 0.02° between 1800 and
    2100, well inside what hourly weather supports.

    References
    ----------
    NOAA Global Monitoring Laboratory, Solar Calculation Details (NOAA_Solar_Calculations_day).
    """
    jd = np.asarray(unix_s, dtype=float) / 86_400.0 + 2_440_587.5
    jc = (jd - 2_451_545.0) / 36_525.0
    l0 = np.mod(280.46646 + jc * (36_000.76983 + jc * 0.0003032), 360.0)
    m = 357.52911 + jc * (35_999.05029 - 0.0001537 * jc)
    ecc = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    mr = np.radians(m)
    centre = (
        np.sin(mr) * (1.914602 - jc * (0.004817 + 0.000014 * jc))
        + np.sin(2 * mr) * (0.019993 - 0.000101 * jc)
        + np.sin(3 * mr) * 0.000289
    )
    omega = np.radians(125.04 - 1934.136 * jc)
    app_long = np.radians(l0 + centre - 0.00569 - 0.00478 * np.sin(omega))
    mean_obliq = 23.0 + (26.0 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60) / 60
    obliq = np.radians(mean_obliq + 0.00256 * np.cos(omega))
    decl = np.arcsin(np.sin(obliq) * np.sin(app_long))
    y = np.tan(obliq / 2) ** 2
    l0r = np.radians(l0)
    eot_min = 4 * np.degrees(
        y * np.sin(2 * l0r)
        - 2 * ecc * np.sin(mr)
        + 4 * ecc * y * np.sin(mr) * np.cos(2 * l0r)
        - 0.5 * y * y * np.sin(4 * l0r)
        - 1.25 * ecc * ecc * np.sin(2 * mr)
    )
    minutes_utc = np.mod(np.asarray(unix_s, dtype=float), 86_400.0) / 60.0
    true_solar_min = np.mod(minutes_utc + eot_min + 4 * longitude_deg, 1440.0)
    hour_angle = np.radians(true_solar_min / 4 - 180.0)
    lat = np.radians(latitude_deg)
    cos_z = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    zen = np.arccos(np.clip(cos_z, -1.0, 1.0))
    sin_z = np.maximum(np.sin(zen), 1e-12)
    cos_az = (np.sin(lat) * np.cos(zen) - np.sin(decl)) / (np.cos(lat) * sin_z)
    az0 = np.degrees(np.arccos(np.clip(cos_az, -1.0, 1.0)))
    azimuth = np.where(hour_angle > 0, np.mod(az0 + 180.0, 360.0), np.mod(540.0 - az0, 360.0))
    return np.degrees(zen), azimuth


def poa_irradiance_isotropic(
    dni_w_per_m2: np.ndarray,
    dhi_w_per_m2: np.ndarray,
    ghi_w_per_m2: np.ndarray,
    zenith_deg: np.ndarray,
    azimuth_deg: np.ndarray,
    tilt_deg: float | np.ndarray,
    surface_azimuth_deg: float | np.ndarray,
    albedo_frac: float | np.ndarray = 0.2,
) -> np.ndarray:
    r"""Plane-of-array irradiance with an isotropic sky (Liu and Jordan).

    Parameters
    ----------
    dni_w_per_m2, dhi_w_per_m2, ghi_w_per_m2 : numpy.ndarray
        Direct normal, diffuse horizontal and global horizontal irradiance [W/m²].
    zenith_deg, azimuth_deg : numpy.ndarray
        Sun position [deg].
    tilt_deg, surface_azimuth_deg : float or numpy.ndarray
        Surface orientation [deg] (azimuth 180 = south).
    albedo_frac : float or numpy.ndarray
        Ground reflectance [fraction].

    Returns
    -------
    numpy.ndarray
        Irradiance on the plane [W/m²].

    Notes
    -----
    .. math:: G_{poa} = DNI \max(\cos\theta, 0) + DHI \frac{1 + \cos\beta}{2}
              + GHI\,\rho \frac{1 - \cos\beta}{2}

    with :math:`\cos\theta = \cos z \cos\beta + \sin z \sin\beta \cos(\gamma_s - \gamma)`.

    References
    ----------
    Liu, B. Y. H. and Jordan, R. C. (1963), Solar Energy 7(2), 53–74.
    """
    z, tilt = np.radians(zenith_deg), np.radians(tilt_deg)
    cos_aoi = np.cos(z) * np.cos(tilt) + np.sin(z) * np.sin(tilt) * np.cos(
        np.radians(np.asarray(azimuth_deg) - surface_azimuth_deg)
    )
    beam = dni_w_per_m2 * np.maximum(cos_aoi, 0.0)
    sky = dhi_w_per_m2 * (1 + np.cos(tilt)) / 2
    ground = ghi_w_per_m2 * albedo_frac * (1 - np.cos(tilt)) / 2
    return beam + sky + ground


def cell_temperature_faiman(
    poa_w_per_m2: np.ndarray,
    temp_air_c: np.ndarray,
    wind_speed_m_per_s: float | np.ndarray = 1.0,
    u0_w_per_m2_k: float | np.ndarray = 25.0,
    u1_w_s_per_m3_k: float | np.ndarray = 6.84,
) -> np.ndarray:
    r"""Compute the module temperature with Faiman's model.

    Parameters
    ----------
    poa_w_per_m2 : numpy.ndarray
        Plane-of-array irradiance [W/m²].
    temp_air_c : numpy.ndarray
        Air temperature [°C].
    wind_speed_m_per_s : float or numpy.ndarray
        Wind speed [m/s].
    u0_w_per_m2_k, u1_w_s_per_m3_k : float or numpy.ndarray
        Heat-loss coefficients [W/(m² K)], [W s/(m³ K)].

    Returns
    -------
    numpy.ndarray
        Cell temperature [°C].

    Notes
    -----
    .. math:: T_c = T_a + \frac{G_{poa}}{u_0 + u_1 v}

    References
    ----------
    Faiman, D. (2008), Progress in Photovoltaics 16(4), 307–315; IEC 61853-2:2016.
    """
    return temp_air_c + poa_w_per_m2 / (u0_w_per_m2_k + u1_w_s_per_m3_k * wind_speed_m_per_s)


def pv_dc_power_kw(
    poa_w_per_m2: np.ndarray,
    cell_temp_c: np.ndarray,
    capacity_kw: float | np.ndarray,
    temp_coeff_per_k: float | np.ndarray = -0.0037,
) -> np.ndarray:
    r"""DC power of an array, PVWatts.

    Parameters
    ----------
    poa_w_per_m2 : numpy.ndarray
        Plane-of-array irradiance [W/m²].
    cell_temp_c : numpy.ndarray
        Cell temperature [°C].
    capacity_kw : float or numpy.ndarray
        DC nameplate at 1000 W/m² and 25 °C [kW].
    temp_coeff_per_k : float or numpy.ndarray
        Power temperature coefficient [1/K].

    Returns
    -------
    numpy.ndarray
        DC power before system losses [kW].

    Notes
    -----
    .. math:: P_{dc} = P_{dc0} \frac{G_{poa}}{1000} (1 + \gamma (T_c - 25))

    References
    ----------
    Dobos, A. P. (2014), PVWatts Version 5 Manual, NREL/TP-6A20-62641, eq. 3.
    """
    return capacity_kw * poa_w_per_m2 / 1000.0 * (1 + temp_coeff_per_k * (cell_temp_c - 25.0))


def pv_ac_power_kw(
    dc_kw: np.ndarray,
    ac_capacity_kw: float | np.ndarray,
    inverter_efficiency_frac: float | np.ndarray = 0.96,
    losses_frac: float | np.ndarray = 0.10,
) -> np.ndarray:
    r"""AC power after system losses and the inverter, limited to the inverter rating.

    Parameters
    ----------
    dc_kw : numpy.ndarray
        DC power from :func:`pv_dc_power_kw` [kW].
    ac_capacity_kw : float or numpy.ndarray
        Inverter AC limit [kW].
    inverter_efficiency_frac : float or numpy.ndarray
        Inverter efficiency [fraction].
    losses_frac : float or numpy.ndarray
        DC system losses [fraction].

    Returns
    -------
    numpy.ndarray
        AC power, never negative and never above ``ac_capacity_kw`` [kW].

    Notes
    -----
    .. math:: P_{ac} = \min(\max(P_{dc} (1 - L)\,\eta_{inv}, 0), P_{ac,max})

    Examples
    --------
    >>> pv_ac_power_kw(np.array([-1.0, 50.0, 500.0]), 400.0, 0.96, 0.0).tolist()
    [0.0, 48.0, 400.0]
    """
    return np.minimum(
        np.maximum(dc_kw * (1 - losses_frac) * inverter_efficiency_frac, 0.0), ac_capacity_kw
    )


class PvArrays:
    """The PV arrays of a park, as arrays (one entry per array).

    Parameters
    ----------
    assets : sequence of PvArray
        The arrays.
    """

    def __init__(self, assets: Sequence[PvArray]) -> None:
        self.assets = list(assets)
        self.ids = [a.id for a in self.assets]

        def arr(name: str) -> np.ndarray:
            return np.array([float(getattr(a, name)) for a in self.assets], dtype=float)

        self.capacity_kw = arr("capacity_kw")
        self.ac_capacity_kw = np.array(
            [a.ac_capacity_kw or a.capacity_kw for a in self.assets], dtype=float
        )
        self.tilt_deg = arr("tilt_deg")
        self.azimuth_deg = arr("azimuth_deg")
        self.eff = arr("inverter_efficiency_frac")
        self.gamma = arr("temp_coeff_per_k")
        self.losses = arr("losses_frac")
        self.albedo = arr("albedo_frac")
        self.u0 = arr("u0_w_per_m2_k")
        self.u1 = arr("u1_w_s_per_m3_k")

    def __len__(self) -> int:
        return len(self.assets)

    def power(
        self,
        dni: np.ndarray,
        dhi: np.ndarray,
        ghi: np.ndarray,
        zenith_deg: np.ndarray,
        azimuth_deg: np.ndarray,
        temp_air_c: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return AC power [kW], POA [W/m²] and cell temperature [°C] (steps × arrays).

        Zero when the sun is below the horizon.
        """
        col = (slice(None), None)
        poa = poa_irradiance_isotropic(
            dni[col], dhi[col], ghi[col], zenith_deg[col], azimuth_deg[col],
            self.tilt_deg, self.azimuth_deg, self.albedo,
        )  # fmt: skip
        poa = np.where(zenith_deg[col] < 90.0, poa, 0.0)
        cell = cell_temperature_faiman(poa, temp_air_c[col], 1.0, self.u0, self.u1)
        dc = pv_dc_power_kw(poa, cell, self.capacity_kw, self.gamma)
        return pv_ac_power_kw(dc, self.ac_capacity_kw, self.eff, self.losses), poa, cell
