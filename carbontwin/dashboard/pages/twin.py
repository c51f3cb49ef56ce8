"""Live twin: points with value, age and quality; alarms; quarantined rows with reasons."""

from __future__ import annotations

import pandas as pd
import panel as pn

from carbontwin.dashboard.base import Dashboard, Session, t
from carbontwin.runtime.access import visible_points

__all__ = ["twin_page"]


def twin_page(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Live twin: points with value, age and quality; quarantined rows with reasons."""
    who = session.principal
    assert who is not None
    who.require("twin.read")
    allowed = set(visible_points(who, app.park))
    if app.state is not None:
        snap = app.state.snapshot().reset_index()
        snap = snap[snap["point"].isin(allowed)][
            ["point", "value", "unit", "age_s", "quality", "stale"]
        ]
    else:
        snap = pd.DataFrame(
            {
                "point": sorted(allowed),
                "value": None,
                "unit": "",
                "age_s": None,
                "quality": -1,
                "stale": True,
            }
        )
    points = pn.widgets.Tabulator(snap, show_index=False, disabled=True, name="points", height=360)
    held = []
    if who.can("quarantine.read"):
        owners = {p.id: p.enterprise for p in app.park.points} | {
            s.id: s.enterprise for s in app.park.sources
        }
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
    )
    return pn.Column(
        f"## {t(session, 'nav.twin')}",
        f"### {t(session, 'twin.points')}",
        points,
        f"### {t(session, 'twin.quarantine')}",
        quarantine,
        name="twin",
    )
