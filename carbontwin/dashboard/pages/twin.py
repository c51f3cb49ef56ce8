"""Live twin: points with value, age and quality; open alarms; quarantined rows with reasons."""

from __future__ import annotations

import pandas as pd
import panel as pn

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.dashboard.base import Dashboard, Session, t
from carbontwin.runtime.access import visible_points
from carbontwin.runtime.alarms import alarm_list, handle_alarm
from carbontwin.store import NotFoundError

__all__ = ["twin_page"]

POINT_COLUMNS = ["point", "enterprise", "value", "unit", "age_s", "quality", "stale"]


def twin_page(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Live twin: points and alarms (refreshed every few seconds) and the quarantine."""
    who = session.principal
    assert who is not None
    who.require("twin.read")
    allowed = sorted(visible_points(who, app.park))
    owner = {p.id: p.enterprise for p in app.park.points}

    def point_rows() -> pd.DataFrame:
        if app.state is None:
            return pd.DataFrame(
                {"point": allowed, "enterprise": [owner[p] for p in allowed]},
                columns=POINT_COLUMNS,
            )
        snap = app.state.snapshot(app.clock() if app.clock else None).reset_index()
        snap = snap[snap["point"].isin(allowed)].assign(
            enterprise=lambda d: d["point"].map(owner), age_s=lambda d: d["age_s"].round(0)
        )
        return snap[POINT_COLUMNS]

    def alarm_rows() -> pd.DataFrame:
        now = app.clock() if app.clock else None
        found = (
            alarm_list(app.store, app.state, app.park, who, now=now)
            if who.can("alarms.read")
            else []
        )
        return pd.DataFrame(
            [
                {
                    "id": a.id,
                    "severity": a.severity,
                    "kind": a.kind,
                    "point": a.point,
                    "enterprise": a.enterprise,
                    "message": a.message["zh" if session.lang == "zh" else "en"],
                    "since": a.since,
                    "status": a.status,
                    "count": a.count,
                }
                for a in found
            ],
            columns=[
                "id",
                "severity",
                "kind",
                "point",
                "enterprise",
                "message",
                "since",
                "status",
                "count",
            ],
        )

    points = pn.widgets.Tabulator(
        point_rows(), show_index=False, disabled=True, name="points", height=360
    )
    alarms = pn.widgets.Tabulator(
        alarm_rows(), show_index=False, disabled=True, name="alarms", sizing_mode="stretch_width"
    )

    def refresh() -> None:
        points.value = point_rows()
        alarms.value = alarm_rows()

    handling = pn.Column(name="alarm-handling")
    if who.can("alarms.handle"):
        alarm_id = pn.widgets.IntInput(label=t(session, "twin.alarm_id"), start=1, width=140)
        note = pn.widgets.TextInput(label=t(session, "twin.note"), width=360)
        ack = pn.widgets.Button(label=t(session, "twin.acknowledge"), color="primary")
        close = pn.widgets.Button(label=t(session, "twin.close"), color="warning")
        said = pn.Column()

        def act(action: str) -> None:
            said.clear()
            try:
                a = handle_alarm(
                    app.store, app.park, who, int(alarm_id.value or 0), action, note.value
                )
            except (ValidationError, ConsistencyError, NotFoundError) as exc:
                said.append(pn.pane.Alert(str(exc), alert_type="danger"))
                return
            said.append(
                pn.pane.Alert(
                    t(session, "twin.handled", id=a.id, status=a.status), alert_type="success"
                )
            )
            refresh()

        ack.on_click(lambda _e: act("acknowledge"))
        close.on_click(lambda _e: act("close"))
        handling.extend([pn.Row(alarm_id, note, ack, close), said])

    session.every(5, refresh)
    held = []
    if who.can("quarantine.read"):
        owners = owner | {s.id: s.enterprise for s in app.park.sources}
        for q in app.store.quarantined(app.park.id):
            row = q["row"] or {}
            ent = owners.get(str(row.get("point") or row.get("source") or ""))
            if who.scoped and ent != who.enterprise:
                continue
            held.append({"id": q["id"], "rule": q["rule"], "reason": q["reason"], "ref": q["ref"]})
    quarantine = pn.widgets.Tabulator(
        pd.DataFrame(held, columns=["id", "rule", "reason", "ref"]),
        show_index=False,
        disabled=True,
        name="quarantine",
        sizing_mode="stretch_width",
        page_size=20,
        pagination="local",
    )
    return pn.Column(
        f"## {t(session, 'nav.twin')}",
        f"### {t(session, 'twin.points')}",
        points,
        f"### {t(session, 'twin.alarms')}",
        alarms,
        handling,
        f"### {t(session, 'twin.quarantine')}",
        quarantine,
        name="twin",
    )
