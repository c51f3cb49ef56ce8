"""The browser stack end to end: apps served locally, driven in Debian's chromium."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import panel_server, serving, shot

#: The 1400×900 PNG of the rendered app is ~14 kB; that of a blank page ~6 kB.
MIN_SCREENSHOT_BYTES = 10_000


def click_counter() -> object:
    """A Markdown pane and a button that rewrites it, made anew for each browser session."""
    import panel as pn

    text = pn.pane.Markdown("Not clicked yet")
    button = pn.widgets.Button(label="Record reading")

    def on_click(event: object) -> None:
        text.object = f"Clicked {button.clicks} time(s)"

    button.on_click(on_click)
    return pn.Column("# Browser smoke test", button, text)


async def hello_asgi(scope, receive, send) -> None:
    """A bare ASGI app that answers every request with one HTML heading."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/html; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": b"<h1>carbontwin over ASGI</h1>"})


def test_panel_button_updates_text_in_chromium(page) -> None:
    from playwright.sync_api import expect

    with serving(panel_server(click_counter)) as url:
        page.goto(url)
        expect(page.get_by_text("Not clicked yet")).to_be_visible()
        page.get_by_role("button", name="Record reading").click()
        expect(page.get_by_text("Clicked 1 time(s)")).to_be_visible()
        path = shot(page, "smoke-panel-button")
    assert path.is_file()
    assert path.stat().st_size > MIN_SCREENSHOT_BYTES, path.stat().st_size


@pytest.mark.parametrize("browser_locale", ["en-US", "zh-CN"])
def test_asgi_app_is_served_to_chromium_in_the_locale(page, browser_locale) -> None:
    with serving(hello_asgi) as url:
        page.goto(url)
        assert page.locator("h1").inner_text() == "carbontwin over ASGI"
        assert page.evaluate("navigator.language") == browser_locale
