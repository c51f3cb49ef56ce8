"""The access log: every request is audited with who, what, the outcome; the chain holds."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

V1 = "/api/v1"
YEAR = {"start": "2025-01-01", "end": "2025-12-31"}
ENTRY = {
    "source": "E04-DIESEL",
    "start": "2025-05-01",
    "end": "2025-05-31",
    "quantity": 2,
    "unit": "t",
}


def last(api, **filters):
    api.flush()
    rows = api.store.audit_log(limit=1, **filters)
    assert rows, f"no audit record with {filters}"
    return rows[0]


def test_a_read_is_recorded_with_user_role_route_query_status(api):
    resp = api.client.get(f"{V1}/entries", params=YEAR, headers=api.as_("eu"))
    assert resp.status_code == 200
    r = last(api, action="api.read", actor="eu")
    assert r["object"] == f"{V1}/entries" and r["outcome"] == "ok"
    d = r["detail"]
    assert d["method"] == "GET" and d["path"] == f"{V1}/entries"
    assert d["query"] == "start=2025-01-01&end=2025-12-31"
    assert d["status"] == 200 and d["role"] == "emission_unit" and d["ms"] >= 0
    assert r["client"] == "testclient"


def test_the_route_is_recorded_as_its_template(api):
    api.client.get(f"{V1}/registry/sources/E04-DIESEL", headers=api.as_("eu"))
    r = last(api, action="api.read", actor="eu")
    assert r["object"] == f"{V1}/registry/sources/{{record_id}}"
    assert r["detail"]["path"] == f"{V1}/registry/sources/E04-DIESEL"


def test_a_write_is_recorded_and_audited_by_the_store_too(api):
    resp = api.client.post(f"{V1}/entries", json=[ENTRY], headers=api.as_("erp"))
    assert resp.status_code == 200
    r = last(api, action="api.write", actor="erp")
    assert r["object"] == f"{V1}/entries" and r["outcome"] == "ok"
    assert r["detail"]["method"] == "POST" and r["detail"]["role"] == "emission_unit"
    assert last(api, action="entries.push")["actor"] == "erp"


def test_an_invalid_request_is_recorded_as_invalid(api):
    resp = api.client.post(f"{V1}/entries", json=[{**ENTRY, "qty": 1}], headers=api.as_("eu"))
    assert resp.status_code == 422
    r = last(api, action="api.write", actor="eu")
    assert r["outcome"] == "invalid" and r["detail"]["status"] == 422


def test_a_denied_request_records_the_user(api):
    resp = api.client.get(f"{V1}/users", headers=api.as_("eu"))
    assert resp.status_code == 403
    r = last(api, action="api.read", actor="eu")
    assert r["object"] == f"{V1}/users" and r["outcome"] == "denied"
    assert r["detail"]["status"] == 403 and r["detail"]["role"] == "emission_unit"


def test_an_out_of_scope_request_records_the_user_and_denied(api):
    resp = api.client.get(f"{V1}/registry/sources/E01-CHP-COAL", headers=api.as_("eu"))
    assert resp.status_code == 403
    r = last(api, action="api.read", actor="eu")
    assert r["outcome"] == "denied" and r["detail"]["path"].endswith("E01-CHP-COAL")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"X-Api-Key": "ctk_no.such"}],
    ids=["no-credential", "bad-token", "bad-key"],
)
def test_anonymous_requests_are_recorded_as_anonymous(api, headers):
    resp = api.client.get(f"{V1}/park", params={"x": "1"}, headers=headers)
    assert resp.status_code == 401
    r = last(api, action="api.read")
    assert r["actor"] == "anonymous" and r["outcome"] == "denied"
    assert r["detail"]["role"] is None and r["detail"]["query"] == "x=1"


def test_unknown_routes_are_recorded(api):
    api.client.get(f"{V1}/nothing/here", headers=api.as_("manager"))
    r = last(api, action="api.read")
    assert r["object"] == f"{V1}/nothing/here" and r["outcome"] == "invalid"
    assert r["detail"]["status"] == 404


def test_the_health_check_is_not_recorded(api):
    api.flush()
    before = len(api.store.audit_log(limit=10_000, action="api.read"))
    assert api.client.get(f"{V1}/health").status_code == 200
    api.flush()
    assert len(api.store.audit_log(limit=10_000, action="api.read")) == before


def test_the_chain_holds_after_concurrent_requests(api):
    """Many threads read, write and are refused at once; every request is one record."""
    api.flush()
    before = len(api.store.audit_log(limit=100_000))
    calls = [
        ("GET", f"{V1}/entries", "eu", {"params": YEAR}),
        ("GET", f"{V1}/registry/points", "manager", {}),
        ("GET", f"{V1}/users", "eu_other", {}),  # denied
        ("POST", f"{V1}/entries", "manager", {"json": [ENTRY]}),  # a write the store audits
        ("GET", f"{V1}/park", "anonymous", {}),
        (
            "POST",
            f"{V1}/setpoints",
            "energy",
            {"json": [{"setpoint": "A-E04-LINE.rate_frac", "value": 0.7}]},
        ),
    ]
    threads, rounds = 6, 5
    errors: list[BaseException] = []
    statuses: list[int] = []

    def work(n: int) -> None:
        client = TestClient(api.app)
        try:
            for k in range(rounds):
                method, url, user, kw = calls[(n + k) % len(calls)]
                resp = client.request(method, url, headers=api.as_(user), **kw)
                statuses.append(resp.status_code)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors
    assert all(s < 500 for s in statuses), statuses
    api.flush()
    rows = api.store.audit_log(limit=100_000)
    requests = [r for r in rows if r["action"] in ("api.read", "api.write")]
    assert len(requests) >= threads * rounds
    assert len(rows) > before + threads * rounds  # the stores' own records are in the chain too
    assert api.store.verify_audit() is None
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)


def test_operators_query_the_audit_log_with_filters(api):
    api.client.get(f"{V1}/park", headers=api.as_("eu"))
    api.client.get(f"{V1}/users", headers=api.as_("eu"))
    api.flush()
    resp = api.client.get(
        f"{V1}/audit", params={"actor": "eu", "action": "api.read"}, headers=api.as_("operator")
    )
    assert resp.status_code == 200
    rows = resp.json()
    assert len(rows) >= 2
    assert {(r["actor"], r["action"]) for r in rows} == {("eu", "api.read")}
    assert [r["object"] for r in rows[:2]] == [f"{V1}/users", f"{V1}/park"]  # newest first
    assert all(len(r["hash"]) == 64 for r in rows)
    signed = api.client.get(
        f"{V1}/audit", params={"action": "auth.sign_in", "limit": 2}, headers=api.as_("operator")
    ).json()
    assert len(signed) == 2 and {r["action"] for r in signed} == {"auth.sign_in"}
    verify = api.client.get(f"{V1}/audit/verify", headers=api.as_("operator")).json()
    assert verify == {"intact": True, "first_broken": None}


@pytest.mark.parametrize("user", ["eu", "manager", "energy", "bms", "erp"])
def test_others_cannot_read_the_audit_log(api, user):
    resp = api.client.get(f"{V1}/audit", headers=api.as_(user))
    assert resp.status_code == 403 and resp.json()["code"] == "forbidden"
    assert last(api, action="api.read", actor=user)["outcome"] == "denied"


def test_a_tampered_audit_log_is_detected(api):
    api.client.get(f"{V1}/park", headers=api.as_("eu"))
    api.flush()
    victim = api.store.audit_log(limit=1, actor="eu")[0]["id"]
    with api.store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_log SET actor = 'someone' WHERE id = ?", (victim,))
    verify = api.client.get(f"{V1}/audit/verify", headers=api.as_("operator")).json()
    assert verify == {"intact": False, "first_broken": victim}
