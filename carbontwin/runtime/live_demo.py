"""The live demo park: the virtual park over Modbus and MQTT, ingested, served and shown.

:func:`run_live` runs, on one machine, what a real deployment runs on several: the virtual
park's Modbus gateways (pymodbus TCP servers serving the Modbus points' registers) polled
by the platform's Modbus poller; a local Mosquitto broker (per-gateway passwords and ACL)
with the other gateways publishing their points' readings as Sparkplug-style batches; the
ingestion pipeline (validation, the store, the live twin state); the HTTP API and the
dashboard. Time can run faster than the wall clock (``speed``): the virtual park's day of
2025 is replayed onto today, and the platform's clock (the pipeline's plausibility
window) follows the same accelerated clock, so a person sees the day move.

On start the MQTT gateways send what they buffered since local midnight (a collector's
backfill), so today's figures cover the whole day; Modbus devices are polled from the
start on (a register holds only its present value).

Without Mosquitto the MQTT readings go straight into the pipeline, and the demo says so.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from carbontwin.connectors.modbus import ModbusClient, ModbusPoller, VirtualGateway, register_map
from carbontwin.connectors.mqtt import (
    LocalBroker,
    Metric,
    Publisher,
    Subscriber,
    find_mosquitto,
    free_port,
)
from carbontwin.core.park import Park
from carbontwin.runtime.collect import modbus_readings
from carbontwin.runtime.ingest import Ingestor, simulated_readings
from carbontwin.runtime.live import readings_frame
from carbontwin.store import Store
from carbontwin.twin.state import TwinState

__all__ = ["LiveClock", "LiveSummary", "ModbusSide", "VirtualPark", "run_live"]

_log = logging.getLogger(__name__)

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
    polled: int = 0
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
    since : pandas.Timestamp, optional
        Release the readings after this instant on the first call (a backfill); the
        clock's start by default.
    """

    def __init__(self, park: Park, clock: LiveClock, since: pd.Timestamp | None = None) -> None:
        self.park = park
        self.clock = clock
        self._frames: list[pd.DataFrame] = []
        self._day: dt.date | None = None
        self._sent_ms = int((since if since is not None else clock.start).value // 1_000_000)
        self.gateways = {p.id: str(p.protocol.get("gateway") or PARK_GATEWAY) for p in park.points}
        self._cumulative = {p.id for p in park.points if p.kind == "cumulative"}
        self._last: pd.Series | None = None

    def _load(self, day: dt.date) -> None:
        source = dt.date(2025, day.month, min(day.day, 28) if day.month == 2 else day.day)
        frame = simulated_readings(self.park, source, 1)
        shift = pd.Timestamp(day, tz="UTC") - pd.Timestamp(source, tz="UTC")
        ts = pd.to_datetime(frame["ts"], utc=True) + shift
        frame = frame.assign(ts_ms=ts.dt.as_unit("ms").astype("int64")).sort_values(
            "ts_ms", kind="stable"
        )
        # A cumulative register carries on from yesterday's reading: each replayed day of
        # 2025 is simulated on its own, and its registers start where that day's did.
        registers = frame[frame["point"].isin(self._cumulative)].groupby("point")["value"]
        if self._last is not None:
            # Medians of three, so that a faulty reading (a spike) moves nothing.
            first = registers.head(3).groupby(frame["point"]).median()
            step = registers.diff().groupby(frame["point"]).median().fillna(0.0)
            offset = (self._last - first + step).dropna()
            moved = frame["point"].map(offset)
            frame["value"] = frame["value"] + moved.fillna(0.0)
            registers = frame[frame["point"].isin(self._cumulative)].groupby("point")["value"]
        self._last = registers.tail(3).groupby(frame["point"]).median()
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


class ModbusSide:
    """The virtual park's Modbus gateways and the platform's poller of them.

    The gateways (one pymodbus TCP server each, on free loopback ports) serve the newest
    value of each Modbus point that :meth:`offer` was given; the poller reads every block
    at its interval of *simulated* time and hands the good readings to ``sink`` as a
    ``point, ts, value, quality`` frame. :meth:`run` runs both on an asyncio loop until
    ``stop`` is set (start it in a thread).

    Parameters
    ----------
    park : Park
        Its points with ``protocol.type: modbus`` are served and polled.
    clock : LiveClock
        Stamps the readings and paces the polls.
    sink : callable
        Receives each polled frame (the ingestion pipeline).
    """

    def __init__(
        self, park: Park, clock: LiveClock, sink: Callable[[pd.DataFrame], object]
    ) -> None:
        self.clock, self.sink = clock, sink
        self.addresses = register_map(park)
        self.points = frozenset(self.addresses)
        by_gateway: dict[str, list[object]] = {}
        for a in self.addresses.values():
            by_gateway.setdefault(a.gateway, []).append(a)
        self.gateways = {
            g: VirtualGateway(addrs, port=free_port()) for g, addrs in sorted(by_gateway.items())
        }
        self.polled = 0
        self.ready = threading.Event()
        self._values: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def offer(self, metrics: list[Metric]) -> None:
        """Take the newest value of each Modbus point among ``metrics``."""
        with self._lock:
            for m in metrics:
                if m.point in self.points and m.ts_ms >= self._values.get(m.point, (-1, 0.0))[0]:
                    self._values[m.point] = (m.ts_ms, m.value)

    def _received(self, frame: pd.DataFrame) -> None:
        rows, _ = modbus_readings(frame)
        if rows:
            self.polled += len(rows)
            self.sink(readings_frame(rows))

    def run(self, stop: threading.Event, tick_s: float = 0.25) -> None:
        """Serve and poll until ``stop`` is set."""
        asyncio.run(self._main(stop, tick_s))

    async def _main(self, stop: threading.Event, tick_s: float) -> None:
        clients = {
            g: ModbusClient("127.0.0.1", gw.port, name=g, timeout_s=1.0)
            for g, gw in self.gateways.items()
        }
        poller = ModbusPoller(self.addresses.values(), clients, self._received, now=self.clock.now)
        for gw in self.gateways.values():
            await gw.start()
        self.ready.set()
        try:
            while not stop.is_set():
                with self._lock:
                    values = {p: v for p, (_, v) in self._values.items()}
                # A register is read only once it holds a value (never the empty 0).
                if len(values) == len(self.points):
                    for gw in self.gateways.values():
                        await gw.update({p: v for p, v in values.items() if p in gw.addresses})
                    simulated_s = self.clock.now().value / 1e9
                    await poller.poll_once(due_only=True, clock=simulated_s)
                await asyncio.sleep(tick_s)
        finally:
            for c in clients.values():
                c.close()
            for gw in self.gateways.values():
                await gw.stop()


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
    backfill: bool = True,
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
    backfill : bool
        Start with today's readings since local midnight (MQTT gateways' buffers).
    """
    stop = stop or threading.Event()
    now = pd.Timestamp.now(tz="UTC").floor("min")
    clock = LiveClock(now, speed)
    state = TwinState.for_park(park)
    ingestor = Ingestor(store, park, state, clock=clock.now, actor="live-demo")
    lock = threading.Lock()
    summary = LiveSummary(via_mqtt=find_mosquitto() is not None)
    midnight = now.tz_convert(park.timezone).normalize()
    virtual = VirtualPark(park, clock, since=midnight if backfill else None)

    def sink(batches: object) -> object:
        with lock:
            s = ingestor.ingest(batches)
        summary.stored += s.stored
        summary.quarantined += s.quarantined
        return s

    modbus = ModbusSide(park, clock, sink) if register_map(park) else None
    polling = threading.Event()
    poller = (
        threading.Thread(target=modbus.run, args=(polling,), name="modbus", daemon=True)
        if modbus
        else None
    )
    if poller is not None:
        poller.start()
    stop_serving = serve(ingestor) if serve else (lambda: None)
    deadline = time.monotonic() + seconds if seconds is not None else None
    loop = functools.partial(
        _loop, virtual, summary, stop, deadline, on_tick, tick_s, modbus=modbus
    )
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
                    loop(publishers=publishers)
                finally:
                    for p in publishers.values():
                        p.flush()
                        p.stop()
                time.sleep(0.5)  # let the last batches land
            shutil.rmtree(directory, ignore_errors=True)
        else:
            loop(sink=sink)
    finally:
        polling.set()
        if poller is not None:
            poller.join(timeout=10)
        stop_serving()
    summary.polled = modbus.polled if modbus else 0
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
    modbus: ModbusSide | None = None,
) -> None:
    from carbontwin.connectors.mqtt import Batch

    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        for gateway, due in virtual.due():
            metrics = due
            if modbus is not None:
                # Modbus points go to their gateway's registers, to be polled.
                modbus.offer([m for m in due if m.point in modbus.points])
                metrics = [m for m in due if m.point not in modbus.points]
                if not metrics:
                    continue
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
