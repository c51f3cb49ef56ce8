"""Scenarios: compare the park's carbon-peak scenarios, and choose reduction measures.

A planner runs the park's study (its base year from the stored accounting) with a number of
Monte Carlo draws and sees each scenario's net emissions, the distribution of its peak
year, the peak figures and what moves the peak, in plain words; below, the marginal
abatement cost curve and a least-cost portfolio for a target and a budget
(``scenarios.run``).
"""

from __future__ import annotations

from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn

from carbontwin.core.errors import SolverError, ValidationError
from carbontwin.dashboard.base import ACCENT, Dashboard, Session, t
from carbontwin.dashboard.labels import fmt
from carbontwin.runtime import reduction
from carbontwin.runtime.scenarios import run_study

__all__ = ["scenarios_page"]

_COLORS = ["#888888", ACCENT, "#2ca02c", "#d62728", "#9467bd"]


def _study_view(app: Dashboard, session: Session, draws: int, by: int) -> pn.viewable.Viewable:
    try:
        run = run_study(app.store, app.park, draws=draws, by_year=by, sensitivity=True)
    except ValidationError as exc:
        return pn.pane.Alert(str(exc), alert_type="warning")
    d = run.to_dict()
    years = d["years"]
    curves = []
    for i, (name, tr) in enumerate(d["trajectories"].items()):
        frame = pd.DataFrame({"year": years, "tco2e": tr["net_emissions_tco2e"]})
        curves.append(
            hv.Curve(frame, "year", "tco2e", label=name).opts(
                color=_COLORS[i % len(_COLORS)], line_width=2
            )
        )
    lines = hv.Overlay(curves).opts(
        height=320,
        width=820,
        ylabel="t CO2e",
        xlabel="",
        legend_position="top_right",
        title=t(session, "scen.trajectories"),
    )
    bars = []
    for i, (name, pmf) in enumerate(d["peak_year_pmf"].items()):
        frame = pd.DataFrame({"year": [int(y) for y in pmf], "share": list(pmf.values())})
        bars.append(
            hv.Bars(frame, "year", "share", label=name).opts(
                color=_COLORS[i % len(_COLORS)], alpha=0.6
            )
        )
    summary = pd.DataFrame(
        [
            {
                "": row["scenario"],
                t(session, "scen.col.peak_year"): str(row["peak_year"]),
                t(session, "scen.col.peak_tco2e"): fmt(row["peak_tco2e"], session.lang),
                t(session, "scen.col.p_peak_by", by=by): (
                    f"{100 * row['p_peak_by']:.0f} %" if "p_peak_by" in row else "—"
                ),
            }
            for row in d["summary"]
        ]
    )
    lang = session.lang if session.lang in ("en", "zh") else "en"
    words = "\n".join(
        f"**{s}**\n" + "\n".join(f"- {line}" for line in w.get(lang, []))
        for s, w in d["suggestions"].items()
    )
    base = t(session, f"scen.base.{run.base_source}")
    parts: list[Any] = [
        pn.pane.Markdown(t(session, "scen.base", source=base) + "  \n" + " ".join(run.notes)),
        pn.pane.HoloViews(lines, name="scenario-chart"),
        f"#### {t(session, 'scen.summary')}",
        pn.widgets.Tabulator(summary, show_index=False, disabled=True, name="scenario-summary"),
    ]
    if bars:
        pmf = hv.Overlay(bars).opts(
            height=240, width=820, xlabel="", ylabel="", title=t(session, "scen.pmf")
        )
        parts.append(pn.pane.HoloViews(pmf))
    parts += [f"#### {t(session, 'scen.suggestions')}", pn.pane.Markdown(words)]
    return pn.Column(*parts)


def _reduction(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    try:
        curve = pd.DataFrame(reduction.macc(app.park))
    except ValidationError as exc:
        return pn.pane.Alert(str(exc), alert_type="info")
    name = "name_zh" if session.lang == "zh" else "name"
    curve = curve[curve["cost_cny_per_tco2e"].notna()]
    macc = hv.Bars(curve, "id", "cost_cny_per_tco2e").opts(
        height=300,
        width=820,
        xrotation=60,
        color=ACCENT,
        xlabel="",
        ylabel="CNY/t CO2e",
        title=t(session, "red.macc"),
        tools=["hover"],
    )
    target = pn.widgets.FloatInput(label=t(session, "red.target"), value=150_000, start=0)
    budget = pn.widgets.FloatInput(label=t(session, "red.budget"), value=2e8, start=0)
    year = pn.widgets.IntInput(label=t(session, "red.year"), value=2026, start=2000, end=2100)
    go = pn.widgets.Button(label=t(session, "red.choose"), color="primary")
    out = pn.Column()

    def choose(_e: object) -> None:
        out.clear()
        try:
            r = reduction.portfolio(
                app.park,
                target_tco2e_per_yr=target.value or None,
                budget_cny=budget.value or None,
                year=year.value,
            )
        except (ValidationError, SolverError) as exc:
            out.append(pn.pane.Alert(str(exc), alert_type="warning"))
            return
        chosen = pd.DataFrame(r["chosen"])[
            ["id", name, "units", "abatement_tco2e_per_yr", "capex_cny", "cost_cny_per_tco2e"]
        ]
        lang = session.lang if session.lang in ("en", "zh") else "en"
        out.extend(
            [
                f"#### {t(session, 'red.chosen')}",
                pn.widgets.Tabulator(chosen, show_index=False, disabled=True, name="portfolio"),
                pn.pane.Markdown("\n".join(f"- {s}" for s in r["suggestions"][lang])),
            ]
        )

    go.on_click(choose)
    return pn.Column(
        f"### {t(session, 'red.title')}",
        pn.pane.HoloViews(macc, name="macc-chart"),
        pn.Row(target, budget, year, go),
        out,
    )


def scenarios_page(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Compare the park's scenarios and choose reduction measures."""
    who = session.principal
    assert who is not None
    who.require("scenarios.run")
    draws = pn.widgets.IntInput(
        label=t(session, "scen.draws"), value=2000, start=0, end=50_000, step=1000
    )
    by = pn.widgets.IntInput(label=t(session, "scen.by"), value=2030, start=2026, end=2060)
    run = pn.widgets.Button(label=t(session, "scen.run"), color="primary")
    body = pn.Column(_study_view(app, session, draws.value, by.value))

    def again(_e: object) -> None:
        body.clear()
        body.append(_study_view(app, session, draws.value, by.value))

    run.on_click(again)
    return pn.Column(
        f"## {t(session, 'nav.scenarios')}",
        pn.Row(draws, by, run),
        body,
        _reduction(app, session),
        name="scenarios-page",
    )
