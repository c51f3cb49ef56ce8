"""The whole MQTT path against a real Mosquitto: publish → broker → subscriber → store → twin.

Each test starts its own broker (see conftest.py). Waits poll a condition with a
timeout; nothing sleeps a fixed time.
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd
import pytest
import sqlalchemy as sa

from carbontwin.connectors.mqtt import (
    ConnectorError,
    Metric,
    MqttClient,
    Publisher,
    Subscriber,
    data_topic,
    encode,
    metrics_from_frame,
)
from carbontwin.core import demo_park_path, load_park
from carbontwin.runtime.ingest import Ingestor, simulated_readings
from carbontwin.store import Store
from carbontwin.twin.state import TwinState


def wait_until(condition, timeout_s: float = 15.0, what: str = "condition") -> None:
    """Poll ``condition`` until it is true; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def park():
    return load_park(demo_park_path())


@pytest.fixture(scope="module")
def readings(park):
    """A day of the virtual park's readings, yesterday (inside the accepted window)."""
    start = pd.Timestamp.now(tz=park.timezone).normalize() - pd.Timedelta(days=1)
    return metrics_from_frame(simulated_readings(park, start, 1, seed=3))


@pytest.fixture
def store(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as s:
        yield s


def stored_count(store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM readings")).scalar_one())


def reference(park, metrics):
    """What the pipeline makes of ``metrics`` without MQTT (a fresh in-memory store)."""
    with Store.open("sqlite://") as ref:
        ing = Ingestor(ref, park)
        topic, payload = encode(park.id, "gw-z2", 1, 0, metrics)
        from carbontwin.connectors.mqtt import decode

        return ing.ingest(decode(topic, payload))


def test_end_to_end_publish_store_state(broker, park, readings, store):
    state = TwinState.for_park(park)
    ing = Ingestor(store, park, state, gateways={"gw-z2"})
    expected = reference(park, readings)
    with Subscriber(broker.settings("ingest"), park.id, ing.ingest):
        with Publisher(broker.settings("gw-z2"), park.id, "gw-z2", batch_size=100) as pub:
            sent = pub.publish(readings)
            pub.flush()
        wait_until(lambda: ing.total.received >= len(readings), what="all readings ingested")
    total = ing.total
    assert sent == -(-len(readings) // 100) == total.messages
    assert total.received == len(readings) and total.balanced
    assert (total.stored, total.duplicate, total.quarantined) == (
        expected.stored,
        expected.duplicate,
        expected.quarantined,
    )
    assert total.stored > 0.99 * len(readings)
    assert stored_count(store) == total.stored
    snap = state.snapshot()
    last = {m.point: m for m in readings}
    for pid in ("P-E03-KW", "P-E06-IT-E", "P-WX-TEMP"):
        assert snap.loc[pid, "value"] == last[pid].value
        assert snap.loc[pid, "ts"] == pd.Timestamp(last[pid].ts_ms, unit="ms", tz="UTC")


def test_broker_restart_mid_stream_loses_nothing_and_lands_nothing_twice(
    broker, park, readings, store
):
    metrics = readings[:12_000]
    unique = {(m.point, m.ts_ms) for m in metrics}
    ing = Ingestor(store, park)
    sub = Subscriber(broker.settings("ingest"), park.id, ing.ingest, client_id="ingest-restart")
    sub.start()
    pub = Publisher(broker.settings("gw-z2"), park.id, "gw-z2", batch_size=100)
    pub.start()
    try:
        halfway = threading.Event()

        def send():
            pub.publish(metrics[:6000], rate_per_s=12_000)
            halfway.set()
            pub.publish(metrics[6000:], rate_per_s=12_000)

        sender = threading.Thread(target=send)
        sender.start()
        assert halfway.wait(10)
        broker.restart()  # graceful stop: the broker saves the sessions and queued messages
        sender.join(20)
        pub.flush(timeout_s=20)
        wait_until(
            lambda: stored_count(store) + ing.total.quarantined >= len(unique),
            timeout_s=20,
            what="every reading after the restart",
        )
        wait_until(lambda: sub.acked == sub.received, what="acks of every delivered message")
    finally:
        pub.stop()
        sub.stop()
    assert stored_count(store) == ing.total.stored == len(unique) - ing.total.quarantined
    assert ing.total.balanced
    assert ing.total.received >= len(metrics)  # redeliveries count as duplicates
    assert ing.total.duplicate == ing.total.received - len(metrics)


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from carbontwin.connectors.mqtt import BrokerSettings, Subscriber
    from carbontwin.core import demo_park_path, load_park
    from carbontwin.runtime.ingest import Ingestor
    from carbontwin.store import Store

    port, url, marker = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    park = load_park(demo_park_path())
    store = Store.open(url)
    ing = Ingestor(store, park)

    def sink(items):
        summary = ing.ingest(items)  # committed ...
        marker.write_text(str(summary.stored))
        time.sleep(3600)  # ... but killed before the ack

    sub = Subscriber(BrokerSettings("127.0.0.1", port, "ingest", "ingest-secret"), park.id,
                     sink, client_id="ingest-crash", max_readings=2000)
    sub.start()
    (marker.parent / "ready").write_text("1")
    time.sleep(3600)
    """
)


def test_subscriber_killed_before_ack_redelivers_and_lands_once(
    broker, park, readings, store, tmp_path
):
    metrics = readings[:20_000]
    unique = {(m.point, m.ts_ms) for m in metrics}
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    marker = tmp_path / "committed"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    child = subprocess.Popen(
        [sys.executable, str(script), str(broker.port), str(store.url), str(marker)],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(
            lambda: (tmp_path / "ready").exists() or child.poll() is not None,
            timeout_s=30,
            what="the subscriber process to connect",
        )
        assert child.poll() is None, child.stderr.read().decode()
        with Publisher(broker.settings("gw-z2"), park.id, "gw-z2", batch_size=100) as pub:
            pub.publish(metrics)
            pub.flush()
        wait_until(marker.exists, what="the first commit in the subscriber process")
        wait_until(lambda: marker.read_text() != "", what="the marker")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    committed = int(marker.read_text())
    assert 0 < committed == stored_count(store) < len(unique)

    ing = Ingestor(store, park)
    with Subscriber(
        broker.settings("ingest"), park.id, ing.ingest, client_id="ingest-crash"
    ) as sub:
        wait_until(
            lambda: stored_count(store) + ing.total.quarantined >= len(unique),
            what="the redelivered and the remaining readings",
        )
        wait_until(lambda: sub.acked == sub.received, what="the acks")
    assert (
        stored_count(store) == committed + ing.total.stored == len(unique) - ing.total.quarantined
    )
    assert ing.total.duplicate == committed  # the unacked lot came again and landed once


def test_bad_inputs_land_the_good_and_quarantine_the_bad(broker, park, store):
    now_ms = int(pd.Timestamp.now(tz="UTC").value // 1_000_000)
    t0 = now_ms - 3_600_000 - now_ms % 60_000
    good = [Metric("P-E03-KW", t0 + i * 60_000, 800.0 + i, 0) for i in range(10)]
    ing = Ingestor(store, park, gateways={"gw-z2"})
    topic = data_topic(park.id, "gw-z2")
    _, ok = encode(park.id, "gw-z2", 1, now_ms, good)
    unknown = encode(park.id, "gw-z2", 2, now_ms, [Metric("P-NOPE", t0, 1.0, 0), good[0]])[1]
    nan = (
        b'{"seq": 3, "ts": %d, "metrics": [{"point": "P-E04-KW", "ts": %d, "value": NaN},'
        b' {"point": "P-E04-KW", "ts": %d, "value": 5.0}]}' % (now_ms, t0, t0)
    )
    future = encode(park.id, "gw-z2", 4, now_ms, [Metric("P-E05-KW", now_ms + 86_400_000, 1.0, 0)])[
        1
    ]
    wrong = (
        b'{"seq": 5, "ts": %d, "metrics": [{"point": "P-E05-KW", "ts": %d, "value": "7,5"},'
        b' {"point": "P-E05-KW", "ts": %d, "value": 7.5}]}' % (now_ms, t0, t0)
    )
    payloads = [ok, b'{"seq": 6, "metrics": [', unknown, nan, future, wrong, ok]  # ok twice
    with Subscriber(broker.settings("ingest"), park.id, ing.ingest):
        client = MqttClient(broker.settings("gw-z2"), "gw-z2-test")
        client.start()
        try:
            for p in payloads:
                client.publish(topic, p)
            client.flush(timeout_s=10)
        finally:
            client.stop()
        wait_until(lambda: ing.total.messages >= len(payloads), what="all messages")
    t = ing.total
    assert t.balanced
    assert t.stored == 10 + 1 + 1  # the good batch, P-E04-KW and P-E05-KW once each
    assert t.duplicate == 10 + 1  # the repeated batch, and good[0] inside "unknown"
    assert t.rules == {"bad_value": 3, "unknown_source": 1, "bad_time": 1}
    held = {q["rule"]: [] for q in store.quarantined(park.id)}
    for q in store.quarantined(park.id):
        held[q["rule"]].append(q["reason"])
    assert any("is not valid JSON" in r for r in held["bad_value"])
    assert any("not a finite number" in r for r in held["bad_value"])
    assert any("value(='7,5') is str, not a number" in r for r in held["bad_value"])
    assert "'P-NOPE' is not in park binhai" in held["unknown_source"][0]
    assert "is in the future" in held["bad_time"][0]
    assert store.readings("P-E05-KW", t0, t0 + 1) == [(t0, 7.5, 0)]


def test_wrong_credentials_are_refused(broker):
    settings = broker.settings("gw-z2")
    bad = type(settings)(settings.host, settings.port, "gw-z2", "wrong")
    with pytest.raises(ConnectorError, match="refused client gw-z2"):
        MqttClient(bad, "gw-z2").start(timeout_s=5)
