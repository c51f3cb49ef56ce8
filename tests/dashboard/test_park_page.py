"""The Park page without a browser: the registry's enterprises created, changed and retired
through the form, each change a version in the history; refused edits change nothing; an
emission unit sees only its own enterprise and gets no form."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import panel as pn
import pytest

from carbontwin.dashboard import PAGES, Dashboard, Session
from carbontwin.dashboard.labels import label
from carbontwin.dashboard.pages.park import park_page
from carbontwin.runtime import integrity, park_edit
from carbontwin.runtime import simulate as sim
from carbontwin.runtime.access import AccessDenied, Principal
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.auth import Authenticator, AuthSettings, fast_hasher
from carbontwin.runtime.registry import register_park
from carbontwin.store import Store

PARK = resolve_park("demo")
MANAGER = Principal("manager", "park_manager", park_id=PARK.id)
UNIT = Principal("e04", "emission_unit", park_id=PARK.id, enterprise="E04")
OPERATOR = Principal("operator", "platform_operator", park_id=PARK.id)
INTEGRATION = Principal("bms", "integration", park_id=PARK.id, kind="service")
TODAY = dt.date.today()
#: A valid unified social credit code (GB 32100-2015 check character) for new enterprises.
NEW_USCC = "91320911MA7Q2W3E4E"


@pytest.fixture
def board(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'ct.db'}")
    register_park(store, PARK, "test")
    sim.simulate_to_store(store, PARK, "2025-01-01", 1)
    integrity.save_inventory(store, PARK, "2025-01", actor="test")
    auth = Authenticator(store, AuthSettings(secret="p" * 40, hasher=fast_hasher()))
    yield Dashboard(store, PARK, auth)
    store.close()


def _objects(view) -> list:
    out = []

    def walk(obj):
        out.append(obj)
        for child in getattr(obj, "objects", None) or []:
            walk(child)

    walk(view)
    return out


def _widgets(view) -> dict[str, pn.widgets.Widget]:
    return {o.name: o for o in _objects(view) if isinstance(o, pn.widgets.Widget)}


def _table(view, name: str) -> pd.DataFrame:
    return next(
        o.value for o in _objects(view) if isinstance(o, pn.widgets.Tabulator) and o.name == name
    )


def _alerts(view, kind: str) -> list[str]:
    messages = next(o for o in _objects(view) if o.name == "park-messages")
    return [a.object for a in messages.objects if a.alert_type == kind]


def _text(view) -> str:
    return " ".join(
        str(getattr(o, "object", "")) + " " + str(getattr(o, "value", "")) for o in _objects(view)
    )


def _select(view, enterprise_id: str) -> None:
    """Click the enterprise's row in the table (select it)."""
    table = next(o for o in _objects(view) if o.name == "enterprises")
    table.selection = [list(table.value["id"]).index(enterprise_id)]


def _fill(view, **values: object) -> None:
    w = _widgets(view)
    for field, value in values.items():
        w[label(f"park.field.{field}")].value = value


def _click(view, key: str) -> None:
    _widgets(view)[label(key)].clicks += 1


def _confirm_box(view) -> pn.widgets.Checkbox:
    return next(
        o
        for o in _objects(view)
        if isinstance(o, pn.widgets.Checkbox) and o.name.startswith("Yes, retire")
    )


def test_the_page_shows_the_parks_basic_information_and_zones(board):
    page = park_page(board, Session(MANAGER))
    info = next(o for o in _objects(page) if o.name == "park-info").object
    for text in (PARK.name, PARK.name_zh, PARK.id, PARK.timezone):
        assert text in info
    current = sum(1 for e in PARK.enterprises if not park_edit.is_retired(e))
    assert (
        label(
            "park.counts_text",
            enterprises=len(PARK.enterprises),
            current=current,
            sources=len(PARK.sources),
            points=len(PARK.points),
        )
        in info
    )
    zones = _table(page, "zones")
    assert list(zones["id"]) == [z.id for z in PARK.zones]
    assert set(zones["name_zh"]) == {z.name_zh for z in PARK.zones}
    enterprises = _table(page, "enterprises")
    # E09 left the park on 2025-06-30: listed only when retired ones are asked for.
    assert "E09" not in set(enterprises["id"]) and "E04" in set(enterprises["id"])
    assert {"name", "name_zh", "zone", "industry", "uscc"} <= set(enterprises.columns)
    _widgets(page)[label("park.show_retired")].value = True
    shown = _table(page, "enterprises").set_index("id")
    assert bool(shown.loc["E09", "retired"]) and not bool(shown.loc["E04", "retired"])


def test_a_park_manager_creates_changes_and_retires_an_enterprise(board):
    page = park_page(board, Session(MANAGER))
    _fill(
        page,
        id="E11",
        name="Haibin Glass Co.",
        name_zh="海滨玻璃有限公司",
        uscc=NEW_USCC,
        industry="C3041",
        zone="Z2",
        entry_date=TODAY - dt.timedelta(days=10),
        on=TODAY - dt.timedelta(days=10),
    )
    _click(page, "park.save")
    assert _alerts(page, "danger") == []
    assert _alerts(page, "success") == [label("park.created", id="E11")]
    assert "E11" in set(_table(page, "enterprises")["id"])
    assert board.park.enterprise("E11").zone == "Z2"
    # The new enterprise is selected: the form edits it and its history has one version.
    w = _widgets(page)
    assert w[label("park.field.id")].disabled and w[label("park.field.name")].value == (
        "Haibin Glass Co."
    )
    assert len(_table(page, "history")) == 1

    _fill(page, name="Haibin Float Glass Co.", key_emitter=True, on=TODAY - dt.timedelta(days=5))
    _click(page, "park.save")
    assert _alerts(page, "danger") == []
    e = board.park.enterprise("E11")
    assert e.name == "Haibin Float Glass Co." and e.key_emitter and e.uscc == NEW_USCC
    history = _table(page, "history")
    assert list(history["valid_from"]) == [
        str(TODAY - dt.timedelta(days=10)),
        str(TODAY - dt.timedelta(days=5)),
    ]
    assert history["valid_to"].iloc[0] == str(TODAY - dt.timedelta(days=6))
    assert set(history["changed_by"]) == {"manager"}
    assert "name: Haibin Glass Co. → Haibin Float Glass Co." in history["changes"].iloc[1]
    # The old version is kept: the park as it was a week ago has the old name.
    week_ago = board.store.load_park(PARK.id, TODAY - dt.timedelta(days=7))
    assert week_ago.enterprise("E11").name == "Haibin Glass Co."

    # Retiring needs the confirmation ticked.
    _click(page, "park.retire")
    assert _alerts(page, "warning") == [label("park.confirm_needed", id="E11")]
    assert "E11" in set(_table(page, "enterprises")["id"])
    _confirm_box(page).value = True
    _widgets(page)[label("park.field.on")].value = TODAY
    _click(page, "park.retire")
    assert _alerts(page, "success") == [label("park.retired", id="E11", day=TODAY)]
    assert "E11" not in set(_table(page, "enterprises")["id"])
    assert board.park.enterprise("E11").exit_date == TODAY
    versions = board.store.history(PARK.id, "enterprise", "E11")
    assert [v["data"]["exit_date"] for v in versions] == [None, None, TODAY.isoformat()]
    assert versions[1]["data"]["name"] == "Haibin Float Glass Co."
    # Still there with the retired ones, its history intact; it cannot be retired twice.
    _widgets(page)[label("park.show_retired")].value = True
    _select(page, "E11")
    assert len(_table(page, "history")) == 3
    assert _widgets(page)[label("park.retire")].disabled

    # Every other page copes with the changed park.
    for _key, builder in PAGES:
        if builder is not None:
            assert builder(board, Session(MANAGER)) is not None


BAD_CREATES = {
    "empty name": ({"id": "E12", "name": "  "}, "name may not be empty"),
    "duplicate id": ({"id": "E04"}, "enterprise 'E04' exists already"),
    "unknown zone": ({"id": "E12", "zone": "Z9"}, "zone 'Z9' is not defined"),
    "industry outside its section": ({"id": "E12", "industry": "D2614"}, "not in section D"),
    "bad credit code": ({"id": "E12", "uscc": "91320911MA7Q2W3E4X"}, "unified social credit"),
    "id with a space": ({"id": "E 12"}, "is not valid"),
    "valid from in the future": (
        {"id": "E12", "on": TODAY + dt.timedelta(days=1)},
        "is in the future",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CREATES))
def test_a_bad_new_enterprise_shows_its_reason_and_changes_nothing(board, case):
    values, reason = BAD_CREATES[case]
    page = park_page(board, Session(MANAGER))
    before_park, before_table = board.park, _table(page, "enterprises").copy()
    good = {
        "name": "Haibin Glass Co.",
        "uscc": NEW_USCC,
        "industry": "C3041",
        "zone": "Z1",
    }
    _fill(page, **{**good, **values})
    _click(page, "park.save")
    refused = _alerts(page, "danger")
    assert len(refused) == 1 and reason in refused[0], refused
    assert refused[0].startswith(label("park.refused", reason="")[:-1].rstrip())
    assert board.park is before_park
    pd.testing.assert_frame_equal(_table(page, "enterprises"), before_table)
    assert board.store.history(PARK.id, "enterprise", "E12") == []
    assert board.store.load_park(PARK.id, TODAY) == PARK


def test_a_bad_change_shows_its_reason_and_keeps_the_enterprise(board):
    page = park_page(board, Session(MANAGER))
    _select(page, "E04")
    assert _widgets(page)[label("park.field.name")].value == PARK.enterprise("E04").name
    _fill(page, name="")
    _click(page, "park.save")
    assert "name may not be empty" in _alerts(page, "danger")[0]
    _fill(page, name="Donghai Auto Parts Co.", zone="Z7")
    _click(page, "park.save")
    assert "zone 'Z7' is not defined" in _alerts(page, "danger")[0]
    assert board.park.enterprise("E04") == PARK.enterprise("E04")
    assert len(board.store.history(PARK.id, "enterprise", "E04")) == 1
    # A retired enterprise cannot be retired again (its exit date would move).
    _widgets(page)[label("park.show_retired")].value = True
    _select(page, "E09")
    _confirm_box(page).disabled = False
    _confirm_box(page).value = True
    _click(page, "park.retire")
    assert "retired already" in _alerts(page, "danger")[0]
    assert board.park.enterprise("E09").exit_date == dt.date(2025, 6, 30)


def test_an_emission_unit_sees_only_its_enterprise_and_no_form(board):
    page = park_page(board, Session(UNIT))
    assert list(_table(page, "enterprises")["id"]) == ["E04"]
    widgets = _widgets(page)
    assert label("park.save") not in widgets and label("park.field.id") not in widgets
    assert not any(isinstance(o, pn.widgets.Button) for o in _objects(page))
    assert label("park.read_only") in _text(page)
    # Its own history is shown; no other enterprise appears anywhere on the page.
    assert len(_table(page, "history")) == 1
    widgets[label("park.show_retired")].value = True
    assert list(_table(page, "enterprises")["id"]) == ["E04"]
    others = {e.id for e in PARK.enterprises} - {"E04"}
    text = _text(page)
    assert not [e for e in others if e in text]
    assert not [e.name for e in PARK.enterprises if e.id != "E04" and e.name in text]
    # Nor may it change or read another enterprise through the runtime behind the page.
    with pytest.raises(AccessDenied):
        park_edit.save_enterprise(
            board.store, board.park, UNIT, {"id": "E04", "name": "x"}, create=False
        )
    with pytest.raises(AccessDenied):
        park_edit.enterprise_history(board.store, PARK.id, UNIT, "E01")


def test_roles_without_registry_write_read_and_without_registry_read_are_refused(board):
    page = park_page(board, Session(OPERATOR))
    assert len(_table(page, "enterprises")) == len(
        [e for e in PARK.enterprises if not park_edit.is_retired(e)]
    )
    assert label("park.save") not in _widgets(page)
    with pytest.raises(AccessDenied):
        park_page(board, Session(INTEGRATION))


def test_the_page_speaks_chinese(board):
    page = park_page(board, Session(MANAGER, "zh"))
    text = _text(page)
    assert label("park.info", "zh") in text and label("park.form.new", "zh") in text
    zone = _widgets(page)[label("park.field.zone", "zh")]
    assert "Z1 — 化工区" in zone.options
