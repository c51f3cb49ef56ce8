"""The dashboard's pages, built without a browser: what each role sees, sign-in, data entry."""

from __future__ import annotations

import pandas as pd
import panel as pn
import pytest

from carbontwin.dashboard import PAGES, Dashboard, Session, dashboard
from carbontwin.dashboard.labels import LABELS, fmt, label
from carbontwin.dashboard.pages.accounting import accounting_page
from carbontwin.dashboard.pages.entry import entry_page
from carbontwin.dashboard.pages.forecast import forecast_page
from carbontwin.dashboard.pages.overview import overview_page
from carbontwin.dashboard.pages.twin import twin_page
from carbontwin.runtime import integrity
from carbontwin.runtime import simulate as sim
from carbontwin.runtime.access import AccessDenied, Principal
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.auth import Authenticator, AuthSettings, fast_hasher
from carbontwin.store import Store

PARK = resolve_park("demo")
PASSWORD = "Carbon-Peak-2030"
MANAGER = Principal("manager", "park_manager", park_id=PARK.id)
UNIT = Principal("e04", "emission_unit", park_id=PARK.id, enterprise="E04")
OPERATOR = Principal("operator", "platform_operator", park_id=PARK.id)


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('dash') / 'ct.db'}"
    store = Store.open(url)
    sim.simulate_to_store(store, PARK, "2025-01-01", 2)
    integrity.save_inventory(store, PARK, "2025-01", actor="test")
    auth = Authenticator(store, AuthSettings(secret="s" * 40, hasher=fast_hasher()))
    auth.add_user("manager", "park_manager", password=PASSWORD, actor="t", park_id=PARK.id)
    auth.add_user(
        "e04", "emission_unit", password=PASSWORD, actor="t", park_id=PARK.id, enterprise="E04"
    )
    yield Dashboard(store, PARK, auth)
    store.close()


def _objects(view) -> list:
    """Every Panel object inside ``view`` (rendering the bound functions)."""
    out = []

    def walk(obj):
        out.append(obj)
        if isinstance(obj, pn.param.ParamFunction):
            walk(obj._pane) if hasattr(obj, "_pane") else None
        for child in getattr(obj, "objects", None) or []:
            walk(child)

    walk(view)
    return out


def _tables(view) -> dict[str, pd.DataFrame]:
    return {
        o.name: o.value
        for o in _objects(view)
        if isinstance(o, pn.widgets.Tabulator) and isinstance(o.value, pd.DataFrame)
    }


def _text(view) -> str:
    return " ".join(
        str(getattr(o, "object", "")) + " " + str(getattr(o, "value", "")) for o in _objects(view)
    )


def test_every_label_has_both_languages():
    assert all(en and zh for en, zh in LABELS.values())
    assert label("entry.landed", "zh", n=2) == "已保存 2 行"
    assert fmt(1234567.0, "en") == "1,234,567" and fmt(1234567.0, "zh") == "123.5 万"


def test_a_manager_sees_every_enterprise_in_the_overview(board):
    view = overview_page(board, Session(MANAGER))
    ranking = _tables(view)["ranking"]
    assert len(ranking) > 5 and "E04" in set(ranking["enterprise"])


def test_an_emission_unit_sees_only_its_own_enterprise(board):
    ranking = _tables(overview_page(board, Session(UNIT)))["ranking"]
    assert list(ranking["enterprise"]) == ["E04"]
    page = accounting_page(board, Session(UNIT))
    selects = [o for o in _objects(page) if isinstance(o, pn.widgets.Select)]
    enterprise = next(s for s in selects if s.name == label("accounting.enterprise"))
    assert enterprise.options == ["E04"]
    others = {e.id for e in PARK.enterprises} - {"E04"}
    assert not any(e in _text(page) for e in others)
    twin = _tables(twin_page(board, Session(UNIT)))["points"]
    owners = {p.id: p.enterprise for p in PARK.points}
    assert {owners[p] for p in twin["point"]} == {"E04"}


def test_pages_a_role_may_not_see_are_refused(board):
    with pytest.raises(AccessDenied):
        overview_page(board, Session(OPERATOR))
    with pytest.raises(AccessDenied):
        entry_page(board, Session(OPERATOR))


def test_every_page_builds_for_a_manager_in_both_languages(board):
    for lang in ("en", "zh"):
        for _key, builder in PAGES:
            if builder is not None:
                assert builder(board, Session(MANAGER, lang)) is not None


def test_a_bad_entry_shows_its_reason_and_a_good_one_lands(board):
    page = entry_page(board, Session(UNIT))
    widgets = {o.name: o for o in _objects(page) if isinstance(o, pn.widgets.Widget)}
    widgets[label("entry.source")].value = "E04-DIESEL"
    widgets[label("entry.quantity")].value = "-3"
    widgets[label("entry.unit")].value = "t"
    widgets[label("entry.submit")].clicks += 1
    messages = next(o for o in _objects(page) if o.name == "messages")
    assert "negative" in _text(messages).lower() or "quarantined" in _text(messages).lower()
    widgets[label("entry.quantity")].value = "1.5"
    widgets[label("entry.ref")].value = "invoice 7"
    widgets[label("entry.submit")].clicks += 1
    assert label("entry.landed", n=1) in _text(messages)


def test_signing_in_through_the_dashboard_uses_the_platform_accounts(board):
    template = dashboard(board)()
    main = template.main[0]
    form = main[0]
    user, password, button = form[1], form[2], form[3]
    user.value, password.value = "manager", "wrong-password"
    button.clicks += 1
    assert "wrong" in _text(form)
    password.value = PASSWORD
    button.clicks += 1
    assert "ranking" in {o.name for o in _objects(main)}
    assert any(a["action"] == "auth.sign_in" for a in board.store.audit_log(limit=20))


def test_the_accounting_exports_give_the_shown_rows_as_csv_and_xlsx(board):
    import io

    page = accounting_page(board, Session(MANAGER))
    downloads = {o.filename: o for o in _objects(page) if isinstance(o, pn.widgets.FileDownload)}
    assert set(downloads) == {"inventory.csv", "inventory.xlsx"}
    csv = pd.read_csv(io.StringIO(downloads["inventory.csv"].callback().getvalue()))
    book = pd.read_excel(downloads["inventory.xlsx"].callback(), sheet_name=None)
    ((sheet, xlsx),) = book.items()
    assert sheet == "2025-01"
    assert list(csv.columns) == ["enterprise", "tco2e", "share"]
    assert list(xlsx.columns) == ["enterprise", "t CO2e", "share"]
    assert csv["tco2e"].sum() > 0
    assert xlsx["t CO2e"].tolist() == csv["tco2e"].tolist()
    assert xlsx["enterprise"].tolist() == csv["enterprise"].tolist()


def test_the_forecast_page_shows_a_band_or_says_what_is_missing(board):
    page = forecast_page(board, Session(MANAGER))
    # Two days of history are not enough to fit: the page says so instead of failing.
    assert "a forecast needs at least" in _text(page)
    with pytest.raises(AccessDenied):
        forecast_page(board, Session(UNIT))


def test_alarms_are_listed_and_handled_on_the_twin_page(board):
    import datetime as dt

    (a,) = board.store.raise_alarms(
        PARK.id,
        [
            {
                "point": "P-E04-PV",
                "enterprise": "E04",
                "kind": "spike",
                "severity": "warning",
                "message_en": "spike on P-E04-PV",
                "message_zh": "P-E04-PV 尖峰",
                "ts": dt.datetime.now(dt.UTC),
            }
        ],
    )
    unit_page = twin_page(board, Session(UNIT))
    assert _tables(unit_page)["alarms"]["point"].tolist() == ["P-E04-PV"]
    assert not [o for o in _objects(unit_page) if isinstance(o, pn.widgets.Button)]
    manager = Session(Principal("manager", "park_manager", park_id=PARK.id))
    page = twin_page(board, manager)
    buttons = {o.label: o for o in _objects(page) if isinstance(o, pn.widgets.Button)}
    inputs = {o.label: o for o in _objects(page) if isinstance(o, pn.widgets.IntInput)}
    inputs["Alarm"].value = a["id"]
    buttons["Close"].clicks += 1  # no note: refused with the reason
    assert "needs a note" in _text(page)
    buttons["Acknowledge"].clicks += 1
    assert board.store.alarm(a["id"])["status"] == "acknowledged"
    assert "acknowledged" in _tables(page)["alarms"]["status"].tolist()
