"""The dashboard in a real browser: sign in as each role, see the overview, drill down,
enter a bad row and read its reason, and an emission unit never sees another enterprise.

Screenshots of each page land in ``tests/dashboard/screenshots/`` (look at them).
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from carbontwin.dashboard import Dashboard, dashboard
from carbontwin.dashboard.labels import fmt
from carbontwin.runtime import integrity
from carbontwin.runtime import simulate as sim
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.auth import Authenticator, AuthSettings, fast_hasher
from carbontwin.runtime.live_account import today_so_far
from carbontwin.store import Store
from tests.dashboard.conftest import panel_server, serving, shot

PARK = resolve_park("demo")
PASSWORD = "Carbon-Peak-2030"
USERS = {
    "manager": ("park_manager", None),
    "energy": ("energy_manager", None),
    "operator": ("platform_operator", None),
    "e04": ("emission_unit", "E04"),
}
OTHER_ENTERPRISES = sorted({e.id for e in PARK.enterprises} - {"E04"})

#: The dashboard's clock in these tests: local noon of today, moving in real time, so a
#: run just after the park's midnight still has room for two quarter-hours "today".
_STARTED = pd.Timestamp.now(tz="UTC")
_NOON = pd.Timestamp.now(tz=PARK.timezone).normalize() + pd.Timedelta(hours=12)


def clock() -> pd.Timestamp:
    return (_NOON + (pd.Timestamp.now(tz="UTC") - _STARTED)).tz_convert("UTC")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'ct.db'}")
    sim.simulate_to_store(store, PARK, "2025-01-01", 2)
    integrity.save_inventory(store, PARK, "2025-01", actor="test")
    auth = Authenticator(store, AuthSettings(secret="e" * 40, hasher=fast_hasher()))
    for name, (role, ent) in USERS.items():
        auth.add_user(name, role, password=PASSWORD, actor="t", park_id=PARK.id, enterprise=ent)
    board = Dashboard(store, PARK, auth, clock=clock)
    with serving(panel_server(dashboard(board))) as address:
        yield address, store
    store.close()


@pytest.fixture
def url(served):
    return served[0]


def sign_in(page, url, user, password=PASSWORD):
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if password == PASSWORD:
        expect(page.get_by_text(f"Signed in as {user}")).to_be_visible(timeout=15_000)


def test_a_wrong_password_is_refused_with_its_reason(page, url):
    from playwright.sync_api import expect

    sign_in(page, url, "manager", "Not-The-Password-1")
    expect(page.get_by_text("user name or password is wrong")).to_be_visible(timeout=10_000)
    shot(page, "login-refused")


def test_a_park_manager_sees_the_park_and_drills_down_to_a_factor(page, url):
    from playwright.sync_api import expect

    sign_in(page, url, "manager")
    expect(page.get_by_text("Enterprise ranking")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("E02").first).to_be_visible()
    shot(page, "overview-park-manager")
    page.get_by_role("button", name="Accounting and analysis").click()
    expect(page.get_by_text("Drill-down: activity and factors")).to_be_visible(timeout=15_000)
    # The drill-down of the first enterprise names each factor as key@set:version=value.
    shot(page, "accounting-drill-down")
    expect(page.get_by_text(re.compile(r"\w+:[\w.-]+@[\w-]+:")).first).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Live twin").click()
    expect(page.get_by_text("Points: value, age and quality")).to_be_visible(timeout=15_000)
    shot(page, "live-twin")


def test_an_emission_unit_sees_only_its_enterprise_and_reads_a_bad_rows_reason(page, url):
    from playwright.sync_api import expect

    sign_in(page, url, "e04")
    expect(page.get_by_text("Enterprise ranking")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("E04").first).to_be_visible()
    body = page.locator("body").inner_text()
    assert not [e for e in OTHER_ENTERPRISES if e in body], "another enterprise is shown"
    shot(page, "overview-emission-unit")
    page.get_by_role("button", name="Accounting and analysis").click()
    expect(page.get_by_text("Drill-down: activity and factors")).to_be_visible(timeout=15_000)
    body = page.locator("body").inner_text()
    assert not [e for e in OTHER_ENTERPRISES if e in body]
    page.get_by_role("button", name="Data entry").click()
    expect(page.get_by_text("Enter activity data")).to_be_visible(timeout=15_000)
    page.get_by_label("Quantity").fill("-3")
    page.get_by_label("Unit").fill("kWh")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Quarantined:")).to_be_visible(timeout=15_000)
    shot(page, "data-entry-refused")
    assert "is negative" in page.get_by_text("Quarantined:").inner_text()


def test_a_platform_operator_is_refused_the_business_pages(page, url):
    from playwright.sync_api import expect

    sign_in(page, url, "operator")
    expect(page.get_by_text("Your role may not see this page.")).to_be_visible(timeout=15_000)
    shot(page, "operator-refused")


def test_the_language_switch_shows_chinese_labels(page, url):
    from playwright.sync_api import expect

    sign_in(page, url, "energy")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_text("企业排名")).to_be_visible(timeout=15_000)
    shot(page, "overview-zh")


def test_the_overview_updates_as_new_readings_arrive(page, served):
    from playwright.sync_api import expect

    url, store = served
    sign_in(page, url, "manager")
    live = page.locator(".kpi-live")
    expect(page.get_by_text("Today so far (metered sources)")).to_be_visible(timeout=15_000)
    expect(page.get_by_text(re.compile(r"No readings yet on"))).to_be_visible()
    expect(live).to_contain_text("0.0")
    # A meter of E03 reports two register readings today: 600 kWh in the first quarter.
    now = clock().floor("s")
    first = now - pd.Timedelta(minutes=30)
    rows = [
        ("P-E03-ELEC", first, 1_000.0),
        ("P-E03-ELEC", first + pd.Timedelta(minutes=15), 1_600.0),
    ]
    store.insert_readings([(p, int(ts.value // 1_000_000), v, 0) for p, ts, v in rows])
    expect(page.get_by_text(re.compile(r"Readings up to .* \(2 today\)"))).to_be_visible(
        timeout=20_000
    )
    # The figure shown is the runtime's account of the day (E03's 600 kWh of grid power).
    today = today_so_far(store, PARK, clock()).total()
    assert today > 0
    expect(live).to_contain_text(fmt(today, "en", digits=1), timeout=10_000)
    shot(page, "overview-live")
