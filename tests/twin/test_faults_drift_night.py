"""Gain drift and abnormal night loads: their labels, shapes and rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbontwin.core.operation import FaultRates
from carbontwin.twin import simulate
from carbontwin.twin.faults import FAULT_CODES, FaultInjector
from tests.twin.conftest import small_park

N = 8  # points of each kind


def _park(**faults: float):
    load = {
        "id": "L", "kind": "load", "enterprise": "E1", "power_kw": 300.0, "noise_frac": 0.05,
        "meters": {f"M-KW{i}": "electricity" for i in range(N)}
        | {f"M-KWH{i}": "electricity" for i in range(N)},
    }  # fmt: skip
    points = [
        {"id": f"M-KW{i}", "enterprise": "E1", "carrier": "electricity", "unit": "kW",
         "kind": "instantaneous", "interval_s": 60}
        for i in range(N)
    ] + [
        {"id": f"M-KWH{i}", "enterprise": "E1", "carrier": "electricity", "unit": "kWh",
         "kind": "cumulative", "interval_s": 60}
        for i in range(N)
    ]  # fmt: skip
    return small_park(assets=[load], points=points, faults=faults)


@pytest.fixture(scope="module")
def drifting():
    park = _park(drift_frac=2e-4, drift_frac_per_day=0.2, drift_days=0.5)
    return simulate(park, "2025-03-01", 4, seed=5)


@pytest.fixture(scope="module")
def night():
    park = _park(night_load_frac=2e-3, night_load_factor=2.0, night_start_h=23, night_end_h=5)
    return simulate(park, "2025-03-01", 4, seed=6)


def test_codes_are_unique_and_labelled():
    assert len(set(FAULT_CODES.values())) == len(FAULT_CODES)
    assert FAULT_CODES["drift"] == 6 and FAULT_CODES["night_load"] == 7


def test_new_rates_default_to_zero_and_count_in_the_sum():
    r = FaultRates()
    assert r.drift_frac == 0 and r.night_load_frac == 0
    with pytest.raises(ValueError, match="add up"):
        FaultRates(spike_frac=0.6, night_load_frac=0.6)


def test_drift_grows_linearly_and_stays_on_load_readings(drifting):
    r = drifting.readings
    d = r[r.fault == "drift"]
    assert len(d) > 1000
    assert set(d.point.astype(str)) <= {f"M-KW{i}" for i in range(N)}  # not on registers
    onsets = drifting.faults[drifting.faults.fault == "drift"]
    assert len(onsets) >= 3
    for _, o in onsets.iterrows():
        ep = d[(d.point == o.point) & (d.ts >= o.ts) & (d.ts < o.ts + pd.Timedelta("12h"))]
        gain = (ep.value / ep.true_value).to_numpy()
        days = ((ep.ts - o.ts).dt.total_seconds() / 86_400).to_numpy()
        # gain = 1 ± 0.2/day · t, blurred by 5 % load noise on the reported value only
        slope = np.polyfit(days, gain, 1)[0]
        assert abs(abs(slope) - 0.2) < 0.03, slope
        assert days.max() < 0.5  # the episode ends after drift_days


def test_night_load_multiplies_night_readings_only(night):
    r = night.readings
    n = r[r.fault == "night_load"]
    assert len(n) > 100
    hour = n.ts.dt.tz_convert("Asia/Shanghai").dt.hour
    assert hour.isin([23, 0, 1, 2, 3, 4]).all()
    ratio = n.value / n.true_value
    assert np.allclose(ratio.median(), 2.0, rtol=0.05)  # factor 2, noise 5 %
    assert set(n.point.astype(str)) <= {f"M-KW{i}" for i in range(N)}
    # An episode lasts until the night ends: each ends at the last reading before 05:00.
    onsets = night.faults[night.faults.fault == "night_load"]
    assert len(onsets) >= 5
    local = n.ts.dt.tz_convert("Asia/Shanghai")
    last = n.groupby([n.point.astype(str), (local - pd.Timedelta("5h")).dt.date]).ts.max()
    end = last.dt.tz_convert("Asia/Shanghai")
    assert ((end.dt.hour == 4) & (end.dt.minute == 59)).mean() > 0.9


def test_injector_carries_drift_and_night_across_chunks():
    rates = FaultRates(drift_frac=1.0, drift_frac_per_day=1.0, drift_days=1.0)
    inj = FaultInjector(rates, 1, np.random.default_rng(0), load=np.array([True]), step_s=3600)
    a = inj.apply(np.array([0]), np.ones((1, 12)), np.arange(12), kind=2)
    b = inj.apply(np.array([0]), np.ones((1, 12)), np.arange(12, 24), kind=2)
    gain = np.concatenate((a.value[0], b.value[0])) - 1
    assert np.allclose(np.abs(gain), np.arange(24) / 24)  # one episode, 1/day over a day
    assert (a.fault == FAULT_CODES["drift"]).all() and (b.fault == FAULT_CODES["drift"]).all()
    hours = lambda s: (np.asarray(s) % 24).astype(float)  # noqa: E731
    rates = FaultRates(night_load_frac=1.0, night_load_factor=3.0)
    inj = FaultInjector(
        rates, 1, np.random.default_rng(0), load=np.array([True]), step_s=3600, local_hour=hours
    )
    a = inj.apply(np.array([0]), np.ones((1, 24)), np.arange(24), kind=2)
    night = (np.arange(24) >= 22) | (np.arange(24) < 6)
    assert np.allclose(a.value[0], np.where(night, 3.0, 1.0))
    # Not on points that are not loads, nor on registers.
    inj = FaultInjector(rates, 1, np.random.default_rng(0), local_hour=hours)
    a = inj.apply(np.array([0]), np.ones((1, 24)), np.arange(24), kind=2)
    assert (a.value == 1).all() and (a.fault == 0).all()
