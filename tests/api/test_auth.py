"""Sign-in, tokens, lockout, API keys and the password policy, through the API."""

from __future__ import annotations

import datetime as dt
import time

import jwt
import pytest

from carbontwin.runtime.auth import (
    Authenticator,
    AuthError,
    AuthSettings,
    check_password,
    fast_hasher,
)
from carbontwin.store import Store

V1 = "/api/v1"
PASSWORD = "Carbon-Peak-2030"
TOKEN = f"{V1}/auth/token"
REFRESH = f"{V1}/auth/refresh"
ME = f"{V1}/auth/me"


def sign_in(api, username, password=PASSWORD):
    return api.client.post(TOKEN, data={"username": username, "password": password})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def claims(api, **changes):
    now = int(time.time())
    base = {
        "sub": "manager",
        "role": "park_manager",
        "park": "binhai",
        "ent": None,
        "kind": "person",
        "iat": now,
        "exp": now + 600,
        "jti": "j-1",
        "typ": "access",
    }
    return {**base, **changes}


def secret(api):
    return api.app.state.context.auth.settings.secret


# Sign-in ------------------------------------------------------------------------------------
def test_sign_in_opens_a_session(api):
    resp = sign_in(api, "eu")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    assert body["role"] == "emission_unit" and body["enterprise"] == "E04"
    assert body["refresh_token"] and body["access_token"].count(".") == 2
    head = jwt.get_unverified_header(body["access_token"])
    assert head["alg"] == "HS256" and head["kid"]
    me = api.client.get(ME, headers=bearer(body["access_token"])).json()
    assert (me["username"], me["role"], me["enterprise"]) == ("eu", "emission_unit", "E04")
    assert "entries.write" in me["permissions"] and "registry.write" not in me["permissions"]
    assert api.store.audit_log(action="auth.sign_in")[0]["actor"] == "eu"


@pytest.mark.parametrize("username", ["eu", "nobody"])
def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(api, username):
    resp = sign_in(api, username, "Not-The-Password-1")
    assert resp.status_code == 401
    assert resp.json() == {
        "code": "bad_credentials",
        "message": "the user name or password is wrong",
    }
    assert resp.headers["www-authenticate"] == "Bearer"
    record = api.store.audit_log(action="auth.sign_in")[0]
    assert record["outcome"] == "denied" and record["detail"]["code"] == "bad_credentials"


def test_a_service_account_cannot_sign_in_with_a_password(api):
    resp = sign_in(api, "bms", PASSWORD)
    assert resp.status_code == 401 and resp.json()["code"] == "bad_credentials"
    # and it is given no password either
    resp = api.client.post(
        f"{V1}/users",
        json={"username": "bms2", "role": "integration", "kind": "service", "password": PASSWORD},
        headers=api.as_("operator"),
    )
    assert resp.status_code == 422 and "API key" in resp.json()["message"]
    resp = api.client.post(
        f"{V1}/auth/password",
        json={"current": PASSWORD, "new": "Another-Secret-77"},
        headers=api.as_("bms"),
    )
    assert resp.status_code == 403 and "API keys" in resp.json()["message"]


def test_five_failures_lock_the_account_even_for_the_right_password(api):
    for n in range(1, 5):
        resp = sign_in(api, "energy", f"Wrong-Password-{n}")
        assert resp.status_code == 401, n
    fifth = sign_in(api, "energy", "Wrong-Password-5")
    assert fifth.status_code == 401
    assert "locked for 15 minutes" in fifth.json()["message"]
    resp = sign_in(api, "energy")
    assert resp.status_code == 403
    assert resp.json()["code"] == "locked" and "5 failed sign-ins" in resp.json()["message"]
    until = api.store.user("energy")["locked_until"]
    assert dt.timedelta(minutes=14) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=15)
    # A session opened before the lockout keeps working: lockout guards sign-in only.
    assert api.client.get(ME, headers=api.as_("energy")).status_code == 200


def test_a_success_resets_the_count_of_failures(api):
    for _ in range(4):
        assert sign_in(api, "energy", "Wrong-Password-0").status_code == 401
    assert sign_in(api, "energy").status_code == 200
    for _ in range(4):
        assert sign_in(api, "energy", "Wrong-Password-0").status_code == 401
    assert sign_in(api, "energy").status_code == 200


def test_the_lockout_expires(api):
    for _ in range(5):
        sign_in(api, "energy", "Wrong-Password-0")
    assert sign_in(api, "energy").status_code == 403
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    api.store.update_user("energy", actor="test", locked_until=past)
    assert sign_in(api, "energy").status_code == 200
    assert api.store.user("energy")["locked_until"] is None


def test_a_short_lockout_setting_expires_by_itself():
    with Store.open("sqlite://") as store:
        settings = AuthSettings(
            secret="s" * 32, hasher=fast_hasher(), lockout=dt.timedelta(seconds=0.3)
        )
        auth = Authenticator(store, settings)
        auth.add_user("li.na", "park_manager", password=PASSWORD, actor="setup")
        for _ in range(5):
            with pytest.raises(AuthError):
                auth.sign_in("li.na", "Wrong-Password-0")
        with pytest.raises(AuthError) as exc:
            auth.sign_in("li.na", PASSWORD)
        assert exc.value.code == "locked"
        time.sleep(0.35)
        assert auth.sign_in("li.na", PASSWORD).principal.name == "li.na"


def test_a_disabled_user_cannot_sign_in(api):
    api.client.patch(f"{V1}/users/energy", json={"disabled": True}, headers=api.as_("operator"))
    resp = sign_in(api, "energy")
    assert resp.status_code == 403 and resp.json()["code"] == "disabled"


# Refresh and logout -------------------------------------------------------------------------
def refresh(api, token):
    return api.client.post(REFRESH, json={"refresh_token": token})


def test_refresh_rotates_the_refresh_token(api):
    first = sign_in(api, "manager").json()
    second = refresh(api, first["refresh_token"])
    assert second.status_code == 200, second.text
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    assert new["access_token"] != first["access_token"]
    assert api.client.get(ME, headers=bearer(new["access_token"])).status_code == 200
    assert refresh(api, new["refresh_token"]).status_code == 200


def test_reusing_a_refresh_token_closes_the_whole_session(api):
    first = sign_in(api, "manager").json()
    second = refresh(api, first["refresh_token"]).json()
    third = refresh(api, second["refresh_token"]).json()
    reused = refresh(api, first["refresh_token"])  # stolen and replayed
    assert reused.status_code == 401 and reused.json()["code"] == "refresh_reused"
    newest = refresh(api, third["refresh_token"])  # the family is revoked: the newest too
    assert newest.status_code == 401 and newest.json()["code"] == "refresh_reused"
    record = api.store.audit_log(action="auth.refresh")[0]
    assert record["outcome"] == "denied" and record["actor"] == "manager"
    # Other sessions of the same user are not touched.
    other = sign_in(api, "manager").json()
    assert refresh(api, other["refresh_token"]).status_code == 200


@pytest.mark.parametrize("token", ["garbage", "abc.def", "." * 3, "x" * 200])
def test_a_forged_refresh_token_is_refused(api, token):
    resp = refresh(api, token)
    assert resp.status_code == 401 and resp.json()["code"] == "token_invalid"


def test_a_refresh_token_with_a_wrong_secret_is_refused(api):
    token_id = sign_in(api, "manager").json()["refresh_token"].split(".")[0]
    resp = refresh(api, f"{token_id}.not-the-secret")
    assert resp.status_code == 401 and resp.json()["code"] == "token_invalid"


def test_logout_ends_the_session(api):
    session = sign_in(api, "manager").json()
    resp = api.client.post(f"{V1}/auth/logout", json={"refresh_token": session["refresh_token"]})
    assert resp.status_code == 204 and resp.content == b""
    assert refresh(api, session["refresh_token"]).status_code == 401
    assert api.store.audit_log(action="auth.sign_out")[0]["actor"] == "manager"


def test_logout_of_an_unknown_session_says_nothing(api):
    resp = api.client.post(f"{V1}/auth/logout", json={"refresh_token": "nope.nope"})
    assert resp.status_code == 204


def test_a_refresh_token_of_a_disabled_user_is_refused(api):
    session = sign_in(api, "energy").json()
    api.client.patch(f"{V1}/users/energy", json={"disabled": True}, headers=api.as_("operator"))
    resp = refresh(api, session["refresh_token"])
    assert resp.status_code == 401


# Access tokens ------------------------------------------------------------------------------
def test_an_expired_access_token_is_refused(api):
    now = int(time.time())
    token = jwt.encode(claims(api, iat=now - 1000, exp=now - 10), secret(api), algorithm="HS256")
    resp = api.client.get(ME, headers=bearer(token))
    assert resp.status_code == 401
    assert resp.json()["code"] == "token_expired" and "refresh" in resp.json()["message"]


def test_a_token_signed_with_another_key_is_refused(api):
    token = jwt.encode(claims(api), "another-key-" + "y" * 32, algorithm="HS256")
    resp = api.client.get(ME, headers=bearer(token))
    assert resp.status_code == 401 and resp.json()["code"] == "token_invalid"


def test_a_well_signed_token_is_accepted(api):
    token = jwt.encode(claims(api), secret(api), algorithm="HS256")
    assert api.client.get(ME, headers=bearer(token)).json()["username"] == "manager"


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode({"sub": "manager", "role": "park_manager"}, "k" * 32, algorithm="HS256"),
        # "alg": "none" with the claims of a manager
        jwt.encode(
            {"sub": "manager", "role": "park_manager", "exp": 2**40, "jti": "x"},
            key=None,
            algorithm="none",
        ),
    ],
    ids=["garbage", "foreign", "alg-none"],
)
def test_malformed_tokens_are_refused(api, token):
    resp = api.client.get(ME, headers=bearer(token))
    assert resp.status_code == 401 and resp.json()["code"] == "token_invalid"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"typ": "refresh"}, "token_invalid"),
        ({"exp": None}, "token_invalid"),
        ({"sub": "nobody"}, "disabled"),
    ],
    ids=["not-an-access-token", "no-expiry", "unknown-user"],
)
def test_tokens_with_wrong_claims_are_refused(api, change, code):
    body = {k: v for k, v in claims(api, **change).items() if v is not None}
    token = jwt.encode(body, secret(api), algorithm="HS256")
    resp = api.client.get(ME, headers=bearer(token))
    assert resp.status_code in (401, 403) and resp.json()["code"] == code


def test_the_stored_role_not_the_token_decides(api):
    # A token that claims a manager's role for the emission unit gives it nothing more.
    token = jwt.encode(
        claims(api, sub="eu", role="park_manager", ent=None), secret(api), algorithm="HS256"
    )
    me = api.client.get(ME, headers=bearer(token)).json()
    assert me["role"] == "emission_unit" and me["enterprise"] == "E04"
    resp = api.client.get(f"{V1}/registry/enterprises/E01", headers=bearer(token))
    assert resp.status_code == 403


def test_a_disabled_users_token_is_refused_at_once(api):
    h = api.as_("energy")
    assert api.client.get(ME, headers=h).status_code == 200
    resp = api.client.patch(
        f"{V1}/users/energy", json={"disabled": True}, headers=api.as_("operator")
    )
    assert resp.status_code == 200 and resp.json()["disabled"] is True
    refused = api.client.get(ME, headers=h)
    assert refused.status_code == 403 and refused.json()["code"] == "disabled"
    api.client.patch(f"{V1}/users/energy", json={"disabled": False}, headers=api.as_("operator"))
    assert api.client.get(ME, headers=h).status_code == 200


def test_a_role_change_takes_effect_on_the_next_request(api):
    h = api.as_("energy")
    setpoint = [{"setpoint": "A-E04-LINE.rate_frac", "value": 0.5}]
    assert api.client.post(f"{V1}/setpoints", json=setpoint, headers=h).status_code == 201
    assert api.client.get(f"{V1}/users", headers=h).status_code == 403
    resp = api.client.patch(
        f"{V1}/users/energy", json={"role": "platform_operator"}, headers=api.as_("operator")
    )
    assert resp.status_code == 200, resp.text
    assert api.client.get(ME, headers=h).json()["role"] == "platform_operator"
    assert api.client.get(f"{V1}/users", headers=h).status_code == 200
    refused = api.client.post(f"{V1}/setpoints", json=setpoint, headers=h)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


def test_a_change_of_scope_takes_effect_on_the_next_request(api):
    h = api.as_("eu")
    assert api.client.get(f"{V1}/registry/sources/E04-DIESEL", headers=h).status_code == 200
    resp = api.client.patch(
        f"{V1}/users/eu", json={"enterprise": "E01"}, headers=api.as_("operator")
    )
    assert resp.status_code == 200, resp.text
    assert api.client.get(f"{V1}/registry/sources/E04-DIESEL", headers=h).status_code == 403
    assert api.client.get(f"{V1}/registry/sources/E01-CHP-COAL", headers=h).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"role": "emission_unit"},  # an emission unit without an enterprise
        {"role": "park_manager"},  # a manager still tied to E04
        {"role": "emission_unit", "enterprise": None},
    ],
)
def test_a_role_without_its_scope_is_refused_and_nothing_changes(api, change):
    user = "eu" if change.get("role") == "park_manager" else "energy"
    before = api.store.user(user)
    body = {**change, "password": "Brand-New-Secret-9"}
    resp = api.client.patch(f"{V1}/users/{user}", json=body, headers=api.as_("operator"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "rejected" and "enterprise" in resp.json()["message"]
    after = api.store.user(user)
    assert after["role"] == before["role"] and after["password_hash"] == before["password_hash"]


def test_a_manager_role_for_an_emission_unit_clears_its_enterprise(api):
    resp = api.client.patch(
        f"{V1}/users/eu",
        json={"role": "park_manager", "enterprise": None},
        headers=api.as_("operator"),
    )
    assert resp.status_code == 200, resp.text
    assert api.client.get(ME, headers=api.as_("eu")).json()["enterprise"] is None


# API keys -----------------------------------------------------------------------------------
def test_an_api_key_works_until_it_is_revoked(api):
    h = api.as_("erp")
    assert api.client.get(ME, headers=h).json()["kind"] == "service"
    key_id = api.keys["erp"].removeprefix("ctk_").split(".")[0]
    listed = api.client.get(f"{V1}/users/erp/api-keys", headers=api.as_("operator")).json()
    assert [k["id"] for k in listed] == [key_id] and "key_hash" not in listed[0]
    resp = api.client.delete(f"{V1}/api-keys/{key_id}", headers=api.as_("operator"))
    assert resp.status_code == 204
    refused = api.client.get(ME, headers=h)
    assert refused.status_code == 401 and refused.json()["code"] == "bad_api_key"
    assert api.store.audit_log(action="api_keys.revoke")[0]["actor"] == "operator"


def test_a_new_api_key_is_shown_once_and_works(api):
    resp = api.client.post(
        f"{V1}/users/bms/api-keys", json={"label": "spare"}, headers=api.as_("operator")
    )
    assert resp.status_code == 201
    key = resp.json()["key"]
    assert key.startswith(f"ctk_{resp.json()['id']}.")
    assert api.client.get(ME, headers={"X-Api-Key": key}).json()["username"] == "bms"
    listed = api.client.get(f"{V1}/users/bms/api-keys", headers=api.as_("operator")).text
    assert key.split(".")[1] not in listed


@pytest.mark.parametrize(
    "key",
    ["not-a-key", "ctk_", "ctk_abc", "ctk_abc.def", "ctk_{id}.wrong-secret"],
)
def test_bad_api_keys_are_refused(api, key):
    key = key.format(id=api.keys["erp"].removeprefix("ctk_").split(".")[0])
    resp = api.client.get(ME, headers={"X-Api-Key": key})
    assert resp.status_code == 401 and resp.json()["code"] == "bad_api_key"


def test_a_disabled_service_accounts_key_is_refused(api):
    api.client.patch(f"{V1}/users/erp", json={"disabled": True}, headers=api.as_("operator"))
    resp = api.client.get(ME, headers=api.as_("erp"))
    assert resp.status_code == 403 and resp.json()["code"] == "disabled"


# The password policy ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Ab1-short", "it has 9 characters"),
        ("alllowercaseletters", "it mixes 1 kind"),
        ("lowercase12345", "it mixes 2 kind"),
        ("Li.Wei-2030-Carbon", "it contains the user name"),
        ("Password123!", "it is a common password"),
    ],
    ids=["short", "one-kind", "two-kinds", "user-name", "common"],
)
def test_weak_passwords_are_refused(api, password, problem):
    resp = api.client.post(
        f"{V1}/users",
        json={"username": "li.wei", "role": "energy_manager", "password": password},
        headers=api.as_("operator"),
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "weak_password" and problem in resp.json()["message"]
    assert api.store.user("li.wei") is None


def test_a_strong_password_is_accepted(api):
    resp = api.client.post(
        f"{V1}/users",
        json={"username": "li.wei", "role": "energy_manager", "password": "Grid-Balance-77"},
        headers=api.as_("operator"),
    )
    assert resp.status_code == 201, resp.text
    assert "password" not in resp.text
    assert sign_in(api, "li.wei", "Grid-Balance-77").status_code == 200


def test_changing_ones_password_checks_the_current_one(api):
    h = api.as_("manager")
    wrong = api.client.post(
        f"{V1}/auth/password",
        json={"current": "Wrong-Password-1", "new": "Other-Secret-42"},
        headers=h,
    )
    assert wrong.status_code == 401
    weak = api.client.post(
        f"{V1}/auth/password", json={"current": PASSWORD, "new": "weakweak"}, headers=h
    )
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    ok = api.client.post(
        f"{V1}/auth/password", json={"current": PASSWORD, "new": "Other-Secret-42"}, headers=h
    )
    assert ok.status_code == 204
    assert sign_in(api, "manager").status_code == 401
    assert sign_in(api, "manager", "Other-Secret-42").status_code == 200


@pytest.mark.parametrize(
    "password",
    ["Carbon-Peak-2030", "abcdefgh12!!", "ABCDEFGH12!!", "Abcdefghij12", "密码Abcdefgh12"],
)
def test_check_password_accepts_three_kinds_of_ten_characters(password):
    check_password(password, "li.na")


@pytest.mark.parametrize(
    ("password", "username", "problems"),
    [
        ("", "", ["it has 0 characters", "it mixes 0 kind(s)"]),
        ("Abc-12", "", ["it has 6 characters"]),
        ("abcdefghijkl", "", ["it mixes 1 kind(s)"]),
        ("ABCDEFGH!!!!", "", ["it mixes 2 kind(s)"]),
        ("Xx-LI.NA-2030", "li.na", ["it contains the user name"]),
        ("P@ssw0rd123", "", ["it is a common password"]),
        ("abc", "abc", ["it has 3 characters", "it mixes 1 kind(s)", "it contains the user name"]),
    ],
)
def test_check_password_names_every_problem(password, username, problems):
    with pytest.raises(AuthError) as exc:
        check_password(password, username)
    assert exc.value.code == "weak_password"
    for p in problems:
        assert p in str(exc.value)
    assert "at least 10 characters" in str(exc.value)  # says what would do


def test_a_password_change_ends_the_access_tokens_issued_before_it(api):
    now = int(time.time())
    # The account was set up two minutes ago and a session opened a minute ago.
    api.store.update_user(
        "manager",
        actor="test",
        password_changed_at=dt.datetime.fromtimestamp(now - 120, dt.UTC),
    )
    old = jwt.encode(claims(api, iat=now - 60, exp=now + 600), secret(api), algorithm="HS256")
    assert api.client.get(f"{V1}/auth/me", headers=bearer(old)).status_code == 200
    changed = api.client.post(
        f"{V1}/auth/password",
        json={"current": PASSWORD, "new": "Other-Secret-42"},
        headers=api.as_("manager"),
    )
    assert changed.status_code == 204
    resp = api.client.get(f"{V1}/auth/me", headers=bearer(old))
    assert resp.status_code == 401 and resp.json()["code"] == "token_invalid"
    assert "password was changed" in resp.json()["message"]
    fresh = sign_in(api, "manager", "Other-Secret-42").json()["access_token"]
    assert api.client.get(f"{V1}/auth/me", headers=bearer(fresh)).status_code == 200
