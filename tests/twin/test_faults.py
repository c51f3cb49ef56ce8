"""Faults appear at their configured rates and look like what they are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbontwin.twin import simulate
from tests.twin.conftest import small_park

RATES = {
    "dropout_frac": 0.01,
    "spike_frac": 0.008,
    "stuck_frac": 0.004,
    "skew_frac": 0.004,
    "reset_frac": 0.002,
}
N = 12  # points of each kind


@pytest.fixture(scope="module")
def faulty():
    load = {
        "id": "L", "kind": "load", "enterprise": "E1", "power_kw": 300.0, "noise_frac": 0.1,
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
    faults = {**RATES, "stuck_readings": 5, "skew_readings": 7, "skew_s": 30.0, "noise_frac": 0.005}
    park = small_park(assets=[load], points=points, faults=faults)
    return simulate(park, "2025-03-01", 3, seed=11)


def within_binomial(k: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    return abs(k - n * p) <= sigmas * np.sqrt(n * p * (1 - p))


@pytest.mark.parametrize("fault", ["dropout", "spike", "stuck", "skew", "reset"])
def test_each_fault_starts_at_its_configured_rate(faulty, fault):
    onsets = faulty.faults[faulty.faults.fault == fault]
    eligible = faulty.eligible
    if fault == "reset":  # registers only
        registers = [p.id for p in faulty.park.points if p.kind == "cumulative"]
        eligible = eligible[registers]
        assert set(onsets.point.astype(str)) <= set(eligible.index)
    n = int(eligible.sum())
    assert n > 50_000
    assert within_binomial(len(onsets), n, RATES[f"{fault}_frac"]), (len(onsets), n)


def test_dropped_readings_never_arrive(faulty):
    got = faulty.readings.groupby("point", observed=True).size()
    dropped = faulty.faults[faulty.faults.fault == "dropout"].groupby("point", observed=True).size()
    expected = faulty.eligible - dropped.reindex(faulty.eligible.index, fill_value=0)
    pd.testing.assert_series_equal(got.reindex(expected.index), expected, check_names=False)


def test_faults_change_what_is_reported_not_the_truth(faulty):
    r = faulty.readings
    inst = r[
        r.point.astype(str).str.startswith("M-KW") & ~r.point.astype(str).str.startswith("M-KWH")
    ]
    spikes = inst[inst.fault == "spike"]
    assert len(spikes) and np.allclose(spikes.value, spikes.true_value * 10.0, rtol=0.05)
    clean = inst[inst.fault == "none"]
    rel = clean.value / clean.true_value - 1
    assert 0.0 < rel.std() < 0.01  # sensor noise stays on the reported value (0.5 %)
    # Stuck: the same value for the episode; skew: timestamps off the grid by at most 30 s.
    stuck = r[r.fault == "stuck"]
    runs = stuck.groupby("point", observed=True).value.nunique()
    assert (runs < stuck.groupby("point", observed=True).size()).all()
    skewed = r[r.fault == "skew"]
    off = (pd.DatetimeIndex(skewed.ts).as_unit("ms").asi8 % 60_000).astype(np.int64)
    off = np.where(off > 30_000, off - 60_000, off)
    assert len(skewed) and np.all(np.abs(off) <= 30_000) and np.any(off != 0)
    # A reset restarts the register from zero and it counts on from there.
    resets = r[r.fault == "reset"]
    assert len(resets) and np.all(resets.value == 0.0) and np.all(resets.true_value > 0)


def test_a_clean_run_has_no_faults(demo):
    park = demo.model_copy(deep=True)
    park.twin.faults = type(park.twin.faults)()
    res = simulate(park, "2025-07-01", 1, seed=1)
    assert res.faults.empty and (res.readings.fault == "none").all()
    assert np.array_equal(res.readings.value.to_numpy(), res.readings.true_value.to_numpy())
