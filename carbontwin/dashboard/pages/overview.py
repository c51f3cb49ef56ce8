"""Carbon overview (O1).

Today so far (live), the year by zone on the site plan, by month and by item, indicators
against targets, the enterprise ranking.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import holoviews as hv
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
    year = pn.widgets.Select(label=t(session, "overview.year"), options=years, value=years[0])
    item = pn.widgets.Select(
        label=t(session, "overview.breakdown"),
        options={t(session, f"col.{k}"): k for k in BREAKDOWNS},
        value="scope",
        width=200,
    )

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
                label=t(session, "overview.total") + " (t CO2e)",
                value=fmt(o["total_tco2e"], session.lang),
                css_classes=["kpi-total"],
            ),
            pn.indicators.String(
                label=t(session, "overview.energy") + " (tce)",
                value=fmt(o["energy_tce"], session.lang),
            ),
            pn.indicators.String(
                label=t(session, "overview.offsets") + " (t CO2e)",
                value=fmt(o["offsets_tco2e"], session.lang),
            ),
        )
        month = pd.DataFrame(o["by_month"])
        plots = pn.Row(
            zone_map(app, session, o["by_zone"]),
            month.hvplot.bar(
                x="month",
                y="tco2e",
                title=t(session, "overview.by_month"),
                color=ACCENT,
                height=300,
                width=520,
                rot=45,
                ylabel="t CO2e",
            ),
            pn.Column(item, pn.bind(breakdown, o, item)),
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
            cards,
            targets(app, session, y, o),
            plots,
            pn.pane.Markdown(f"### {t(session, 'overview.ranking')}"),
            table,
        )

    return pn.Column(
        f"## {t(session, 'nav.overview')}",
        live_section(app, session),
        year,
        pn.bind(view, year),
        name="overview",
    )


#: Items the overview breaks a year down by: the overview's key and the value column.
BREAKDOWNS = {
    "scope": ("by_scope", "tco2e"),
    "industry": ("by_industry", "tco2e"),
    "category": ("by_category", "tco2e"),
    "gas": ("by_gas", "tco2e"),
    "carrier": ("energy_by_carrier", "energy_tce"),
}
TARGET_UNITS = {"emissions_tco2e": "t CO2e", "energy_tce": "tce"}


def breakdown(o: dict[str, Any], item: str) -> pn.viewable.Viewable:
    """Return a bar chart of the year by ``item`` (scope, industry, category, gas or carrier)."""
    key, value = BREAKDOWNS[item]
    df = pd.DataFrame(o[key], columns=[item, value])
    df[item] = df[item].astype(str)
    return df.hvplot.barh(
        x=item,
        y=value,
        color="#558b2f",
        height=260,
        width=320,
        xlabel="",
        ylabel="tce" if value == "energy_tce" else "t CO2e",
    )


def zone_map(
    app: Dashboard, session: Session, by_zone: list[dict[str, Any]]
) -> pn.viewable.Viewable:
    """Return the site plan with each zone (with an outline) coloured by its emissions."""
    tco2e = {r["zone"]: r["tco2e"] for r in by_zone}
    zones = [z for z in app.park.zones if z.outline]
    if not zones:
        return pn.pane.Markdown(t(session, "overview.no_map"), width=300)
    polys, labels = [], []
    for z in zones:
        xs, ys = zip(*z.outline, strict=True)
        name = z.name_zh if session.lang == "zh" and z.name_zh else z.name
        value = float(tco2e.get(z.id, 0.0))
        polys.append({"x": xs, "y": ys, "zone": z.id, "name": name, "tco2e": value})
        labels.append(
            (sum(xs) / len(xs), sum(ys) / len(ys), f"{z.id}\n{fmt(value, session.lang)} t")
        )
    shapes = hv.Polygons(polys, vdims=["zone", "name", "tco2e"]).opts(
        color="tco2e",
        cmap="YlOrRd",
        colorbar=True,
        line_color="white",
        line_width=2,
        tools=["hover"],
        xaxis=None,
        yaxis=None,
        data_aspect=1,
        frame_width=360,
        title=t(session, "overview.map"),
        clabel="t CO2e",
    )
    text = hv.Labels(labels, ["x", "y"], "text").opts(text_font_size="10pt", text_color="black")
    return pn.pane.HoloViews(shapes * text, name="zone-map")


def targets(app: Dashboard, session: Session, year: int, o: dict[str, Any]) -> pn.viewable.Viewable:
    """Return the year's key indicators against the park's targets, where targets are set."""
    who = session.principal
    assert who is not None
    mine = who.enterprise if who.scoped else None
    actual = {"emissions_tco2e": o["total_tco2e"], "energy_tce": o["energy_tce"]}
    rows = [g for g in app.park.targets if g.year == year and g.enterprise == mine]
    if not rows:
        return pn.pane.Markdown(t(session, "overview.no_targets"), name="targets")
    parts: list[pn.viewable.Viewable] = []
    for g in rows:
        used = actual[g.indicator] / g.value if g.value else 0.0
        parts.append(
            pn.indicators.Number(
                label=t(session, f"target.{g.indicator}"),
                value=round(100 * used, 1),
                format="{value} %",
                colors=[(90, "#2e7d32"), (100, "#f9a825"), (1e9, "#c62828")],
                font_size="28pt",
                title_size="11pt",
            )
        )
        parts.append(
            pn.pane.Markdown(
                t(
                    session,
                    "overview.target_line",
                    actual=fmt(actual[g.indicator], session.lang),
                    target=fmt(g.value, session.lang),
                    unit=TARGET_UNITS[g.indicator],
                ),
                width=220,
            )
        )
    return pn.Row(*parts, name="targets")


def live_section(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Return today so far, from the metered sources, refreshed every few seconds."""
    who = session.principal
    assert who is not None
    mine = {who.enterprise} if who.scoped else None
    total = pn.indicators.String(
        label=t(session, "overview.live_total") + " (t CO2e)",
        value="—",
        css_classes=["kpi-live"],
        default_color=ACCENT,
    )
    until = pn.pane.Markdown("", css_classes=["live-until"])
    chart = pn.Column(name="live-demand")

    def refresh() -> None:
        day = app.live_day()
        total.value = fmt(day.total(mine), session.lang, digits=1)
        if day.until is None:
            until.object = t(session, "overview.live_none", day=day.day.isoformat())
        else:
            until.object = t(
                session,
                "overview.live_until",
                until=day.until.strftime("%Y-%m-%d %H:%M"),
                n=fmt(day.readings, session.lang),
            )
        # The park's demand is park-level: not for an emission unit's eyes.
        if mine is None and len(day.electricity_kw):
            frame = pd.DataFrame(
                {
                    "time": day.electricity_kw.index.tz_localize(None),
                    "kW": day.electricity_kw.values,
                }
            )
            chart.objects = [
                frame.hvplot.area(
                    x="time",
                    y="kW",
                    color=ACCENT,
                    alpha=0.5,
                    height=200,
                    width=620,
                    title=t(session, "overview.live_kw"),
                    xlabel="",
                )
            ]

    refresh()
    session.every(5, refresh)
    return pn.Column(f"### {t(session, 'overview.live')}", pn.Row(total, until), chart, name="live")
