"""The Panel dashboard: sign-in with the platform's accounts, and the pages each role sees.

:func:`dashboard` returns the function Panel calls for each browser session; it signs the
user in through :class:`carbontwin.runtime.auth.Authenticator` (the API's users, roles and
lockout), and every page asks :mod:`carbontwin.runtime.access` what the user may see, so
an emission unit's pages hold only its own enterprise. Pages live in
:mod:`carbontwin.dashboard.pages`, one module each. Serve it with :func:`serve`
(``carbontwin dashboard``, or ``carbontwin demo --live`` on the live park).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn

from carbontwin.dashboard.base import ACCENT, Dashboard, Session, t
from carbontwin.dashboard.labels import label
from carbontwin.dashboard.pages.accounting import accounting_page
from carbontwin.dashboard.pages.entry import entry_page
from carbontwin.dashboard.pages.forecast import forecast_page
from carbontwin.dashboard.pages.overview import overview_page
from carbontwin.dashboard.pages.park import park_page
from carbontwin.dashboard.pages.scenarios import scenarios_page
from carbontwin.dashboard.pages.strategies import strategies_page
from carbontwin.dashboard.pages.twin import twin_page
from carbontwin.runtime.access import ROLE_LABELS, AccessDenied
from carbontwin.runtime.auth import AuthError

__all__ = ["PAGES", "Dashboard", "Session", "dashboard", "serve"]


#: The pages in navigation order: (key, label key, builder or ``None`` for a later page).
PAGES: list[tuple[str, Callable[[Dashboard, Session], pn.viewable.Viewable] | None]] = [
    ("park", park_page),
    ("overview", overview_page),
    ("accounting", accounting_page),
    ("twin", twin_page),
    ("forecast", forecast_page),
    ("entry", entry_page),
    ("strategies", strategies_page),
    ("scenarios", scenarios_page),
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
            title=label("app.header"),
            accent=ACCENT,
            sidebar=[status, nav],
            main=[main],
        )

        def show(key: str) -> None:
            builder = dict(PAGES)[key]
            session.stop()
            main.clear()
            try:
                main.append(builder(app, session))
            except AccessDenied:
                main.append(pn.pane.Alert(t(session, "denied"), alert_type="warning"))

        def navigation() -> None:
            nav.clear()
            who = session.principal
            if who is None:
                return
            for key, builder in PAGES:
                if builder is None:
                    nav.append(
                        pn.pane.Markdown(
                            f"<span style='color:#999'>{t(session, f'nav.{key}')} — "
                            f"{t(session, 'nav.later')}</span>"
                        )
                    )
                    continue
                button = pn.widgets.Button(label=t(session, f"nav.{key}"), color="light", width=220)
                button.on_click(lambda _e, k=key: show(k))
                nav.append(button)
            lang = pn.widgets.Button(label=t(session, "lang"), color="default", width=220)
            lang.on_click(lambda _e: switch_language())
            out = pn.widgets.Button(label=t(session, "logout"), color="warning", width=220)
            out.on_click(lambda _e: sign_out())
            nav.extend([lang, out])

        def switch_language() -> None:
            session.lang = "zh" if session.lang == "en" else "en"
            signed_in()
            show("overview")

        def sign_out() -> None:
            session.stop()
            session.principal = None
            status.object = ""
            navigation()
            login()

        def signed_in() -> None:
            who = session.principal
            assert who is not None
            role = ROLE_LABELS[who.role][1 if session.lang == "zh" else 0]
            status.object = t(session, "login.signed_in", user=who.name, role=role)
            navigation()

        def login() -> None:
            user = pn.widgets.TextInput(label=t(session, "login.user"))
            password = pn.widgets.PasswordInput(label=t(session, "login.password"))
            button = pn.widgets.Button(label=t(session, "login.submit"), color="primary")
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
                    f"## {t(session, 'login.title')}", user, password, button, error, width=360
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
