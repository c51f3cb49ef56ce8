"""Alarms in the store: opened, merged while open, acknowledged, closed, audited."""

import datetime as dt

import pytest

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.store import NotFoundError, Store

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def anomaly(point="P-E03-KW", kind="spike", severity="warning", **kw):
    return {
        "point": point,
        "kind": kind,
        "severity": severity,
        "message_en": f"{kind} on {point}",
        "message_zh": f"{point} 出现 {kind}",
        "ts": T0,
        "enterprise": "E03",
        "score": 7.5,
        **kw,
    }


def test_an_anomaly_seen_again_updates_its_open_alarm(store: Store) -> None:
    (first,) = store.raise_alarms("binhai", [anomaly()])
    assert (first["status"], first["count"], first["severity"]) == ("open", 1, "warning")
    later = T0 + dt.timedelta(minutes=5)
    (again,) = store.raise_alarms("binhai", [anomaly(severity="critical", ts=later)])
    assert again["id"] == first["id"]
    assert (again["count"], again["severity"]) == (2, "critical")
    assert again["reading_ts"] == later
    # Another kind or point is another alarm; one call may carry several.
    out = store.raise_alarms("binhai", [anomaly(kind="stuck"), anomaly(point="P-E04-KW")])
    assert len({a["id"] for a in out} | {first["id"]}) == 3
    listed = store.alarms("binhai", status=["open"])
    assert [(a["point"], a["kind"]) for a in listed] == [
        ("P-E04-KW", "spike"),
        ("P-E03-KW", "stuck"),
        ("P-E03-KW", "spike"),
    ]
    assert store.alarms("binhai", points=["P-E04-KW"])[0]["point"] == "P-E04-KW"


def test_acknowledge_then_close_with_a_note_each_audited(store: Store) -> None:
    (a,) = store.raise_alarms("binhai", [anomaly()])
    acked = store.update_alarm(a["id"], "acknowledged", actor="energy")
    assert (acked["status"], acked["acknowledged_by"]) == ("acknowledged", "energy")
    with pytest.raises(ConsistencyError, match="acknowledged already"):
        store.update_alarm(a["id"], "acknowledged", actor="energy")
    with pytest.raises(ValidationError, match="needs a note"):
        store.update_alarm(a["id"], "closed", actor="energy", note="  ")
    closed = store.update_alarm(a["id"], "closed", actor="energy", note="CT rewired")
    assert (closed["status"], closed["closed_by"], closed["note"]) == (
        "closed",
        "energy",
        "CT rewired",
    )
    with pytest.raises(ConsistencyError, match="closed already"):
        store.update_alarm(a["id"], "closed", actor="energy", note="again")
    actions = [r["action"] for r in store.audit_log() if r["object"] == f"alarm:{a['id']}"]
    assert actions == ["alarms.close", "alarms.acknowledge"]  # newest first
    assert store.verify_audit() is None
    # Once closed, the same anomaly opens a new alarm.
    (new,) = store.raise_alarms("binhai", [anomaly()])
    assert new["id"] != a["id"] and new["status"] == "open"


def test_bad_alarms_and_unknown_ids_are_refused(store: Store) -> None:
    with pytest.raises(ValidationError, match="severity 'loud'"):
        store.raise_alarms("binhai", [anomaly(severity="loud")])
    with pytest.raises(ValidationError, match="needs point"):
        store.raise_alarms("binhai", [anomaly(point="")])
    assert store.alarms("binhai") == []
    with pytest.raises(NotFoundError):
        store.update_alarm(999, "acknowledged", actor="x")
    with pytest.raises(ValidationError, match="acknowledged or closed"):
        store.update_alarm(1, "open", actor="x")
    assert store.raise_alarms("binhai", []) == []
