"""Control strategies end to end on a stored demo history: propose, decide, dispatch, verify."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.runtime import simulate as sim
from carbontwin.runtime import strategies as S
from carbontwin.runtime.accounting import resolve_park
from carbontwin.store import Store

PARK = resolve_park("demo")
DAY = dt.date(2025, 3, 31)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Forty-five simulated days (2025-02-15 to 03-31) of the demo park."""
    s = Store.open(f"sqlite:///{tmp_path_factory.mktemp('strat') / 'ct.db'}")
    sim.simulate_to_store(s, PARK, "2025-02-15", 45)
    yield s
    s.close()


@pytest.fixture(scope="module")
def proposed(store):
    return S.propose_day_ahead(store, PARK, DAY, actor="energy")


def test_the_sites_are_the_batteries_with_their_grid_meters():
    (site,) = S.battery_sites(PARK)
    assert (site.battery.id, site.enterprise) == ("A-E03-BESS", "E03")
    assert site.import_points == ("P-E03-ELEC",)
    assert (site.charge_point, site.discharge_point) == ("P-E03-BESS-CH", "P-E03-BESS-DIS")
    assert site.setpoint == "A-E03-BESS.power_kw"


def test_the_site_load_adds_the_battery_back_to_the_metered_import(store):
    (site,) = S.battery_sites(PARK)
    h = S.site_load_kw(store, PARK, site, DAY, DAY)
    assert len(h) == 96 and h["import_kw"].gt(0).all()
    np.testing.assert_allclose(h["load_kw"], h["import_kw"] + h["battery_kw"], rtol=1e-12)
    assert h["battery_kw"].abs().max() <= site.battery.power_kw * 1.001


def test_a_proposal_is_a_feasible_schedule_no_dearer_than_the_baseline(proposed):
    s = proposed
    assert (s["status"], s["mode"]) == ("proposed", "dispatch")
    assert (s["steps"], s["interval_s"]) == (96, 900)
    values = np.array(s["schedule"]["A-E03-BESS.power_kw"])
    assert len(values) == 96 and np.abs(values).max() <= 500.0 + 1e-6
    (site,) = s["expected"]["sites"]
    soc = np.array(site["soc_kwh"])
    assert soc.min() >= 0.1 * 2000 - 1e-6 and soc.max() <= 0.95 * 2000 + 1e-6
    plan, base = s["expected"]["plan"], s["expected"]["baseline"]
    # The baseline (valley charge, peak discharge) is one feasible schedule of the same
    # problem, so the optimum costs no more.
    assert plan["cost_cny"] <= base["cost_cny"] + 1e-6
    assert s["expected"]["saving"]["cost_cny"] == pytest.approx(base["cost_cny"] - plan["cost_cny"])
    assert plan["emissions_tco2e"] == pytest.approx(plan["import_kwh"] / 1000 * 0.5617)
    (solver,) = s["solver"]["sites"]
    assert solver["status"] == "Optimal" and solver["max_violation"] < 1e-6
    assert len(s["reasons"]["en"]) == len(s["reasons"]["zh"]) == 4
    assert "CNY" in s["reasons"]["en"][1] and "元" in s["reasons"]["zh"][1]


def test_accepted_dispatched_issued_each_quarter_hour_then_verified(store, proposed):
    sid = proposed["id"]
    with pytest.raises(ConsistencyError, match="proposed"):
        S.dispatch(store, PARK, sid, actor="energy")
    S.decide(store, sid, accept=True, actor="energy", comment="looks right")
    start = proposed["start"]
    at = start + dt.timedelta(hours=9, minutes=5)
    d = S.dispatch(store, PARK, sid, actor="energy", now=at)
    assert d["status"] == "dispatched" and len(d["setpoints"]) == 1
    (sp,) = store.setpoints(PARK.id, points=["A-E03-BESS.power_kw"])
    step = 36
    assert sp["value"] == pytest.approx(proposed["schedule"]["A-E03-BESS.power_kw"][step])
    assert sp["strategy"] == str(sid) and sp["reason"] == f"strategy {sid} step {step}"
    assert sp["valid_until"] == start + dt.timedelta(minutes=15 * (step + 1))
    # The same quarter-hour is not issued twice; the next one is.
    assert S.issue_due(store, PARK, now=at + dt.timedelta(minutes=5)) == []
    nxt = S.issue_due(store, PARK, now=at + dt.timedelta(minutes=15))
    assert [r["reason"] for r in nxt] == [f"strategy {sid} step {step + 1}"]
    assert len(store.strategy(sid)["setpoints"]) == 2
    with pytest.raises(ConsistencyError, match="verify it after"):
        S.verify(store, PARK, sid, actor="energy", now=at)
    v = S.verify(store, PARK, sid, actor="energy", now=start + dt.timedelta(days=1))
    m = v["measured"]
    assert v["status"] == "verified" and m["import_kwh"] > 0 and m["peak_kw"] > 0
    assert m["vs_plan"]["import_kwh"] == pytest.approx(
        m["import_kwh"] - proposed["expected"]["plan"]["import_kwh"]
    )


def test_a_rejection_needs_a_comment_and_advice_is_advised(store):
    s = S.propose_day_ahead(store, PARK, DAY, actor="energy", mode="advice")
    with pytest.raises(ValidationError, match="needs a comment"):
        S.decide(store, s["id"], accept=False, actor="energy")
    S.decide(store, s["id"], accept=True, actor="energy")
    assert S.advise(store, s["id"], actor="energy")["status"] == "advised"
    assert all(r["strategy"] != str(s["id"]) for r in store.setpoints(PARK.id))


def test_too_little_history_or_no_battery_is_refused(store):
    with pytest.raises(ValidationError, match="a strategy needs at least 42"):
        S.propose_day_ahead(store, PARK, dt.date(2025, 3, 1), actor="energy")
    no_battery = PARK.model_copy(update={"assets": [a for a in PARK.assets if a.kind != "battery"]})
    with pytest.raises(ValidationError, match="no battery"):
        S.propose_day_ahead(store, no_battery, DAY, actor="energy")
