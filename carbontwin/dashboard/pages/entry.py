"""Data entry for emission units: manual activity rows, checked like every import."""

from __future__ import annotations

import datetime as dt

import panel as pn

from carbontwin.dashboard.base import Dashboard, Session, t
from carbontwin.runtime import push
from carbontwin.runtime.access import visible_sources

__all__ = ["entry_page"]


def entry_page(app: Dashboard, session: Session) -> pn.viewable.Viewable:
    """Build data entry: manual activity rows, checked by the rules of every import."""
    who = session.principal
    assert who is not None
    who.require("entries.write")
    sources = visible_sources(who, app.park)
    source = pn.widgets.Select(label=t(session, "entry.source"), options=sources)
    today = dt.date.today()
    first = today.replace(day=1)
    start = pn.widgets.DatePicker(label=t(session, "entry.start"), value=first)
    end = pn.widgets.DatePicker(label=t(session, "entry.end"), value=today)
    quantity = pn.widgets.TextInput(label=t(session, "entry.quantity"), value="")
    unit = pn.widgets.TextInput(label=t(session, "entry.unit"), value="t")
    ref = pn.widgets.TextInput(label=t(session, "entry.ref"), value="")
    submit = pn.widgets.Button(label=t(session, "entry.submit"), color="primary")
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
                    t(session, "entry.landed", n=len(result.landed)), alert_type="success"
                )
            )
        for q in result.quarantined:
            messages.append(
                pn.pane.Alert(t(session, "entry.quarantined", reason=q.reason), alert_type="danger")
            )

    submit.on_click(send)
    return pn.Column(
        f"## {t(session, 'entry.title')}",
        pn.Row(source, start, end),
        pn.Row(quantity, unit, ref),
        submit,
        messages,
        name="entry",
    )
