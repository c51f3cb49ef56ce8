"""What every page of the dashboard shares: the application, the session, labels.

Pages are functions of (:class:`Dashboard`, :class:`Session`) returning a Panel object, so
they can be built and checked without a browser.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from carbontwin.core.park import Park
from carbontwin.dashboard.labels import label
from carbontwin.runtime import overview as ov
from carbontwin.runtime.access import Principal
from carbontwin.runtime.auth import Authenticator
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


def t(session: Session, key: str, **values: object) -> str:
    """Return the label ``key`` in the session's language."""
    return label(key, session.lang, **values)
