"""Strategies, scenario studies and reduction portfolios over HTTP: the use cases behind them."""

from __future__ import annotations

import pytest

from carbontwin.runtime.simulate import simulate_to_store
from tests.api.conftest import PARK

V1 = "/api/v1"


@pytest.fixture(scope="module")
def planned(module_api):
    """Forty-three days of history and a proposal for the day after."""
    simulate_to_store(module_api.store, PARK, "2025-02-01", 43, recent_days=0)
    resp = module_api.client.post(
        f"{V1}/strategies", json={"day": "2025-03-16"}, headers=module_api.as_("energy")
    )
    assert resp.status_code == 201, resp.text
    return module_api, resp.json()


def test_a_proposal_comes_back_with_its_schedule_figures_and_reasons(planned):
    api, s = planned
    assert (s["status"], s["mode"], s["steps"]) == ("proposed", "dispatch", 96)
    assert set(s["schedule"]) == {"A-E03-BESS.power_kw"}
    assert s["expected"]["plan"]["cost_cny"] <= s["expected"]["baseline"]["cost_cny"] + 1e-6
    assert len(s["reasons"]["en"]) == len(s["reasons"]["zh"]) == 4
    listed = api.client.get(f"{V1}/strategies", headers=api.as_("manager")).json()
    assert listed[0]["id"] == s["id"] and listed[0]["status"] == "proposed"
    one = api.client.get(f"{V1}/strategies/{s['id']}", headers=api.as_("manager")).json()
    assert one["schedule"] == s["schedule"]


def test_only_an_energy_manager_decides_and_a_rejection_needs_its_comment(planned):
    api, s = planned
    url = f"{V1}/strategies/{s['id']}"
    resp = api.client.post(f"{url}/accept", json={}, headers=api.as_("manager"))
    assert resp.status_code == 403
    resp = api.client.post(f"{url}/reject", json={"comment": ""}, headers=api.as_("energy"))
    assert resp.status_code == 422 and "needs a comment" in resp.json()["message"]
    resp = api.client.post(f"{url}/accept", json={"comment": "ok"}, headers=api.as_("energy"))
    assert resp.status_code == 200 and resp.json()["decided_by"] == "energy"
    # Its day is long over: it can no longer start.
    resp = api.client.post(f"{url}/dispatch", json={}, headers=api.as_("energy"))
    assert resp.status_code == 409 and "horizon ended" in resp.json()["message"]
    resp = api.client.post(f"{url}/accept", json={}, headers=api.as_("energy"))
    assert resp.status_code == 409 and "accepted" in resp.json()["message"]
    assert api.client.get(f"{V1}/strategies/999999", headers=api.as_("energy")).status_code == 404


def test_emission_units_see_no_strategy(planned):
    api, _ = planned
    assert api.client.get(f"{V1}/strategies", headers=api.as_("eu")).status_code == 403


def test_a_scenario_run_and_the_decoupling(module_api):
    api = module_api
    study = api.client.get(f"{V1}/scenarios", headers=api.as_("manager")).json()
    assert [s["id"] for s in study["scenarios"]] == ["baseline", "policy", "enhanced"]
    resp = api.client.post(
        f"{V1}/scenarios/run",
        json={"draws": 300, "seed": 1, "scenarios": ["policy"]},
        headers=api.as_("manager"),
    )
    assert resp.status_code == 200, resp.text
    run = resp.json()
    (row,) = run["summary"]
    assert row["scenario"] == "policy" and 0 <= row["p_peak_by"] <= 1
    assert len(run["trajectories"]["policy"]["net_emissions_tco2e"]) == len(run["years"])
    bad = api.client.post(
        f"{V1}/scenarios/run", json={"scenarios": ["hopeful"]}, headers=api.as_("manager")
    )
    assert bad.status_code == 422 and "unknown scenario" in bad.json()["message"]
    rows = api.client.get(f"{V1}/scenarios/decoupling", headers=api.as_("energy")).json()
    assert {r["scenario"] for r in rows} == {"baseline", "policy", "enhanced"}
    assert all(r["state"] for r in rows)


def test_the_macc_and_a_portfolio(module_api):
    api = module_api
    curve = api.client.get(f"{V1}/reduction/macc", headers=api.as_("manager")).json()
    costs = [r["cost_cny_per_tco2e"] for r in curve if r["cost_cny_per_tco2e"] is not None]
    assert costs == sorted(costs)
    resp = api.client.post(
        f"{V1}/reduction/portfolio",
        json={"target_tco2e_per_yr": 150_000, "budget_cny": 2e8, "year": 2026},
        headers=api.as_("manager"),
    )
    assert resp.status_code == 200, resp.text
    p = resp.json()
    assert p["abatement_tco2e_per_yr"] >= 150_000 and p["capex_cny"] <= 2e8
    assert p["suggestions"]["en"] and p["suggestions"]["zh"]
    resp = api.client.post(
        f"{V1}/reduction/portfolio",
        json={"target_tco2e_per_yr": 5e6, "budget_cny": 1e6},
        headers=api.as_("manager"),
    )
    assert resp.status_code == 422 and resp.json()["code"] == "infeasible"


def test_tracking_needs_a_complete_accounted_year(module_api):
    api = module_api
    resp = api.client.get(f"{V1}/scenarios/tracking", headers=api.as_("manager"))
    assert resp.status_code == 422 and "no complete accounted year" in resp.json()["message"]
