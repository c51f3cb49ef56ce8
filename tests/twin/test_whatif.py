"""What-if: PV lowers grid import, a battery lowers the peak, setpoints and schedules matter."""

from __future__ import annotations

import pytest

from carbontwin.core.errors import ValidationError
from carbontwin.twin import (
    AddBattery,
    AddPv,
    SetParameter,
    SetSchedule,
    SetSetpoint,
    apply_modifications,
    what_if,
)


def test_adding_pv_lowers_grid_import_and_emissions(demo):
    grid = {"E03-ELEC": 0.000581}  # tCO2e/kWh, only to weigh the activity here
    s = what_if(demo, [AddPv("E03", 3000.0)], "2025-05-05", 2, seed=1, factors=grid)
    k = s.kpis
    assert k.loc["pv_kwh", "difference"] > 1000
    # All of it displaces grid power (within what the battery does differently).
    assert k.loc["grid_import_kwh", "difference"] == pytest.approx(
        -k.loc["pv_kwh", "difference"], rel=0.01
    )
    assert k.loc["emissions_tco2e", "difference"] < 0
    assert k.loc["cost_cny", "difference"] < 0


def test_a_battery_lowers_the_peak(demo):
    base = what_if(demo, [], "2025-03-03", 2, seed=2)
    peak = float(base.base.kpis.peak_kw["E04"])
    bess = AddBattery("E04", energy_kwh=4000.0, power_kw=500.0, peak_threshold_kw=peak - 200)
    s = what_if(demo, [bess], "2025-03-03", 2, seed=2)
    assert float(s.modified.kpis.peak_kw["E04"]) < peak - 100
    assert s.kpis.loc["peak_park_kw", "difference"] < 0


def test_a_setpoint_change_changes_hvac_energy(demo):
    cooler = what_if(demo, [SetSetpoint("A-E05-HVAC.setpoint_c", 23.0)], "2025-07-14", 2)
    assert cooler.kpis.loc["hvac_electricity_kwh", "difference"] > 0
    warmer = what_if(demo, [SetParameter("A-E05-HVAC", "setpoint_c", 28.0)], "2025-07-14", 2)
    assert warmer.kpis.loc["hvac_electricity_kwh", "difference"] < 0


def test_a_longer_office_day_uses_more(demo):
    s = what_if(demo, [SetSchedule("office", start_h=6.0, end_h=21.0)], "2025-07-14", 1)
    assert s.kpis.loc["grid_import_kwh", "difference"] > 0
    assert s.park.twin.schedules["office"].start_h == 6.0
    assert demo.twin.schedules["office"].start_h == 8.0  # the original is untouched


def test_bad_modifications_are_refused(demo):
    with pytest.raises(ValidationError, match="E99"):
        apply_modifications(demo, [AddPv("E99", 10.0)])
    with pytest.raises(ValidationError, match="no parameter 'colour'"):
        apply_modifications(demo, [SetParameter("A-E05-HVAC", "colour", 1)])
    with pytest.raises(ValidationError, match="not a setpoint"):
        apply_modifications(demo, [SetSetpoint("A-E05-HVAC.colour", 1)])
    with pytest.raises(ValidationError, match="schedule 'night'"):
        apply_modifications(demo, [SetSchedule("night", start_h=1)])
