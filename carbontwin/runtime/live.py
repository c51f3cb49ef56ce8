"""Live ingestion services: listen to a broker, pull from a REST source.

Both hand their readings to the one :class:`~carbontwin.runtime.ingest.Ingestor`, so every
reading is checked, converted, deduplicated, stored (or quarantined with its reason) and
applied to the live twin state the same way, whatever brought it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from carbontwin.connectors.http import RestPuller
from carbontwin.connectors.mqtt import BrokerSettings, Subscriber
from carbontwin.core.park import Park
from carbontwin.runtime.ingest import Ingestor, IngestSummary
from carbontwin.store import Store
from carbontwin.twin import TwinState

__all__ = ["listen_mqtt", "pull_rest", "readings_frame"]


def readings_frame(readings: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Turn ``{"point", "ts" (UTC ms), "value", "q"}`` dicts into the pipeline's frame."""
    return pd.DataFrame(
        {
            "point": [r.get("point") for r in readings],
            "ts": [r.get("ts") for r in readings],
            "value": [r.get("value") for r in readings],
            "quality": [r.get("q", 0) for r in readings],
        }
    )


def listen_mqtt(
    store: Store,
    park: Park,
    settings: BrokerSettings,
    *,
    stop: threading.Event | None = None,
    seconds: float | None = None,
    client_id: str = "carbontwin-ingest",
    on_summary: Callable[[IngestSummary], None] | None = None,
) -> IngestSummary:
    """Subscribe to the park's readings and ingest them; return the totals.

    Runs until ``stop`` is set, or for ``seconds``. Messages are acknowledged only after
    their readings are committed, so a crash loses nothing and a redelivery lands once.
    """
    state = TwinState.for_park(park)
    ingestor = Ingestor(store, park, state, actor=client_id)
    stop = stop or threading.Event()
    deadline = None if seconds is None else time.monotonic() + seconds
    with Subscriber(settings, park.id, ingestor.ingest, client_id=client_id):
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            stop.wait(0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic())))
            if on_summary:
                on_summary(ingestor.total)
    return ingestor.total


def pull_rest(
    store: Store,
    park: Park,
    url: str,
    *,
    cursor: str | None = None,
    token: str | None = None,
    max_age_s: float = 31 * 86_400,
) -> tuple[IngestSummary, str | None]:
    """Pull new readings from a REST source into the pipeline; return totals and cursor.

    Keep the returned cursor and pass it next time to resume where this pull stopped.
    """
    ingestor = Ingestor(store, park, max_age_s=max_age_s, actor="rest-pull")
    puller = RestPuller(
        url, lambda rows: ingestor.ingest(readings_frame(rows)), cursor=cursor, token=token
    )
    puller.pull()
    return ingestor.total, puller.cursor
