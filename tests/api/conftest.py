"""Fixtures of the API tests: apps over fresh stores, a user of every role, signed in.

``api`` is a fresh app per test; ``make_api(**options)`` makes more (``create_app``
options such as ``rate_per_second``); ``module_api`` is shared by a module's tests. The
stores are SQLite files: the app serves from threads, and ``sqlite://`` is for one thread.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a long test (the schemathesis run); part of the default run"
    )


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


def store_url(folder: Path) -> str:
    """A SQLite file in ``folder``: the app serves from threads, ``sqlite://`` is one thread's."""
    return f"sqlite:///{folder / f'store-{uuid.uuid4().hex[:8]}.db'}"


@contextlib.contextmanager
def running_api(url: str, **options: object) -> Iterator[Api]:
    """Run :func:`build_api` on a fresh store at ``url``; close both afterwards."""
    s = Store.open(url)
    a = build_api(s, **options)
    try:
        yield a
    finally:
        a.client.__exit__(None, None, None)
        s.close()


@pytest.fixture
def store(tmp_path):
    s = Store.open(store_url(tmp_path))
    yield s
    s.close()


@pytest.fixture
def api(store):
    a = build_api(store)
    yield a
    a.client.__exit__(None, None, None)


@pytest.fixture
def make_api(tmp_path):
    """Return a factory of apps on fresh stores (``create_app`` options as keywords)."""
    with contextlib.ExitStack() as stack:
        yield lambda **options: stack.enter_context(running_api(store_url(tmp_path), **options))


@pytest.fixture(scope="module")
def module_api(tmp_path_factory):
    """One app for a whole test module: for requests that change nothing they share."""
    with running_api(store_url(tmp_path_factory.mktemp("api"))) as a:
        yield a
