"""Control strategies: propose a day's battery schedule, review it as charts, decide on it.

Energy managers and park managers propose (``strategies.propose``); only energy managers
accept, reject, dispatch or advise (``strategies.accept``). Every button calls the same
runtime use cases as the API and the CLI (:mod:`carbontwin.runtime.strategies`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.dashboard.base import ACCENT, Dashboard, Session, t
from carbontwin.dashboard.labels import fmt
from carbontwin.runtime import strategies as S

__all__ = ["strategies_page"]

_ROWS = ("cost_cny", "import_kwh", "emissions_tco2e", "peak_kw")


def _default_day(app: Dashboard) -> dt.date:
    """Return tomorrow in the park's zone (by the dashboard's clock)."""
    now = app.clock() if app.clock else pd.Timestamp.now(tz="UTC")
    return (now.tz_convert(app.park.timezone) + pd.Timedelta(days=1)).date()


def _chart(app: Dashboard, session: Session, s: dict[str, Any]) -> pn.viewable.Viewable:
    """Return the charts of the battery schedules, baselines and load forecasts."""
    index = pd.date_range(
        pd.Timestamp(s["start"]).tz_convert(app.park.timezone).tz_localize(None),
        periods=s["steps"],
        freq=f"{s['interval_s']}s",
    )
    sites = (s.get("expected") or {}).get("sites") or []
    plots = []
    for name, values in s["schedule"].items():
        frame = pd.DataFrame({"time": index, "battery_kw": values})
        bars = hv.Area(frame, "time", "battery_kw", label=t(session, "strat.battery")).opts(
            color=ACCENT, alpha=0.6
        )
        plot = bars
        site = next((x for x in sites if name.startswith(x["battery"] + ".")), None)
        if site is not None:
            base = pd.DataFrame({"time": index, "battery_kw": site["baseline_kw"]})
            curve = hv.Curve(base, "time", "battery_kw", label=t(session, "strat.baseline"))
            plot = plot * curve.opts(color="black", line_dash="dashed")
        plots.append(
            plot.opts(
                height=260,
                width=820,
                ylabel="kW",
                xlabel="",
                title=name,
                legend_position="top_left",
            )
        )
        if site is not None:
            load = pd.DataFrame({"time": index, "load_kw": site["load_forecast_kw"]})
            soc = pd.DataFrame({"time": index, "kwh": site["soc_kwh"]})
            plots.append(
                hv.Curve(load, "time", "load_kw", label=t(session, "strat.load")).opts(
                    height=200, width=820, color="grey", ylabel="kW", xlabel=""
                )
            )
            plots.append(
                hv.Curve(soc, "time", "kwh", label=t(session, "strat.soc")).opts(
                    height=180, width=820, color=ACCENT, ylabel="kWh", xlabel=""
                )
            )
    return pn.Column(*[pn.pane.HoloViews(p) for p in plots], name="strategy-chart")


def _figures(session: Session, s: dict[str, Any]) -> pn.viewable.Viewable:
    exp = s.get("expected") or {}
    rows = []
    for key in _ROWS:
        rows.append(
            {
                "": t(session, f"strat.row.{key}"),
                t(session, "strat.plan"): fmt(exp.get("plan", {}).get(key, 0.0), session.lang, 1),
                t(session, "strat.baseline"): fmt(
                    exp.get("baseline", {}).get(key, 0.0), session.lang, 1
                ),
                t(session, "strat.saving"): fmt(
                    exp.get("saving", {}).get(key, 0.0), session.lang, 1
                ),
            }
        )
    return pn.widgets.Tabulator(
        pd.DataFrame(rows), show_index=False, disabled=True, name="strategy-figures"
    )


def strategies_page(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Show the park's strategies, propose one, and decide on the one selected."""
    who = session.principal
    assert who is not None
    who.require("strategies.read")
    may_propose = who.can("strategies.propose")
    may_decide = who.can("strategies.accept")
    message = pn.pane.Alert("", alert_type="info", visible=False, name="strategy-message")
    day = pn.widgets.DatePicker(label=t(session, "strat.day"), value=_default_day(app))
    mode = pn.widgets.Select(
        label=t(session, "strat.mode"),
        options={t(session, f"strat.mode.{m}"): m for m in ("dispatch", "advice")},
        value="dispatch",
    )
    propose = pn.widgets.Button(
        label=t(session, "strat.propose"), color="primary", visible=may_propose
    )
    table = pn.widgets.Tabulator(
        pd.DataFrame(), show_index=False, disabled=True, name="strategies", height=200
    )
    pick = pn.widgets.Select(label=t(session, "strat.pick"), options={})
    detail = pn.Column()
    comment = pn.widgets.TextAreaInput(
        label=t(session, "strat.comment"), height=70, width=420, visible=may_decide
    )
    buttons = {
        action: pn.widgets.Button(
            label=t(session, f"strat.{action}"),
            color=color,
            visible=may_decide if action != "verify" else may_propose,
        )
        for action, color in (
            ("accept", "success"),
            ("reject", "danger"),
            ("dispatch", "primary"),
            ("advise", "primary"),
            ("verify", "default"),
        )
    }

    def say(text: str, kind: str = "info") -> None:
        message.object, message.alert_type, message.visible = text, kind, True

    def refresh(select: int | None = None) -> None:
        rows = S.strategy_rows(app.store.strategies(app.park.id))
        frame = pd.DataFrame(rows)
        if len(frame):
            start = pd.to_datetime(frame["start"]).dt.tz_convert(app.park.timezone)
            frame["start"] = start.dt.date
            for col in ("cost_cny", "saving_cny"):
                frame[col] = frame[col].map(lambda v: None if v is None else round(float(v)))
        table.value = frame
        pick.options = {f"{r['id']} · {r['status']} · {r['title']}": r["id"] for r in rows}
        if select is not None:
            pick.value = select
        elif rows and pick.value not in [r["id"] for r in rows]:
            pick.value = rows[0]["id"]
        show()

    def show(*_e: object) -> None:
        detail.clear()
        if pick.value is None:
            detail.append(pn.pane.Markdown(t(session, "strat.none")))
            return
        s = app.store.strategy(int(pick.value))
        lang = session.lang if session.lang in ("en", "zh") else "en"
        parts: list[Any] = [
            pn.pane.Markdown(
                "### " + t(session, "strat.head", id=s["id"], title=s["title"], status=s["status"])
            ),
            pn.pane.Markdown(
                "\n".join(f"- {r}" for r in (s.get("reasons") or {}).get(lang, [])),
                name="strategy-reasons",
            ),
            f"#### {t(session, 'strat.figures')}",
            _figures(session, s),
        ]
        if s.get("measured"):
            m = s["measured"]
            parts.append(
                pn.pane.Markdown(
                    t(
                        session,
                        "strat.measured",
                        kwh=fmt(m["import_kwh"], session.lang),
                        peak=fmt(m["peak_kw"], session.lang),
                        t=fmt(m["emissions_tco2e"], session.lang, 2),
                    )
                )
            )
        parts += [f"#### {t(session, 'strat.chart')}", _chart(app, session, s)]
        detail.extend(parts)

    def on_propose(_e: object) -> None:
        try:
            s = S.propose_day_ahead(
                app.store, app.park, day.value, actor=who.name, mode=mode.value,
                client="dashboard",
            )  # fmt: skip
        except ValidationError as exc:
            say(str(exc), "warning")
            return
        say(t(session, "strat.proposed", id=s["id"]), "success")
        refresh(s["id"])

    def act(action: str) -> None:
        if pick.value is None:
            return
        sid = int(pick.value)
        try:
            if action in ("accept", "reject"):
                s = S.decide(
                    app.store, sid, accept=action == "accept", actor=who.name,
                    comment=comment.value or "", client="dashboard",
                )  # fmt: skip
            elif action == "dispatch":
                now = app.clock().to_pydatetime() if app.clock else None
                s = S.dispatch(app.store, app.park, sid, actor=who.name, now=now)
            elif action == "advise":
                s = S.advise(app.store, sid, actor=who.name, client="dashboard")
            else:
                now = app.clock().to_pydatetime() if app.clock else None
                s = S.verify(app.store, app.park, sid, actor=who.name, now=now)
        except (ValidationError, ConsistencyError) as exc:
            say(str(exc), "warning")
            return
        say(t(session, "strat.done", id=sid, status=s["status"]), "success")
        comment.value = ""
        refresh(sid)

    propose.on_click(on_propose)
    for action, button in buttons.items():
        button.on_click(lambda _e, a=action: act(a))
    pick.param.watch(show, "value")
    refresh()
    return pn.Column(
        f"## {t(session, 'nav.strategies')}",
        pn.Row(day, mode, propose),
        message,
        f"#### {t(session, 'strat.list')}",
        table,
        pick,
        pn.Row(comment, pn.Column(*buttons.values())),
        detail,
        name="strategies-page",
    )
