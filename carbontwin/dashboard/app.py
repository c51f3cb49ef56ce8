"""The Panel dashboard: sign-in with the platform's accounts, and the pages each role sees.

:func:`dashboard` returns the function Panel calls for each browser session; it signs the
user in through :class:`carbontwin.runtime.auth.Authenticator` (the API's users, roles and
lockout), and every page asks :mod:`carbontwin.runtime.access` what the user may see, so
an emission unit's pages hold only its own enterprise. Pages are functions of
(:class:`Dashboard`, :class:`Session`) returning a Panel object, so they can be built and
checked without a browser. Serve it with :func:`serve` (``carbontwin dashboard``).

Pages: carbon overview, accounting and analysis (with drill-down and CSV export), live twin
(points, quarantine), data entry; the navigation also lists the pages later releases add.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hvplot.pandas  # noqa: F401  (registers .hvplot on DataFrames)
import pandas as pd
import panel as pn

from carbontwin.core.park import Park
from carbontwin.dashboard.labels import fmt, label
from carbontwin.runtime import overview as ov
from carbontwin.runtime import push
from carbontwin.runtime.access import (
    ROLE_LABELS,
    AccessDenied,
    Principal,
    visible_points,
    visible_sources,
)
from carbontwin.runtime.auth import Authenticator, AuthError
from carbontwin.store import Store
from carbontwin.twin.state import TwinState

__all__ = ["PAGES", "Dashboard", "Session", "dashboard", "serve"]

ACCENT = "#2e7d32"


@dataclass
class Dashboard:
    """What every session of the dashboard shares: the store, park, accounts, live state."""

    store: Store
    park: Park
    auth: Authenticator
    state: TwinState | None = None
    answers: ov.Answers = field(init=False)

    def __post_init__(self) -> None:
        park_id = self.park.id
        self.answers = ov.Answers(lambda: ov.inventory_revision(self.store, park_id))

    def years(self) -> list[int]:
        """Years with a stored inventory, newest first."""
        years = {i["start"].year for i in self.store.inventories(self.park.id)}
        return sorted(years, reverse=True) or [dt.date.today().year]

    def months(self) -> list[str]:
        """Months with a stored inventory, newest first."""
        out = set()
        for i in self.store.inventories(self.park.id):
            out |= {str(m) for m in pd.period_range(i["start"], i["end"], freq="M")}
        return sorted(out, reverse=True)


@dataclass
class Session:
    """One browser session: who is signed in and in which language."""

    principal: Principal | None = None
    lang: str = "en"


def _t(session: Session, key: str, **values: object) -> str:
    return label(key, session.lang, **values)


def _frame(rows: list[dict[str, Any]], columns: list[str], session: Session) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=columns)
    return df.rename(columns={c: _t(session, f"col.{c}") for c in columns})


# Pages -------------------------------------------------------------------------------------
def overview_page(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Carbon overview: totals, by zone, scope and month, the ranking (O1)."""
    who = session.principal
    assert who is not None
    who.require("overview.read")
    years = app.years()
    year = pn.widgets.Select(name=_t(session, "overview.year"), options=years, value=years[0])

    def view(y: int) -> pn.viewable.Viewable:
        key = ("dashboard-overview", y, ov.scope_key(who))

        def compute() -> dict[str, Any]:
            lines = ov.stored_lines(app.store, app.park.id, dt.date(y, 1, 1), dt.date(y, 12, 31))
            return ov.overview(lines, app.park, y, {who.enterprise} if who.scoped else None)

        o = app.answers.get(key, compute)
        if not o["months"]:
            return pn.pane.Alert(_t(session, "overview.none"), alert_type="info")
        cards = pn.Row(
            pn.indicators.String(
                name=_t(session, "overview.total") + " (t CO2e)",
                value=fmt(o["total_tco2e"], session.lang),
                css_classes=["kpi-total"],
            ),
            pn.indicators.String(
                name=_t(session, "overview.energy") + " (tce)",
                value=fmt(o["energy_tce"], session.lang),
            ),
            pn.indicators.String(
                name=_t(session, "overview.offsets") + " (t CO2e)",
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
                title=_t(session, "overview.by_zone"),
                color=ACCENT,
                height=280,
                width=380,
                ylabel="t CO2e",
            ),
            month.hvplot.bar(
                x="month",
                y="tco2e",
                title=_t(session, "overview.by_month"),
                color=ACCENT,
                height=280,
                width=520,
                rot=45,
                ylabel="t CO2e",
            ),
            scope.assign(scope=scope["scope"].astype(str)).hvplot.bar(
                x="scope",
                y="tco2e",
                title=_t(session, "overview.by_scope"),
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
            ranking.rename(columns={c: _t(session, f"col.{c}") for c in ranking.columns}),
            show_index=False,
            disabled=True,
            name="ranking",
            sizing_mode="stretch_width",
        )
        return pn.Column(
            cards, plots, pn.pane.Markdown(f"### {_t(session, 'overview.ranking')}"), table
        )

    return pn.Column(
        f"## {_t(session, 'nav.overview')}", year, pn.bind(view, year), name="overview"
    )


def accounting_page(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Accounting and analysis: a month grouped as asked, drill-down, CSV export."""
    who = session.principal
    assert who is not None
    who.require("inventory.read")
    months = app.months()
    if not months:
        return pn.pane.Alert(_t(session, "overview.none"), alert_type="info")
    month = pn.widgets.Select(name=_t(session, "accounting.period"), options=months)
    by = pn.widgets.Select(
        name=_t(session, "accounting.by"),
        options=["enterprise", "zone", "industry", "scope", "category", "gas"],
        value="enterprise",
    )
    allowed = sorted(who.enterprises(e.id for e in app.park.enterprises))
    enterprise = pn.widgets.Select(
        name=_t(session, "accounting.enterprise"), options=allowed, value=allowed[0]
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
        shown = df.rename(columns={c: _t(session, f"col.{c}") for c in df.columns})
        return pn.Row(
            pn.widgets.Tabulator(shown, show_index=False, disabled=True, width=420), chart
        )

    def csv(m: str, b: str) -> io.StringIO:
        return io.StringIO(rows(m, b).to_csv(index=False))

    download = pn.widgets.FileDownload(
        callback=pn.bind(csv, month, by),
        filename="inventory.csv",
        label=_t(session, "accounting.export"),
        button_type="success",
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
        f"## {_t(session, 'nav.accounting')}",
        pn.Row(month, by, download),
        pn.bind(table, month, by),
        pn.pane.Markdown(f"### {_t(session, 'accounting.trace')}"),
        enterprise,
        pn.bind(trace, month, enterprise),
        name="accounting",
    )


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
        f"## {_t(session, 'nav.twin')}",
        f"### {_t(session, 'twin.points')}",
        points,
        f"### {_t(session, 'twin.quarantine')}",
        quarantine,
        name="twin",
    )


def entry_page(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Build data entry: manual activity rows, checked by the rules of every import."""
    who = session.principal
    assert who is not None
    who.require("entries.write")
    sources = visible_sources(who, app.park)
    source = pn.widgets.Select(name=_t(session, "entry.source"), options=sources)
    today = dt.date.today()
    first = today.replace(day=1)
    start = pn.widgets.DatePicker(name=_t(session, "entry.start"), value=first)
    end = pn.widgets.DatePicker(name=_t(session, "entry.end"), value=today)
    quantity = pn.widgets.TextInput(name=_t(session, "entry.quantity"), value="")
    unit = pn.widgets.TextInput(name=_t(session, "entry.unit"), value="t")
    ref = pn.widgets.TextInput(name=_t(session, "entry.ref"), value="")
    submit = pn.widgets.Button(name=_t(session, "entry.submit"), button_type="primary")
    messages = pn.Column(name="messages")

    def send(_event: object) -> None:
        row = {
            "source": source.value,
            "start": str(start.value),
            "end": str(end.value),
            "quantity": quantity.value,
            "unit": unit.value,
            "ref": ref.value,
        }
        result = push.push_entries(app.store, app.park, [row], account=who.name)
        messages.clear()
        if result.landed:
            messages.append(
                pn.pane.Alert(
                    _t(session, "entry.landed", n=len(result.landed)), alert_type="success"
                )
            )
        for q in result.quarantined:
            messages.append(
                pn.pane.Alert(
                    _t(session, "entry.quarantined", reason=q.reason), alert_type="danger"
                )
            )

    submit.on_click(send)
    return pn.Column(
        f"## {_t(session, 'entry.title')}",
        pn.Row(source, start, end),
        pn.Row(quantity, unit, ref),
        submit,
        messages,
        name="entry",
    )


#: The pages in navigation order: (key, label key, builder or ``None`` for a later page).
PAGES: list[tuple[str, Callable[[Dashboard, Session], pn.viewable.Viewable] | None]] = [
    ("overview", overview_page),
    ("accounting", accounting_page),
    ("twin", twin_page),
    ("entry", entry_page),
    ("strategies", None),
    ("scenarios", None),
    ("targets", None),
    ("reports", None),
]


def dashboard(app: Dashboard) -> Callable[[], pn.template.BaseTemplate]:
    """Return the function that builds one browser session's dashboard."""

    def build() -> pn.template.BaseTemplate:
        pn.extension("tabulator", notifications=False)
        session = Session()
        main = pn.Column(sizing_mode="stretch_width")
        nav = pn.Column()
        status = pn.pane.Markdown("")
        template = pn.template.FastListTemplate(
            title=label("app.title"), accent=ACCENT, sidebar=[status, nav], main=[main]
        )

        def show(key: str) -> None:
            builder = dict(PAGES)[key]
            main.clear()
            try:
                main.append(builder(app, session))
            except AccessDenied:
                main.append(pn.pane.Alert(_t(session, "denied"), alert_type="warning"))

        def navigation() -> None:
            nav.clear()
            who = session.principal
            if who is None:
                return
            for key, builder in PAGES:
                if builder is None:
                    nav.append(
                        pn.pane.Markdown(
                            f"<span style='color:#999'>{_t(session, f'nav.{key}')} — "
                            f"{_t(session, 'nav.later')}</span>"
                        )
                    )
                    continue
                button = pn.widgets.Button(
                    name=_t(session, f"nav.{key}"), button_type="light", width=220
                )
                button.on_click(lambda _e, k=key: show(k))
                nav.append(button)
            lang = pn.widgets.Button(name=_t(session, "lang"), button_type="default", width=220)
            lang.on_click(lambda _e: switch_language())
            out = pn.widgets.Button(name=_t(session, "logout"), button_type="warning", width=220)
            out.on_click(lambda _e: sign_out())
            nav.extend([lang, out])

        def switch_language() -> None:
            session.lang = "zh" if session.lang == "en" else "en"
            signed_in()
            show("overview")

        def sign_out() -> None:
            session.principal = None
            status.object = ""
            navigation()
            login()

        def signed_in() -> None:
            who = session.principal
            assert who is not None
            role = ROLE_LABELS[who.role][1 if session.lang == "zh" else 0]
            status.object = _t(session, "login.signed_in", user=who.name, role=role)
            navigation()

        def login() -> None:
            user = pn.widgets.TextInput(name=_t(session, "login.user"))
            password = pn.widgets.PasswordInput(name=_t(session, "login.password"))
            button = pn.widgets.Button(name=_t(session, "login.submit"), button_type="primary")
            error = pn.pane.Alert("", alert_type="danger", visible=False)

            def attempt(_e: object) -> None:
                try:
                    s = app.auth.sign_in(user.value, password.value, client="dashboard")
                except AuthError as exc:
                    error.object, error.visible = str(exc), True
                    return
                session.principal = s.principal
                signed_in()
                show("overview")

            button.on_click(attempt)
            main.clear()
            main.append(
                pn.Column(
                    f"## {_t(session, 'login.title')}", user, password, button, error, width=360
                )
            )

        login()
        return template

    return build


def serve(
    app: Dashboard,
    *,
    port: int = 5006,
    address: str = "127.0.0.1",
    show: bool = False,
    threaded: bool = False,
) -> Any:
    """Serve the dashboard with Panel's server; returns the server (``.stop()`` ends it)."""
    return pn.serve(
        {"/": dashboard(app)},
        port=port,
        address=address,
        show=show,
        threaded=threaded,
        start=True,
        title=label("app.title"),
        websocket_origin="*",
    )
