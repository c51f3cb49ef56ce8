"""The versioned park registry: save_park, load_park, history."""

from __future__ import annotations

import datetime as dt

import pytest

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.core.park import Enterprise, Zone, demo_park_path, load_park
from carbontwin.store import NotFoundError, Store

D0 = dt.date(2024, 1, 1)
D1 = dt.date(2025, 7, 1)


def test_round_trip_equals_the_park(store: Store, park) -> None:
    # 1 park + 2 zones + 3 enterprises + 2 facilities + 3 sources + 3 points + 2 assets
    assert store.save_park(park, D0, changed_by="alice", note="first import") == 16
    loaded = store.load_park(park.id, D0)
    assert loaded == park
    assert store.load_park(park.id, dt.date(2030, 1, 1)) == park
    assert store.parks() == ["testpark"]


def test_demo_park_round_trip(store: Store) -> None:
    demo = load_park(demo_park_path())
    store.save_park(demo, D0)
    assert store.load_park(demo.id, D0) == demo


def test_unchanged_save_writes_nothing(store: Store, park) -> None:
    store.save_park(park, D0)
    assert store.save_park(park.model_copy(deep=True), D1) == 0
    assert len(store.history(park.id, "enterprise", "E1")) == 1
    assert store.history(park.id, "park", park.id)[0]["valid_to"] is None


def test_enterprise_exit_by_exit_date(store: Store, park) -> None:
    store.save_park(park, D0)
    later = park.model_copy(deep=True)
    later.enterprises[1].exit_date = dt.date(2025, 6, 30)
    assert store.save_park(later, D1, changed_by="bob") == 1

    before = store.load_park(park.id, D1 - dt.timedelta(days=1))
    after = store.load_park(park.id, D1)
    assert before == park
    assert before.enterprise("E2").exit_date is None
    assert after == later
    assert after.enterprise("E2").exit_date == dt.date(2025, 6, 30)

    versions = store.history(park.id, "enterprise", "E2")
    assert [(v["valid_from"], v["valid_to"]) for v in versions] == [
        (D0, D1 - dt.timedelta(days=1)),
        (D1, None),
    ]
    assert [v["changed_by"] for v in versions] == ["", "bob"]


def test_enterprise_removed_from_the_park(store: Store, park) -> None:
    store.save_park(park, D0)
    later = park.model_copy(deep=True)
    later.enterprises = [e for e in later.enterprises if e.id != "E2"]
    later.sources = [s for s in later.sources if s.enterprise != "E2"]
    later.points = [p for p in later.points if p.enterprise != "E2"]
    # E2, its source and its point are retired; the park's member lists change.
    assert store.save_park(later, D1) == 4

    assert [e.id for e in store.load_park(park.id, dt.date(2025, 6, 30)).enterprises] == [
        "E1",
        "E2",
        "E3",
    ]
    after = store.load_park(park.id, D1)
    assert after == later
    with pytest.raises(KeyError):
        after.enterprise("E2")
    [version] = store.history(park.id, "enterprise", "E2")
    assert version["valid_to"] == dt.date(2025, 6, 30)


def test_edited_source_keeps_both_versions(store: Store, park) -> None:
    store.save_park(park, D0, changed_by="alice")
    later = park.model_copy(deep=True)
    later.sources[0].params["ncv_gj_per_1e4nm3"] = 400.0
    assert store.save_park(later, D1, changed_by="bob", note="new test report") == 1

    versions = store.history(park.id, "source", "E1-boiler")
    assert len(versions) == 2
    old, new = versions
    assert old["data"]["params"]["ncv_gj_per_1e4nm3"] == 389.31
    assert new["data"]["params"]["ncv_gj_per_1e4nm3"] == 400.0
    assert (old["valid_from"], old["valid_to"]) == (D0, dt.date(2025, 6, 30))
    assert (new["valid_from"], new["valid_to"]) == (D1, None)
    assert (new["changed_by"], new["note"]) == ("bob", "new test report")
    assert new["changed_at"].tzinfo is not None
    # Other records were left alone.
    assert len(store.history(park.id, "source", "E2-grid")) == 1
    assert store.load_park(park.id, D0).source("E1-boiler").params["ncv_gj_per_1e4nm3"] == 389.31


def test_type_change_of_a_parameter_is_a_change(store: Store, park) -> None:
    store.save_park(park, D0)
    later = park.model_copy(deep=True)
    later.sources[0].params["lines"] = True  # was the integer 2, now a bool
    later.sources[0].params["oxidation_frac"] = 0.99  # unchanged
    assert store.save_park(later, D1) == 1
    assert store.load_park(park.id, D1).sources[0].params["lines"] is True


def test_order_of_lists_is_kept(store: Store, park) -> None:
    store.save_park(park, D0)
    later = park.model_copy(deep=True)
    later.zones.insert(1, Zone(id="Z0", name="Logistics zone"))
    later.enterprises.reverse()
    assert store.save_park(later, D1) == 2  # the new zone, and the park's member lists
    assert store.load_park(park.id, D1) == later
    assert store.load_park(park.id, D0) == park


def test_same_day_save_corrects_in_place(store: Store, park) -> None:
    store.save_park(park, D0)
    fixed = park.model_copy(deep=True)
    fixed.enterprises[0].name = "Methanol Company"
    assert store.save_park(fixed, D0, note="typo") == 1
    [version] = store.history(park.id, "enterprise", "E1")
    assert version["data"]["name"] == "Methanol Company"
    assert store.load_park(park.id, D0) == fixed


def test_same_day_add_and_remove_leaves_no_version(store: Store, park) -> None:
    store.save_park(park, D0)
    store.save_park(park, D1)
    extra = park.model_copy(deep=True)
    extra.zones.append(Zone(id="Z9", name="Mistake"))
    assert store.save_park(extra, D1) == 2  # the zone and the park's member lists
    assert store.save_park(park, D1) == 2  # both undone
    assert store.history(park.id, "zone", "Z9") == []
    assert len(store.history(park.id, "park", park.id)) == 2
    assert store.load_park(park.id, D1) == park
    assert store.load_park(park.id, D0) == park


def test_record_retired_and_readded(store: Store, park) -> None:
    store.save_park(park, D0)
    without = park.model_copy(deep=True)
    without.assets = without.assets[:1]
    store.save_park(without, D1)
    again = dt.date(2026, 1, 1)
    store.save_park(park, again)
    assert store.load_park(park.id, D1) == without
    assert store.load_park(park.id, again) == park
    assert [(v["valid_from"], v["valid_to"]) for v in store.history(park.id, "asset", "BAT1")] == [
        (D0, dt.date(2025, 6, 30)),
        (again, None),
    ]


def test_new_enterprise_appears_from_its_date(store: Store, park) -> None:
    store.save_park(park, D0)
    later = park.model_copy(deep=True)
    later.enterprises.append(
        Enterprise(id="E4", name="Lime Co.", uscc="91110000600037341L", industry="C3012", zone="Z1")
    )
    store.save_park(later, D1)
    assert [e.id for e in store.load_park(park.id, D0).enterprises] == ["E1", "E2", "E3"]
    assert [e.id for e in store.load_park(park.id, D1).enterprises] == ["E1", "E2", "E3", "E4"]


def test_saving_out_of_date_order_is_refused(store: Store, park) -> None:
    store.save_park(park, D1)
    with pytest.raises(ConsistencyError, match="date order"):
        store.save_park(park, D0)


def test_unknown_park_and_date_before_first_version(store: Store, park) -> None:
    with pytest.raises(NotFoundError, match="not in the store"):
        store.load_park("nowhere", D0)
    store.save_park(park, D1)
    with pytest.raises(NotFoundError, match="first version starts on 2025-07-01"):
        store.load_park(park.id, D0)


def test_duplicate_ids_are_refused(store: Store, park) -> None:
    park.zones.append(Zone(id="Z1", name="again"))
    with pytest.raises(ValidationError, match="used more than once"):
        store.save_park(park, D0)
    with pytest.raises(NotFoundError):
        store.load_park(park.id, D0)  # nothing was written


def test_datetime_is_not_a_date(store: Store, park) -> None:
    with pytest.raises(ValidationError, match="must be a date"):
        store.save_park(park, dt.datetime(2025, 1, 1))  # type: ignore[arg-type]


def test_history_of_unknown_kind(store: Store) -> None:
    with pytest.raises(ValidationError, match="registry kind"):
        store.history("p", "building", "B1")
    assert store.history("p", "zone", "nothing") == []


def test_registry_changes_are_audited(store: Store, park) -> None:
    store.save_park(park, D0, changed_by="alice", note="first import")
    later = park.model_copy(deep=True)
    later.enterprises[1].exit_date = dt.date(2025, 6, 30)
    later.assets = later.assets[:1]
    store.save_park(later, D1, changed_by="bob")
    second, first = store.audit_log(action="registry.save")
    assert first["actor"] == "alice"
    assert first["object"] == "park:testpark"
    assert first["detail"]["written"] == 16
    assert "enterprise:E2" in first["detail"]["created"]
    assert second["actor"] == "bob"
    assert second["detail"]["changed"] == ["park:testpark", "enterprise:E2"]
    assert second["detail"]["retired"] == ["asset:BAT1"]
    assert second["detail"]["valid_from"] == "2025-07-01"
    assert store.verify_audit() is None
