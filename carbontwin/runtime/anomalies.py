"""Alarms from anomalies as readings arrive (C1, D2).

:class:`AlarmWatch` is one of the ingestion pipeline's watchers
(:class:`~carbontwin.runtime.ingest.Ingestor` ``watchers``): each lot of stored readings
goes through the streaming detector (:class:`carbontwin.forecasting.anomaly.OnlineDetector`
— spikes, stuck values, gaps, register resets, abnormal load against the point's weekly
profile with adaptive thresholds, night load, drift) and every anomaly found becomes, in
the same call, an alarm in the store (or updates the open one of its point and kind).
:func:`watch_from_store` fits the detector on a normal stretch of the stored readings.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

import pandas as pd

from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.forecasting.anomaly import OnlineDetector, point_info
from carbontwin.runtime.live_account import stored_readings
from carbontwin.store import Store

__all__ = ["AlarmWatch", "watch_from_store"]

_log = logging.getLogger(__name__)


class AlarmWatch:
    """Raise alarms in ``store`` from the anomalies ``detector`` finds in each lot.

    Parameters
    ----------
    store, park : Store, Park
        Where alarms go, and the park (each point's enterprise).
    detector : OnlineDetector
        A fitted streaming detector.

    Attributes
    ----------
    raised : int
        Anomalies handed to the store so far.
    """

    def __init__(self, store: Store, park: Park, detector: OnlineDetector) -> None:
        self.store, self.park, self.detector = store, park, detector
        self.owner = {p.id: p.enterprise for p in park.points}
        self.raised = 0
        self._lock = threading.Lock()

    def __call__(self, readings: pd.DataFrame) -> list[dict[str, Any]]:
        """Detect on a lot of ``point, ts [ms], value`` readings; return the alarms raised."""
        frame = readings.assign(ts=pd.to_datetime(readings["ts"], unit="ms", utc=True))
        with self._lock:
            found = self.detector.update(frame[["point", "ts", "value"]])
        if not len(found):
            return []
        anomalies = [
            {
                "point": str(row.point),
                "enterprise": self.owner.get(str(row.point), ""),
                "kind": str(row.kind),
                "severity": str(row.severity),
                "score": None if pd.isna(row.score) else float(row.score),
                "message_en": str(row.explanation_en),
                "message_zh": str(row.explanation_zh),
                "ts": pd.Timestamp(row.ts).tz_convert("UTC").to_pydatetime(),
            }
            for row in found.itertuples(index=False)
        ]
        self.raised += len(anomalies)
        return self.store.raise_alarms(self.park.id, anomalies)


def watch_from_store(store: Store, park: Park, start: dt.datetime, end: dt.datetime) -> AlarmWatch:
    """Fit the streaming detector on the stored readings from ``start`` to ``end``.

    The stretch should be normal operation of three weeks or more: faults in it raise
    the thresholds.

    Raises
    ------
    ValidationError
        When the store holds no readings in the stretch.
    """
    lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    history = stored_readings(store, [p.id for p in park.points], lo, hi)
    if history.empty:
        msg = f"the store holds no readings of {park.id} from {start} to {end} to learn from"
        raise ValidationError(msg)
    history = history[history["quality"] == "good"]
    detector = OnlineDetector(point_info(park), history, timezone=park.timezone)
    _log.info("anomaly detector fitted on %d readings", len(history))
    return AlarmWatch(store, park, detector)
