"""What every page of the dashboard shares: the application, the session, labels.

Pages are functions of (:class:`Dashboard`, :class:`Session`) returning a Panel object, so
they can be built and checked without a browser.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import panel as pn

from carbontwin.core.park import Park
from carbontwin.dashboard.labels import label
from carbontwin.runtime import overview as ov
from carbontwin.runtime.access import Principal
from carbontwin.runtime.auth import Authenticator
from carbontwin.runtime.live_account import LiveAccount, LiveDay
from carbontwin.store import Store
from carbontwin.twin.state import TwinState

__all__ = ["ACCENT", "Dashboard", "Session", "t"]

ACCENT = "#2e7d32"


@dataclass
class Dashboard:
    """What every session of the dashboard shares: the store, park, accounts, live state."""

    store: Store
    park: Park
    auth: Authenticator
    state: TwinState | None = None
    clock: Callable[[], pd.Timestamp] | None = None
    answers: ov.Answers = field(init=False)
    live: LiveAccount = field(init=False)

    def __post_init__(self) -> None:
        park_id = self.park.id
        self.answers = ov.Answers(lambda: ov.inventory_revision(self.store, park_id))
        self.live = LiveAccount(self.store, self.park, self.clock)

    def live_day(self) -> LiveDay:
        """Return today's metered emissions so far (shared by all sessions for 2 s)."""
        self.live.park = self.park
        return self.live.get()

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
    callbacks: list[Any] = field(default_factory=list)

    def every(self, seconds: float, refresh: Callable[[], None]) -> None:
        """Call ``refresh`` every ``seconds`` while the page is shown (in a served session)."""
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            self.callbacks.append(pn.state.add_periodic_callback(refresh, int(seconds * 1000)))

    def stop(self) -> None:
        """Stop the shown page's periodic refreshes."""
        for cb in self.callbacks:
            cb.stop()
        self.callbacks.clear()


def t(session: Session, key: str, **values: object) -> str:
    """Return the label ``key`` in the session's language."""
    return label(key, session.lang, **values)
