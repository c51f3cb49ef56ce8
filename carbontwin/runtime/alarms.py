"""Open alarms of the live twin, for the API and the dashboard alike.

Today an alarm is a point gone silent: no reading for ``stale_factor`` of its intervals
(the twin state's rule). Each alarm names the point, its enterprise, a severity and a
message in English and Chinese.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from carbontwin.core.park import Park
from carbontwin.twin.state import TwinState

__all__ = ["Alarm", "open_alarms"]


@dataclass(frozen=True)
class Alarm:
    """An open alarm of the live state."""

    kind: str
    severity: str
    point: str
    enterprise: str
    message: dict[str, str]
    since: dt.datetime | None
    age_s: float


def open_alarms(
    state: TwinState | None,
    park: Park,
    points: Iterable[str] | None = None,
    now: pd.Timestamp | None = None,
) -> list[Alarm]:
    """Return the open alarms of ``points`` (all by default), oldest silence first.

    Parameters
    ----------
    state : TwinState or None
        The live state (no state, no alarms).
    park : Park
        For each point's enterprise.
    points : iterable of str, optional
        The points the caller may see.
    now : pandas.Timestamp, optional
        The platform's time (the live demo's accelerated clock); the wall clock by default.
    """
    if state is None:
        return []
    snap = state.snapshot(now)
    allowed = set(points) if points is not None else None
    owner = {p.id: p.enterprise for p in park.points}
    out = []
    for pid, row in snap.iterrows():
        ts = row["ts"]
        if (
            not row["stale"]
            or ts is None
            or ts != ts
            or (allowed is not None and pid not in allowed)
        ):
            continue
        age = float(row["age_s"]) if math.isfinite(float(row["age_s"])) else 0.0
        out.append(
            Alarm(
                kind="stale",
                severity="warning",
                point=str(pid),
                enterprise=owner.get(str(pid), ""),
                message={
                    "en": f"no reading from {pid} for {age:.0f} s",
                    "zh": f"计量点 {pid} 已 {age:.0f} 秒无数据",
                },
                since=ts.to_pydatetime(),
                age_s=age,
            )
        )
    return sorted(out, key=lambda a: -a.age_s)
