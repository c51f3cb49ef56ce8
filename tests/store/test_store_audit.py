"""The hash-chained audit log."""

from __future__ import annotations

import itertools
import json
import threading

import pytest
import sqlalchemy as sa

from carbontwin.core.errors import ValidationError
from carbontwin.store import Store
from carbontwin.store.repository import GENESIS_HASH, audit_hash


def _execute(store: Store, sql: str, **params) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def _set_detail(store: Store, row_id: int, detail: dict) -> None:
    cast = "CAST(:d AS JSON)" if store.engine.dialect.name == "postgresql" else ":d"
    _execute(
        store, f"UPDATE audit_log SET detail = {cast} WHERE id = :i", d=json.dumps(detail), i=row_id
    )


def test_chain_links_every_record(store: Store) -> None:
    ids = [
        store.audit("alice", "login", "session:1", {"ip": "10.0.0.1"}, client="10.0.0.1"),
        store.audit("bob", "account.run", "park:demo", {"period": "2025"}),
        store.audit("bob", "export", "report:7", outcome="denied"),
    ]
    assert ids == sorted(ids)
    log = store.audit_log()
    assert [r["id"] for r in log] == ids[::-1]
    first = log[-1]
    assert first["prev_hash"] == GENESIS_HASH
    assert first["detail"] == {"ip": "10.0.0.1"}
    assert first["ts"].tzinfo is not None
    for newer, older in itertools.pairwise(log):
        assert newer["prev_hash"] == older["hash"]
    for row in log:
        assert row["hash"] == audit_hash(row)
    assert store.verify_audit() is None
    assert [r["id"] for r in store.audit_log(actor="bob")] == ids[:0:-1]
    assert [r["action"] for r in store.audit_log(action="export")] == ["export"]
    assert len(store.audit_log(limit=1)) == 1


def test_empty_log_verifies(store: Store) -> None:
    assert store.verify_audit() is None


def test_tampered_detail_is_found(store: Store) -> None:
    ids = [store.audit("alice", "login", f"session:{i}", {"n": i}) for i in range(5)]
    assert store.verify_audit() is None
    _set_detail(store, ids[2], {"n": 99})
    assert store.verify_audit() == ids[2]


def test_deleted_record_is_found(store: Store) -> None:
    ids = [store.audit("alice", "login", f"session:{i}") for i in range(4)]
    _execute(store, "DELETE FROM audit_log WHERE id = :i", i=ids[1])
    assert store.verify_audit() == ids[2]


def test_rehashed_record_breaks_the_next_link(store: Store) -> None:
    ids = [store.audit("alice", "login", f"session:{i}", {"n": i}) for i in range(3)]
    row = next(r for r in store.audit_log() if r["id"] == ids[1])
    forged = {**row, "detail": {"n": 42}}
    _set_detail(store, ids[1], forged["detail"])
    _execute(store, "UPDATE audit_log SET hash = :h WHERE id = :i", h=audit_hash(forged), i=ids[1])
    assert store.verify_audit() == ids[2]


def test_audit_needs_actor_and_action(store: Store) -> None:
    with pytest.raises(ValidationError, match="actor and an action"):
        store.audit("", "login", "session:1")
    with pytest.raises(ValidationError, match="outcome"):
        store.audit("alice", "login", "session:1", outcome="x" * 17)


def test_concurrent_appends_do_not_fork(store_url: str) -> None:
    # Two stores (two engines, as two processes would have) and four threads each.
    stores = [Store.open(store_url), Store.open(store_url)]
    errors: list[BaseException] = []

    def work(s: Store, n: int) -> None:
        try:
            for i in range(10):
                s.audit(f"worker-{n}", "tick", f"item:{i}", {"i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(stores[n % 2], n)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        log = stores[0].audit_log(limit=1000)
        assert len(log) == 80
        assert len({r["prev_hash"] for r in log}) == 80  # no two records share a parent
        assert stores[1].verify_audit() is None
    finally:
        for s in stores:
            s.close()


def test_bulk_records_chain_between_single_ones_and_concurrent_writers(store: Store) -> None:
    store.audit("a", "one", "x")
    n = store.audit_many(
        [
            {"actor": f"u{i}", "action": "api.read", "object": "/o", "detail": {"i": i}}
            for i in range(50)
        ]
    )
    assert n == 50 and store.audit_many([]) == 0
    store.audit("b", "two", "x")

    def bulk() -> None:
        for _ in range(5):
            store.audit_many([{"actor": "t", "action": "api.read"} for _ in range(20)])

    def single() -> None:
        for _ in range(20):
            store.audit("s", "api.write", "x")

    threads = [threading.Thread(target=f) for f in (bulk, single, bulk)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = store.audit_log(limit=1000)
    ids = [r["id"] for r in rows]
    assert len(rows) == 1 + 50 + 1 + 200 + 20 and len(set(ids)) == len(ids)
    assert store.verify_audit() is None
    bulk_rows = [r for r in rows if r["detail"].get("i") is not None]
    assert sorted(r["detail"]["i"] for r in bulk_rows) == list(range(50))
    # Ids keep the order of the records in a batch.
    assert [r["detail"]["i"] for r in sorted(bulk_rows, key=lambda r: r["id"])] == list(range(50))
