"""The strategies and scenarios pages in a real browser: an energy manager proposes a day's
battery schedule, reviews it as charts and accepts it; a park manager compares the
scenarios and chooses reduction measures (screenshots ``strategies-*``, ``scenarios-*``)."""

from __future__ import annotations

import pandas as pd
import pytest

from carbontwin.dashboard import Dashboard, dashboard
from carbontwin.runtime import simulate as sim
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.auth import Authenticator, AuthSettings, fast_hasher
from carbontwin.store import Store
from tests.dashboard.conftest import panel_server, serving, shot

PARK = resolve_park("demo")
PASSWORD = "Carbon-Peak-2030"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('plan-e2e') / 'ct.db'}")
    sim.simulate_to_store(store, PARK, "2025-02-01", 43, recent_days=0)
    auth = Authenticator(store, AuthSettings(secret="p" * 40, hasher=fast_hasher()))
    auth.add_user("energy", "energy_manager", password=PASSWORD, actor="t", park_id=PARK.id)
    auth.add_user("manager", "park_manager", password=PASSWORD, actor="t", park_id=PARK.id)
    noon = pd.Timestamp("2025-03-15 12:00", tz=PARK.timezone).tz_convert("UTC")
    board = Dashboard(store, PARK, auth, clock=lambda: noon)
    with serving(panel_server(dashboard(board))) as address:
        yield address, board
    store.close()


def sign_in(page, url, user):
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {user}")).to_be_visible(timeout=15_000)


def test_an_energy_manager_reviews_the_plan_as_charts_and_accepts_it(page, served):
    from playwright.sync_api import expect

    url, board = served
    sign_in(page, url, "energy")
    page.get_by_role("button", name="Control strategies").click()
    expect(page.get_by_role("button", name="Propose a strategy")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Propose a strategy").click()
    expect(page.get_by_text("Strategy 1 proposed.")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Expected against the baseline")).to_be_visible()
    expect(page.get_by_text("A-E03-BESS: charge").first).to_be_visible()
    page.locator("canvas").first.wait_for(timeout=15_000)
    shot(page, "strategies-proposed")
    page.get_by_text("Battery schedule and the site's load forecast").scroll_into_view_if_needed()
    shot(page, "strategies-chart")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("Strategy 1 is now accepted.")).to_be_visible(timeout=15_000)
    shot(page, "strategies-accepted")
    assert board.store.strategy(1)["decided_by"] == "energy"


def test_a_park_manager_compares_scenarios_and_chooses_measures(page, served):
    from playwright.sync_api import expect

    url, _ = served
    sign_in(page, url, "manager")
    page.get_by_role("button", name="Scenarios").click()
    expect(page.get_by_text("Peak year and value")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("What moves the peak")).to_be_visible()
    page.locator("canvas").first.wait_for(timeout=15_000)
    shot(page, "scenarios-compared")
    page.get_by_role("button", name="Choose measures").click()
    expect(page.get_by_role("heading", name="Chosen measures")).to_be_visible(timeout=30_000)
    shot(page, "scenarios-portfolio")
    # A park manager proposes strategies but does not decide on them.
    page.get_by_role("button", name="Control strategies").click()
    expect(page.get_by_role("button", name="Propose a strategy")).to_be_visible(timeout=15_000)
    assert page.get_by_role("button", name="Accept").count() == 0
