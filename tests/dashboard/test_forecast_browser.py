"""The forecast page in a real browser: an energy manager sees the day-ahead band against
the actuals and the peak (screenshot ``screenshots/forecast.png``); a stored alarm is listed
on the live twin page (screenshot ``screenshots/twin-alarms.png``)."""

from __future__ import annotations

import datetime as dt

import pytest

from carbontwin.dashboard import Dashboard, dashboard
from carbontwin.runtime import integrity
from carbontwin.runtime import simulate as sim
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.auth import Authenticator, AuthSettings, fast_hasher
from carbontwin.store import Store
from tests.dashboard.conftest import panel_server, serving, shot

PARK = resolve_park("demo")
PASSWORD = "Carbon-Peak-2030"


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('fc-e2e') / 'ct.db'}")
    sim.simulate_to_store(store, PARK, "2025-03-01", 61, recent_days=0)
    integrity.save_inventory(store, PARK, "2025-04", actor="test")
    store.raise_alarms(
        PARK.id,
        [
            {
                "point": "P-E03-ELEC",
                "enterprise": "E03",
                "kind": "stuck",
                "severity": "critical",
                "message_en": "P-E03-ELEC repeats 35,024,420 kWh for 3 h",
                "ts": dt.datetime.now(dt.UTC),
            }
        ],
    )
    auth = Authenticator(store, AuthSettings(secret="f" * 40, hasher=fast_hasher()))
    auth.add_user("energy", "energy_manager", password=PASSWORD, actor="t", park_id=PARK.id)
    with serving(panel_server(dashboard(Dashboard(store, PARK, auth)))) as address:
        yield address
    store.close()


def test_the_energy_manager_reads_the_forecast_and_the_alarms(page, url):
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_label("User name").fill("energy")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as energy")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Forecast").click()
    # The newest stored month is 2025-04: its last day, with its actuals (fitting takes
    # a second or two).
    expect(page.locator(".forecast-peak")).to_contain_text(",", timeout=30_000)
    shot(page, "forecast")
    shot(page, "forecast")
    page.get_by_role("button", name="Live twin").click()
    expect(page.get_by_text("repeats 35,024,420 kWh")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name="Acknowledge")).to_be_visible()
    shot(page, "twin-alarms")
