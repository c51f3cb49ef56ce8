"""The Park page in a real browser: a park manager creates an enterprise through the form
and sees it in the table (screenshot ``screenshots/park-page.png``)."""

from __future__ import annotations

import pytest

from carbontwin.dashboard import Dashboard, dashboard
from carbontwin.runtime import integrity
from carbontwin.runtime import simulate as sim
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.auth import Authenticator, AuthSettings, fast_hasher
from carbontwin.runtime.registry import register_park
from carbontwin.store import Store
from tests.dashboard.conftest import panel_server, serving, shot

PARK = resolve_park("demo")
PASSWORD = "Carbon-Peak-2030"
#: A valid unified social credit code (GB 32100-2015 check character).
NEW_USCC = "91320911MA7Q2W3E4E"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('park-e2e') / 'ct.db'}")
    register_park(store, PARK, "test")
    sim.simulate_to_store(store, PARK, "2025-01-01", 1)
    integrity.save_inventory(store, PARK, "2025-01", actor="test")
    auth = Authenticator(store, AuthSettings(secret="k" * 40, hasher=fast_hasher()))
    auth.add_user("manager", "park_manager", password=PASSWORD, actor="t", park_id=PARK.id)
    board = Dashboard(store, PARK, auth)
    with serving(panel_server(dashboard(board))) as address:
        yield address, board
    store.close()


def sign_in(page, url, user, password=PASSWORD):
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {user}")).to_be_visible(timeout=15_000)


def test_a_park_manager_creates_an_enterprise_and_sees_it_in_the_table(page, served):
    from playwright.sync_api import expect

    url, board = served
    sign_in(page, url, "manager")
    page.get_by_role("button", name="Park", exact=True).click()
    expect(page.get_by_text("Basic information")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("Binhai Methanol Co.").first).to_be_visible()
    page.get_by_label("Enterprise id").fill("E11")
    page.get_by_label("Name (English)").fill("Haibin Glass Co.")
    page.get_by_label("Name (Chinese)").fill("海滨玻璃有限公司")
    page.get_by_label("Unified social credit code").fill(NEW_USCC)
    industry = page.get_by_label("Industry code (GB/T 4754)")
    industry.fill("C3041")
    industry.press("Enter")
    page.get_by_label("Zone", exact=True).select_option(label="Z2 — New materials zone")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enterprise E11 created", exact=True)).to_be_visible(timeout=15_000)
    expect(page.get_by_text("Haibin Glass Co.", exact=True).first).to_be_visible()
    expect(page.get_by_text("History of E11")).to_be_visible()
    shot(page, "park-page")
    e = board.park.enterprise("E11")
    assert (e.name, e.name_zh, e.zone, e.industry) == (
        "Haibin Glass Co.",
        "海滨玻璃有限公司",
        "Z2",
        "C3041",
    )
    assert len(board.store.history(PARK.id, "enterprise", "E11")) == 1
