"""The collector: a week offline, resume from the break point, nothing lost or doubled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from carbontwin.connectors.collector import (
    BufferFull,
    Collector,
    CollectorBuffer,
    read_bundle,
    verify_batch,
)
from carbontwin.connectors.errors import ConnectorError

KEY = b"collector-secret"
KEYS = {"gw-1": KEY}
T0 = 1_735_660_800_000  # 2025-01-01 00:00 Asia/Shanghai, in UTC ms
MINUTE = 60_000


class Platform:
    """Stands for the platform: verifies batches and keeps readings keyed by (point, ts)."""

    def __init__(self):
        self.rows = {}
        self.received = 0
        self.down = False
        self.lose_acks = 0

    def send(self, doc):
        if self.down:
            raise ConnectionError("link down")
        batch = verify_batch(json.loads(json.dumps(doc)), KEYS)
        self.received += 1
        for r in batch.readings:
            self.rows.setdefault((r["point"], r["ts"]), r["value"])  # insert-ignore
        if self.lose_acks:
            self.lose_acks -= 1
            raise ConnectionError("ack lost")


def meter(points=10, minutes=1):
    """A device with ``points`` points polled every minute, read ``minutes`` at a time."""
    state = {"t": T0}

    def read():
        out = []
        for _ in range(minutes):
            t = state["t"]
            state["t"] += MINUTE
            out += [
                {"point": f"P{i}", "ts": t, "value": float(i + t % 97), "q": 0}
                for i in range(points)
            ]
        return out

    return read


def test_a_week_offline_then_restored_lands_everything_once(tmp_path):
    # 10 points read every minute, forwarded hourly: a week offline is 168 cycles and
    # 100,800 readings that must all land, once, when the link returns.
    buf = CollectorBuffer(
        tmp_path / "q.db", collector="gw-1", key=KEY, capacity_readings=10 * 60 * 24 * 8
    )  # 8 days of data
    platform = Platform()
    c = Collector(buf, meter(minutes=60), platform.send)
    for _ in range(24):
        c.cycle()
    assert buf.size == 0 and len(platform.rows) == 24 * 600
    platform.down = True
    for _ in range(24 * 7):
        c.cycle()
    assert not c.link_up and buf.size == 600 * 24 * 7 and c.refused == 0
    assert platform.received == 24
    platform.down = False
    c.cycle()  # the next hour's batch joins the queue; everything goes, oldest first
    assert buf.size == 0 and c.link_up
    hours = 24 + 24 * 7 + 1
    assert platform.received == hours
    assert set(platform.rows) == {
        (f"P{i}", T0 + k * MINUTE) for k in range(60 * hours) for i in range(10)
    }


def test_lost_acks_resend_but_nothing_lands_twice(tmp_path):
    buf = CollectorBuffer(tmp_path / "q.db", collector="gw-1", key=KEY, capacity_readings=10**6)
    platform = Platform()
    c = Collector(buf, meter(), platform.send)
    platform.lose_acks = 3
    for _ in range(20):
        c.cycle()
    assert buf.size == 0
    assert platform.received == 23  # three batches were sent twice
    assert len(platform.rows) == 200  # and landed once


def test_full_buffer_refuses_new_readings_and_keeps_the_old(tmp_path):
    buf = CollectorBuffer(tmp_path / "q.db", collector="gw-1", key=KEY, capacity_readings=25)
    read = meter()
    buf.put(read())
    buf.put(read())
    with pytest.raises(BufferFull, match="nothing buffered is dropped"):
        buf.put(read())
    assert [b.seq for b in buf.pending()] == [1, 2] and buf.size == 20


def test_buffer_survives_a_killed_collector(tmp_path):
    path = tmp_path / "q.db"
    script = textwrap.dedent(f"""
        import os, signal
        from carbontwin.connectors.collector import CollectorBuffer
        buf = CollectorBuffer({str(path)!r}, collector="gw-1", key={KEY!r},
                              capacity_readings=10**6)
        for k in range(50):
            buf.put([{{"point": "P1", "ts": {T0} + k * 60000, "value": float(k)}}])
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], env={**os.environ}, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    buf = CollectorBuffer(path, collector="gw-1", key=KEY, capacity_readings=10**6)
    assert [b.seq for b in buf.pending()] == list(range(1, 51))
    assert buf.put([{"point": "P1", "ts": T0 + 50 * 60000, "value": 50.0}]) == 51


def test_offline_bundle_is_verified_and_tampering_is_refused(tmp_path):
    buf = CollectorBuffer(tmp_path / "q.db", collector="gw-1", key=KEY, capacity_readings=10**6)
    read = meter(3)
    for _ in range(5):
        buf.put(read())
    manifest = buf.export_bundle(tmp_path / "gw-1.bundle")
    assert manifest["batches"] == 5 and manifest["readings"] == 15
    got, batches = read_bundle(tmp_path / "gw-1.bundle", KEYS)
    assert [b.seq for b in batches] == [1, 2, 3, 4, 5]
    buf.ack(got["last_seq"])
    assert buf.size == 0
    text = (tmp_path / "gw-1.bundle").read_text(encoding="utf-8")
    (tmp_path / "bad.bundle").write_text(
        text.replace('"value": 0.0', '"value": 9.0', 1) if '"value": 0.0' in text else text[:-40],
        encoding="utf-8",
    )
    with pytest.raises(ConnectorError, match=r"checksum mismatch|signature"):
        read_bundle(tmp_path / "bad.bundle", KEYS)
    with pytest.raises(ConnectorError, match="not registered"):
        read_bundle(tmp_path / "gw-1.bundle", {"other": b"x"})
    (tmp_path / "junk.bundle").write_text("hello\n", encoding="utf-8")
    with pytest.raises(ConnectorError, match=r"not a readable bundle|not a carbontwin"):
        read_bundle(tmp_path / "junk.bundle", KEYS)


def test_batch_signature_detects_changes_and_unknown_collectors():
    buf = CollectorBuffer(":memory:", collector="gw-1", key=KEY, capacity_readings=100)
    buf.put([{"point": "P1", "ts": T0, "value": 1.0}])
    doc = buf.pending()[0].to_json()
    assert verify_batch(doc, KEYS).seq == 1
    doc["readings"][0]["value"] = 2.0
    with pytest.raises(ConnectorError, match="fails its signature check"):
        verify_batch(doc, KEYS)
    with pytest.raises(ConnectorError, match="is not registered"):
        verify_batch({**doc, "collector": "intruder"}, KEYS)
    with pytest.raises(ConnectorError, match="not valid JSON"):
        buf.put([{"point": "P1", "ts": T0, "value": float("nan")}])
