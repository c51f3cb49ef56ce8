"""MQTT readings through the whole pipeline into the store, against a minimal pipeline.

A real Mosquitto (started here on a free port with its own configuration) carries
Sparkplug-style batches of 100 readings of the demo park's 108 points, QoS 1, one
subscriber, acks after the commit. Three runs, each on fresh timestamps:

(a) **sustained**: a gateway paced at 20,000 readings/s for 10 s; figures
    ``readings_per_s`` (committed over the run) and ``p50_latency_s`` / ``p99_latency_s``
    from a message's publish time to the commit of its readings.
(b) **capacity**: the same number of readings queued at the broker while the subscriber
    is away, then drained flat out: ``capacity_readings_per_s``.
(c) **reference**: the same queue drained by a minimal pipeline written here — JSON decode,
    one float factor per point, SQLite ``executemany`` INSERT OR IGNORE, commit every
    5,000 rows or 100 ms, ack after the commit: ``minimal_pipeline_per_s``, and
    ``vs_minimal_pipeline`` = capacity / minimal.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks._common import Outcome
from carbontwin.connectors.mqtt import (
    Batch,
    LocalBroker,
    Message,
    Metric,
    MqttClient,
    Publisher,
    Subscriber,
    subscription,
)
from carbontwin.core import demo_park_path, load_park
from carbontwin.runtime.ingest import Ingestor
from carbontwin.store import Store

NAME = "ingest"
TARGETS = {"p99_latency_s": "< 1", "vs_minimal_pipeline": ">= 0.5", "readings_per_s": ">= 19000"}
UNITS = {
    "readings_per_s": "/s",
    "p50_latency_s": "s",
    "p99_latency_s": "s",
    "capacity_readings_per_s": "/s",
    "minimal_pipeline_per_s": "/s",
}
RATE_PER_S = 20_000
BATCH = 100
USERS = {"gw-z2": "bench-gw", "ingest": "bench-ingest"}


def _metrics(points: list[str], n: int, start_ms: int) -> list[Metric]:
    """``n`` readings of ``points`` at 1-s steps from ``start_ms``: unique (point, ts)."""
    per = len(points)
    return [Metric(points[i % per], start_ms + (i // per) * 1000, 1.0 + i % 7, 0) for i in range(n)]


class _Timed:
    """The pipeline's sink, noting when each message's readings were committed."""

    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor
        self.latencies: list[float] = []
        self.readings = 0
        self.last = 0.0

    def __call__(self, items: list) -> None:
        summary = self.ingestor.ingest(items)
        now = time.time()
        self.latencies.extend(now - b.ts_ms / 1000 for b in items if isinstance(b, Batch))
        self.readings += summary.received
        self.last = now


def _wait(cond, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            msg = f"benchmark timed out after {timeout_s} s"
            raise TimeoutError(msg)
        time.sleep(0.005)


def _queue(broker: LocalBroker, park_id: str, client_id: str, metrics: list[Metric]) -> None:
    """Make ``client_id``'s session exist, then queue ``metrics`` at the broker for it."""
    probe = MqttClient(broker.settings("ingest"), client_id, subscriptions=(subscription(park_id),))
    probe.start()
    probe.stop()
    with Publisher(broker.settings("gw-z2"), park_id, "gw-z2", batch_size=BATCH) as pub:
        pub.publish(metrics)
        pub.flush(120)


def _minimal_drain(broker: LocalBroker, park_id: str, client_id: str, n: int, db: Path) -> float:
    """Drain the queued readings with the minimal pipeline; return readings per second."""
    conn = sqlite3.connect(db, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS readings (point_id TEXT, ts INTEGER, value REAL, "
        "quality INTEGER, PRIMARY KEY (point_id, ts))"
    )
    factors: dict[str, float] = {}
    pending: list[tuple[str, int, float, int]] = []
    held: list[Message] = []
    done = {"n": 0, "last": 0.0, "flushed": time.monotonic()}
    lock = threading.Lock()
    client: MqttClient | None = None

    def commit() -> None:
        conn.executemany("INSERT OR IGNORE INTO readings VALUES (?, ?, ?, ?)", pending)
        conn.commit()
        for m in held:
            client.ack(m)  # type: ignore[union-attr]
        done["n"] += len(pending)
        done["last"] = time.time()
        done["flushed"] = time.monotonic()
        pending.clear()
        held.clear()

    def on_message(m: Message) -> None:
        doc = json.loads(m.payload)
        with lock:
            for r in doc["metrics"]:
                f = factors.setdefault(r["point"], 1.0)
                pending.append((r["point"], r["ts"], float(r["value"]) * f, r.get("q", 0)))
            held.append(m)
            if len(pending) >= 5000 or time.monotonic() - done["flushed"] > 0.1:
                commit()

    client = MqttClient(
        broker.settings("ingest"),
        client_id,
        on_message=on_message,
        subscriptions=(subscription(park_id),),
    )
    t0 = time.time()
    client.start()

    def finished() -> bool:
        with lock:
            if pending and time.monotonic() - done["flushed"] > 0.1:
                commit()
            return done["n"] >= n

    _wait(finished, 300)
    client.stop()
    conn.close()
    return n / (done["last"] - t0)


def run(small: bool = False, out_dir: Path | str | None = None) -> Outcome:
    """Run the benchmark; ``small`` paces 1 s instead of 10 s."""
    seconds = 1 if small else 10
    n = RATE_PER_S * seconds
    park = load_park(demo_park_path())
    points = [p.id for p in park.points]
    now_ms = int(time.time() * 1000)
    base = now_ms - 2 * 86_400_000  # inside the accepted window, clear of each other
    span = (n // len(points) + 2) * 1000
    directory = Path(tempfile.mkdtemp(prefix="carbontwin-bench-"))
    directory.chmod(0o755)
    try:
        with LocalBroker(directory / "broker", USERS) as broker:
            store = Store.open(f"sqlite:///{directory / 'store.db'}")
            try:
                sink = _Timed(Ingestor(store, park, gateways={"gw-z2"}))
                # (a) sustained, paced
                sub = Subscriber(broker.settings("ingest"), park.id, sink, client_id="bench-a")
                sub.start()
                sustained = _metrics(points, n, base)
                with Publisher(broker.settings("gw-z2"), park.id, "gw-z2", batch_size=BATCH) as pub:
                    t0 = time.time()
                    pub.publish(sustained, rate_per_s=RATE_PER_S)
                    pub.flush(120)
                    _wait(lambda: sink.readings >= n, 120)
                sub.stop()
                readings_per_s = n / (sink.last - t0)
                lat = np.asarray(sink.latencies)
                p50, p99 = (float(x) for x in np.quantile(lat, [0.5, 0.99]))
                # (b) capacity: drain a queue flat out
                _queue(broker, park.id, "bench-b", _metrics(points, n, base + span))
                drain = _Timed(Ingestor(store, park, gateways={"gw-z2"}))
                sub = Subscriber(broker.settings("ingest"), park.id, drain, client_id="bench-b")
                t0 = time.time()
                sub.start()
                _wait(lambda: drain.readings >= n, 300)
                sub.stop()
                capacity = n / (drain.last - t0)
                stored = sink.ingestor.total.stored + drain.ingestor.total.stored
            finally:
                store.close()
            # (c) the minimal pipeline on the same queue
            _queue(broker, park.id, "bench-c", _metrics(points, n, base + 2 * span))
            minimal = _minimal_drain(broker, park.id, "bench-c", n, directory / "minimal.db")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    outcome = Outcome(
        name=NAME,
        figures={
            "readings_per_s": float(readings_per_s),
            "p50_latency_s": p50,
            "p99_latency_s": p99,
            "capacity_readings_per_s": float(capacity),
            "minimal_pipeline_per_s": float(minimal),
            "vs_minimal_pipeline": float(capacity / minimal),
        },
        targets=dict(TARGETS),
        references={
            "readings_per_s": f"paced at {RATE_PER_S:,}/s for {seconds} s",
            "p50_latency_s": "publish → committed",
            "p99_latency_s": "publish → committed",
            "capacity_readings_per_s": "queue drained flat out",
            "minimal_pipeline_per_s": "json → factor → executemany INSERT OR IGNORE",
            "vs_minimal_pipeline": "minimal pipeline = 1",
        },
        units=UNITS,
        notes=[
            f"Mosquitto on loopback, QoS 1, {BATCH} readings per message, {len(points)} points, "
            f"{n:,} readings per run; {stored:,} stored by the pipeline; SQLite store"
        ],
    )
    outcome.write(out_dir, stem=f"{NAME}-small" if small else NAME)
    return outcome
