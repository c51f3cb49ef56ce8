"""Carbon overview: totals, by zone, scope and month, the ranking (O1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import hvplot.pandas  # noqa: F401  (registers .hvplot on DataFrames)
import pandas as pd
import panel as pn

from carbontwin.dashboard.base import ACCENT, Dashboard, Session, t
from carbontwin.dashboard.labels import fmt
from carbontwin.runtime import overview as ov

__all__ = ["overview_page"]


def overview_page(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Carbon overview: totals, by zone, scope and month, the ranking (O1)."""
    who = session.principal
    assert who is not None
    who.require("overview.read")
    years = app.years()
    year = pn.widgets.Select(name=t(session, "overview.year"), options=years, value=years[0])

    def view(y: int) -> pn.viewable.Viewable:
        key = ("dashboard-overview", y, ov.scope_key(who))

        def compute() -> dict[str, Any]:
            lines = ov.stored_lines(app.store, app.park.id, dt.date(y, 1, 1), dt.date(y, 12, 31))
            return ov.overview(lines, app.park, y, {who.enterprise} if who.scoped else None)

        o = app.answers.get(key, compute)
        if not o["months"]:
            return pn.pane.Alert(t(session, "overview.none"), alert_type="info")
        cards = pn.Row(
            pn.indicators.String(
                name=t(session, "overview.total") + " (t CO2e)",
                value=fmt(o["total_tco2e"], session.lang),
                css_classes=["kpi-total"],
            ),
            pn.indicators.String(
                name=t(session, "overview.energy") + " (tce)",
                value=fmt(o["energy_tce"], session.lang),
            ),
            pn.indicators.String(
                name=t(session, "overview.offsets") + " (t CO2e)",
                value=fmt(o["offsets_tco2e"], session.lang),
            ),
        )
        zone = pd.DataFrame(o["by_zone"])
        month = pd.DataFrame(o["by_month"])
        scope = pd.DataFrame(o["by_scope"])
        plots = pn.Row(
            zone.hvplot.bar(
                x="zone",
                y="tco2e",
                title=t(session, "overview.by_zone"),
                color=ACCENT,
                height=280,
                width=380,
                ylabel="t CO2e",
            ),
            month.hvplot.bar(
                x="month",
                y="tco2e",
                title=t(session, "overview.by_month"),
                color=ACCENT,
                height=280,
                width=520,
                rot=45,
                ylabel="t CO2e",
            ),
            scope.assign(scope=scope["scope"].astype(str)).hvplot.bar(
                x="scope",
                y="tco2e",
                title=t(session, "overview.by_scope"),
                color="#558b2f",
                height=280,
                width=260,
                ylabel="t CO2e",
            ),
        )
        ranking = pd.DataFrame(
            [
                {
                    "rank": r["rank"],
                    "enterprise": r["enterprise"],
                    "name": r["name"]["zh" if session.lang == "zh" else "en"],
                    "zone": r["zone"],
                    "industry": r["industry"],
                    "tco2e": round(r["tco2e"], 1),
                    "share": round(r["share"], 4),
                }
                for r in o["ranking"]
            ],
            columns=["rank", "enterprise", "name", "zone", "industry", "tco2e", "share"],
        )
        table = pn.widgets.Tabulator(
            ranking.rename(columns={c: t(session, f"col.{c}") for c in ranking.columns}),
            show_index=False,
            disabled=True,
            name="ranking",
            sizing_mode="stretch_width",
        )
        return pn.Column(
            cards, plots, pn.pane.Markdown(f"### {t(session, 'overview.ranking')}"), table
        )

    return pn.Column(f"## {t(session, 'nav.overview')}", year, pn.bind(view, year), name="overview")
