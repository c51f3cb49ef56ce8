"""The strategies and scenarios pages, built without a browser: propose, decide, compare."""

from __future__ import annotations

import pandas as pd
import panel as pn
import pytest

from carbontwin.dashboard import Dashboard, Session
from carbontwin.dashboard.labels import label
from carbontwin.dashboard.pages.scenarios import scenarios_page
from carbontwin.dashboard.pages.strategies import strategies_page
from carbontwin.runtime import simulate as sim
from carbontwin.runtime.access import AccessDenied, Principal
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.auth import Authenticator, AuthSettings, fast_hasher
from carbontwin.store import Store
from tests.dashboard.test_pages import _objects, _tables, _text

PARK = resolve_park("demo")
ENERGY = Principal("energy", "energy_manager", park_id=PARK.id)
MANAGER = Principal("manager", "park_manager", park_id=PARK.id)
UNIT = Principal("e04", "emission_unit", park_id=PARK.id, enterprise="E04")


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('plan') / 'ct.db'}")
    sim.simulate_to_store(store, PARK, "2025-02-01", 43, recent_days=0)
    auth = Authenticator(store, AuthSettings(secret="s" * 40, hasher=fast_hasher()))
    clock = lambda: pd.Timestamp("2025-03-15 12:00", tz=PARK.timezone).tz_convert("UTC")  # noqa: E731
    yield Dashboard(store, PARK, auth, clock=clock)
    store.close()


def _widgets(view) -> dict[str, pn.widgets.Widget]:
    return {o.name: o for o in _objects(view) if isinstance(o, pn.widgets.Widget)}


def test_an_energy_manager_proposes_reviews_and_accepts(board):
    page = strategies_page(board, Session(ENERGY))
    w = _widgets(page)
    assert str(w[label("strat.day")].value) == "2025-03-16"
    w[label("strat.propose")].clicks += 1
    assert label("strat.proposed", id=1) in _text(page)
    listed = _tables(page)["strategies"]
    assert list(listed["status"]) == ["proposed"]
    figures = _tables(page)["strategy-figures"]
    assert list(figures[""]) == [
        label(f"strat.row.{k}") for k in ("cost_cny", "import_kwh", "emissions_tco2e", "peak_kw")
    ]
    assert "CNY" in _text(page)
    w = _widgets(page)
    w[label("strat.reject")].clicks += 1
    assert "needs a comment" in _text(page)
    w[label("strat.accept")].clicks += 1
    assert board.store.strategy(1)["status"] == "accepted"
    assert label("strat.done", id=1, status="accepted") in _text(page)


def test_a_park_manager_proposes_but_cannot_decide(board):
    page = strategies_page(board, Session(MANAGER, "zh"))
    w = _widgets(page)
    assert w[label("strat.propose", "zh")].visible
    assert not w[label("strat.accept", "zh")].visible
    with pytest.raises(AccessDenied):
        strategies_page(board, Session(UNIT))


def test_the_scenarios_page_compares_and_chooses_measures(board):
    page = scenarios_page(board, Session(MANAGER))
    summary = _tables(page)["scenario-summary"]
    assert list(summary[""]) == ["baseline", "policy", "enhanced"]
    w = _widgets(page)
    w[label("red.choose")].clicks += 1
    chosen = _tables(page)["portfolio"]
    assert len(chosen) >= 1
    w[label("red.budget")].value = 1e6
    w[label("red.target")].value = 5e6
    w[label("red.choose")].clicks += 1
    assert "at most" in _text(page)
    with pytest.raises(AccessDenied):
        scenarios_page(board, Session(UNIT))
