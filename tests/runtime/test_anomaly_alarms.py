"""Alarms from the pipeline: an anomalous reading becomes a stored alarm within 5 s."""

import time

import numpy as np
import pandas as pd
import pytest

from carbontwin.core import demo_park_path, load_park
from carbontwin.forecasting.anomaly import OnlineDetector, point_info
from carbontwin.runtime.anomalies import AlarmWatch, watch_from_store
from carbontwin.runtime.ingest import Ingestor
from carbontwin.store import Store
from carbontwin.twin import Simulator

PARK = load_park(demo_park_path())
POINT = "P-E03-KW"  # E03's feeder demand, an instantaneous point read every minute


@pytest.fixture(scope="module")
def history():
    """Three normal weeks of the virtual park's readings (faults off) and the next day."""
    quiet = PARK.twin.faults.model_copy(
        update={
            k: 0.0
            for k in PARK.twin.faults.model_fields
            if k.endswith("_frac") and k != "noise_frac"
        }
    )
    park = PARK.model_copy(update={"twin": PARK.twin.model_copy(update={"faults": quiet})})
    readings = Simulator(park, "2025-05-04", 22, seed=7, keep_readings_days=22).run().readings
    readings["ts"] = pd.to_datetime(readings["ts"], utc=True)
    cut = pd.Timestamp("2025-05-25", tz=PARK.timezone)
    return readings[readings["ts"] < cut], readings[readings["ts"] >= cut]


def lot(readings: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "point": readings["point"].astype(str).to_numpy(),
            "ts": readings["ts"].dt.as_unit("ms").astype("int64").to_numpy(),
            "value": readings["value"].to_numpy(dtype=float),
            "quality": 0,
        }
    )


def test_a_spike_becomes_an_alarm_within_five_seconds(tmp_path, history):
    past, day = history
    with Store.open(f"sqlite:///{tmp_path / 'ct.db'}") as store:
        watch = AlarmWatch(
            store,
            PARK,
            OnlineDetector(
                point_info(PARK), past[["point", "ts", "value"]], timezone=PARK.timezone
            ),
        )
        now = day["ts"].max() + pd.Timedelta(minutes=1)
        ingestor = Ingestor(store, PARK, clock=lambda: now, watchers=[watch])
        # A normal hour first: no alarm.
        first = day[day["ts"] < day["ts"].min() + pd.Timedelta(hours=1)]
        ingestor.ingest(lot(first))
        assert [(a["point"], a["kind"]) for a in store.alarms(PARK.id)] == []
        # Then the next readings of the point, one of them ten times too high.
        nxt = day[(day["point"] == POINT) & (day["ts"] >= first["ts"].max())].head(5).copy()
        nxt.iloc[2, nxt.columns.get_loc("value")] *= 10.0
        t0 = time.monotonic()
        ingestor.ingest(lot(nxt))
        alarms = store.alarms(PARK.id)
        elapsed = time.monotonic() - t0
        assert elapsed < 5.0
        assert [(a["point"], a["kind"]) for a in alarms] == [(POINT, "spike")]
        (a,) = alarms
        assert a["enterprise"] == "E03" and a["severity"] in ("warning", "critical")
        assert a["message_en"] and a["message_zh"]
        assert pd.Timestamp(a["reading_ts"]) == nxt["ts"].iloc[2]
        assert watch.raised == 1


def test_the_watch_is_fitted_from_the_store_or_says_why_not(tmp_path, history):
    past, _ = history
    with Store.open(f"sqlite:///{tmp_path / 'ct.db'}") as store:
        start, end = past["ts"].min().to_pydatetime(), past["ts"].max().to_pydatetime()
        with pytest.raises(Exception, match="no readings of binhai"):
            watch_from_store(store, PARK, start, end)
        rows = lot(past)
        store.insert_readings(list(rows.itertuples(index=False, name=None)))
        watch = watch_from_store(store, PARK, start, end)
        assert isinstance(watch.detector, OnlineDetector)
        assert np.isfinite(len(watch.owner))
