"""Fixtures of the API tests: an app over a fresh store, a user of every role, sign-in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from carbontwin.api import create_app
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.auth import AuthSettings, fast_hasher
from carbontwin.store import Store

PARK = resolve_park("demo")
PASSWORD = "Carbon-Peak-2030"
COLLECTOR_KEYS = {"gw-z2": b"k-gw-z2"}
SECRET = "test-secret-" + "x" * 32

#: A person of each role; the emission units report for E04 and E01.
PEOPLE = {
    "eu": ("emission_unit", "E04"),
    "eu_other": ("emission_unit", "E01"),
    "manager": ("park_manager", None),
    "operator": ("platform_operator", None),
    "energy": ("energy_manager", None),
}
#: Service accounts (API keys).
SERVICES = {"bms": ("integration", None), "erp": ("emission_unit", "E04")}


@dataclass
class Api:
    """A test client with credentials of every user."""

    client: TestClient
    store: Store
    headers: dict[str, dict[str, str]]
    keys: dict[str, str]
    app: object

    def as_(self, user: str) -> dict[str, str]:
        """Headers that authenticate as ``user``."""
        return self.headers[user]

    def flush(self) -> None:
        """Write the queued access-log records."""
        self.app.state.access_log.flush()


def build_api(store: Store, **options: object) -> Api:
    """Make an app on ``store`` with every user signed in."""
    settings = AuthSettings(secret=SECRET, hasher=fast_hasher(), user_cache_s=0.0)
    app = create_app(store, PARK, COLLECTOR_KEYS, auth=settings, **options)
    auth = app.state.context.auth
    for name, (role, ent) in PEOPLE.items():
        auth.add_user(name, role, password=PASSWORD, actor="setup", park_id=PARK.id, enterprise=ent)
    keys = {}
    for name, (role, ent) in SERVICES.items():
        auth.add_user(name, role, kind="service", actor="setup", park_id=PARK.id, enterprise=ent)
        keys[name] = auth.issue_api_key(name, actor="setup")
    client = TestClient(app)
    client.__enter__()
    headers = {}
    for name in PEOPLE:
        resp = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
        assert resp.status_code == 200, resp.text
        headers[name] = {"Authorization": f"Bearer {resp.json()['access_token']}"}
    for name, key in keys.items():
        headers[name] = {"X-Api-Key": key}
    headers["anonymous"] = {}
    return Api(client, store, headers, keys, app)


@pytest.fixture
def store():
    s = Store.open("sqlite://")
    yield s
    s.close()


@pytest.fixture
def api(store):
    a = build_api(store)
    yield a
    a.client.__exit__(None, None, None)
