"""The integrity chain over readings, entries and inventories, and stored inventories.

Tampering is done the way an intruder with database access would: plain SQL on the tables,
behind the store's back. Every check must then name the exact link (batch id) and kind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import struct
import threading

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.core.records import ActivityEntry
from carbontwin.store import NotFoundError, Store, StoreError
from carbontwin.store.integrity import (
    DIGEST_MISMATCH,
    GENESIS_HASH,
    HASH_MISMATCH,
    MISSING_LINK,
    PREV_MISMATCH,
    STATUS_MISMATCH,
    ReadingsDigest,
    canonical_json,
    entries_digest,
    inventory_digest,
    link_hash,
    readings_digest,
)
from carbontwin.store.models import IntegrityBatchRow

PARK = "testpark"
_LINKS = IntegrityBatchRow.__table__
JAN = (dt.date(2025, 1, 1), dt.date(2025, 1, 31))
LINE = {
    "kind": "emission",
    "month": "2025-01",
    "enterprise": "E1",
    "zone": "Z1",
    "industry": "C2614",
    "scope": 1,
    "category": "fuel_combustion",
    "gas": "CO2",
    "amount": 12.5,
    "unit": "t",
    "tco2e": 12.5,
}


# Helpers -----------------------------------------------------------------------------
def _execute(store: Store, sql: str, **params) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def _json_param(store: Store) -> str:
    return "CAST(:d AS JSON)" if store.engine.dialect.name == "postgresql" else ":d"


def _links(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM integrity_batches ORDER BY id")).mappings()
        return [dict(r) for r in rows]


def _batch_of(store: Store, point: str, ts: int) -> int:
    with store.engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT batch_id FROM readings WHERE point_id = :p AND ts = :t"),
            {"p": point, "t": ts},
        ).scalar_one()


def _entry(source: str, quantity: float, start: str = "2025-01-01", **kw) -> ActivityEntry:
    return ActivityEntry(
        source=source,
        start=dt.date.fromisoformat(start),
        end=dt.date.fromisoformat(start) + dt.timedelta(days=30),
        quantity=quantity,
        unit=kw.pop("unit", "kWh"),
        **kw,
    )


def _readings(point: str, first: int, n: int, scale: float = 1.0) -> list:
    return [(point, (first + i) * 900_000, scale * (first + i) + 0.1, 0) for i in range(n)]


def _broken(store: Store, kind: str):
    report = store.verify_integrity()
    assert not report.ok
    broken = report.kinds[kind].broken
    assert broken is not None, report.problems()
    return report, broken


@pytest.fixture
def chain(store: Store) -> dict:
    """Six links: readings, entries, readings, inventory, a newer inventory, readings."""
    store.insert_readings([*_readings("M1", 0, 10), *_readings("M2", 0, 10, 2.0)], ref="gw-1")
    store.add_entries(PARK, [_entry("S1", 10.0), _entry("S2", -0.0)], batch_id="ledger-1")
    store.insert_readings(_readings("M1", 10, 10), ref="gw-1")
    old = store.save_inventory(PARK, *JAN, JAN[0], {"schema": "x", "v": 1}, [LINE], "alice")
    new = store.save_inventory(
        PARK, *JAN, JAN[0], {"schema": "x", "v": 2}, [LINE, {**LINE, "enterprise": "E2"}], "bob"
    )
    store.insert_readings(_readings("M3", 0, 5), ref="gw-2")
    ids = {link["kind"] + str(i): link["id"] for i, link in enumerate(_links(store))}
    return {
        "readings": [v for k, v in ids.items() if k.startswith("readings")],
        "entries": [v for k, v in ids.items() if k.startswith("entries")],
        "inventory": [v for k, v in ids.items() if k.startswith("inventory")],
        "inventories": (old, new),
    }


# The documented forms ----------------------------------------------------------------
def test_readings_digest_is_the_documented_form(store: Store) -> None:
    rows = [("M-b", 900_000, 2.5, 0), ("M-a", 0, -0.0, 7), ("M-b", 0, 1e-05, 0)]
    assert store.insert_readings(rows, ref="gw-1") == 3
    # By hand, from the module notes: rows by (point_id, ts); P over "point\tn\n" lines,
    # R over big-endian (ts int64, value binary64 with -0.0 as 0.0, quality int64).
    p = hashlib.sha256(b"M-a\t1\nM-b\t2\n").digest()
    r = hashlib.sha256(
        struct.pack(">qdq", 0, 0.0, 7)
        + struct.pack(">qdq", 0, 1e-05, 0)
        + struct.pack(">qdq", 900_000, 2.5, 0)
    ).digest()
    expected = hashlib.sha256(p + r).hexdigest()
    assert readings_digest(rows) == expected
    (link,) = _links(store)
    assert link["kind"] == "readings" and link["ref"] == "gw-1" and link["count"] == 3
    assert link["digest"] == expected
    assert link["prev_hash"] == GENESIS_HASH
    created = link["created_at"]
    if isinstance(created, str):  # SQLite hands the raw text back to plain SQL
        created = dt.datetime.fromisoformat(created).replace(tzinfo=dt.UTC)
    text = json.dumps(
        {
            "count": 3,
            "created_at": created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "digest": expected,
            "id": link["id"],
            "kind": "readings",
            "prev_hash": GENESIS_HASH,
            "ref": "gw-1",
        },
        separators=(",", ":"),
    )
    assert link["hash"] == hashlib.sha256(text.encode()).hexdigest()
    assert _batch_of(store, "M-a", 0) == link["id"]


def test_entries_and_inventory_digests_are_the_documented_forms(store: Store) -> None:
    e = _entry("S1", 2.5, ref="invoice\t7", entered_by="张三", origin="invoice", quality="invoice")
    (eid,) = store.add_entries(PARK, [e], batch_id="b-1")
    line = (
        f'["{eid}","{PARK}","S1","","2025-01-01","2025-01-31",2.5,"kWh","invoice",'
        '"invoice","invoice\\t7","张三"]\n'
    )
    inv = store.save_inventory(PARK, *JAN, JAN[0], {"b": [1.5], "a": "é"}, [LINE], "alice")
    saved = store.inventory(inv)
    head = {
        "as_of": "2025-01-01",
        "computed_at": saved["computed_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "computed_by": "alice",
        "end": "2025-01-31",
        "id": inv,
        "park_id": PARK,
        "start": "2025-01-01",
    }
    inv_text = (
        json.dumps(head, sort_keys=True, separators=(",", ":"))
        + "\n"
        + '{"a":"é","b":[1.5]}'
        + "\n"
        + '["emission","2025-01","E1","Z1","C2614",1,"fuel_combustion","CO2","","",12.5,"t",'
        "12.5,0.0]\n"
    )
    entries_link, inventory_link = _links(store)
    assert entries_link["ref"] == "b-1" and entries_link["count"] == 1
    assert entries_link["digest"] == hashlib.sha256(line.encode()).hexdigest()
    assert inventory_link["ref"] == inv and inventory_link["count"] == 1
    assert inventory_link["digest"] == hashlib.sha256(inv_text.encode()).hexdigest()
    assert inventory_link["prev_hash"] == entries_link["hash"]
    assert saved["batch_id"] == inventory_link["id"]


def test_running_digest_equals_the_whole_one_and_refuses_disorder() -> None:
    rows = sorted(_readings("A", 0, 7) + _readings("B", 0, 5) + _readings("C", 3, 4))
    whole = readings_digest(rows)
    d = ReadingsDigest()
    for part in (rows[:3], rows[3:9], rows[9:]):  # splits inside and between points
        p, t, v, q = zip(*part, strict=True)
        assert d.update(np.array(p, dtype=object), np.array(t), np.array(v), np.array(q))
    assert d.count == len(rows) and d.hexdigest() == whole
    assert not d.update(np.array(["A"], dtype=object), np.array([0]), np.array([0.0]), [0])
    assert d.hexdigest() == whole  # a refused update adds nothing
    assert entries_digest([]) == hashlib.sha256(b"").hexdigest()
    empty = {
        "id": "i",
        "park_id": "p",
        "start": JAN[0],
        "end": JAN[1],
        "as_of": JAN[0],
        "computed_by": "",
        "computed_at": dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
    }
    text = canonical_json({**empty, **{k: str(empty[k]) for k in ("start", "end", "as_of")},
                           "computed_at": "2025-02-01T00:00:00.000000Z"})  # fmt: skip
    assert inventory_digest(empty, {}, []) == hashlib.sha256(f"{text}\n{{}}\n".encode()).hexdigest()


# An intact chain ---------------------------------------------------------------------
def test_intact_chain_verifies(store: Store, chain: dict) -> None:
    report = store.verify_integrity()
    assert report.ok, report.problems()
    assert report.problems() == []
    assert report.links == 6
    r, e, i = (report.kinds[k] for k in ("readings", "entries", "inventory"))
    assert (r.batches, r.rows, r.unchained) == (3, 35, 0)
    assert (e.batches, e.rows, e.unchained) == (1, 2, 0)
    assert (i.batches, i.rows, i.unchained) == (2, 3, 0)
    last = _links(store)[-1]
    assert (report.head_id, report.head_hash) == (last["id"], last["hash"])
    assert report.audit_broken is None and report.audit_records == 3  # entries, 2 inventories
    doc = report.to_dict()
    assert doc["ok"] and doc["kinds"]["readings"]["rows"] == 35 and doc["problems"] == []
    only = store.verify_integrity(["entries"])
    assert list(only.kinds) == ["entries"] and only.ok and only.links == 6


def test_empty_store_verifies(store: Store) -> None:
    report = store.verify_integrity()
    assert report.ok and report.links == 0 and report.head_id is None
    assert report.head_hash == GENESIS_HASH


def test_duplicates_keep_the_chain_valid(store: Store) -> None:
    first = _readings("M1", 0, 10)
    assert store.insert_readings(first) == 10
    # Half of these are stored already, and one repeats within the call with another value.
    again = [*first[5:], *_readings("M1", 10, 5), ("M1", 10 * 900_000, 99.0, 0)]
    assert store.insert_readings(again) == 5
    assert store.insert_readings(first) == 0  # nothing new: no link
    links = _links(store)
    assert [link["count"] for link in links] == [10, 5]
    assert _batch_of(store, "M1", 5 * 900_000) == links[0]["id"]  # the first write stays
    assert _batch_of(store, "M1", 10 * 900_000) == links[1]["id"]
    assert store.readings("M1", 10 * 900_000, 10 * 900_000 + 1)[0][1] == first[0][2] + 10
    assert links[1]["digest"] == readings_digest(_readings("M1", 10, 5))
    report = store.verify_integrity()
    assert report.ok, report.problems()
    assert report.kinds["readings"].rows == 15


def test_readings_from_before_the_chain_are_unchained(store: Store) -> None:
    for ts in range(4):
        _execute(
            store,
            "INSERT INTO readings (point_id, ts, value, quality) VALUES ('OLD', :t, 1.0, 0)",
            t=ts * 1000,
        )
    store.insert_readings(_readings("NEW", 0, 3))
    report = store.verify_integrity()
    assert report.ok, report.problems()
    assert report.kinds["readings"].unchained == 4
    assert report.kinds["readings"].rows == 3


def test_entries_from_before_the_chain_are_unchained(store: Store) -> None:
    _execute(
        store,
        'INSERT INTO activity_entries (id, park_id, source, stream, start, "end", quantity, '
        "unit, origin, quality, ref, entered_by, batch_id, created_at) VALUES ('old-1', :p, "
        "'S', '', :d, :d, 1.0, 't', 'manual', 'measured', '', '', 'legacy', :c)",
        p=PARK,
        d=JAN[0],
        c=dt.datetime(2020, 1, 1),
    )
    store.add_entries(PARK, [_entry("S", 1.0)])
    report = store.verify_integrity(["entries"])
    assert report.ok, report.problems()
    assert (report.kinds["entries"].rows, report.kinds["entries"].unchained) == (1, 1)


# Tampering ---------------------------------------------------------------------------
def test_changed_reading_value_is_found(store: Store, chain: dict) -> None:
    _execute(store, "UPDATE readings SET value = value + 1e-9 WHERE point_id = 'M1' AND ts = 0")
    report, broken = _broken(store, "readings")
    assert (broken.batch_id, broken.kind, broken.problem) == (
        chain["readings"][0],
        "readings",
        DIGEST_MISMATCH,
    )
    assert broken.ref == "gw-1"
    assert report.chain == broken
    assert report.kinds["entries"].broken is None and report.kinds["inventory"].broken is None


def test_deleted_reading_is_found(store: Store, chain: dict) -> None:
    _execute(store, "DELETE FROM readings WHERE point_id = 'M1' AND ts = :t", t=15 * 900_000)
    _, broken = _broken(store, "readings")
    assert (broken.batch_id, broken.problem) == (chain["readings"][1], DIGEST_MISMATCH)
    assert "9 readings are stored with this batch id, the link counts 10" in broken.detail


def test_inserted_reading_is_found(store: Store, chain: dict) -> None:
    target = chain["readings"][2]
    _execute(
        store,
        "INSERT INTO readings (point_id, ts, value, quality, batch_id) VALUES ('M3', -1, 5.0, "
        "0, :b)",
        b=target,
    )
    _, broken = _broken(store, "readings")
    assert (broken.batch_id, broken.problem) == (target, DIGEST_MISMATCH)


def test_reading_moved_out_of_its_batch_is_found(store: Store, chain: dict) -> None:
    _execute(store, "UPDATE readings SET batch_id = NULL WHERE point_id = 'M2' AND ts = 0")
    report, broken = _broken(store, "readings")
    assert (broken.batch_id, broken.problem) == (chain["readings"][0], DIGEST_MISMATCH)
    assert report.kinds["readings"].unchained == 1


def test_changed_entry_quantity_is_found(store: Store, chain: dict) -> None:
    _execute(store, "UPDATE activity_entries SET quantity = 11.0 WHERE source = 'S1'")
    report, broken = _broken(store, "entries")
    assert (broken.batch_id, broken.kind, broken.ref, broken.problem) == (
        chain["entries"][0],
        "entries",
        "ledger-1",
        DIGEST_MISMATCH,
    )
    assert report.kinds["readings"].broken is None


def test_changed_inventory_line_is_found(store: Store, chain: dict) -> None:
    _, new = chain["inventories"]
    _execute(
        store, "UPDATE inventory_lines SET tco2e = 1.0 WHERE inventory_id = :i AND enterprise = "
        "'E2'", i=new,
    )  # fmt: skip
    _, broken = _broken(store, "inventory")
    assert (broken.batch_id, broken.kind, broken.ref, broken.problem) == (
        chain["inventory"][1],
        "inventory",
        new,
        DIGEST_MISMATCH,
    )


def test_changed_inventory_document_is_found(store: Store, chain: dict) -> None:
    old, _ = chain["inventories"]
    _execute(
        store,
        f"UPDATE inventories SET document = {_json_param(store)} WHERE id = :i",
        d=json.dumps({"schema": "x", "v": 100}),
        i=old,
    )
    _, broken = _broken(store, "inventory")
    assert (broken.batch_id, broken.ref, broken.problem) == (
        chain["inventory"][0],
        old,
        DIGEST_MISMATCH,
    )


def test_inventory_status_must_follow_the_chain(store: Store, chain: dict) -> None:
    old, _ = chain["inventories"]
    assert [i["status"] for i in store.inventories(PARK)] == ["superseded", "computed"]
    _execute(store, "UPDATE inventories SET status = 'computed' WHERE id = :i", i=old)
    _, broken = _broken(store, "inventory")
    assert (broken.batch_id, broken.ref, broken.problem) == (
        chain["inventory"][0],
        old,
        STATUS_MISMATCH,
    )


def test_edited_link_is_found(store: Store, chain: dict) -> None:
    target = chain["entries"][0]
    _execute(store, "UPDATE integrity_batches SET digest = :d WHERE id = :i", d="0" * 64, i=target)
    report, broken = _broken(store, "entries")
    assert (broken.batch_id, broken.kind, broken.problem) == (target, "entries", HASH_MISMATCH)
    assert report.chain == broken


def test_rehashed_link_breaks_the_next_one(store: Store, chain: dict) -> None:
    target = chain["readings"][1]
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(_LINKS).where(_LINKS.c.id == target)).one()
    forged = {**row._mapping, "count": 9}
    _execute(
        store,
        "UPDATE integrity_batches SET count = 9, hash = :h WHERE id = :i",
        h=link_hash(forged),
        i=target,
    )
    report = store.verify_integrity()
    # The forged link hashes right, but its rows no longer match its count ...
    readings = report.kinds["readings"].broken
    assert (readings.batch_id, readings.problem) == (target, DIGEST_MISMATCH)
    # ... and the link after it no longer chains to it.
    nxt = report.kinds["inventory"].broken
    assert (nxt.batch_id, nxt.problem) == (chain["inventory"][0], PREV_MISMATCH)
    assert report.chain == readings


def test_deleted_link_is_found(store: Store, chain: dict) -> None:
    target = chain["readings"][1]
    _execute(store, "DELETE FROM integrity_batches WHERE id = :i", i=target)
    report = store.verify_integrity()
    assert not report.ok
    nxt = chain["inventory"][0]
    assert report.kinds["inventory"].broken.batch_id == nxt
    assert report.kinds["inventory"].broken.problem == PREV_MISMATCH
    orphan = report.kinds["readings"].broken
    assert (orphan.batch_id, orphan.problem) == (target, MISSING_LINK)
    assert "10 readings have batch_id" in orphan.detail
    assert report.chain == orphan  # the lower batch id comes first


def test_deleted_newest_readings_link_is_found_by_its_rows(store: Store, chain: dict) -> None:
    target = chain["readings"][2]
    assert target == _links(store)[-1]["id"]
    _execute(store, "DELETE FROM integrity_batches WHERE id = :i", i=target)
    _, broken = _broken(store, "readings")
    assert (broken.batch_id, broken.problem) == (target, MISSING_LINK)


def test_deleted_entries_link_is_found_by_its_rows(store: Store) -> None:
    store.add_entries(PARK, [_entry("S1", 1.0)], batch_id="first")
    store.add_entries(PARK, [_entry("S1", 2.0, "2025-02-01")], batch_id="last")
    _execute(store, "DELETE FROM integrity_batches WHERE ref = 'last'")
    _, broken = _broken(store, "entries")
    assert (broken.batch_id, broken.ref, broken.problem) == (None, "last", MISSING_LINK)
    assert "written after the chain began" in broken.detail


def test_deleted_inventory_is_found(store: Store, chain: dict) -> None:
    old, _ = chain["inventories"]
    _execute(store, "DELETE FROM inventory_lines WHERE inventory_id = :i", i=old)
    _execute(store, "DELETE FROM inventories WHERE id = :i", i=old)
    _, broken = _broken(store, "inventory")
    assert (broken.batch_id, broken.ref, broken.problem) == (
        chain["inventory"][0],
        old,
        DIGEST_MISMATCH,
    )
    assert "not stored any more" in broken.detail


def test_audit_log_is_part_of_the_report(store: Store, chain: dict) -> None:
    _execute(store, "UPDATE audit_log SET actor = 'mallory' WHERE action = 'entries.add'")
    report = store.verify_integrity()
    assert not report.ok and report.chain is None
    assert report.audit_broken is not None
    assert report.problems()[-1].startswith(f"audit record {report.audit_broken}:")


# Large and concurrent ------------------------------------------------------------------
def test_a_hundred_thousand_readings_verify_in_windows(store: Store) -> None:
    points = [f"P{i:03d}" for i in range(100)]
    base = 1_735_660_800_000
    rng = np.random.default_rng(7)
    values = rng.normal(100.0, 20.0, size=100_000).tolist()
    rows = [(points[i % 100], base + (i // 100) * 1000, values[i], 0) for i in range(100_000)]
    for i in range(0, len(rows), 1000):
        assert store.insert_readings(rows[i : i + 1000]) == 1000
    report = store.verify_integrity(["readings"])
    assert report.ok and report.kinds["readings"].rows == 100_000
    assert report.kinds["readings"].batches == 100
    windowed = store.verify_integrity(["readings"], window=7)  # 15 passes over the table
    assert windowed.ok and windowed.kinds["readings"].rows == 100_000
    # One reading in the 58th batch changed: found in a middle window.
    _execute(store, "UPDATE readings SET value = 0.0 WHERE point_id = 'P042' AND ts = :t",
             t=base + 575 * 1000)  # fmt: skip
    target = _links(store)[57]["id"]
    for w in (7, 50_000):
        broken = store.verify_integrity(["readings"], window=w).kinds["readings"].broken
        assert (broken.batch_id, broken.problem) == (target, DIGEST_MISMATCH)


def test_concurrent_writers_do_not_fork_the_chain(store_url: str) -> None:
    stores = [Store.open(store_url), Store.open(store_url)]
    errors: list[BaseException] = []

    def work(s: Store, n: int) -> None:
        try:
            for i in range(10):
                s.insert_readings(_readings(f"W{n}", i * 10, 10))
                if i % 3 == 0:
                    s.add_entries(PARK, [_entry(f"S{n}", float(i))])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(stores[n % 2], n)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        links = _links(stores[0])
        assert len(links) == 6 * (10 + 4)
        assert len({link["prev_hash"] for link in links}) == len(links)
        report = stores[1].verify_integrity()
        assert report.ok, report.problems()
        assert report.kinds["readings"].rows == 600
    finally:
        for s in stores:
            s.close()


def test_postgres_collation_other_than_code_points(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite always sorts text by code point")
    with store.engine.connect() as conn:
        icu = conn.execute(
            sa.text("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'")
        ).first()
    if icu is None:
        pytest.skip("this PostgreSQL has no ICU collation to sort point ids otherwise")
    _execute(store, 'ALTER TABLE readings ALTER COLUMN point_id TYPE varchar COLLATE "und-x-icu"')
    ids = ["a", "B", "M-1", "M1", "m0"]  # ICU: a, B, M-1, m0, M1; code points: B, M-1, M1, a, m0
    store.insert_readings([(p, t, float(t), 0) for p in ids for t in range(3)])
    store.insert_readings([(p, t, float(t), 0) for p in ids for t in range(3, 5)])
    report = store.verify_integrity(["readings"])
    assert report.ok, report.problems()
    assert report.kinds["readings"].rows == 25


# Writing rules -----------------------------------------------------------------------
def test_entry_batch_ids_are_used_once(store: Store) -> None:
    store.add_entries(PARK, [_entry("S1", 1.0)], batch_id="ledger.xlsx")
    with pytest.raises(ConsistencyError, match=r"'ledger\.xlsx' is stored already"):
        store.add_entries(PARK, [_entry("S1", 2.0)], batch_id="ledger.xlsx")
    (record,) = store.audit_log(action="entries.add")
    assert record["detail"]["integrity_batch"] == _links(store)[0]["id"]


def test_point_ids_with_tabs_are_refused(store: Store) -> None:
    with pytest.raises(ValidationError, match="tab or a newline"):
        store.insert_readings([("M\t1", 0, 1.0, 0)])
    with pytest.raises(ValidationError, match="64"):
        store.insert_readings([("M1", 2**70, 1.0, 0)])
    with pytest.raises(ValidationError, match=r"value\(=abc\)"):
        store.insert_readings([("M1", 0, "abc", 0)])
    assert _links(store) == []


def test_database_errors_on_the_chain_are_store_errors(store: Store) -> None:
    store.insert_readings(_readings("M1", 0, 3))
    _execute(store, "DROP TABLE integrity_batches")
    with pytest.raises(StoreError, match="inserting 3 readings failed"):
        store.insert_readings(_readings("M1", 10, 3))
    with pytest.raises(StoreError, match="verifying the integrity chain failed"):
        store.verify_integrity()
    assert len(store.readings("M1", 0, 10**9)) == 3  # the failed insert left nothing


def test_verify_arguments_are_checked(store: Store) -> None:
    with pytest.raises(ValidationError, match="not kinds of the integrity chain"):
        store.verify_integrity(["readings", "audit"])
    with pytest.raises(ValidationError, match="window"):
        store.verify_integrity(window=0)


# Stored inventories --------------------------------------------------------------------
def test_inventories_lines_and_frames(store: Store) -> None:
    lines = [
        LINE,
        {**LINE, "enterprise": "E2", "scope": 2, "category": "purchased_electricity"},
        {"kind": "energy", "month": "2025-01", "enterprise": "E1", "carrier": "natural_gas",
         "use": "consumption", "amount": 3.0, "unit": "1e4Nm3", "energy_tce": 39.8},
        {"kind": "offset", "month": "2025-01", "enterprise": "E2", "category": "ccer",
         "tco2e": 4.0},
    ]  # fmt: skip
    inv = store.save_inventory(PARK, *JAN, JAN[0], {"schema": "x"}, lines, "alice")
    feb = store.save_inventory(
        PARK, dt.date(2025, 2, 1), dt.date(2025, 2, 28), JAN[0], {}, [], "alice"
    )
    listed = store.inventories(PARK)
    assert [i["id"] for i in listed] == [inv, feb]
    assert "document" not in listed[0] and listed[0]["status"] == "computed"
    assert [i["id"] for i in store.inventories(PARK, dt.date(2025, 2, 10))] == [feb]
    assert [i["id"] for i in store.inventories(PARK, end=dt.date(2025, 1, 31))] == [inv]
    one = store.inventory(inv)
    assert one["document"] == {"schema": "x"} and one["as_of"] == JAN[0]
    with pytest.raises(NotFoundError, match="inventories"):
        store.inventory("nope")
    got = store.inventory_lines(inv)
    assert [(r["kind"], r["enterprise"]) for r in got] == [
        ("emission", "E1"), ("emission", "E2"), ("energy", "E1"), ("offset", "E2"),
    ]  # fmt: skip
    assert got[2]["scope"] is None and got[2]["energy_tce"] == 39.8 and got[0]["gas"] == "CO2"
    frame = store.inventory_lines([inv, feb], ["E2"], frame=True)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [
        "inventory_id", "kind", "month", "enterprise", "zone", "industry", "scope",
        "category", "gas", "carrier", "use", "amount", "unit", "tco2e", "energy_tce",
    ]  # fmt: skip
    assert frame["tco2e"].tolist() == [12.5, 4.0]
    assert frame["scope"].tolist()[0] == 2 and pd.isna(frame["scope"].tolist()[1])
    assert store.inventory_lines(inv, []) == []
    assert store.inventory_lines([], frame=True).empty
    (record,) = store.audit_log(action="inventory.save", limit=2)[1:]
    assert record["detail"]["lines"] == 4 and record["object"] == f"inventory:{inv}"
    assert store.verify_integrity().ok


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ({**LINE, "colour": "red"}, r"unknown fields \['colour'\]"),
        ({k: v for k, v in LINE.items() if k != "enterprise"}, "lacks enterprise"),
        ({**LINE, "kind": "removal"}, "kind"),
        ({**LINE, "month": "2025-1"}, "YYYY-MM"),
        ({**LINE, "month": "2025-02"}, "outside the inventory's period"),
        ({**LINE, "scope": 4}, "scope"),
        ({**LINE, "tco2e": float("nan")}, "finite"),
        ({**LINE, "gas": "x" * 17}, "longer than 16"),
    ],
)
def test_malformed_lines_are_refused(store: Store, line: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        store.save_inventory(PARK, *JAN, JAN[0], {}, [line], "alice")
    assert store.inventories(PARK) == [] and _links(store) == []


def test_inventory_period_is_checked(store: Store) -> None:
    with pytest.raises(ValidationError, match="before start"):
        store.save_inventory(PARK, JAN[1], JAN[0], JAN[0], {}, [], "alice")
    with pytest.raises(ValidationError, match="must be a date"):
        store.save_inventory(PARK, "2025-01-01", JAN[1], JAN[0], {}, [], "alice")
