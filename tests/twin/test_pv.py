"""PV: each step of the chain against pvlib, and the physics of a simulated run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest
from numpy.testing import assert_allclose

from carbontwin.twin.plants.pv import (
    cell_temperature_faiman,
    poa_irradiance_isotropic,
    pv_ac_power_kw,
    pv_dc_power_kw,
    solar_position,
)

TIMES = pd.date_range("2025-01-01", "2025-12-31 23:00", freq="37min", tz="UTC")


@pytest.mark.parametrize(("lat", "lon"), [(34.0, 120.2), (-33.9, 18.4), (60.2, 24.9)])
def test_solar_position_agrees_with_pvlib_spa(lat, lon):
    z, az = solar_position(TIMES.as_unit("s").asi8.astype(float), lat, lon)
    ref = pvlib.solarposition.get_solarposition(TIMES, lat, lon, method="nrel_numpy")
    up = ref.zenith.to_numpy() < 88
    assert np.abs(z - ref.zenith.to_numpy()).max() < 0.05  # NOAA vs SPA: ~0.02° [deg]
    daz = (az - ref.azimuth.to_numpy() + 180) % 360 - 180
    assert np.abs(daz[up]).max() < 0.1


def test_poa_temperature_and_dc_power_agree_with_pvlib():
    rng = np.random.default_rng(0)
    n = 500
    z, az = rng.uniform(0, 89, n), rng.uniform(0, 360, n)
    dni, dhi = rng.uniform(0, 900, n), rng.uniform(0, 300, n)
    ghi = dni * np.cos(np.radians(z)) + dhi
    poa = poa_irradiance_isotropic(dni, dhi, ghi, z, az, 25.0, 180.0, 0.2)
    ref = pvlib.irradiance.get_total_irradiance(25.0, 180.0, z, az, dni, ghi, dhi, albedo=0.2)
    assert_allclose(poa, ref["poa_global"], rtol=1e-10)  # the same closed formula
    t_air = rng.uniform(-10, 40, n)
    cell = cell_temperature_faiman(poa, t_air, 1.0, 25.0, 6.84)
    assert_allclose(cell, pvlib.temperature.faiman(poa, t_air, 1.0, 25.0, 6.84), rtol=1e-12)
    dc = pv_dc_power_kw(poa, cell, 400.0, -0.0037)
    assert_allclose(dc, pvlib.pvsystem.pvwatts_dc(poa, cell, 400.0, -0.0037), rtol=1e-12)
    ac = pv_ac_power_kw(dc, 380.0, 0.96, 0.1)
    assert ac.min() >= 0 and ac.max() <= 380.0


def test_pv_is_zero_at_night_and_never_above_capacity(demo_run, demo):
    tr = demo_run.trace
    steps = np.arange(tr.sizes["step"])
    unix = demo_run.clock.start.value / 1e9 + (steps + 0.5) * demo_run.clock.step_s
    zen, _ = solar_position(unix, demo.twin.latitude_deg, demo.twin.longitude_deg)
    for pv in [a for a in demo.assets if a.kind == "pv"]:
        ac = tr.sel(signal=f"{pv.id}.ac").values
        assert np.all(ac[zen >= 90] == 0.0)
        assert ac.max() <= (pv.ac_capacity_kw or pv.capacity_kw)
        assert ac.max() > 0.3 * pv.capacity_kw  # a July noon does produce
