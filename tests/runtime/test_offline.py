"""Offline sync and the collector's online path land readings once, verified."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from carbontwin.cli import app
from carbontwin.connectors.collector import Collector, CollectorBuffer
from carbontwin.connectors.errors import ConnectorError
from carbontwin.core.errors import ValidationError
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.ingest import Ingestor
from carbontwin.runtime.offline import collector_keys, receive_batch, upload_bundle
from carbontwin.store import Store

KEY = b"k-gw-z2"
KEYS = {"gw-z2": KEY}


def readings(hours=6):
    """Cumulative registers of the E03 and E04 feeders, every 15 min, from two days ago."""
    start = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=2)).floor("15min")
    out = []
    for k in range(hours * 4):
        ts = int((start + pd.Timedelta(minutes=15 * k)).value // 1_000_000)
        out.append({"point": "P-E03-ELEC", "ts": ts, "value": 1000.0 + 2000.0 * k, "q": 0})
        out.append({"point": "P-E04-ELEC", "ts": ts, "value": 500.0 + 400.0 * k, "q": 0})
    return out


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    yield s
    s.close()


def test_bundle_lands_once_and_tampering_is_refused(tmp_path, store):
    park = resolve_park("demo")
    buf = CollectorBuffer(tmp_path / "q.db", collector="gw-z2", key=KEY, capacity_readings=10**5)
    data = readings()
    for k in range(0, len(data), 8):
        buf.put(data[k : k + 8])
    manifest = buf.export_bundle(tmp_path / "gw-z2.bundle")
    got, summary = upload_bundle(store, park, tmp_path / "gw-z2.bundle", KEYS)
    assert got["readings"] == len(data) == summary.received
    assert summary.stored == len(data) and summary.balanced
    again = upload_bundle(store, park, tmp_path / "gw-z2.bundle", KEYS)[1]
    assert again.stored == 0 and again.duplicate == len(data)  # nothing lands twice
    buf.ack(manifest["last_seq"])
    text = (tmp_path / "gw-z2.bundle").read_text(encoding="utf-8")
    (tmp_path / "bad.bundle").write_text(
        text.replace("2000.0", "2100.0", 1) if "2000.0" in text else text + "x", encoding="utf-8"
    )
    with pytest.raises(ValidationError, match=r"checksum|signature"):
        upload_bundle(store, park, tmp_path / "bad.bundle", KEYS)
    assert any(q["rule"] == "file" for q in store.quarantined(park.id))
    assert any(r["action"] == "collector.refused" for r in store.audit_log(limit=20))
    assert store.verify_audit() is None


def test_online_batches_from_a_collector_and_an_intruder(tmp_path, store):
    park = resolve_park("demo")
    ingestor = Ingestor(store, park, max_age_s=400 * 86_400)
    buf = CollectorBuffer(tmp_path / "q.db", collector="gw-z2", key=KEY, capacity_readings=10**5)
    data = readings(2)
    feed = [data[:8], data[8:]]
    c = Collector(
        buf,
        lambda: feed.pop(0) if feed else [],
        lambda doc: receive_batch(store, park, doc, KEYS, ingestor),
    )
    c.cycle()
    c.cycle()
    assert buf.size == 0 and ingestor.total.stored == len(data)
    intruder = CollectorBuffer(":memory:", collector="gw-evil", key=b"x", capacity_readings=10)
    intruder.put(data[:2])
    with pytest.raises(ConnectorError, match="not registered"):
        receive_batch(store, park, intruder.pending()[0].to_json(), KEYS, ingestor)
    assert any(r["action"] == "collector.refused" for r in store.audit_log(limit=20))


def test_cli_upload(tmp_path):
    buf = CollectorBuffer(tmp_path / "q.db", collector="gw-z2", key=KEY, capacity_readings=10**5)
    buf.put(readings(1))
    buf.export_bundle(tmp_path / "b.bundle")
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"gw-z2": KEY.hex()}), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'c.db'}"
    res = CliRunner().invoke(
        app, ["upload", str(tmp_path / "b.bundle"), "--keys", str(keys), "--store", url]
    )
    assert res.exit_code == 0, res.output
    assert "8 stored" in res.stdout
    assert collector_keys(keys) == KEYS
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    res = CliRunner().invoke(
        app, ["upload", str(tmp_path / "b.bundle"), "--keys", str(bad), "--store", url]
    )
    assert res.exit_code == 2 and "cannot be read" in res.output
