"""Errors are JSON with a stable code; validation names the field; rate limits; digests."""

from __future__ import annotations

import base64
import hashlib
import re
import time

import pytest
from fastapi.testclient import TestClient

from carbontwin.store import StoreError

V1 = "/api/v1"
DIGEST = re.compile(r"^sha-256=:([A-Za-z0-9+/]+={0,2}):$")

#: (method, url, user, request keywords, status, code) of one request per kind of error.
ERRORS = [
    ("GET", f"{V1}/park", "anonymous", {}, 401, "not_authenticated"),
    ("GET", f"{V1}/park", "bad-token", {}, 401, "token_invalid"),
    ("GET", f"{V1}/users", "eu", {}, 403, "forbidden"),
    ("GET", f"{V1}/registry/sources/E01-CHP-COAL", "eu", {}, 403, "out_of_scope"),
    ("GET", f"{V1}/nothing", "manager", {}, 404, "not_found"),
    ("GET", f"{V1}/registry/sources/NO-SUCH", "manager", {}, 404, "not_found"),
    ("DELETE", f"{V1}/park", "manager", {}, 405, "method_not_allowed"),
    (
        "POST",
        f"{V1}/registry/zones",
        "manager",
        {"json": {"id": "Z1", "name": "again"}},
        409,
        "conflict",
    ),
    ("GET", f"{V1}/readings", "manager", {}, 422, "invalid_request"),
    (
        "POST",
        f"{V1}/setpoints",
        "energy",
        {"json": [{"setpoint": "A-E04-LINE.rate_frac", "value": 9}]},
        422,
        "rejected",
    ),
    (
        "POST",
        f"{V1}/entries",
        "manager",
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        422,
        "invalid_request",
    ),
    (
        "POST",
        f"{V1}/auth/token",
        "anonymous",
        {"data": {"username": "eu", "password": "x"}},
        401,
        "bad_credentials",
    ),
]


def headers_of(api, user):
    if user == "bad-token":
        return {"Authorization": "Bearer nope"}
    return api.as_(user)


def check_digest(resp):
    match = DIGEST.match(resp.headers.get("content-digest", ""))
    assert match, f"no RFC 9530 Content-Digest: {resp.headers}"
    assert base64.b64decode(match.group(1)) == hashlib.sha256(resp.content).digest()


@pytest.mark.parametrize(
    ("method", "url", "user", "kw", "status", "code"),
    ERRORS,
    ids=[f"{s}-{c}-{m} {u}" for m, u, _, _, s, c in ERRORS],
)
def test_every_error_is_json_with_code_and_message(api, method, url, user, kw, status, code):
    kw = dict(kw)
    headers = {**headers_of(api, user), **kw.pop("headers", {})}
    resp = api.client.request(method, url, headers=headers, **kw)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and len(body["message"]) > 10
    check_digest(resp)
    if status == 401:
        assert resp.headers["www-authenticate"] == "Bearer"


def test_an_unexpected_failure_is_a_json_500_without_details(api, monkeypatch, caplog):
    def broken():
        msg = "disk on fire at /var/secret/path"
        raise RuntimeError(msg)

    monkeypatch.setattr(api.store, "users", broken)
    client = TestClient(api.app, raise_server_exceptions=False)
    resp = client.get(f"{V1}/users", headers=api.as_("operator"))
    assert resp.status_code == 500
    assert resp.json()["code"] == "internal_error"
    assert "secret" not in resp.text and "RuntimeError" not in resp.text
    check_digest(resp)
    assert "unexpected error serving GET /api/v1/users" in caplog.text
    api.flush()
    assert api.store.audit_log(limit=1, action="api.read")[0]["outcome"] == "error"


def test_a_store_failure_is_503(api, monkeypatch):
    def down():
        msg = "reading users failed (database is locked)"
        raise StoreError(msg)

    monkeypatch.setattr(api.store, "users", down)
    resp = api.client.get(f"{V1}/users", headers=api.as_("operator"))
    assert resp.status_code == 503 and resp.json()["code"] == "store_unavailable"


# Validation errors name the field ------------------------------------------------------------
def errors_of(resp):
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "invalid_request"
    for e in body["errors"]:
        assert e["message"] and e["in"] in ("body", "query", "path", "header")
        assert e["field"] in body["message"]
    return {(e["in"], e["field"], e.get("row")) for e in body["errors"]}


def test_missing_query_parameters_are_named(api):
    resp = api.client.get(f"{V1}/readings", headers=api.as_("manager"))
    assert errors_of(resp) == {
        ("query", "point", None),
        ("query", "start", None),
        ("query", "end", None),
    }


def test_a_query_parameter_out_of_range_is_named(api):
    resp = api.client.get(f"{V1}/audit", params={"limit": 0}, headers=api.as_("operator"))
    assert errors_of(resp) == {("query", "limit", None)}
    assert "greater than or equal to 1" in resp.json()["errors"][0]["message"]


def test_a_bad_path_parameter_is_named(api):
    resp = api.client.post(f"{V1}/quarantine/0/release", headers=api.as_("manager"))
    assert errors_of(resp) == {("path", "quarantine_id", None)}
    resp = api.client.get(f"{V1}/registry/sources/bad id!", headers=api.as_("manager"))
    assert errors_of(resp) == {("path", "record_id", None)}


def test_body_errors_name_the_row_and_field(api):
    rows = [
        {"setpoint": "A-E04-LINE.rate_frac", "value": 0.5},
        {"setpoint": "x", "value": "high", "colour": "red"},
    ]
    resp = api.client.post(f"{V1}/setpoints", json=rows, headers=api.as_("energy"))
    assert errors_of(resp) == {("body", "setpoint", 2), ("body", "value", 2), ("body", "colour", 2)}
    assert "row 2: setpoint" in resp.json()["message"]
    assert api.store.setpoints("binhai") == []


def test_a_body_of_the_wrong_shape_is_named(api):
    resp = api.client.post(f"{V1}/entries", json={"source": "E04-DIESEL"}, headers=api.as_("eu"))
    found = errors_of(resp)
    assert {w for w, _, _ in found} == {"body"}


def test_non_finite_numbers_are_refused(api):
    body = b'[{"point": "P-E04-ELEC", "ts": 1, "value": NaN}]'
    resp = api.client.post(
        f"{V1}/readings",
        content=body,
        headers={**api.as_("bms"), "Content-Type": "application/json"},
    )
    assert errors_of(resp) == {("body", "value", 1)}


# Rate limits --------------------------------------------------------------------------------
def at_the_start_of_a_second():
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


def test_the_sixth_request_in_a_second_is_rate_limited(make_api):
    api = make_api(rate_per_second=5)
    at_the_start_of_a_second()
    answers = [api.client.get(f"{V1}/park", headers=api.as_("eu")) for _ in range(8)]
    assert [r.status_code for r in answers] == [200] * 5 + [429] * 3
    limited = answers[5]
    assert limited.json()["code"] == "rate_limited"
    assert "limit 5 per second" in limited.json()["message"]
    assert int(limited.headers["retry-after"]) >= 1
    check_digest(limited)
    # Another client is not affected.
    assert api.client.get(f"{V1}/park", headers=api.as_("manager")).status_code == 200


def test_requests_without_a_credential_are_limited_per_address(make_api):
    api = make_api(rate_per_second=5)
    # Seven requests inside one second: on a loaded machine a burst may spill over into
    # the next second, so it is tried again (the limit is what is tested, not the speed).
    for _ in range(5):
        at_the_start_of_a_second()
        t0 = time.monotonic()
        codes = [api.client.get(f"{V1}/park").status_code for _ in range(7)]
        if time.monotonic() - t0 < 0.9:
            break
        time.sleep(1.1)
    assert codes == [401] * 5 + [429] * 2


def test_sign_in_attempts_are_limited_per_address(make_api):
    limit = 8
    api = make_api(sign_in_per_minute=limit)  # the fixture itself signs in five users
    codes = []
    for _ in range(limit):
        resp = api.client.post(
            f"{V1}/auth/token", data={"username": "manager", "password": "Guess-Number-1"}
        )
        codes.append(resp.status_code)
    assert 429 in codes
    first = codes.index(429)
    assert first <= limit - 5 and set(codes[first:]) == {429}
    limited = api.client.post(f"{V1}/auth/token", data={"username": "manager", "password": "x"})
    assert limited.json()["code"] == "rate_limited"
    assert "sign-in attempts" in limited.json()["message"]
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # Refused attempts do not reach the account: it is not locked by them.
    assert api.store.user("manager")["locked_until"] is None
    # Other requests are limited apart.
    assert api.client.get(f"{V1}/park", headers=api.as_("manager")).status_code == 200


# Content-Digest -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "user"),
    [
        (f"{V1}/health", "anonymous"),
        (f"{V1}/park", "eu"),
        (f"{V1}/registry/points", "manager"),
        (f"{V1}/factors", "energy"),
        (f"{V1}/auth/me", "erp"),
        (f"{V1}/access/roles?lang=zh", "eu"),
    ],
)
def test_json_answers_carry_a_content_digest_of_their_body(api, url, user):
    resp = api.client.get(url, headers=api.as_(user))
    assert resp.status_code == 200
    check_digest(resp)


def test_the_digest_covers_non_ascii_text(api):
    resp = api.client.get(f"{V1}/registry/enterprises/E04", headers=api.as_("eu"))
    assert "东海" in resp.text
    check_digest(resp)


def test_answers_without_a_body_carry_no_digest(api):
    resp = api.client.post(f"{V1}/auth/logout", json={"refresh_token": "a.b"})
    assert resp.status_code == 204 and resp.content == b""
    assert "content-digest" not in resp.headers
