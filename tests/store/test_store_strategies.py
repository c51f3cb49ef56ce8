"""Strategies in the store: proposed, accepted or rejected, dispatched or advised, verified."""

import datetime as dt

import pytest

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.store import NotFoundError, Store

T0 = dt.datetime(2026, 12, 2, 0, 0, tzinfo=dt.UTC)


def plan(mode="dispatch", steps=4, **kw):
    return {
        "mode": mode,
        "title": "day-ahead battery plan",
        "start": T0,
        "interval_s": 900,
        "steps": steps,
        "schedule": {"A-E03-BESS.power_kw": [-500.0, 0.0, 250.0, 500.0][:steps]},
        "expected": {"plan": {"cost_cny": 100.0}, "baseline": {"cost_cny": 120.0}},
        "reasons": {"en": ["charge at the valley price"], "zh": ["谷电时段充电"]},
        "solver": {"status": "optimal", "seconds": 0.1},
        **kw,
    }


def test_a_strategy_moves_from_proposed_to_verified_and_every_step_is_audited(store: Store):
    s = store.add_strategy("binhai", plan(), actor="planner")
    assert (s["status"], s["mode"], s["steps"]) == ("proposed", "dispatch", 4)
    assert s["schedule"]["A-E03-BESS.power_kw"] == [-500.0, 0.0, 250.0, 500.0]
    assert s["start"] == T0
    s = store.move_strategy(s["id"], "accepted", actor="li", comment="fine")
    assert (s["status"], s["decided_by"], s["comment"]) == ("accepted", "li", "fine")
    s = store.move_strategy(s["id"], "dispatched", actor="li", setpoints=[7, 8])
    assert (s["status"], s["setpoints"]) == ("dispatched", [7, 8])
    s = store.move_strategy(s["id"], "verified", actor="system", measured={"cost_cny": 104.0})
    assert (s["status"], s["measured"]) == ("verified", {"cost_cny": 104.0})
    actions = [
        a["action"] for a in store.audit_log(limit=50) if a["object"] == f"strategy:{s['id']}"
    ]
    assert sorted(actions) == sorted(
        [
            "strategies.propose",
            "strategies.accept",
            "strategies.dispatch",
            "strategies.verify",
        ]
    )
    assert store.verify_audit() is None
    assert [x["id"] for x in store.strategies("binhai", status=["verified"])] == [s["id"]]
    assert store.strategies("other") == []


def test_wrong_moves_are_refused_with_where_the_strategy_may_go(store: Store):
    s = store.add_strategy("binhai", plan(), actor="planner")
    with pytest.raises(ConsistencyError, match="proposed; it may become accepted or rejected"):
        store.move_strategy(s["id"], "dispatched", actor="li", setpoints=[1])
    with pytest.raises(ValidationError, match="needs a comment"):
        store.move_strategy(s["id"], "rejected", actor="li", comment="  ")
    store.move_strategy(s["id"], "rejected", actor="li", comment="the line runs a trial")
    with pytest.raises(ConsistencyError, match="rejected by li; it is final"):
        store.move_strategy(s["id"], "accepted", actor="zhang")
    with pytest.raises(ValidationError, match="moves to one of"):
        store.move_strategy(s["id"], "proposed", actor="li")
    with pytest.raises(NotFoundError, match="no strategy 999"):
        store.move_strategy(999, "accepted", actor="li")
    with pytest.raises(NotFoundError):
        store.strategy(999)


def test_advice_is_advised_not_dispatched(store: Store):
    s = store.add_strategy("binhai", plan(mode="advice"), actor="planner")
    store.move_strategy(s["id"], "accepted", actor="li")
    with pytest.raises(ConsistencyError, match="is advice"):
        store.move_strategy(s["id"], "dispatched", actor="li", setpoints=[1])
    assert store.move_strategy(s["id"], "advised", actor="li")["status"] == "advised"
    d = store.add_strategy("binhai", plan(), actor="planner")
    store.move_strategy(d["id"], "accepted", actor="li")
    with pytest.raises(ConsistencyError, match="dispatch it"):
        store.move_strategy(d["id"], "advised", actor="li")
    with pytest.raises(ValidationError, match="ids of the setpoints"):
        store.move_strategy(d["id"], "dispatched", actor="li")
    d = store.move_strategy(d["id"], "dispatched", actor="li", setpoints=[])
    assert store.add_strategy_setpoints(d["id"], [3, 4])["setpoints"] == [3, 4]
    assert store.add_strategy_setpoints(d["id"], [5])["setpoints"] == [3, 4, 5]
    with pytest.raises(ConsistencyError, match="only a dispatched one"):
        store.add_strategy_setpoints(s["id"], [6])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mode": "auto"}, "mode 'auto' is not one of"),
        ({"start": dt.datetime(2026, 12, 2)}, "aware datetime"),
        ({"steps": 5}, "has 4 values; steps is 5"),
    ],
)
def test_a_bad_strategy_is_refused(store: Store, change, message):
    with pytest.raises(ValidationError, match=message):
        store.add_strategy("binhai", plan(**change), actor="planner")
    assert store.strategies("binhai") == []
