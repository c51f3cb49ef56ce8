"""The live demo park: the virtual park publishing over MQTT, ingested, served and shown.

:func:`run_live` runs, on one machine, what a real deployment runs on several: a local
Mosquitto broker (per-gateway passwords and ACL), the virtual park's gateways publishing
their points' readings as Sparkplug-style batches, the ingestion pipeline (validation,
the store, the live twin state), the HTTP API and the dashboard. Time can run faster than
the wall clock (``speed``): the virtual park's day of 2025 is replayed onto today, and the
platform's clock (the pipeline's plausibility window) follows the same accelerated clock,
so a person sees the day move.

Without Mosquitto the readings go straight into the pipeline, and the demo says so.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from carbontwin.connectors.mqtt import LocalBroker, Metric, Publisher, Subscriber, find_mosquitto
from carbontwin.core.park import Park
from carbontwin.runtime.ingest import Ingestor, simulated_readings
from carbontwin.store import Store
from carbontwin.twin.state import TwinState

__all__ = ["LiveClock", "LiveSummary", "VirtualPark", "run_live"]

#: The gateway that carries the points no gateway is configured for.
PARK_GATEWAY = "gw-park"


@dataclass
class LiveClock:
    """A clock that starts at ``start`` and runs ``speed`` times faster than real time."""

    start: pd.Timestamp
    speed: float = 1.0
    _t0: float = field(default_factory=time.monotonic)

    def now(self) -> pd.Timestamp:
        """Return the current (accelerated) time, aware UTC."""
        return self.start + pd.Timedelta(seconds=(time.monotonic() - self._t0) * self.speed)


@dataclass
class LiveSummary:
    """What a live run did."""

    published: int = 0
    stored: int = 0
    quarantined: int = 0
    via_mqtt: bool = True
    simulated_until: pd.Timestamp | None = None


class VirtualPark:
    """The virtual park's readings, replayed from a day of 2025 onto the clock's days.

    Parameters
    ----------
    park : Park
        The park simulated.
    clock : LiveClock
        The clock readings are released by.
    """

    def __init__(self, park: Park, clock: LiveClock) -> None:
        self.park = park
        self.clock = clock
        self._frames: list[pd.DataFrame] = []
        self._day: dt.date | None = None
        self._sent_ms = int(clock.start.value // 1_000_000)
        self.gateways = {p.id: str(p.protocol.get("gateway") or PARK_GATEWAY) for p in park.points}

    def _load(self, day: dt.date) -> None:
        source = dt.date(2025, day.month, min(day.day, 28) if day.month == 2 else day.day)
        frame = simulated_readings(self.park, source, 1)
        shift = pd.Timestamp(day, tz="UTC") - pd.Timestamp(source, tz="UTC")
        ts = pd.to_datetime(frame["ts"], utc=True) + shift
        frame = frame.assign(ts_ms=ts.dt.as_unit("ms").astype("int64"))
        self._frames.append(frame)
        self._day = day

    def due(self) -> list[tuple[str, list[Metric]]]:
        """Return the readings that became due since the last call, by gateway."""
        now = self.clock.now()
        now_ms = int(now.value // 1_000_000)
        # Days of the park's time zone: a simulated day runs from local midnight.
        today = now.tz_convert(self.park.timezone).date()
        while self._day is None or self._day < today:
            self._load(today if self._day is None else self._day + dt.timedelta(days=1))
        out: dict[str, list[Metric]] = {}
        keep = []
        for frame in self._frames:
            mask = (frame["ts_ms"] > self._sent_ms) & (frame["ts_ms"] <= now_ms)
            for point, ts, value, quality in frame.loc[
                mask, ["point", "ts_ms", "value", "quality"]
            ].itertuples(index=False):
                out.setdefault(self.gateways.get(point, PARK_GATEWAY), []).append(
                    Metric(str(point), int(ts), float(value), int(quality))
                )
            if int(frame["ts_ms"].max()) > now_ms:
                keep.append(frame)
        self._frames = keep
        self._sent_ms = now_ms
        return sorted(out.items())


def run_live(
    store: Store,
    park: Park,
    *,
    speed: float = 60.0,
    seconds: float | None = None,
    stop: threading.Event | None = None,
    serve: Callable[[Ingestor], Callable[[], None]] | None = None,
    on_tick: Callable[[LiveSummary], None] | None = None,
    tick_s: float = 1.0,
) -> LiveSummary:
    """Run the live park until ``stop`` is set or ``seconds`` have passed.

    Parameters
    ----------
    store, park : Store, Park
        Where readings land, and the park.
    speed : float
        How much faster than real time the virtual park runs.
    serve : callable, optional
        Called with the live :class:`Ingestor` (its ``state`` is the live twin) to start
        the API and the dashboard; returns the function that stops them.
    on_tick : callable, optional
        Called about every ``tick_s`` with the running totals.
    """
    stop = stop or threading.Event()
    now = pd.Timestamp.now(tz="UTC").floor("min")
    clock = LiveClock(now, speed)
    state = TwinState.for_park(park)
    ingestor = Ingestor(store, park, state, clock=clock.now, actor="live-demo")
    lock = threading.Lock()
    summary = LiveSummary(via_mqtt=find_mosquitto() is not None)
    virtual = VirtualPark(park, clock)

    def sink(batches: object) -> object:
        with lock:
            s = ingestor.ingest(batches)
        summary.stored += s.stored
        summary.quarantined += s.quarantined
        return s

    stop_serving = serve(ingestor) if serve else (lambda: None)
    deadline = time.monotonic() + seconds if seconds is not None else None
    try:
        if summary.via_mqtt:
            gateways = sorted(set(virtual.gateways.values()))
            users = {g: secrets.token_hex(8) for g in [*gateways, "ingest"]}
            # The broker drops to its own user: its directory must be reachable by it.
            directory = Path(tempfile.mkdtemp(prefix="carbontwin-live-"))
            directory.chmod(0o755)
            with (
                LocalBroker(directory / "broker", users) as broker,
                Subscriber(broker.settings("ingest"), park.id, sink, client_id="live-demo"),
            ):
                publishers = {g: Publisher(broker.settings(g), park.id, g) for g in gateways}
                for p in publishers.values():
                    p.start()
                try:
                    _loop(virtual, summary, stop, deadline, on_tick, tick_s, publishers=publishers)
                finally:
                    for p in publishers.values():
                        p.flush()
                        p.stop()
                time.sleep(0.5)  # let the last batches land
            shutil.rmtree(directory, ignore_errors=True)
        else:
            _loop(virtual, summary, stop, deadline, on_tick, tick_s, sink=sink)
    finally:
        stop_serving()
    summary.simulated_until = clock.now().floor("s")
    return summary


def _loop(
    virtual: VirtualPark,
    summary: LiveSummary,
    stop: threading.Event,
    deadline: float | None,
    on_tick: Callable[[LiveSummary], None] | None,
    tick_s: float,
    *,
    publishers: dict[str, Publisher] | None = None,
    sink: Callable[[object], object] | None = None,
) -> None:
    from carbontwin.connectors.mqtt import Batch

    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        for gateway, metrics in virtual.due():
            if publishers is not None:
                publishers[gateway].publish(metrics)
                summary.published += len(metrics)
            elif sink is not None:
                summary.published += len(metrics)
                sink(
                    Batch(
                        park=virtual.park.id,
                        gateway=gateway,
                        seq=0,
                        ts_ms=int(time.time() * 1000),
                        metrics=metrics,
                    )
                )
        summary.simulated_until = virtual.clock.now().floor("s")
        if on_tick:
            on_tick(summary)
        stop.wait(tick_s)
