"""Accounting and analysis: a month grouped as asked, drill-down to factors, export."""

from __future__ import annotations

import io

import hvplot.pandas  # noqa: F401
import pandas as pd
import panel as pn

from carbontwin.dashboard.base import ACCENT, Dashboard, Session, t
from carbontwin.runtime import overview as ov

__all__ = ["accounting_page"]


def accounting_page(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Accounting and analysis: a month grouped as asked, drill-down, CSV export."""
    who = session.principal
    assert who is not None
    who.require("inventory.read")
    months = app.months()
    if not months:
        return pn.pane.Alert(t(session, "overview.none"), alert_type="info")
    month = pn.widgets.Select(label=t(session, "accounting.period"), options=months)
    by = pn.widgets.Select(
        label=t(session, "accounting.by"),
        options=["enterprise", "zone", "industry", "scope", "category", "gas"],
        value="enterprise",
    )
    allowed = sorted(who.enterprises(e.id for e in app.park.enterprises))
    enterprise = pn.widgets.Select(
        label=t(session, "accounting.enterprise"), options=allowed, value=allowed[0]
    )

    def rows(m: str, b: str) -> pd.DataFrame:
        start = pd.Period(m, freq="M").start_time.date()
        end = pd.Period(m, freq="M").end_time.date()
        lines = ov.stored_lines(app.store, app.park.id, start, end)
        lines = lines[lines["enterprise"].isin(allowed)]
        agg = ov.aggregate(lines, b)
        return pd.DataFrame(agg["rows"], columns=[b, "tco2e", "share"])

    def table(m: str, b: str) -> pn.viewable.Viewable:
        df = rows(m, b)
        chart = df.assign(**{b: df[b].astype(str)}).hvplot.barh(
            x=b, y="tco2e", color=ACCENT, height=320, width=520, xlabel="", ylabel="t CO2e"
        )
        shown = df.rename(columns={c: t(session, f"col.{c}") for c in df.columns})
        return pn.Row(
            pn.widgets.Tabulator(shown, show_index=False, disabled=True, width=420), chart
        )

    def csv(m: str, b: str) -> io.StringIO:
        return io.StringIO(rows(m, b).to_csv(index=False))

    def xlsx(m: str, b: str) -> io.BytesIO:
        out = io.BytesIO()
        shown = rows(m, b)
        shown = shown.rename(columns={c: t(session, f"col.{c}") for c in shown.columns})
        with pd.ExcelWriter(out, engine="openpyxl") as book:
            shown.to_excel(book, sheet_name=m, index=False)
        out.seek(0)
        return out

    download = pn.widgets.FileDownload(
        callback=pn.bind(csv, month, by),
        filename="inventory.csv",
        label=t(session, "accounting.export"),
        color="success",
    )
    download_xlsx = pn.widgets.FileDownload(
        callback=pn.bind(xlsx, month, by),
        filename="inventory.xlsx",
        label=t(session, "accounting.export_xlsx"),
        color="success",
    )

    def trace(m: str, e: str) -> pn.viewable.Viewable:
        rows_ = ov.inventory_trace(app.store, app.park, m, enterprise=e, answers=app.answers)
        df = pd.DataFrame(rows_)
        if df.empty:
            return pn.pane.Markdown("—")
        cols = [
            c
            for c in (
                "source",
                "scope",
                "category",
                "gas",
                "activity",
                "activity_unit",
                "factors",
                "formula",
                "emissions_tco2e",
            )
            if c in df.columns
        ]
        shown = df[cols].round(3)
        if "scope" in shown:
            shown["scope"] = shown["scope"].astype("Int64")
        return pn.widgets.Tabulator(
            shown,
            show_index=False,
            disabled=True,
            sizing_mode="stretch_width",
            name="trace",
        )

    return pn.Column(
        f"## {t(session, 'nav.accounting')}",
        pn.Row(month, by, download, download_xlsx),
        pn.bind(table, month, by),
        pn.pane.Markdown(f"### {t(session, 'accounting.trace')}"),
        enterprise,
        pn.bind(trace, month, enterprise),
        name="accounting",
    )
