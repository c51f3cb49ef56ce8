"""The push API: signed collector batches and manual entries, through FastAPI's client."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from carbontwin.connectors.collector import CollectorBuffer
from carbontwin.runtime.accounting import resolve_park

KEYS = {"gw-z2": b"k-gw-z2"}
BATCHES = "/api/v1/collectors/batches"
ENTRIES = "/api/v1/entries"
PARK = resolve_park("demo")
YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def readings(n=4):
    start = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=2)).floor("15min")
    out = []
    for k in range(n):
        ts = int((start + pd.Timedelta(minutes=15 * k)).value // 1_000_000)
        out.append({"point": "P-E03-ELEC", "ts": ts, "value": 1000.0 + 250.0 * k, "q": 0})
        out.append({"point": "P-E04-ELEC", "ts": ts, "value": 500.0 + 40.5 * k, "q": 0})
    return out


@pytest.fixture
def client(api):
    return api.client


@pytest.fixture
def erp(api):
    return api.as_("erp")


def signed_batch(key=KEYS["gw-z2"], collector="gw-z2", data=None):
    buf = CollectorBuffer(":memory:", collector=collector, key=key, capacity_readings=1000)
    buf.put(data if data is not None else readings())
    return buf.pending()[0].to_json()


def test_openapi_is_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {BATCHES, ENTRIES} <= set(paths)


def test_accepted_batch_lands_and_a_duplicate_lands_once(client, store):
    doc = signed_batch()
    first = client.post(BATCHES, json=doc)
    assert first.status_code == 200
    body = first.json()
    assert body["collector"] == "gw-z2" and body["seq"] == 1
    assert body["received"] == 8 and body["stored"] == 8 and body["quarantined"] == 0
    again = client.post(BATCHES, json=doc)  # the acknowledgement was lost: sent again
    assert again.status_code == 200
    assert again.json()["stored"] == 0 and again.json()["duplicate"] == 8
    stored = store.readings("P-E03-ELEC", 0, 2**62)
    assert [v for _, v, _ in stored] == [1000.0, 1250.0, 1500.0, 1750.0]


def test_tampered_batch_is_refused_quarantined_and_audited(client, store):
    doc = signed_batch()
    doc["readings"][0]["value"] = 999_999.0
    resp = client.post(BATCHES, json=doc)
    assert resp.status_code == 401
    assert resp.json()["code"] == "bad_signature"
    assert "signature" in resp.json()["message"]
    assert store.readings("P-E03-ELEC", 0, 2**62) == []
    held = store.quarantined(PARK.id)
    assert len(held) == 1 and held[0]["origin"] == "collector"
    assert store.audit_log(action="collector.refused")[0]["outcome"] == "refused"


def test_unknown_collector_is_refused(client, store):
    resp = client.post(BATCHES, json=signed_batch(key=b"other", collector="gw-rogue"))
    assert resp.status_code == 401
    assert resp.json()["code"] == "unknown_collector"
    assert "gw-rogue" in resp.json()["message"]
    assert store.readings("P-E03-ELEC", 0, 2**62) == []


def test_malformed_batch_names_the_field(client):
    resp = client.post(BATCHES, json={"collector": "gw-z2", "seq": "x", "readings": []})
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "invalid_request"
    assert {e["field"] for e in body["errors"]} == {"seq", "signature"}


GOOD = {
    "source": "E04-DIESEL",
    "stream": "",
    "start": "2025-03-01",
    "end": "2025-03-31",
    "quantity": 12000,
    "unit": "kg",
    "ref": "ledger 2025-03",
}
BAD = {**GOOD, "start": "2025-04-01", "end": "2025-04-30", "quantity": "-3", "unit": "t"}


def test_entries_push_answers_which_rows_landed_and_which_are_held(client, store, erp):
    resp = client.post(ENTRIES, json=[GOOD, BAD], headers=erp)
    assert resp.status_code == 200
    body = resp.json()
    assert [(r["row"], r["quantity"], r["unit"]) for r in body["landed"]] == [(1, 12.0, "t")]
    assert [(q["row"], q["rule"]) for q in body["quarantined"]] == [(2, "negative")]
    assert "negative" in body["quarantined"][0]["reason"]
    assert body["summary"]["accepted"] == 1 and body["summary"]["quarantined"] == 1
    entries = store.entries(PARK.id, *YEAR)
    assert [(e.id, e.origin, e.entered_by) for e in entries] == [
        (body["landed"][0]["id"], "api", "erp")
    ]
    held = store.quarantined(PARK.id)
    assert [h["rule"] for h in held] == ["negative"]
    assert all(not k.startswith("\x00") for k in held[0]["row"])
    assert store.audit_log(action="entries.push")[0]["actor"] == "erp"
    # The same row pushed again is a duplicate of the stored entry.
    again = client.post(ENTRIES, json=[GOOD], headers=erp).json()
    assert again["landed"] == [] and again["quarantined"][0]["rule"] == "duplicate"


def test_entries_with_an_unknown_field_name_it(client, erp):
    resp = client.post(ENTRIES, json=[GOOD, {**GOOD, "qty": 3}], headers=erp)
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "invalid_request"
    assert body["errors"] == [
        {"in": "body", "row": 2, "field": "qty", "message": "Extra inputs are not permitted"}
    ]
    assert "row 2: qty" in body["message"]


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "not_authenticated"), ({"X-Api-Key": "not-a-key"}, "bad_api_key")],
)
def test_entries_need_a_registered_credential(api, client, store, headers, code):
    resp = client.post(ENTRIES, json=[GOOD], headers=headers)
    assert resp.status_code == 401
    assert resp.json()["code"] == code and resp.json()["message"]
    assert store.entries(PARK.id, *YEAR) == []
    api.flush()
    assert store.audit_log(action="api.write")[0]["outcome"] == "denied"


def test_unknown_route_is_a_json_error(client):
    resp = client.get("/api/v1/nothing")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
