"""The park: basic information, zones, enterprises — created, changed, retired — and history.

Everyone who may read the registry sees the park's basic information and the enterprises
in their scope (an emission unit: only its own). A role that may write the registry (the
park manager) also gets the form: create an enterprise, change the selected one, retire it
after ticking a confirmation. Edits go through :mod:`carbontwin.runtime.park_edit` (the
registry use cases of the API); a refused edit shows its reason and changes nothing, a
saved one becomes the park every page of the dashboard uses.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pandas as pd
import panel as pn

from carbontwin.core.park import Park
from carbontwin.dashboard.base import Dashboard, Session, t
from carbontwin.runtime import park_edit

__all__ = ["park_page"]

#: Columns of the enterprise table, in order.
COLUMNS = (
    "id",
    "name",
    "name_zh",
    "zone",
    "industry",
    "uscc",
    "key_emitter",
    "entry_date",
    "exit_date",
    "retired",
)
HISTORY_COLUMNS = ("valid_from", "valid_to", "changed_by", "changed_at", "note", "changes")
ZONE_COLUMNS = ("id", "name", "name_zh", "area_km2")
#: Column → label key where an older page's label fits.
_TITLE_KEYS = {"name": "col.name", "zone": "col.zone", "industry": "col.industry"}

#: Sessions share one park: one edit at a time reads and replaces it.
_EDITS = threading.Lock()


def _titles(session: Session, columns: tuple[str, ...]) -> dict[str, str]:
    return {c: t(session, _TITLE_KEYS.get(c, f"park.col.{c}")) for c in columns}


def _zone_name(session: Session, park: Park, zone_id: str) -> str:
    z = park.zone(zone_id)
    return (z.name_zh or z.name) if session.lang == "zh" else z.name


def _info(session: Session, park: Park, current: int) -> str:
    name = park.name + (f" / {park.name_zh}" if park.name_zh else "")
    rows = [
        (t(session, "park.name"), name),
        (t(session, "park.id"), park.id),
        (t(session, "park.timezone"), park.timezone),
        (t(session, "park.province"), park.province or "—"),
        (t(session, "park.grid_region"), park.grid_region or "—"),
        (t(session, "park.address"), park.address or "—"),
        (t(session, "park.area"), "—" if park.area_km2 is None else f"{park.area_km2:g}"),
        (
            t(session, "park.counts"),
            t(
                session,
                "park.counts_text",
                enterprises=len(park.enterprises),
                current=current,
                sources=len(park.sources),
                points=len(park.points),
            ),
        ),
    ]
    lines = [f"### {t(session, 'park.info')}", "", "| | |", "|---|---|"]
    lines += [f"| **{k}** | {v} |" for k, v in rows]
    return "\n".join(lines)


def _history_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    if not df.empty:
        df["valid_from"] = df["valid_from"].astype(str)
        df["valid_to"] = [str(v) if v is not None else "—" for v in df["valid_to"]]
        df["changed_at"] = [f"{v:%Y-%m-%d %H:%M}" for v in df["changed_at"]]
    return df


def park_page(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Build the park page: basic information, zones, enterprises, their edits, history."""
    who = session.principal
    assert who is not None
    who.require("registry.read")
    writer = who.can("registry.write")
    today = dt.date.today()

    info = pn.pane.Markdown("", name="park-info")
    zones = pn.widgets.Tabulator(
        pd.DataFrame(
            [z.model_dump(include=set(ZONE_COLUMNS)) for z in app.park.zones],
            columns=list(ZONE_COLUMNS),
        ),
        titles=_titles(session, ZONE_COLUMNS),
        show_index=False,
        disabled=True,
        name="zones",
    )
    show_retired = pn.widgets.Checkbox(label=t(session, "park.show_retired"), value=False)
    table = pn.widgets.Tabulator(
        pd.DataFrame(columns=list(COLUMNS)),
        titles=_titles(session, COLUMNS),
        show_index=False,
        disabled=True,
        selectable=1,
        sizing_mode="stretch_width",
        name="enterprises",
    )
    shown: list[str] = []
    history_title = pn.pane.Markdown("", name="history-title")
    history = pn.widgets.Tabulator(
        _history_frame([]),
        titles=_titles(session, HISTORY_COLUMNS),
        show_index=False,
        disabled=True,
        sizing_mode="stretch_width",
        name="history",
    )
    messages = pn.Column(name="park-messages", sizing_mode="stretch_width")

    # The form (only for roles that may write the registry).
    heading = pn.pane.Markdown("", name="form-heading")
    fid = pn.widgets.TextInput(label=t(session, "park.field.id"))
    name = pn.widgets.TextInput(label=t(session, "park.field.name"))
    name_zh = pn.widgets.TextInput(label=t(session, "park.field.name_zh"))
    uscc = pn.widgets.TextInput(label=t(session, "park.field.uscc"))
    industry = pn.widgets.AutocompleteInput(
        label=t(session, "park.field.industry"),
        options=sorted({e.industry for e in app.park.enterprises}),
        restrict=False,
        min_characters=1,
        case_sensitive=False,
    )
    zone = pn.widgets.Select(
        label=t(session, "park.field.zone"),
        options={f"{z.id} — {_zone_name(session, app.park, z.id)}": z.id for z in app.park.zones},
    )
    entry_date = pn.widgets.DatePicker(label=t(session, "park.field.entry_date"), value=today)
    key_emitter = pn.widgets.Checkbox(label=t(session, "park.field.key_emitter"))
    on = pn.widgets.DatePicker(label=t(session, "park.field.on"), value=today, end=today)
    save = pn.widgets.Button(label=t(session, "park.save"), color="primary")
    new = pn.widgets.Button(label=t(session, "park.new"), color="light")
    confirm = pn.widgets.Checkbox(label=t(session, "park.confirm", id="—"), disabled=True)
    retire = pn.widgets.Button(label=t(session, "park.retire"), color="danger", disabled=True)

    def selected() -> str | None:
        sel = table.selection
        return shown[sel[0]] if sel and sel[0] < len(shown) else None

    def fill_form(eid: str | None) -> None:
        zone_ids = [z.id for z in app.park.zones]
        if eid is None:
            heading.object = f"### {t(session, 'park.form.new')}"
            fid.value, fid.disabled = "", False
            name.value = name_zh.value = uscc.value = industry.value = ""
            zone.value = zone_ids[0] if zone_ids else None
            entry_date.value, key_emitter.value = today, False
            confirm.name, confirm.value, confirm.disabled = (
                t(session, "park.confirm", id="—"),
                False,
                True,
            )
            retire.disabled = True
            return
        e = app.park.enterprise(eid)
        heading.object = f"### {t(session, 'park.form.edit', id=eid)}"
        fid.value, fid.disabled = e.id, True
        name.value, name_zh.value, uscc.value = e.name, e.name_zh, e.uscc
        industry.value, zone.value = e.industry, e.zone
        entry_date.value, key_emitter.value = e.entry_date, e.key_emitter
        gone = park_edit.is_retired(e, today)
        confirm.name, confirm.value = t(session, "park.confirm", id=eid), False
        confirm.disabled = retire.disabled = gone

    def show_history(eid: str | None) -> None:
        if eid is None:
            history_title.object = f"### {t(session, 'park.history_none')}"
            history.value = _history_frame([])
            return
        history_title.object = f"### {t(session, 'park.history', id=eid)}"
        rows = park_edit.enterprise_history(app.store, app.park.id, who, eid)
        history.value = _history_frame(rows)

    def show_selected(*_events: object) -> None:
        eid = selected()
        if writer:
            fill_form(eid)
        show_history(eid)

    def refresh(select: str | None = None) -> None:
        rows = park_edit.enterprise_rows(who, app.park, retired=show_retired.value, today=today)
        current = sum(1 for e in app.park.enterprises if not park_edit.is_retired(e, today))
        info.object = _info(session, app.park, current)
        df = pd.DataFrame(rows, columns=list(COLUMNS))
        shown[:] = list(df["id"])
        table.value = df
        table.selection = [shown.index(select)] if select in shown else []
        show_selected()

    def user_selected(_event: object) -> None:
        messages.clear()
        show_selected()

    def alert(key: str, kind: str, **values: object) -> None:
        messages.append(pn.pane.Alert(t(session, key, **values), alert_type=kind))

    def on_save(_event: object) -> None:
        messages.clear()
        create = selected() is None
        fields = {
            "id": fid.value,
            "name": name.value,
            "name_zh": name_zh.value,
            "uscc": uscc.value,
            "industry": industry.value,
            "zone": zone.value,
            "entry_date": entry_date.value,
            "key_emitter": key_emitter.value,
        }
        try:
            with _EDITS:
                app.park = park_edit.save_enterprise(
                    app.store, app.park, who, fields, create=create, on=on.value
                )
        except park_edit.EDIT_ERRORS as exc:
            alert("park.refused", "danger", reason=str(exc))
            return
        eid = str(fid.value).strip()
        refresh(eid)
        if create:
            alert("park.created", "success", id=eid)
        else:
            alert("park.changed", "success", id=eid, day=on.value or today)

    def on_retire(_event: object) -> None:
        messages.clear()
        eid = selected()
        if eid is None:
            return
        if not confirm.value:
            alert("park.confirm_needed", "warning", id=eid)
            return
        try:
            with _EDITS:
                app.park = park_edit.retire_enterprise(app.store, app.park, who, eid, on=on.value)
        except park_edit.EDIT_ERRORS as exc:
            alert("park.refused", "danger", reason=str(exc))
            return
        refresh(eid if show_retired.value else None)
        alert("park.retired", "success", id=eid, day=on.value or today)

    def on_new(_event: object) -> None:
        messages.clear()
        table.selection = []
        show_selected()

    table.param.watch(user_selected, "selection")
    show_retired.param.watch(lambda _e: refresh(selected()), "value")
    # An emission unit sees one enterprise, its own: show its history at once.
    refresh(who.enterprise if who.scoped else None)

    enterprises = [
        f"### {t(session, 'park.enterprises')}",
        show_retired,
        table,
    ]
    if writer:
        save.on_click(on_save)
        retire.on_click(on_retire)
        new.on_click(on_new)
        form: pn.viewable.Viewable = pn.Column(
            heading,
            pn.Row(fid, name, name_zh),
            pn.Row(uscc, industry, zone),
            pn.Row(entry_date, on, key_emitter),
            pn.Row(save, new),
            pn.Row(confirm, retire),
            name="enterprise-form",
            sizing_mode="stretch_width",
        )
    else:
        form = pn.pane.Alert(t(session, "park.read_only"), alert_type="info", name="read-only")
    return pn.Column(
        f"## {t(session, 'nav.park')}",
        info,
        f"### {t(session, 'park.zones')}",
        zones,
        *enterprises,
        messages,
        form,
        history_title,
        history,
        name="park",
        sizing_mode="stretch_width",
    )
