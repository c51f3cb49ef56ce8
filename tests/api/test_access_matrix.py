"""Every endpoint × every role: refused, unauthenticated or let through, as PERMISSIONS says.

:data:`SAMPLES` holds one request per route of the API (path parameters filled with real
ids of the demo park, minimal valid bodies); :func:`test_every_route_has_a_sample` fails
when a route is added without one. The permission each route needs is read from its
``require(...)`` dependency, so the expectations follow the one table of
:mod:`carbontwin.runtime.access`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from fastapi.routing import APIRoute

from carbontwin.api import create_app
from carbontwin.connectors.collector import CollectorBuffer
from carbontwin.runtime import control
from carbontwin.runtime import registry as reg
from carbontwin.runtime.access import PERMISSIONS
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.auth import AuthSettings
from carbontwin.runtime.simulate import simulate_to_store
from carbontwin.store import Store

PARK = resolve_park("demo")
PASSWORD = "Carbon-Peak-2030"
V1 = "/api/v1"

#: Every credential of the ``api`` fixture and its role; ``anonymous`` sends none.
USERS = {
    "eu": "emission_unit",
    "eu_other": "emission_unit",
    "manager": "park_manager",
    "operator": "platform_operator",
    "energy": "energy_manager",
    "bms": "integration",
    "erp": "emission_unit",
    "anonymous": None,
}
SERVICES = {"bms", "erp"}
ENTERPRISE = {"eu": "E04", "eu_other": "E01", "erp": "E04"}

#: Routes anyone may call: sign-in and the health check; collectors sign their batches.
PUBLIC = {
    f"GET {V1}/health",
    f"POST {V1}/auth/token",
    f"POST {V1}/auth/refresh",
    f"POST {V1}/auth/logout",
    f"POST {V1}/collectors/batches",
}


# Routes and their permissions ------------------------------------------------------------
def api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Yield ``(full path, route)`` of every APIRoute, through included routers."""
    for r in routes:
        if isinstance(r, APIRoute):
            yield prefix + r.path, r
        elif hasattr(r, "original_router"):  # FastAPI keeps included routers as branches
            inner = prefix + getattr(getattr(r, "include_context", None), "prefix", "")
            yield from api_routes(r.original_router.routes, inner)


def permissions_of(dependant: Any) -> set[str]:
    """Return the permissions the ``require(...)`` dependencies of a route ask for."""
    found = set()
    for d in dependant.dependencies:
        if getattr(d.call, "permission", None):
            found.add(d.call.permission)
        found |= permissions_of(d)
    return found


def route_table() -> dict[str, set[str]]:
    """Return ``"METHOD /path"`` → permissions of every route under /api/v1."""
    with Store.open("sqlite://") as store:
        app = create_app(store, PARK, auth=AuthSettings(secret="s" * 32))
        try:
            return {
                f"{method} {path}": permissions_of(route.dependant)
                for path, route in api_routes(app.routes)
                if path.startswith(V1 + "/")
                for method in sorted(route.methods)
            }
        finally:
            app.state.access_log.close()


ROUTES = route_table()


# Sample requests ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """A request: the URL with its ids, and a JSON body, form or query."""

    url: str
    json: Any = None
    data: dict[str, str] | None = None
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class Sample:
    """How to call one route.

    ``make(api, enterprise)`` builds the request; ``enterprise`` is the caller's own
    (``None`` for park-wide roles), so a scoped caller asks for its own records. An allowed
    write runs on a fresh app, after ``setup(api)`` prepared what it acts on, unless it is
    ``harmless`` to the others (then on the shared app, as every refused request).
    ``persons``: the route is for people, refused to service accounts.
    """

    make: Callable[[Any, str | None], Call]
    setup: Callable[[Any], None] | None = None
    persons: bool = False
    harmless: bool = False


def fixed(url: str, harmless: bool = False, **kw: Any) -> Sample:
    return Sample(lambda api, ent: Call(url, **kw), harmless=harmless)


def own(kind: str, ent: str | None) -> str:
    """The first record of ``kind`` of enterprise ``ent`` (an unknown id if it has none)."""
    for item in getattr(PARK, reg.KIND_LISTS[kind]):
        if kind == "zone" or ent is None or reg.record_enterprise(kind, item) == ent:
            return item.id
    return f"NONE-{ent}"


def record(kind: str, record_id: str) -> dict[str, Any]:
    for item in getattr(PARK, reg.KIND_LISTS[kind]):
        if item.id == record_id:
            return item.model_dump(mode="json")
    raise KeyError(record_id)


#: URL segment → (kind, a new record of it).
NEW = {
    "zones": ("zone", {**record("zone", "Z3"), "id": "Z9", "name": "New zone"}),
    "enterprises": (
        "enterprise",
        {**record("enterprise", "E04"), "id": "E11", "uscc": "91320911MA1XY23008"},
    ),
    "facilities": (
        "facility",
        {"id": "F04-NEW", "name": "New hall", "enterprise": "E04", "zone": "Z2"},
    ),
    "sources": ("source", {**record("source", "E04-DIESEL"), "id": "E04-DIESEL-2"}),
    "points": ("point", {**record("point", "P-E04-KW"), "id": "P-E04-NEW"}),
    "assets": ("asset", {**record("asset", "A-E04-COMP"), "id": "A-E04-NEW", "meters": {}}),
}


def as_manager(api: Any, method: str, url: str, **kw: Any) -> Any:
    resp = api.client.request(method, url, headers=api.as_("manager"), **kw)
    assert resp.status_code < 300, resp.text
    return resp


#: A record of each kind to PUT back unchanged.
EXISTING = {
    "zones": "Z2",
    "enterprises": "E04",
    "facilities": "F03-FAB",
    "sources": "E04-DIESEL",
    "points": "P-E04-KW",
    "assets": "A-E04-COMP",
}


def registry_samples() -> dict[str, Sample]:
    out = {}
    for seg, (kind, new) in NEW.items():
        base = f"{V1}/registry/{seg}"
        one = f"{base}/{{record_id}}"
        existing = f"{base}/{EXISTING[seg]}"

        def create(api: Any, url: str = base, body: dict = new) -> None:
            as_manager(api, "POST", url, json=body)

        def mine(api: Any, ent: str | None, url: str = base, k: str = kind) -> Call:
            return Call(f"{url}/{own(k, ent)}")

        def history(api: Any, ent: str | None, url: str = base, k: str = kind) -> Call:
            return Call(f"{url}/{own(k, ent)}/history")

        out[f"GET {base}"] = fixed(base, params={"as_of": dt.date.today().isoformat()})
        out[f"POST {base}"] = fixed(base, json=new)
        out[f"GET {one}"] = Sample(mine)
        out[f"GET {one}/history"] = Sample(history)
        out[f"PUT {one}"] = fixed(existing, json=record(kind, EXISTING[seg]))
        out[f"DELETE {one}"] = Sample(fixed(f"{base}/{new['id']}").make, setup=create)
    return out


def now_ms(minutes_ago: int = 30) -> int:
    ts = pd.Timestamp.now(tz="UTC").floor("15min") - pd.Timedelta(minutes=minutes_ago)
    return int(ts.value // 1_000_000)


def signed_batch() -> dict[str, Any]:
    buf = CollectorBuffer(":memory:", collector="gw-z2", key=b"k-gw-z2", capacity_readings=10)
    buf.put([{"point": "P-E04-ELEC", "ts": now_ms(), "value": 1000.0, "q": 0}])
    return buf.pending()[0].to_json()


def fresh_refresh_token(api: Any, ent: str | None) -> Call:
    resp = api.client.post(f"{V1}/auth/token", data={"username": "manager", "password": PASSWORD})
    return Call(f"{V1}/auth/refresh", json={"refresh_token": resp.json()["refresh_token"]})


def entry(ent: str | None) -> dict[str, Any]:
    ent = ent or "E04"
    source = next(s.id for s in PARK.sources if s.enterprise == ent and s.kind == "emission")
    return {
        "source": source,
        "start": "2025-03-01",
        "end": "2025-03-31",
        "quantity": 1,
        "unit": "t",
    }


def add_override(api: Any) -> None:
    reg.set_override(
        api.store, PARK, key="ncv:natural_gas", value=389.0, unit="GJ/wNm3", reason="meter"
    )


def quarantine_a_row(api: Any) -> None:
    bad = {**entry("E04"), "quantity": "-1"}
    resp = as_manager(api, "POST", f"{V1}/entries", json=[bad])
    assert resp.json()["quarantined"], resp.text


def raise_an_alarm(api: Any) -> None:
    api.store.raise_alarms(
        PARK.id,
        [
            {
                "point": "P-E04-PV",
                "enterprise": "E04",
                "kind": "spike",
                "severity": "warning",
                "message_en": "spike on P-E04-PV",
                "ts": dt.datetime.now(dt.UTC),
            }
        ],
    )


def deliver_a_setpoint(api: Any) -> None:
    control.issue_setpoints(
        api.store, PARK, [{"setpoint": "A-E04-LINE.rate_frac", "value": 0.5}], actor="energy"
    )
    api.store.deliver_setpoints(PARK.id, ["A-E04-LINE.rate_frac"], to="bms")


def first_inventory(api: Any) -> str:
    stored = api.store.inventories(PARK.id)
    return stored[0]["id"] if stored else "none"


def first_override(api: Any) -> str:
    held = api.store.overrides(PARK.id)
    return held[0].id if held else "none"


def first_id(rows: list[dict[str, Any]]) -> Any:
    return rows[0]["id"] if rows else 1


def add_strategy(api: Any, status: str = "proposed") -> None:
    """Store a small strategy of 2025-02-10 (and that day's history, to verify it)."""
    day = dt.date(2025, 2, 10)
    start = pd.Timestamp(day).tz_localize(PARK.timezone).tz_convert("UTC").to_pydatetime()
    s = api.store.add_strategy(
        PARK.id,
        {
            "mode": "dispatch",
            "start": start,
            "interval_s": 900,
            "steps": 96,
            "schedule": {"A-E03-BESS.power_kw": [0.0] * 96},
            "expected": {"day": day.isoformat(), "sites": [{"battery": "A-E03-BESS"}]},
            "reasons": {"en": ["rest"], "zh": ["静置"]},
            "solver": {"grid_factor_tco2_per_mwh": 0.5617},
        },
        actor="energy",
    )
    if status == "dispatched":
        simulate_to_store(api.store, PARK, day.isoformat(), 1, recent_days=0)
        api.store.move_strategy(s["id"], "accepted", actor="energy")
        api.store.move_strategy(s["id"], "dispatched", actor="energy", setpoints=[])


def a_stored_year(api: Any) -> None:
    """Twelve monthly inventories of 2025 (one simulated day in each month)."""
    for month in range(1, 13):
        simulate_to_store(api.store, PARK, f"2025-{month:02d}-10", 1, recent_days=0)
        as_manager(api, "POST", f"{V1}/inventories", json={"period": f"2025-{month:02d}"})


def history_for_a_strategy(api: Any) -> None:
    """Forty-two days of history before 2025-03-15, what a day-ahead proposal needs."""
    simulate_to_store(api.store, PARK, "2025-02-01", 42, recent_days=0)


def first_strategy(api: Any) -> Any:
    return first_id(api.store.strategies(PARK.id))


SAMPLES: dict[str, Sample] = {
    # system
    f"GET {V1}/health": fixed(f"{V1}/health"),
    f"GET {V1}/access/roles": fixed(f"{V1}/access/roles"),
    f"GET {V1}/audit": fixed(f"{V1}/audit", params={"actor": "manager", "limit": 5}),
    f"GET {V1}/audit/verify": fixed(f"{V1}/audit/verify"),
    # sign-in
    f"POST {V1}/auth/token": fixed(
        f"{V1}/auth/token", data={"username": "energy", "password": PASSWORD}, harmless=True
    ),
    f"POST {V1}/auth/refresh": Sample(fresh_refresh_token, harmless=True),
    f"POST {V1}/auth/logout": fixed(
        f"{V1}/auth/logout", json={"refresh_token": "0.none"}, harmless=True
    ),
    f"GET {V1}/auth/me": fixed(f"{V1}/auth/me"),
    f"POST {V1}/auth/password": Sample(
        lambda api, ent: Call(f"{V1}/auth/password", json={"current": PASSWORD, "new": PASSWORD}),
        persons=True,
    ),
    # users and keys
    f"GET {V1}/users": fixed(f"{V1}/users"),
    f"POST {V1}/users": fixed(
        f"{V1}/users",
        json={"username": "zhao.lei", "role": "energy_manager", "password": "Grid-Balance-77"},
    ),
    f"GET {V1}/users/{{username}}": fixed(f"{V1}/users/energy"),
    f"PATCH {V1}/users/{{username}}": fixed(
        f"{V1}/users/energy", json={"display_name": "Energy desk"}
    ),
    f"GET {V1}/users/{{username}}/api-keys": fixed(f"{V1}/users/bms/api-keys"),
    f"POST {V1}/users/{{username}}/api-keys": fixed(
        f"{V1}/users/bms/api-keys", json={"label": "spare", "days": 30}
    ),
    f"DELETE {V1}/api-keys/{{key_id}}": Sample(
        lambda api, ent: Call(f"{V1}/api-keys/{api.keys['bms'][4:].split('.')[0]}")
    ),
    # registry
    f"GET {V1}/park": fixed(f"{V1}/park"),
    **registry_samples(),
    # data
    f"GET {V1}/readings": Sample(
        lambda api, ent: Call(
            f"{V1}/readings",
            params={
                "point": next(p.id for p in PARK.points if p.enterprise == (ent or "E04")),
                "start": "2025-01-01T00:00:00Z",
                "end": "2025-01-02T00:00:00Z",
            },
        )
    ),
    f"POST {V1}/readings": fixed(
        f"{V1}/readings", json=[{"point": "P-E04-ELEC", "ts": now_ms(), "value": 5.0}]
    ),
    f"GET {V1}/entries": fixed(
        f"{V1}/entries", params={"start": "2025-01-01", "end": "2025-12-31"}
    ),
    f"POST {V1}/entries": Sample(lambda api, ent: Call(f"{V1}/entries", json=[entry(ent)])),
    f"POST {V1}/collectors/batches": Sample(
        lambda api, ent: Call(f"{V1}/collectors/batches", json=signed_batch())
    ),
    # factors
    f"GET {V1}/factors": fixed(f"{V1}/factors", params={"kind": "ncv"}),
    f"GET {V1}/factors/overrides": fixed(f"{V1}/factors/overrides"),
    f"POST {V1}/factors/overrides": fixed(
        f"{V1}/factors/overrides",
        json={"factor": "ncv:natural_gas", "value": 389.0, "unit": "GJ/wNm3", "reason": "lab"},
    ),
    f"POST {V1}/factors/overrides/{{override_id}}/revoke": Sample(
        lambda api, ent: Call(
            f"{V1}/factors/overrides/{first_override(api)}/revoke", json={"reason": "superseded"}
        ),
        setup=add_override,
    ),
    f"GET {V1}/factors/{{key}}": fixed(f"{V1}/factors/ncv:natural_gas"),
    # operations
    f"GET {V1}/twin/state": fixed(f"{V1}/twin/state"),
    f"GET {V1}/alarms": fixed(f"{V1}/alarms"),
    f"POST {V1}/alarms/{{alarm_id}}/{{action}}": Sample(
        lambda api, ent: Call(
            f"{V1}/alarms/{first_id(api.store.alarms(PARK.id))}/close", json={"note": "CT fixed"}
        ),
        setup=raise_an_alarm,
    ),
    f"GET {V1}/quarantine": fixed(f"{V1}/quarantine"),
    f"POST {V1}/quarantine/{{quarantine_id}}/release": Sample(
        lambda api, ent: Call(
            f"{V1}/quarantine/{first_id(api.store.quarantined(PARK.id))}/release"
        ),
        setup=quarantine_a_row,
    ),
    # forecasting
    f"GET {V1}/forecast": fixed(
        f"{V1}/forecast",
        params={"day": "2025-02-28", "model": "seasonal_naive", "history_days": 26},
    ),
    f"POST {V1}/targets/allocation": fixed(
        f"{V1}/targets/allocation", harmless=True, json={"year": 2026, "target": 2_000_000}
    ),
    # strategies
    f"GET {V1}/strategies": fixed(f"{V1}/strategies"),
    f"POST {V1}/strategies": Sample(
        lambda api, ent: Call(f"{V1}/strategies", json={"day": "2025-03-15"}),
        setup=history_for_a_strategy,
    ),
    f"GET {V1}/strategies/{{strategy_id}}": Sample(
        lambda api, ent: Call(f"{V1}/strategies/{first_strategy(api)}"), setup=add_strategy
    ),
    f"POST {V1}/strategies/{{strategy_id}}/{{decision}}": Sample(
        lambda api, ent: Call(
            f"{V1}/strategies/{first_strategy(api)}/reject", json={"comment": "not today"}
        ),
        setup=add_strategy,
    ),
    f"POST {V1}/strategies/{{strategy_id}}/verify": Sample(
        lambda api, ent: Call(f"{V1}/strategies/{first_strategy(api)}/verify"),
        setup=lambda api: add_strategy(api, "dispatched"),
    ),
    # scenarios and reduction decisions
    f"GET {V1}/scenarios": fixed(f"{V1}/scenarios"),
    f"POST {V1}/scenarios/run": fixed(f"{V1}/scenarios/run", harmless=True, json={"draws": 200}),
    f"GET {V1}/scenarios/decoupling": fixed(f"{V1}/scenarios/decoupling"),
    f"GET {V1}/scenarios/tracking": Sample(
        lambda api, ent: Call(f"{V1}/scenarios/tracking", params={"scenario": "policy"}),
        setup=a_stored_year,
    ),
    f"GET {V1}/reduction/macc": fixed(f"{V1}/reduction/macc"),
    f"POST {V1}/reduction/portfolio": fixed(
        f"{V1}/reduction/portfolio",
        harmless=True,
        json={"target_tco2e_per_yr": 100_000, "budget_cny": 3e8},
    ),
    # accounting
    f"GET {V1}/overview": fixed(f"{V1}/overview", params={"year": 2025}),
    f"GET {V1}/inventory": fixed(
        f"{V1}/inventory", params={"start": "2025-02-01", "end": "2025-02-28", "by": "scope"}
    ),
    f"GET {V1}/inventory/trace": fixed(f"{V1}/inventory/trace", params={"period": "2025-02"}),
    f"GET {V1}/inventories": fixed(f"{V1}/inventories"),
    f"POST {V1}/inventories": fixed(f"{V1}/inventories", json={"period": "2025-02"}, harmless=True),
    f"GET {V1}/inventories/{{inventory_id}}/lines": Sample(
        lambda api, ent: Call(f"{V1}/inventories/{first_inventory(api)}/lines")
    ),
    f"GET {V1}/integrity/verify": fixed(f"{V1}/integrity/verify"),
    # control
    f"GET {V1}/setpoints/controllable": fixed(f"{V1}/setpoints/controllable"),
    f"POST {V1}/setpoints": fixed(
        f"{V1}/setpoints", json=[{"setpoint": "A-E04-LINE.rate_frac", "value": 0.8}]
    ),
    f"GET {V1}/setpoints": fixed(f"{V1}/setpoints", params={"limit": 10}),
    f"GET {V1}/setpoints/pending": fixed(f"{V1}/setpoints/pending"),
    f"POST {V1}/setpoints/{{setpoint_id}}/ack": Sample(
        lambda api, ent: Call(
            f"{V1}/setpoints/{first_id(api.store.setpoints(PARK.id))}/ack",
            json={"applied": True, "readback": 0.5},
        ),
        setup=deliver_a_setpoint,
    ),
}


# The matrix ---------------------------------------------------------------------------------
def expectation(route: str, user: str) -> str:
    """``allowed``, ``denied`` (403 forbidden) or ``unauthenticated`` (401)."""
    role = USERS[user]
    if route in PUBLIC:
        return "allowed"
    if role is None:
        return "unauthenticated"
    if SAMPLES[route].persons and user in SERVICES:
        return "denied"
    return "allowed" if ROUTES[route] <= PERMISSIONS[role] else "denied"


CASES = [
    pytest.param(
        route, user, expectation(route, user), id=f"{route}-{user}-{expectation(route, user)}"
    )
    for route in ROUTES
    if route in SAMPLES
    for user in USERS
]


def test_every_route_has_a_sample():
    missing = sorted(set(ROUTES) - set(SAMPLES))
    assert not missing, f"add a sample request to SAMPLES for: {missing}"
    stale = sorted(set(SAMPLES) - set(ROUTES))
    assert not stale, f"SAMPLES names routes that do not exist: {stale}"


def test_every_route_needs_at_most_one_permission():
    many = {r: p for r, p in ROUTES.items() if len(p) > 1}
    assert not many


def test_every_private_route_is_guarded():
    # Routes without a permission are public or open to every signed-in caller: a new one
    # must be added here on purpose.
    open_routes = {r for r, p in ROUTES.items() if not p} - PUBLIC
    assert open_routes == {
        f"GET {V1}/access/roles",
        f"GET {V1}/auth/me",
        f"POST {V1}/auth/password",
    }


def call(api: Any, route: str, user: str) -> Any:
    method = route.split(" ", 1)[0]
    c = SAMPLES[route].make(api, ENTERPRISE.get(user))
    return api.client.request(
        method, c.url, json=c.json, data=c.data, params=c.params, headers=api.as_(user)
    )


@pytest.fixture(scope="module")
def shared(module_api):
    """The app refused requests share: with a month of history and its inventory."""
    simulate_to_store(module_api.store, PARK, "2025-02-01", 28, recent_days=0)
    resp = as_manager(module_api, "POST", f"{V1}/inventories", json={"period": "2025-02"})
    assert resp.status_code == 201
    return module_api


@pytest.mark.parametrize(("route", "user", "expected"), CASES)
def test_access(route, user, expected, shared, make_api):
    sample = SAMPLES[route]
    api = shared
    # Refused requests change nothing: they share one app. Allowed writes get their own.
    writes = not route.startswith("GET ") and not sample.harmless
    if expected == "allowed" and (writes or sample.setup):
        api = make_api()
        if sample.setup is not None:
            sample.setup(api)
    resp = call(api, route, user)
    body = resp.json() if resp.content else {}
    if expected == "unauthenticated":
        assert resp.status_code == 401, resp.text
        assert body["code"] == "not_authenticated"
        assert resp.headers["www-authenticate"] == "Bearer"
    elif expected == "denied":
        assert resp.status_code == 403, resp.text
        assert body["code"] == "forbidden" and body["message"]
    else:
        assert resp.status_code not in (401, 403), resp.text
        assert resp.status_code < 400 or resp.status_code == 404, resp.text
