"""Live twin: points with value, age and quality; open alarms; quarantined rows with reasons."""

from __future__ import annotations

import pandas as pd
import panel as pn

from carbontwin.dashboard.base import Dashboard, Session, t
from carbontwin.runtime.access import visible_points
from carbontwin.runtime.alarms import open_alarms

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
        found = open_alarms(app.state, app.park, allowed, now) if who.can("alarms.read") else []
        return pd.DataFrame(
            [
                {
                    "severity": a.severity,
                    "point": a.point,
                    "enterprise": a.enterprise,
                    "message": a.message["zh" if session.lang == "zh" else "en"],
                    "since": a.since,
                }
                for a in found
            ],
            columns=["severity", "point", "enterprise", "message", "since"],
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
        f"### {t(session, 'twin.quarantine')}",
        quarantine,
        name="twin",
    )
