"""HVAC zones: pre-cooling on cheap night power, soft comfort, fast == Pyomo, bad input."""

import numpy as np
import pytest

from carbontwin.core.errors import ValidationError
from carbontwin.optimizers import solve
from carbontwin.optimizers.assets import HvacZones

from .conftest import assert_fast_equals_reference, flat_problem, random_problem

HOUR = np.arange(24) + 0.5
DAY = (HOUR >= 8) & (HOUR < 18)
TOU = np.where(HOUR < 8, 0.3, np.where(DAY, 1.2, 0.75))


def _zone(**changes):
    """One zone, RC = 20 h, 32 °C outside, 21-25 °C by day, 18-28 °C at night."""
    base = {
        "capacitance_kwh_per_k": [10.0],
        "resistance_k_per_kw": [2.0],
        "temp_start_c": [24.0],
        "temp_out_c": 32.0,
        "comfort_min_c": np.where(DAY, 21.0, 18.0),
        "comfort_max_c": np.where(DAY, 25.0, 28.0),
        "cooling_power_max_kw": 10.0,
        "cooling_cop": 3.0,
    }
    return HvacZones(**(base | changes))


def test_cheap_night_power_pre_cools_the_zone():
    tou = solve(flat_problem(price=TOU, hvac=_zone()))
    flat = solve(flat_problem(price=np.full(24, 0.75), hvac=_zone()))
    night_tou = tou.assets["hvac"]["cooling_kw"][0, :8].sum()
    night_flat = flat.assets["hvac"]["cooling_kw"][0, :8].sum()
    # a flat tariff cools as late as possible (a colder zone leaks more heat in); the
    # night tariff stores cold before the 1.2 CNY/kWh day
    assert night_flat <= 1e-6 < 1.0 < night_tou
    temp = tou.assets["hvac"]["temp_c"][0]
    assert temp[7] < 25.0 - 0.5  # colder than the day band needs when the day starts
    # the band holds every step: no discomfort
    assert tou.assets["hvac"]["discomfort_kh"][0] == pytest.approx(0.0, abs=1e-6)
    assert tou.costs_cny["discomfort_cny"] == pytest.approx(0.0, abs=1e-6)
    # the free-floating zone would reach 24 + 8(1 - exp(-8/20)) = 26.64 °C by step 7
    free = 32 - 8 * np.exp(-8 / 20)
    assert flat.assets["hvac"]["temp_c"][0, 7] == pytest.approx(free, rel=1e-6)


def test_soft_comfort_reports_discomfort_instead_of_failing():
    p = flat_problem(price=TOU, hvac=_zone(cooling_power_max_kw=0.5))
    r = solve(p)
    kh = r.assets["hvac"]["discomfort_kh"][0]
    assert kh > 1.0 and r.check.ok
    # 1000 CNY per K·h by default
    assert r.costs_cny["discomfort_cny"] == pytest.approx(1000.0 * kh, rel=1e-6)
    # at the penalty, cooling runs flat out whenever the zone is above the band
    hot = r.assets["hvac"]["temp_c"][0] > 25.0 + 1e-6
    assert np.allclose(r.assets["hvac"]["cooling_kw"][0, hot & DAY], 0.5, atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_fast_equals_reference(seed):
    rng = np.random.default_rng(seed)
    zones = HvacZones(
        capacitance_kwh_per_k=rng.uniform(3.0, 20.0, 3),
        resistance_k_per_kw=rng.uniform(1.0, 6.0, 3),
        temp_start_c=rng.uniform(20.0, 26.0, 3),
        temp_out_c=rng.uniform(-2.0, 35.0, 24),
        comfort_min_c=np.where(DAY, 21.0, 17.0),
        comfort_max_c=np.where(DAY, 24.0, 28.0),
        cooling_power_max_kw=rng.uniform(1.0, 6.0, 3),
        heating_power_max_kw=rng.uniform(1.0, 6.0, 3),
        cooling_cop=rng.uniform(2.5, 4.0, (3, 24)),
        heating_cop=rng.uniform(2.0, 3.5, (3, 24)),
        gains_kw=rng.uniform(0.0, 2.0, (3, 24)),
        discomfort_penalty_cny_per_kh=[200.0, 1000.0, 5000.0],
    )
    assert_fast_equals_reference(random_problem(seed, n_b=2, steps=24).replace(hvac=zones))


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"comfort_min_c": 26.0, "comfort_max_c": 22.0},
            r"comfort_min_c\(=26.0\) must be <= comfort_max_c\(=22.0\) for zone 0 at step 0;"
            " the comfort band is inverted",
        ),
        ({"capacitance_kwh_per_k": [0.0]}, r"capacitance_kwh_per_k\(=0.0\) at \(0,\) must be > 0"),
        ({"cooling_cop": -1.0}, r"cooling_cop\(=-1.0\)"),
        (
            {"temp_out_c": np.full(23, 30.0)},
            r"temp_out_c has shape \(23,\) but must be a scalar, \(1,\) one per unit",
        ),
        ({"cooling_power_max_kw": -2.0}, "a power limit cannot be negative"),
        ({"temp_start_c": [np.nan]}, r"temp_start_c\(=nan\) must be finite"),
    ],
)
def test_bad_zones(changes, match):
    with pytest.raises(ValidationError, match=match):
        flat_problem(hvac=_zone(**changes))
