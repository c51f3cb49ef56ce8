"""Activity entries, readings, statistics, factor overrides and quarantine."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.core.records import ActivityEntry, FactorOverride, QuarantineRecord, Statistic
from carbontwin.store import NotFoundError, Store

PARK = "testpark"


def entry(source: str, start: str, end: str, quantity: float = 1.0, **kw) -> ActivityEntry:
    return ActivityEntry(
        source=source,
        start=dt.date.fromisoformat(start),
        end=dt.date.fromisoformat(end),
        quantity=quantity,
        unit=kw.pop("unit", "kWh"),
        **kw,
    )


# Activity entries --------------------------------------------------------------------
def test_entries_range_query(store: Store) -> None:
    batch = [
        entry(
            "E1-gas",
            "2025-01-01",
            "2025-01-31",
            12.5,
            unit="wNm3",
            origin="invoice",
            quality="invoice",
            ref="invoice 2025-001",
            entered_by="alice",
        ),
        entry("E2-grid", "2025-02-01", "2025-02-28", 3000.0),
        entry("E2-grid", "2025-03-01", "2025-03-31", 3100.0, stream="peak"),
        entry("E1-gas", "2024-12-01", "2025-03-31", 40.0, unit="wNm3"),
    ]
    ids = store.add_entries(PARK, batch, batch_id="ledger-2025.xlsx", actor="alice")
    assert len(ids) == 4
    assert len(set(ids)) == 4

    feb = store.entries(PARK, dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    assert [(e.source, e.start) for e in feb] == [
        ("E1-gas", dt.date(2024, 12, 1)),
        ("E2-grid", dt.date(2025, 2, 1)),
    ]
    # Inclusive at both ends: an entry ending on the first day overlaps.
    jan31 = store.entries(PARK, dt.date(2025, 1, 31), dt.date(2025, 1, 31))
    assert {e.quantity for e in jan31} == {12.5, 40.0}
    assert store.entries(PARK, dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == []
    assert store.entries("otherpark", dt.date(2025, 1, 1), dt.date(2025, 12, 31)) == []

    only = store.entries(PARK, dt.date(2025, 1, 1), dt.date(2025, 12, 31), sources=["E2-grid"])
    assert [e.stream for e in only] == ["", "peak"]
    assert store.entries(PARK, dt.date(2025, 1, 1), dt.date(2025, 12, 31), sources=[]) == []

    # Everything but the id comes back as it went in.
    stored = {e.id: e for e in store.entries(PARK, dt.date(2024, 1, 1), dt.date(2025, 12, 31))}
    for i, original in zip(ids, batch, strict=True):
        assert stored[i] == original.model_copy(update={"id": i})


def test_entry_batch_is_audited(store: Store) -> None:
    store.add_entries(PARK, [entry("S", "2025-01-01", "2025-01-31", entered_by="bob")])
    [record] = store.audit_log(action="entries.add")
    assert record["actor"] == "bob"
    assert record["object"] == f"park:{PARK}"
    assert record["detail"]["count"] == 1
    assert record["detail"]["sources"] == ["S"]
    assert record["detail"]["batch_id"]  # a batch id was assigned


def test_entry_ids_are_kept_and_unique(store: Store) -> None:
    [i] = store.add_entries(PARK, [entry("S", "2025-01-01", "2025-01-31", id="E-1")])
    assert i == "E-1"
    with pytest.raises(ConsistencyError, match="refused"):
        store.add_entries(PARK, [entry("S", "2025-02-01", "2025-02-28", id="E-1")])
    with pytest.raises(ValidationError, match="more than once"):
        store.add_entries(PARK, [entry("S", "2025-01-01", "2025-01-02", id="X")] * 2)
    # The refused batch wrote nothing, not even its audit record.
    assert len(store.entries(PARK, dt.date(2025, 1, 1), dt.date(2025, 12, 31))) == 1
    assert len(store.audit_log(action="entries.add")) == 1


def test_non_finite_quantity_is_refused(store: Store) -> None:
    with pytest.raises(ValidationError, match="finite"):
        store.add_entries(PARK, [entry("S", "2025-01-01", "2025-01-31", math.nan)])
    assert store.add_entries(PARK, []) == []


# Readings ----------------------------------------------------------------------------
def test_insert_readings_deduplicates(store: Store) -> None:
    rows = [("M1", 0, 1.0, 0), ("M1", 900_000, 2.0, 0), ("M2", 0, 5.0, 1)]
    assert store.insert_readings(rows, ref="gateway-1") == 3
    again = [("M1", 0, 99.0, 0), ("M1", 1_800_000, 3.0, 0), ("M1", 1_800_000, 4.0, 0)]
    assert store.insert_readings(again, ref="gateway-2") == 1
    assert store.insert_readings(rows) == 0
    # The first value stored for a (point, time) stays.
    assert store.readings("M1", 0, 10**13) == [(0, 1.0, 0), (900_000, 2.0, 0), (1_800_000, 3.0, 0)]
    # Half-open range: start included, end excluded.
    assert store.readings("M1", 900_000, 1_800_000) == [(900_000, 2.0, 0)]
    assert store.readings("M2", 0, 1) == [(0, 5.0, 1)]
    assert store.insert_readings([]) == 0


def test_readings_validation(store: Store) -> None:
    with pytest.raises(ValidationError, match="finite"):
        store.insert_readings([("M1", 0, math.inf, 0)])
    with pytest.raises(ValidationError, match="quality"):
        store.insert_readings([("M1", 0, 1.0, 40_000)])


def test_large_batch_of_readings(store: Store) -> None:
    rows = [("M-big", i * 60_000, float(i), 0) for i in range(5000)]
    assert store.insert_readings(rows) == 5000
    assert store.insert_readings([*rows[2500:], ("M-big", -60_000, -1.0, 0)]) == 1
    assert len(store.readings("M-big", -60_000, 10**12)) == 5001


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=st.lists(
        st.lists(st.tuples(st.integers(0, 30), st.floats(-1e6, 1e6)), max_size=15), max_size=4
    )
)
def test_readings_first_write_wins(store: Store, batches) -> None:
    point = f"P-{uuid.uuid4().hex}"
    expected: dict[int, float] = {}
    for batch in batches:
        new = store.insert_readings([(point, ts * 1000, v, 0) for ts, v in batch])
        fresh = {}
        for ts, v in batch:
            if ts * 1000 not in expected and ts * 1000 not in fresh:
                fresh[ts * 1000] = v
        assert new == len(fresh)
        expected.update(fresh)
    assert store.readings(point, 0, 10**9) == [(t, expected[t], 0) for t in sorted(expected)]


# Statistics --------------------------------------------------------------------------
def test_statistics_round_trip(store: Store) -> None:
    stats = [
        Statistic(
            entity="E1",
            name="value_added",
            start=dt.date(2025, 1, 1),
            end=dt.date(2025, 12, 31),
            value=1.2e5,
            unit="wCNY",
            ref="yearbook",
        ),
        Statistic(
            entity="park",
            name="floor_area",
            start=dt.date(2024, 1, 1),
            end=dt.date(2024, 12, 31),
            value=8.0e4,
            unit="m2",
        ),
    ]
    assert store.add_statistics(PARK, stats, actor="alice") == 2
    assert store.statistics(PARK, dt.date(2025, 6, 1), dt.date(2025, 6, 30)) == [stats[0]]
    assert store.statistics(PARK, dt.date(2024, 1, 1), dt.date(2025, 1, 1)) == [stats[1], stats[0]]
    assert store.statistics("elsewhere", dt.date(2024, 1, 1), dt.date(2025, 12, 31)) == []
    assert store.audit_log(action="statistics.add")[0]["actor"] == "alice"


# Factor overrides --------------------------------------------------------------------
def test_override_add_and_revoke_with_audit(store: Store) -> None:
    override = FactorOverride(
        factor="ncv:natural_gas",
        value=390.1,
        unit="GJ/wNm3",
        applies_to="enterprise",
        target="E1",
        valid_from=dt.date(2025, 1, 1),
        reason="measured by the supplier's lab",
        source="test report 2025-01",
    )
    oid = store.add_override(PARK, override, actor="alice")
    [stored] = store.overrides(PARK)
    assert stored == override.model_copy(update={"id": oid, "created_by": "alice"})

    store.revoke_override(oid, actor="bob", reason="superseded by the 2025 report")
    assert store.overrides(PARK) == []
    [revoked] = store.overrides(PARK, include_revoked=True)
    assert revoked.revoked
    assert revoked.id == oid

    revoke, add = store.audit_log(limit=2)
    assert (add["action"], add["actor"], add["object"]) == (
        "override.add",
        "alice",
        f"override:{oid}",
    )
    assert add["detail"]["factor"] == "ncv:natural_gas"
    assert add["detail"]["value"] == 390.1
    assert (revoke["action"], revoke["actor"]) == ("override.revoke", "bob")
    assert revoke["detail"]["reason"] == "superseded by the 2025 report"
    assert store.verify_audit() is None

    with pytest.raises(ConsistencyError, match="revoked already"):
        store.revoke_override(oid, actor="bob", reason="twice")
    with pytest.raises(NotFoundError):
        store.revoke_override("no-such-id", actor="bob", reason="gone")
    with pytest.raises(ValidationError, match="reason"):
        store.revoke_override(oid, actor="bob", reason=" ")
    assert len(store.audit_log(action="override.revoke")) == 1


def test_override_marked_revoked_is_refused(store: Store) -> None:
    override = FactorOverride(
        factor="grid:east-2022", value=0.5, unit="tCO2/MWh", reason="contract", revoked=True
    )
    with pytest.raises(ValidationError, match="revoke_override"):
        store.add_override(PARK, override, actor="alice")


# Quarantine --------------------------------------------------------------------------
def test_quarantine_and_release(store: Store) -> None:
    records = [
        QuarantineRecord(
            rule="range",
            reason="value -5 below min_value 0 for point M1",
            origin="mqtt",
            ref="park/M1",
            row={"value": -5, "ts": 0},
        ),
        QuarantineRecord(
            rule="decode",
            reason="register 40001 unreadable",
            origin="modbus",
            row={"raw": b"\x00\xff", "value": math.nan, "day": dt.date(2025, 1, 1)},
        ),
    ]
    ids = store.quarantine(PARK, records, actor="collector")
    assert len(ids) == 2
    held = store.quarantined(PARK)
    assert [q["id"] for q in held] == ids
    assert held[0]["row"] == {"value": -5, "ts": 0}
    assert held[0]["rule"] == "range"
    # Values JSON cannot hold are kept as text.
    assert held[1]["row"]["value"] == "nan"
    assert held[1]["row"]["day"] == "2025-01-01"

    store.release(ids[0], actor="alice")
    assert [q["id"] for q in store.quarantined(PARK)] == [ids[1]]
    released = store.quarantined(PARK, include_released=True)[0]
    assert released["released_by"] == "alice"
    assert released["released_at"].tzinfo is not None
    with pytest.raises(ConsistencyError, match="released already"):
        store.release(ids[0], actor="alice")
    with pytest.raises(NotFoundError):
        store.release(10**6, actor="alice")
    actions = [r["action"] for r in store.audit_log()]
    assert actions == ["quarantine.release", "quarantine.add"]
