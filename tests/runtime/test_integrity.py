"""Stored inventories computed from the store's history, answered from lines, verified."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from numpy.testing import assert_allclose

from carbontwin.core import demo_park_path, load_park
from carbontwin.core.errors import ValidationError
from carbontwin.core.records import ActivityEntry
from carbontwin.runtime.integrity import (
    inventory_frame,
    inventory_line_rows,
    save_inventory,
    save_monthly_inventories,
    verify,
)
from carbontwin.runtime.registry import account_history, register_park
from carbontwin.runtime.simulate import simulate_to_store
from carbontwin.store import NotFoundError, Store, create_engine_for
from carbontwin.store.integrity import DIGEST_MISMATCH
from tests.store.conftest import _postgres_base_url

SPAN = "2025-01-30/2025-02-02"  # the simulated days: two months touched
HFC = ActivityEntry(
    source="E03-HFC",
    start=dt.date(2025, 1, 1),
    end=dt.date(2025, 1, 31),
    quantity=0.031,
    unit="t",
    ref="maintenance log",
)


@pytest.fixture(scope="module")
def park():
    return load_park(demo_park_path())


def _url(backend: str, folder) -> tuple[str, object]:
    """A database URL on ``backend`` and what removes it afterwards."""
    if backend == "sqlite":
        return f"sqlite:///{folder / 'store.db'}", None
    base = _postgres_base_url()
    schema = f"ct_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine_for(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(admin.url).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def history(request, park, tmp_path_factory) -> Iterator[Store]:
    """Four simulated days of the demo park and one ledger entry, on each backend."""
    url, drop = _url(request.param, tmp_path_factory.mktemp("history"))
    store = Store.open(url)
    try:
        register_park(store, park, "alice", valid_from=dt.date(2025, 1, 1))
        simulate_to_store(store, park, "2025-01-30", 4, 60, seed=11, recent_days=1)
        store.add_entries(park.id, [HFC], batch_id="hfc-2025-01", actor="alice")
        yield store
    finally:
        store.close()
        if drop is not None:
            drop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path) -> Iterator[Store]:
    """An empty store on each backend."""
    url, drop = _url(request.param, tmp_path)
    s = Store.open(url)
    try:
        yield s
    finally:
        s.close()
        if drop is not None:
            drop()


def test_stored_inventory_is_the_accounted_history(history: Store, park) -> None:
    inv_id = save_inventory(history, park, SPAN, actor="alice")
    stored = history.inventory(inv_id)
    assert (stored["start"], stored["end"]) == (dt.date(2025, 1, 30), dt.date(2025, 2, 2))
    assert stored["as_of"] == dt.date.today() and stored["computed_by"] == "alice"
    assert stored["status"] == "computed"
    # The same computation as account_history, with the stored entries and overrides.
    run = account_history(history, park, SPAN, stored=True)
    expected = run.inventory.to_json(by="month")
    assert stored["document"]["totals"] == expected["totals"]
    assert stored["document"]["schema"] == "carbontwin.inventory/1"
    lines = history.inventory_lines(inv_id)
    assert len(lines) == len(inventory_line_rows(run.inventory))
    assert {line["month"] for line in lines} == {"2025-01", "2025-02"}
    # The lines add up to the inventory's totals (sums of the same float cells).
    totals = run.inventory.totals("month")
    for month in ("2025-01", "2025-02"):
        emission = [x for x in lines if x["kind"] == "emission" and x["month"] == month]
        for scope, column in ((1, "scope1_tco2e"), (2, "scope2_location_tco2e")):
            got = sum(x["tco2e"] for x in emission if x["scope"] == scope)
            assert_allclose(got, totals.loc[month, column], rtol=1e-9)  # same cells, resummed
        energy = [x for x in lines if x["kind"] == "energy" and x["month"] == month]
        tce = sum(x["energy_tce"] for x in energy if x["use"] in ("consumption", "export"))
        assert_allclose(tce, totals.loc[month, "energy_tce"], rtol=1e-9)
    # Zone and industry come from the park's enterprise records.
    ents = {e.id: e for e in park.enterprises}
    assert all(
        (x["zone"], x["industry"]) == (ents[x["enterprise"]].zone, ents[x["enterprise"]].industry)
        for x in lines
    )
    # The stored ledger entry (a refrigerant top-up the simulator does not cover) is in.
    hfc = [x for x in lines if x["gas"] == "HFC-134a"]
    assert [x["month"] for x in hfc] == ["2025-01"] and hfc[0]["enterprise"] == "E03"
    # Its January spread evenly over 31 days, of which the period holds two.
    assert_allclose(hfc[0]["amount"], 0.031 * 2 / 31, rtol=1e-12)
    assert history.verify_integrity().ok


def test_history_alone_leaves_the_ledger_out(history: Store, park) -> None:
    inv_id = save_inventory(history, park, "2025-02", actor="alice", stored=False)
    assert not [x for x in history.inventory_lines(inv_id) if x["gas"] == "HFC-134a"]


def test_monthly_inventories_and_frames(history: Store, park) -> None:
    saved = save_monthly_inventories(history, park, 2025, "alice", as_of=dt.date(2025, 1, 15))
    assert list(saved) == ["2025-01", "2025-02"]  # the months with history
    jan = history.inventory(saved["2025-01"])
    assert jan["as_of"] == dt.date(2025, 1, 15)
    assert (jan["start"], jan["end"]) == (dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    frame = inventory_frame(history, park.id, dt.date(2025, 1, 1), dt.date(2025, 2, 28))
    assert set(frame["inventory_id"]) == {saved["2025-01"], saved["2025-02"]}
    assert frame["month"].is_monotonic_increasing
    assert set(frame[frame.month == "2025-01"]["inventory_id"]) == {saved["2025-01"]}
    # A period that cuts months is answered by the inventory of exactly those days.
    (span,) = [i["id"] for i in history.inventories(park.id) if i["end"] == dt.date(2025, 2, 2)]
    cut = inventory_frame(history, park.id, dt.date(2025, 1, 30), dt.date(2025, 2, 2))
    assert set(cut["inventory_id"]) == {span}
    only = inventory_frame(
        history, park.id, dt.date(2025, 1, 1), dt.date(2025, 1, 31), enterprises=["E03", "E05"]
    )
    assert set(only["enterprise"]) <= {"E03", "E05"} and len(only)
    # Saving a month again supersedes it; the frame follows the newest.
    again = save_inventory(history, park, "2025-01", actor="bob")
    statuses = {i["id"]: i["status"] for i in history.inventories(park.id)}
    assert statuses[again] == "computed" and statuses[saved["2025-01"]] == "superseded"
    newest = inventory_frame(history, park.id, dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert set(newest["inventory_id"]) == {again}
    with pytest.raises(NotFoundError, match="2025-03"):
        inventory_frame(history, park.id, dt.date(2025, 2, 1), dt.date(2025, 3, 31))
    lenient = inventory_frame(
        history, park.id, dt.date(2025, 2, 1), dt.date(2025, 3, 31), strict=False
    )
    assert set(lenient["month"]) == {"2025-02"}
    none = inventory_frame(
        history, park.id, dt.date(2025, 4, 1), dt.date(2025, 4, 30), strict=False
    )
    assert none.empty and "tco2e" in none.columns
    with pytest.raises(ValidationError, match="before start"):
        inventory_frame(history, park.id, dt.date(2025, 2, 1), dt.date(2025, 1, 1))
    with pytest.raises(ValidationError, match="no simulated or metered history"):
        save_monthly_inventories(history, park, 2024, "alice")
    report = verify(history, actor="auditor")
    assert report.ok, report.problems()
    assert report.kinds["inventory"].batches == len(history.inventories(park.id))
    (record,) = history.audit_log(action="integrity.verify", limit=1)
    assert record["actor"] == "auditor" and record["outcome"] == "ok"
    assert record["detail"]["head_hash"] == report.head_hash


def test_a_tampered_stored_inventory_is_reported_and_audited(store: Store, park) -> None:
    simulate_to_store(store, park, "2025-03-01", 1, 60, seed=3, recent_days=0)
    inv_id = save_inventory(store, park, "2025-03-01", actor="alice")
    link = store.inventory(inv_id)["batch_id"]
    with store.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE inventory_lines SET tco2e = tco2e * 0.5 WHERE inventory_id = :i"),
            {"i": inv_id},
        )
    report = verify(store, actor="auditor")
    assert not report.ok
    broken = report.kinds["inventory"].broken
    assert (broken.batch_id, broken.ref, broken.problem) == (link, inv_id, DIGEST_MISMATCH)
    assert report.kinds["readings"].broken is None
    (record,) = store.audit_log(action="integrity.verify", limit=1)
    assert record["outcome"] == "broken"
    assert record["detail"]["problems"] == report.problems()


def test_an_inventory_needs_history(store: Store, park) -> None:
    with pytest.raises(ValidationError, match="no simulated or metered history"):
        save_inventory(store, park, "2025-03", actor="alice")
    assert store.inventories(park.id) == []
