"""An emission unit never sees another enterprise's data, through any endpoint or filter.

The store is seeded with data of E04 (the emission unit's own enterprise) and of E01 —
entries, readings, quarantined rows of both, factor overrides, setpoints — so that a leak
would show. Every GET route is then called as the emission unit (a person ``eu`` and the
API key of ``erp``, both of E04), once with its own ids and once with filters naming
E01's records; each answer is refused (403/404) or names no id of another enterprise.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd
import pytest

from carbontwin.api import create_app
from carbontwin.connectors.collector import CollectorBuffer
from carbontwin.runtime import registry as reg
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.auth import AuthSettings
from carbontwin.runtime.simulate import simulate_to_store
from carbontwin.store import Store

PARK = resolve_park("demo")
V1 = "/api/v1"
OWN, OTHER = "E04", "E01"
SCOPED = ["eu", "erp"]


def foreign_ids() -> set[str]:
    """Ids of every enterprise but E04 and of their facilities, sources, points, assets."""
    ids = {e.id for e in PARK.enterprises if e.id != OWN}
    for kind in ("facility", "source", "point", "asset"):
        for item in getattr(PARK, reg.KIND_LISTS[kind]):
            if reg.record_enterprise(kind, item) != OWN:
                ids.add(item.id)
    return ids


FOREIGN = foreign_ids()
LEAK = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(i) for i in sorted(FOREIGN, key=len, reverse=True))
    + r")(?![\w-])"
)


def leaked(text: str) -> list[str]:
    """Ids of other enterprises named in a response body."""
    return sorted(set(LEAK.findall(text)))


def test_the_leak_search_finds_ids_and_only_them():
    assert leaked('{"source":"E01-CHP-COAL","own":"E04-DIESEL"}') == ["E01-CHP-COAL"]
    assert leaked('{"enterprise":"E01","text":"E10 and P-E10-KW."}') == ["E01", "E10", "P-E10-KW"]
    assert leaked('{"point":"P-E04-ELEC","asset":"A-E04-GRID","zone":"Z1"}') == []


# The GET routes and values for their parameters ------------------------------------------
def get_routes() -> dict[str, list[dict[str, Any]]]:
    """Return path → OpenAPI parameters of every GET route under /api/v1."""
    with Store.open("sqlite://") as store:
        app = create_app(store, PARK, auth=AuthSettings(secret="s" * 32))
        try:
            paths = app.openapi()["paths"]
        finally:
            app.state.access_log.close()
    return {
        path: ops["get"].get("parameters", [])
        for path, ops in paths.items()
        if path.startswith(V1 + "/") and "get" in ops
    }


GET_ROUTES = get_routes()
TODAY = dt.date.today()

#: Registry segment → (a record of E04, a record of E01); E04 has no facility.
RECORDS = {
    "zones": ("Z2", "Z1"),
    "enterprises": (OWN, OTHER),
    "facilities": ("NONE", "F01-CHP"),
    "sources": ("E04-DIESEL", "E01-CHP-COAL"),
    "points": ("P-E04-ELEC", "P-E01-CHP-GEN"),
    "assets": ("A-E04-GRID", "A-E01-CHP"),
}


def first_inventory(api: Any) -> str:
    """The id of the stored inventory (it holds every enterprise's lines)."""
    return api.store.inventories(PARK.id)[0]["id"]


#: Parameter → (value naming E04's records, value naming E01's), a value or a function of
#: the app. Filters (optional parameters) are sent only in the second call; required ones
#: in both.
VALUES: dict[str, tuple[Any, Any]] = {
    "enterprise": ([OWN], [OTHER]),
    "source": (["E04-DIESEL"], ["E01-CHP-COAL"]),
    "point": ("P-E04-ELEC", "P-E01-CHP-GEN"),
    "username": ("eu", "eu_other"),
    "key": ("ncv:natural_gas", "ncv:natural_gas"),
    "include_revoked": (True, True),
    "include_released": (True, True),
    "actor": ("eu", "eu_other"),
    "year": (2025, 2025),
    "period": ("2025-02", "2025-02"),
    "day": ("2025-02-28", "2025-02-28"),
    "inventory_id": (first_inventory, first_inventory),
    "strategy_id": (1, 1),
}
#: Per path: values of parameters whose meaning depends on the route.
DATES = {
    f"{V1}/readings": (
        (TODAY - dt.timedelta(days=2)).isoformat() + "T00:00:00Z",
        (TODAY + dt.timedelta(days=1)).isoformat() + "T00:00:00Z",
    ),
    f"{V1}/entries": ("2025-01-01", "2025-12-31"),
    f"{V1}/inventory": ("2025-02-01", "2025-02-28"),
}


def request_for(api: Any, path: str, params: list[dict[str, Any]], other: bool) -> tuple[str, dict]:
    """Return the URL and query of ``path`` naming E04's records, or E01's (``other``)."""
    url, query = path, {}
    for p in params:
        name, where, required = p["name"], p["in"], p.get("required", False)
        if name == "record_id":
            seg = path.split("/")[4]
            value = RECORDS[seg][other]
        elif name in ("start", "end") and path in DATES:
            value = DATES[path][name == "end"]
        elif name in VALUES:
            value = VALUES[name][other]
        elif required:
            pytest.fail(f"add a value of parameter {name!r} of GET {path} to VALUES")
        else:
            continue  # an option that names no record (limit, lang, as_of, ...)
        if callable(value):
            value = value(api)
        if where == "path":
            url = url.replace("{" + name + "}", str(value))
        elif required or other:
            query[name] = value
    return url, query


# Seeding ------------------------------------------------------------------------------------
def now_ms(minutes_ago: int) -> int:
    ts = pd.Timestamp.now(tz="UTC").floor("15min") - pd.Timedelta(minutes=minutes_ago)
    return int(ts.value // 1_000_000)


def entry(source: str, quantity: Any, month: int = 3, unit: str = "t") -> dict[str, Any]:
    return {
        "source": source,
        "start": f"2025-{month:02d}-01",
        "end": f"2025-{month:02d}-28",
        "quantity": quantity,
        "unit": unit,
        "ref": f"ledger {source}",
    }


def seed(api: Any) -> None:
    """Store data of E04 and E01, good and quarantined, through the API."""
    c = api.client
    # A month of the park's history and its stored inventory: every enterprise is in it.
    simulate_to_store(api.store, PARK, "2025-02-01", 28, recent_days=0)
    run = c.post(f"{V1}/inventories", json={"period": "2025-02"}, headers=api.as_("manager"))
    assert run.status_code == 201, run.text
    ok = c.post(
        f"{V1}/entries",
        json=[
            entry("E04-DIESEL", 12),
            entry("E01-CHP-COAL", 5000),
            entry("E01-NG-REFORMER", 40, unit="wNm3"),
            entry("E04-DIESEL", "-1", month=4),  # quarantined: negative
            entry("E01-CHP-COAL", "-1", month=4),
        ],
        headers=api.as_("manager"),
    )
    assert ok.status_code == 200 and ok.json()["summary"]["quarantined"] == 2, ok.text
    points = ["P-E04-ELEC", "P-E04-KW", "P-E01-CHP-GEN", "P-E01-CHP-KW"]
    rows = [
        {"point": p, "ts": now_ms(15 * k), "value": 100.0 + 10 * (4 - k)}
        for p in points
        for k in range(4, 0, -1)
    ]
    # Points that went silent two hours ago: each enterprise has an alarm.
    rows += [{"point": p, "ts": now_ms(120), "value": 7.0} for p in ("P-E04-PV", "P-E01-MEOH-NG")]
    future = now_ms(-3 * 24 * 60)
    rows += [{"point": p, "ts": future, "value": 1.0} for p in ("P-E04-ELEC", "P-E01-CHP-GEN")]
    pushed = c.post(f"{V1}/readings", json=rows, headers=api.as_("bms"))
    assert pushed.status_code == 200 and pushed.json()["quarantined"] == 2, pushed.text
    # A tampered collector batch (quarantined whole, no enterprise of its own).
    buf = CollectorBuffer(":memory:", collector="gw-z2", key=b"k-gw-z2", capacity_readings=10)
    buf.put([{"point": "P-E01-CHP-GEN", "ts": now_ms(60), "value": 5.0, "q": 0}])
    doc = buf.pending()[0].to_json()
    doc["readings"][0]["value"] = 6.0
    assert c.post(f"{V1}/collectors/batches", json=doc).status_code == 401
    for applies_to, target in [
        ("park", ""),
        ("enterprise", OWN),
        ("enterprise", OTHER),
        ("source", "E04-DIESEL"),
        ("source", "E01-CHP-COAL"),
    ]:
        body = {
            "factor": "ncv:natural_gas",
            "value": 389.0,
            "unit": "GJ/wNm3",
            "reason": f"lab test {target or 'park'}",
            "applies_to": applies_to,
            "target": target,
        }
        resp = c.post(f"{V1}/factors/overrides", json=body, headers=api.as_("manager"))
        assert resp.status_code == 201, resp.text
    commands = [
        {"setpoint": "A-E04-LINE.rate_frac", "value": 0.9},
        {"setpoint": "A-E01-MEOH.rate_frac", "value": 0.8},
    ]
    assert c.post(f"{V1}/setpoints", json=commands, headers=api.as_("energy")).status_code == 201


@pytest.fixture(scope="module")
def seeded(module_api):
    seed(module_api)
    return module_api


# The tests ----------------------------------------------------------------------------------
def test_the_seed_holds_data_of_both_enterprises(seeded):
    """Leaks would show: the park-wide view has E01's data in every seeded area."""
    m = seeded.as_("manager")
    c = seeded.client
    year = {"start": "2025-01-01", "end": "2025-12-31"}
    for url, params in [
        (f"{V1}/overview", {"year": 2025}),
        (f"{V1}/inventory", {"start": "2025-02-01", "end": "2025-02-28"}),
        (f"{V1}/inventory/trace", {"period": "2025-02"}),
        (f"{V1}/inventories/{first_inventory(seeded)}/lines", {}),
        (f"{V1}/entries", year),
        (f"{V1}/quarantine", {}),
        (f"{V1}/factors/overrides", {}),
        (f"{V1}/twin/state", {}),
        (f"{V1}/alarms", {}),
        (
            f"{V1}/readings",
            {
                "point": "P-E01-CHP-GEN",
                "start": DATES[f"{V1}/readings"][0],
                "end": DATES[f"{V1}/readings"][1],
            },
        ),
    ]:
        resp = c.get(url, params=params, headers=m)
        assert resp.status_code == 200, resp.text
        assert "E01" in resp.text, url


@pytest.mark.parametrize("user", SCOPED)
def test_the_emission_unit_sees_its_own_data(seeded, user):
    c, h = seeded.client, seeded.as_(user)
    entries = c.get(f"{V1}/entries", params={"start": "2025-01-01", "end": "2025-12-31"}, headers=h)
    assert [(e["source"], e["enterprise"]) for e in entries.json()] == [("E04-DIESEL", OWN)]
    held = c.get(f"{V1}/quarantine", headers=h).json()
    assert {q["enterprise"] for q in held} == {OWN} and len(held) == 2
    overrides = c.get(f"{V1}/factors/overrides", headers=h).json()
    assert sorted((o["applies_to"], o["target"]) for o in overrides) == [
        ("enterprise", OWN),
        ("park", ""),
        ("source", "E04-DIESEL"),
    ]
    points = c.get(f"{V1}/twin/state", headers=h).json()["points"]
    assert points and {p["enterprise"] for p in points} == {OWN}
    assert [a["point"] for a in c.get(f"{V1}/alarms", headers=h).json()] == ["P-E04-PV"]
    start, end = DATES[f"{V1}/readings"]
    readings = c.get(
        f"{V1}/readings", params={"point": "P-E04-ELEC", "start": start, "end": end}, headers=h
    )
    assert len(readings.json()["value"]) == 4
    overview = c.get(f"{V1}/overview", params={"year": 2025}, headers=h).json()
    assert [r["enterprise"] for r in overview["ranking"]] == [OWN]
    assert overview["total_tco2e"] == pytest.approx(overview["ranking"][0]["tco2e"], rel=1e-9)
    trace = c.get(f"{V1}/inventory/trace", params={"period": "2025-02"}, headers=h).json()
    assert trace and {r["enterprise"] for r in trace} == {OWN}
    lines = c.get(f"{V1}/inventories/{first_inventory(seeded)}/lines", headers=h).json()
    assert lines and {r["enterprise"] for r in lines} == {OWN}
    sources = c.get(f"{V1}/registry/sources", headers=h).json()
    assert sources and {s["enterprise"] for s in sources} == {OWN}
    assert [e["id"] for e in c.get(f"{V1}/registry/enterprises", headers=h).json()] == [OWN]


CASES = [
    pytest.param(path, user, other, id=f"GET {path}-{user}-{'E01' if other else 'own'}")
    for path in GET_ROUTES
    for user in SCOPED
    for other in (False, True)
]


@pytest.mark.parametrize(("path", "user", "other"), CASES)
def test_no_endpoint_shows_another_enterprise(seeded, path, user, other):
    url, query = request_for(seeded, path, GET_ROUTES[path], other)
    resp = seeded.client.get(url, params=query, headers=seeded.as_(user))
    if resp.status_code in (403, 404):
        assert resp.json()["code"] in ("forbidden", "out_of_scope", "not_found"), resp.text
        return
    assert resp.status_code == 200, f"{url} {query}: {resp.text}"
    found = leaked(resp.text)
    assert not found, f"{url} {query} shows {found} to {user} of {OWN}"


@pytest.mark.parametrize("user", SCOPED)
@pytest.mark.parametrize(
    "query",
    [
        {"enterprise": OTHER},
        {"enterprise": [OWN, OTHER]},
        {"source": "E01-CHP-COAL"},
        {"enterprise": OWN, "source": "E01-CHP-COAL"},
        {"source": ["E04-DIESEL", "E01-CHP-COAL"]},
        {"source": "NO-SUCH-SOURCE"},
    ],
    ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()),
)
def test_entry_filters_naming_other_enterprises_are_refused(seeded, user, query):
    params = {"start": "2025-01-01", "end": "2025-12-31", **query}
    resp = seeded.client.get(f"{V1}/entries", params=params, headers=seeded.as_(user))
    assert resp.status_code == 403, resp.text
    assert resp.json()["code"] == "out_of_scope"


@pytest.mark.parametrize("user", SCOPED)
@pytest.mark.parametrize(
    "by", ["total", "month", "enterprise", "zone", "industry", "scope", "category", "gas"]
)
def test_inventories_in_every_grouping_hold_only_the_own_enterprise(seeded, user, by):
    params = {"start": "2025-02-01", "end": "2025-02-28", "by": by}
    resp = seeded.client.get(f"{V1}/inventory", params=params, headers=seeded.as_(user))
    assert resp.status_code == 200, resp.text
    assert resp.json()["rows"] and not leaked(resp.text)
    own = seeded.client.get(
        f"{V1}/inventory", params={**params, "by": "enterprise"}, headers=seeded.as_(user)
    ).json()
    assert resp.json()["tco2e"] == pytest.approx(own["tco2e"], rel=1e-9)  # same rows summed


@pytest.mark.parametrize("user", SCOPED)
@pytest.mark.parametrize(
    "query",
    [
        {"enterprise": OTHER},
        {"source": "E01-CHP-COAL"},
        {"enterprise": OWN, "source": "E01-CHP-COAL"},
    ],
    ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()),
)
def test_trace_filters_naming_other_enterprises_are_refused(seeded, user, query):
    params = {"period": "2025-02", **query}
    resp = seeded.client.get(f"{V1}/inventory/trace", params=params, headers=seeded.as_(user))
    assert resp.status_code == 403 and resp.json()["code"] == "out_of_scope", resp.text


@pytest.mark.parametrize("user", SCOPED)
@pytest.mark.parametrize("point", ["P-E01-CHP-GEN", "P-WX-TEMP"])
def test_readings_of_another_enterprise_are_refused(seeded, user, point):
    start, end = DATES[f"{V1}/readings"]
    params = {"point": point, "start": start, "end": end, "series": "15min"}
    resp = seeded.client.get(f"{V1}/readings", params=params, headers=seeded.as_(user))
    assert resp.status_code == 403 and resp.json()["code"] == "out_of_scope", resp.text


@pytest.mark.parametrize("user", SCOPED)
@pytest.mark.parametrize("seg", ["enterprises", "facilities", "sources", "points", "assets"])
def test_registry_records_of_another_enterprise_are_refused(seeded, user, seg):
    other = RECORDS[seg][1]
    for url in (f"{V1}/registry/{seg}/{other}", f"{V1}/registry/{seg}/{other}/history"):
        resp = seeded.client.get(url, headers=seeded.as_(user))
        assert resp.status_code == 403, resp.text
        assert resp.json()["code"] == "out_of_scope"
    past = (TODAY - dt.timedelta(days=1)).isoformat()
    listed = seeded.client.get(
        f"{V1}/registry/{seg}", params={"as_of": past}, headers=seeded.as_(user)
    )
    assert listed.status_code == 200 and not leaked(listed.text)


@pytest.mark.parametrize("user", SCOPED)
@pytest.mark.parametrize(
    "rows",
    [
        [entry("E01-CHP-COAL", 10, month=6)],
        [entry("E04-DIESEL", 10, month=6), entry("E01-CHP-COAL", 10, month=6)],
    ],
    ids=["other", "own-then-other"],
)
def test_entering_data_for_another_enterprise_is_refused_whole(seeded, user, rows):
    store = seeded.store
    before = store.entries(PARK.id, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    held = store.quarantined(PARK.id)
    resp = seeded.client.post(f"{V1}/entries", json=rows, headers=seeded.as_(user))
    assert resp.status_code == 403, resp.text
    body = resp.json()
    assert body["code"] == "out_of_scope"
    assert f"row {len(rows)}" in body["message"] and "nothing was stored" in body["message"]
    assert store.entries(PARK.id, dt.date(2025, 1, 1), dt.date(2025, 12, 31)) == before
    assert store.quarantined(PARK.id) == held


def test_the_emission_unit_enters_its_own_data(make_api):
    api = make_api()
    for month, user in enumerate(SCOPED, start=7):
        resp = api.client.post(
            f"{V1}/entries", json=[entry("E04-DIESEL", 3, month=month)], headers=api.as_(user)
        )
        assert resp.status_code == 200 and len(resp.json()["landed"]) == 1, resp.text
    entries = api.store.entries(PARK.id, dt.date(2025, 7, 1), dt.date(2025, 8, 31))
    assert sorted(e.entered_by for e in entries) == sorted(SCOPED)


def test_a_user_of_another_park_is_refused(api):
    api.app.state.context.auth.add_user(
        "visitor", "park_manager", password="Other-Park-2031", actor="setup", park_id="elsewhere"
    )
    token = api.client.post(
        f"{V1}/auth/token", data={"username": "visitor", "password": "Other-Park-2031"}
    ).json()["access_token"]
    resp = api.client.get(f"{V1}/registry/sources", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403 and resp.json()["code"] == "out_of_scope"
    assert "elsewhere" in resp.json()["message"]


def test_stored_alarms_are_listed_handled_and_scoped(make_api):
    api = make_api()
    c = api.client
    now = dt.datetime.now(dt.UTC)
    api.store.raise_alarms(
        PARK.id,
        [
            {
                "point": "P-E04-PV",
                "enterprise": OWN,
                "kind": "spike",
                "severity": "warning",
                "message_en": "spike on P-E04-PV",
                "message_zh": "P-E04-PV 尖峰",
                "ts": now,
            },
            {
                "point": "P-E01-CHP-COAL",
                "enterprise": OTHER,
                "kind": "stuck",
                "severity": "critical",
                "message_en": "stuck",
                "ts": now,
            },
        ],
    )

    def stored(user, **params):
        answer = c.get(f"{V1}/alarms", params=params, headers=api.as_(user)).json()
        return {a["point"]: a for a in answer if a["id"] is not None}

    assert set(stored("manager")) == {"P-E04-PV", "P-E01-CHP-COAL"}
    assert set(stored("eu")) == {"P-E04-PV"}
    assert stored("eu")["P-E04-PV"]["message"] == {"en": "spike on P-E04-PV", "zh": "P-E04-PV 尖峰"}
    other = stored("manager")["P-E01-CHP-COAL"]["id"]
    h = api.as_("energy")
    r = c.post(f"{V1}/alarms/{other}/close", json={"note": ""}, headers=h)
    assert r.status_code == 422 and "needs a note" in r.json()["message"]
    r = c.post(f"{V1}/alarms/{other}/acknowledge", json={}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    r = c.post(f"{V1}/alarms/{other}/close", json={"note": "valve freed"}, headers=h)
    assert (r.json()["status"], r.json()["closed_by"]) == ("closed", "energy")
    assert c.post(f"{V1}/alarms/{other}/close", json={"note": "x"}, headers=h).status_code == 409
    assert set(stored("energy")) == {"P-E04-PV"}
    assert set(stored("energy", closed=True)) == {"P-E04-PV", "P-E01-CHP-COAL"}
