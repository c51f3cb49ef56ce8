"""Forecast: the park's electric demand of a day, day-ahead, its band against the actuals."""

from __future__ import annotations

import datetime as dt

import holoviews as hv
import hvplot.pandas  # noqa: F401  (registers .hvplot on DataFrames)
import pandas as pd
import panel as pn

from carbontwin.core.errors import ValidationError
from carbontwin.dashboard.base import ACCENT, Dashboard, Session, t
from carbontwin.dashboard.labels import fmt
from carbontwin.runtime.forecast import MODELS, forecast_day
from carbontwin.runtime.overview import inventory_revision

__all__ = ["forecast_page"]


def _default_day(app: Dashboard) -> dt.date:
    """Return the last day of the newest stored month (its actuals are there to compare)."""
    months = app.months()
    if not months:
        return dt.date.today()
    return pd.Period(months[0], freq="M").end_time.date()


def forecast_page(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Show the day-ahead forecast of the park's demand, its band, actuals and peak."""
    who = session.principal
    assert who is not None
    who.require("forecast.read")
    day = pn.widgets.DatePicker(label=t(session, "forecast.day"), value=_default_day(app))
    model = pn.widgets.Select(
        label=t(session, "forecast.model"),
        options={t(session, f"forecast.model.{m}"): m for m in MODELS},
        value="gbm",
    )
    contracted = pn.widgets.FloatInput(
        label=t(session, "forecast.contracted"), value=None, start=0, placeholder="kW"
    )

    def view(d: dt.date, m: str, c: float | None) -> pn.viewable.Viewable:
        try:
            f = forecast_day(
                app.store,
                app.park,
                d,
                model=m,
                contracted_kw=c or None,
                revision=inventory_revision(app.store, app.park.id),
            )
        except ValidationError as exc:
            return pn.pane.Alert(str(exc), alert_type="warning")
        frame = f.frame.assign(time=f.frame.index.tz_localize(None))
        band = hv.Area(frame, "time", ["q0.1", "q0.9"], label=t(session, "forecast.band")).opts(
            color=ACCENT, alpha=0.2, line_alpha=0
        )
        line = hv.Curve(frame, "time", "forecast", label=t(session, "forecast.forecast")).opts(
            color=ACCENT, line_width=2
        )
        plot = band * line
        if frame["actual"].notna().any():
            plot = plot * hv.Curve(
                frame, "time", "actual", label=t(session, "forecast.actual")
            ).opts(color="black", line_dash="dashed")
        plot = plot.opts(
            height=340,
            width=820,
            ylabel="kW",
            xlabel="",
            legend_position="top_left",
            title=t(session, "forecast.title", day=d.isoformat()),
        )
        peak = f.peak
        exceed = peak["p_exceed"]
        cards = pn.Row(
            pn.indicators.String(
                label=t(session, "forecast.peak") + " (kW)",
                value=fmt(peak["peak"], session.lang),
                css_classes=["forecast-peak"],
            ),
            pn.indicators.String(
                label=t(session, "forecast.peak_hour"), value=f"{int(peak['peak_hour']):02d}:00"
            ),
            pn.indicators.String(
                label=t(session, "forecast.p_exceed"),
                value="—" if exceed != exceed else f"{100 * exceed:.0f} %",
            ),
        )
        return pn.Column(cards, pn.pane.HoloViews(plot, name="forecast-chart"))

    return pn.Column(
        f"## {t(session, 'nav.forecast')}",
        pn.Row(day, model, contracted),
        pn.bind(view, day, model, contracted),
        name="forecast",
    )
