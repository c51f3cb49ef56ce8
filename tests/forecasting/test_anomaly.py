"""Anomaly detectors: each finds its fault on hand-made series and stays quiet on clean data;
on a labelled simulated month of the demo park they reach the acceptance figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbontwin.core import demo_park_path, load_park
from carbontwin.forecasting import anomaly as A
from carbontwin.twin.simulator import Simulator

TZ = "Asia/Shanghai"
INFO = {
    "P": A.PointInfo(60.0, "instantaneous"),
    "R": A.PointInfo(900.0, "cumulative", rollover=10_000.0),
    "E": A.PointInfo(900.0, "cumulative"),
    "W": A.PointInfo(60.0, "instantaneous"),
}


def frame(point: str, ts: pd.DatetimeIndex, v: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"point": point, "ts": ts, "value": np.asarray(v, dtype=float)})


def noisy(n: int = 1440, seed: int = 0, level: float = 100.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return level * (1 + 0.2 * np.sin(np.arange(n) * 2 * np.pi / 1440)) + rng.normal(0, 1, n)


def minutes(n: int, start: str = "2025-06-02") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="min", tz=TZ).tz_convert("UTC")


def profile_load(days: int, start: str, seed: int, step_min: int = 5) -> pd.DataFrame:
    """A load with a day shape (day 100 kW, night 40 kW) and 1 % noise."""
    ts = pd.date_range(start, periods=days * 1440 // step_min, freq=f"{step_min}min", tz=TZ)
    hour = ts.hour + ts.minute / 60
    base = np.where((hour >= 7) & (hour < 20), 100.0, 40.0)
    rng = np.random.default_rng(seed)
    return frame("P", ts.tz_convert("UTC"), base * (1 + 0.01 * rng.standard_normal(len(ts))))


INFO5 = {"P": A.PointInfo(300.0, "instantaneous")}


# --------------------------------------------------------------------------- data quality
def test_spikes_found_and_quiet_on_clean_noise():
    v = noisy()
    clean = A.detect_spikes(frame("P", minutes(len(v)), v))
    assert clean.empty
    v[[100, 700, 1200]] *= 10
    v[400:460] += 30  # a step up and back: not a spike
    out = A.detect_spikes(frame("P", minutes(len(v)), v))
    assert out.ts.tolist() == minutes(len(v))[[100, 700, 1200]].tolist()
    assert (out.kind == "spike").all() and (out.severity == "critical").all()
    assert out.explanation_en.str.contains("robust SDs").all()
    assert out.explanation_zh.str.contains("尖峰").all()


def test_spikes_on_a_register_are_not_resets():
    v = np.cumsum(np.full(200, 5.0)) + 1000
    v[50] *= 10
    out = A._concat(
        [
            A.detect_spikes(frame("E", minutes(200), v)),
            A.detect_resets(frame("E", minutes(200), v), INFO),
        ]
    )
    assert out.kind.tolist() == ["spike"] and out.ts.iloc[0] == minutes(200)[50]


def test_stuck_found_and_resting_values_ignored():
    v = noisy()
    v[:300] = 0.0  # rests at 0 (night) in several runs: normal
    v[600:610] = 0.0
    v[900:910] = 0.0
    assert A.detect_stuck(frame("P", minutes(len(v)), v)).empty
    v[1000:1012] = v[999]  # stuck: the value repeats 12 more readings
    out = A.detect_stuck(frame("P", minutes(len(v)), v))
    assert out.ts.tolist() == minutes(len(v))[1000:1012].tolist()
    assert (out.score == 13).all()


def test_stuck_register_needs_a_catch_up_when_it_often_idles():
    inc = np.tile(np.r_[np.zeros(10), np.full(10, 3.0)], 10)  # idles half the time
    v = 500 + np.cumsum(inc)
    assert A.detect_stuck(frame("E", minutes(len(v)), v), INFO).empty
    inc2 = inc.copy()
    inc2[12:18] = 0.0
    inc2[18] = 21.0  # six increments held, then caught up
    v2 = 500 + np.cumsum(inc2)
    out = A.detect_stuck(frame("E", minutes(len(v2)), v2), INFO)
    assert out.ts.min() == minutes(len(v2))[12] and len(out) == 6


def test_gaps_count_missing_readings_and_skew_is_not_a_gap():
    ts = minutes(300)
    v = noisy(300)
    keep = np.ones(300, dtype=bool)
    keep[[50, 51, 52, 200]] = False
    out = A.detect_gaps(frame("P", ts[keep], v[keep]), INFO)
    assert out.score.tolist() == [3.0, 1.0]
    assert out.ts.tolist() == [ts[53], ts[201]]
    skewed = ts.to_series().copy()
    skewed.iloc[100:148] += pd.Timedelta(seconds=50)  # a clock skew episode of 48 readings
    f = frame("P", pd.DatetimeIndex(skewed), v)
    assert A.detect_gaps(f, INFO).empty
    clock = A.detect_clock(f, INFO)
    assert len(clock) == 48 and np.allclose(clock.score, 10.0)  # 50 s = 10 s before the next


def test_resets_found_but_not_the_wrap():
    v = 9_000 + np.cumsum(np.full(100, 30.0))
    v = np.where(v >= 10_000, v - 10_000, v)  # wraps at the rollover: normal
    assert A.detect_resets(frame("R", minutes(100), v), INFO).empty
    v[60:] = np.cumsum(np.full(40, 30.0))  # restarts from 0
    out = A.detect_resets(frame("R", minutes(100), v), INFO)
    assert out.ts.tolist() == [minutes(100)[60]] and out.severity.iloc[0] == "critical"


# --------------------------------------------------------------------------- behaviour
@pytest.fixture(scope="module")
def fitted():
    history = profile_load(28, "2025-05-05", seed=1)
    return A.ResidualDetector(INFO5, timezone=TZ).fit(history)


def test_residual_detector_quiet_on_a_clean_week(fitted):
    out = fitted.detect(profile_load(7, "2025-06-02", seed=2))
    assert out.empty, out.kind.value_counts()


def test_night_load_found_on_its_night_only(fitted):
    week = profile_load(7, "2025-06-02", seed=3)
    local = week.ts.dt.tz_convert(TZ)
    night = (local >= pd.Timestamp("2025-06-04 23:00", tz=TZ)) & (
        local < pd.Timestamp("2025-06-05 06:00", tz=TZ)
    )
    week.loc[night, "value"] *= 1.5
    out = fitted.detect(week)
    assert set(out.kind) == {"night_load"}
    hit = out.ts.dt.tz_convert(TZ)
    assert hit.min() >= pd.Timestamp("2025-06-04 23:00", tz=TZ)
    assert hit.max() < pd.Timestamp("2025-06-05 06:00", tz=TZ)
    assert len(out) > 0.8 * night.sum()


def test_drift_found_by_the_residual_cusum(fitted):
    week = profile_load(7, "2025-06-02", seed=4)
    days = (week.ts - week.ts.iloc[0]).dt.total_seconds().to_numpy() / 86_400
    start = 2.0
    gain = np.where(days >= start, 1 + 0.05 * (days - start), 1.0)  # 5 %/day from day 2
    week["value"] *= gain
    out = fitted.detect(week)
    drift = out[out.kind == "drift"]
    assert len(drift) and set(out.kind) <= {"drift", "load"}
    first = (drift.ts.min() - week.ts.iloc[0]).total_seconds() / 86_400
    assert start < first < start + 1.0  # within a day (≤ 5 % error)


def _pair(days: int, start: str, seed: int, gain_per_day: float = 0.0) -> pd.DataFrame:
    """A power meter (1 min) and an energy register (15 min) of one asset."""
    ts = pd.date_range(start, periods=days * 1440, freq="min", tz="UTC")
    rng = np.random.default_rng(seed)
    kw = 500 + 200 * np.sin(np.arange(len(ts)) / 300) + 20 * rng.standard_normal(len(ts))
    kwh = np.cumsum(kw / 60)
    d = np.arange(len(ts)) / 1440
    shown = (
        kw * (1 + gain_per_day * np.maximum(d - 1, 0)) * (1 + 0.005 * rng.standard_normal(len(ts)))
    )
    return pd.concat(
        [frame("W", ts, shown), frame("E", ts[::15], np.r_[0, kwh[:-1]][::15])], ignore_index=True
    )


def test_pair_drift_names_the_drifting_meter():
    det = A.PairDriftDetector([("A", "E", "W")], INFO).fit(_pair(7, "2025-05-01", 1))
    assert ("E", "W") in det.params
    assert det.detect(_pair(4, "2025-06-01", 2)).empty
    out = det.detect(_pair(4, "2025-06-01", 3, gain_per_day=0.03))
    assert len(out) and set(out.point) == {"W"} and set(out.kind) == {"drift"}
    first = (out.ts.min() - pd.Timestamp("2025-06-01", tz="UTC")).total_seconds() / 86_400
    assert 1.0 < first < 1.5  # 3 %/day from day 1: found within hours


def test_mahalanobis_flags_the_meter_that_disagrees():
    info = {"W": A.PointInfo(60.0, "instantaneous"), "E": A.PointInfo(900.0, "cumulative")}
    det = A.MahalanobisDetector({"A": ["W", "E"]}, info).fit(_pair(7, "2025-05-01", 1))
    clean = _pair(3, "2025-06-01", 2)
    assert det.detect(clean).empty
    bad = clean.copy()
    w = (bad.point == "W") & (bad.ts >= "2025-06-02 10:00") & (bad.ts < "2025-06-02 11:00")
    bad.loc[w, "value"] *= 0.5  # the power meter reads half for an hour
    out = det.detect(bad)
    assert len(out) >= 3 and set(out.kind) == {"asset_mismatch"}
    assert out.ts.min() >= pd.Timestamp("2025-06-02 10:00", tz="UTC")
    assert out.ts.max() < pd.Timestamp("2025-06-02 11:00", tz="UTC")


# --------------------------------------------------------------------------- streaming
def test_online_detector_matches_the_batch_detectors():
    v = noisy(1440, seed=5)
    v[[100, 700]] *= 10
    v[900:912] = v[899]
    ts = minutes(1440)
    keep = np.ones(1440, dtype=bool)
    keep[[300, 301, 1100]] = False
    data = frame("P", ts[keep], v[keep])
    info = {"P": A.PointInfo(60.0, "instantaneous", load=False)}
    od = A.OnlineDetector(info, frame("P", minutes(1440, "2025-05-01"), noisy(1440, seed=6)))
    got = A._concat(od.update(data.iloc[i : i + 97]) for i in range(0, len(data), 97))
    want = A._concat([A.detect_spikes(data), A.detect_stuck(data), A.detect_gaps(data, info)])
    key = ["kind", "ts"]
    pd.testing.assert_frame_equal(
        got[key].sort_values(key, ignore_index=True), want[key].sort_values(key, ignore_index=True)
    )
    assert set(got.kind) == {"spike", "stuck", "gap"}


# --------------------------------------------------------------------------- evaluation
def test_evaluate_counts_events_and_episodes():
    ts = minutes(100)
    r = frame("P", ts, np.full(100, 10.0)).assign(true_value=10.0, fault="none")
    r.loc[[10, 50], "fault"] = "spike"
    r.loc[[10, 50], "value"] = 100.0
    r.loc[70, "fault"] = "spike"  # a spike on 10 → 10: unobservable
    det = frame("P", ts[[10, 30, 70]], [100.0, 10.0, 10.0]).assign(kind="spike")
    info = {"P": A.PointInfo(60.0)}
    ev = A.evaluate(det, r, None, info).loc["spike"]
    assert ev.episodes == 2 and ev.unobservable == 1 and ev.detected == 1
    assert ev.recall == 0.5
    assert ev.events == 2 and ev.tp_events == 1 and ev.precision == 0.5  # 70: neither way


def _pair_readings(days: int, excess: dict[str, object], seed: int = 0) -> pd.DataFrame:
    """A bursty load metered twice: a 15-min register ``E`` and a 1-min power meter ``P``.

    ``excess`` multiplies ``P`` alone from a local time (``"night"``/``"day"`` start and
    the factor), or adds a slow gain (``"drift"`` per day).
    """
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2025-06-01", periods=days * 1440, freq="min", tz="Asia/Shanghai")
    kw = np.where(rng.random(len(ts)) < 0.3, 300.0, 20.0)  # a charger: on or idle
    kw = pd.Series(kw).rolling(7, min_periods=1).mean().to_numpy()
    p = kw * (1 + 0.01 * rng.standard_normal(len(ts)))  # the power meter's noise
    if "at" in excess:
        at = ts >= pd.Timestamp(excess["at"], tz="Asia/Shanghai")
        until = ts < pd.Timestamp(excess["until"], tz="Asia/Shanghai")
        p[at & until] *= float(excess["factor"])
    if "drift" in excess:
        p *= 1 + float(excess["drift"]) * np.arange(len(ts)) / 1440
    energy = np.r_[0.0, np.cumsum(kw[:-1] / 60.0)]  # kWh register
    quarter = (ts.minute % 15) == 0
    e = frame("E", ts[quarter].tz_convert("UTC"), energy[quarter])
    return pd.concat([e, frame("P", ts.tz_convert("UTC"), p)], ignore_index=True)


PAIR_INFO = {
    "E": A.PointInfo(900.0, "cumulative"),
    "P": A.PointInfo(60.0, "instantaneous"),
}


def _pair_detector(history: pd.DataFrame) -> A.PairDriftDetector:
    det = A.PairDriftDetector([("A", "E", "P")], PAIR_INFO, timezone="Asia/Shanghai")
    return det.fit(history)


def test_night_load_on_a_bursty_load_is_found_against_its_redundant_meter():
    det = _pair_detector(_pair_readings(7, {}))
    night = {"at": "2025-06-03 01:00", "until": "2025-06-03 06:00", "factor": 1.5}
    out = det.detect(_pair_readings(5, night, seed=1))
    found = out[out.kind == "night_load"]
    assert set(found.point) == {"P"}
    local = found.ts.dt.tz_convert("Asia/Shanghai")
    assert local.min() >= pd.Timestamp("2025-06-03 01:00", tz="Asia/Shanghai")
    assert local.max() < pd.Timestamp("2025-06-03 06:00", tz="Asia/Shanghai")
    assert len(found) >= 15  # most of the 20 windows of the five hours
    assert "night load" in found.explanation_en.iloc[0]


def test_the_same_excess_by_day_or_a_creeping_drift_is_no_night_load():
    det = _pair_detector(_pair_readings(7, {}))
    day = {"at": "2025-06-03 10:00", "until": "2025-06-03 15:00", "factor": 1.5}
    assert not (det.detect(_pair_readings(5, day, seed=1)).kind == "night_load").any()
    drift = det.detect(_pair_readings(5, {"drift": 0.05}, seed=1))
    assert not (drift.kind == "night_load").any()
    assert (drift.kind == "drift").any()


def test_night_loads_need_a_zone():
    det = A.PairDriftDetector([("A", "E", "P")], PAIR_INFO).fit(_pair_readings(7, {}))
    night = {"at": "2025-06-03 01:00", "until": "2025-06-03 06:00", "factor": 1.5}
    assert not (det.detect(_pair_readings(5, night, seed=1)).kind == "night_load").any()


# --------------------------------------------------------------------------- acceptance
ACCEPT_RATES = {
    "drift_frac": 4e-5,
    "drift_frac_per_day": 0.05,
    "drift_days": 1.0,
    "night_load_frac": 2e-4,
    "night_load_factor": 1.5,
}


@pytest.fixture(scope="module")
def month():
    """Four normal weeks to learn from, then a labelled month with the faults turned up."""
    park = load_park(demo_park_path())
    history = Simulator(park, "2025-05-04", 28, seed=2).run().readings
    rates = park.twin.faults.model_copy(update=ACCEPT_RATES)
    faulty = park.model_copy(update={"twin": park.twin.model_copy(update={"faults": rates})})
    res = Simulator(faulty, "2025-06-01", 30, seed=3).run()
    info = A.point_info(park)
    residual = A.ResidualDetector(info, timezone=park.timezone).fit(history)
    pairs = A.PairDriftDetector(A.meter_pairs(park), info).fit(history)
    det = A.detect_all(res.readings, info, residual, pairs)
    return A.evaluate(det, res.readings, res.faults, info)


KINDS = ["spike", "stuck", "dropout", "drift", "night_load"]


@pytest.mark.parametrize("fault", KINDS)
def test_acceptance_precision(month, fault):
    row = month.loc[fault]
    assert row.episodes >= 15, row
    assert row.precision >= 0.9, row


@pytest.mark.parametrize("fault", KINDS)
def test_acceptance_recall(month, fault):
    row = month.loc[fault]
    assert row.recall >= 0.9, row
