"""Fixtures of the dashboard's end-to-end tests: Debian's chromium driven by Playwright.

``browser`` is one headless chromium per test module, started from the system binary
(``CARBONTWIN_CHROMIUM``, else ``chromium`` on ``PATH``); Playwright's own browser builds
are never used. Not one per session: while sync Playwright is alive it leaves its event
loop marked as running in the main thread, and later ``asyncio`` code there refuses to
start ("Cannot run the event loop while another loop is running"); so keep browser tests
in modules of their own.

``page`` is a fresh context and page per test, 1400×900, in the locale of the
``browser_locale`` fixture (``CARBONTWIN_BROWSER_LOCALE``, else ``en-US``; parametrize
``browser_locale`` to run a test in several). ``shot(page, name)`` saves a full-page PNG
under ``screenshots/`` (ignored by git) and returns its path.

``serving(target)`` runs an app on a free local port for the duration of a ``with``
block and gives its base URL: an ASGI app (served by uvicorn in a thread), or a callable
``start(port)`` that starts a server there and returns an object with ``stop()``, such as
``panel_server(app)``, which serves a Panel object or function with ``panel.serve``.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM_ENV = "CARBONTWIN_CHROMIUM"
LOCALE_ENV = "CARBONTWIN_BROWSER_LOCALE"
SCREENSHOTS = Path(__file__).parent / "screenshots"
VIEWPORT = {"width": 1400, "height": 900}
HOST = "127.0.0.1"
#: Seconds to wait for a served app to answer on its port.
START_TIMEOUT_S = 30.0
#: Milliseconds Playwright waits for an element or a navigation before failing.
PAGE_TIMEOUT_MS = 15_000
#: Root runs chromium without its sandbox; /dev/shm may be small in containers.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]

INSTALL_HINT = (
    "install Debian's chromium with `apt-get install -y chromium` (`.ci/run` and "
    f"`make test` do this where apt exists), or point {CHROMIUM_ENV} at a chromium binary"
)


def chromium_path() -> str:
    """The chromium binary the tests use; fails the test, naming the fix, if none."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        path = shutil.which(configured)
        if path is None:
            pytest.fail(f"{CHROMIUM_ENV}(={configured!r}) is not an executable; {INSTALL_HINT}")
        return path
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(f"no chromium on PATH for the dashboard tests; {INSTALL_HINT}")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless chromium for the module (a ``playwright.sync_api.Browser``)."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed; run `pip install -e '.[dev]'` or `make test`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def browser_locale() -> str:
    """The page's locale (BCP 47); override or parametrize this fixture to change it."""
    return os.environ.get(LOCALE_ENV, "en-US")


@pytest.fixture
def page(browser: object, browser_locale: str) -> Iterator[object]:
    """A fresh context and page per test (a ``playwright.sync_api.Page``), 1400×900."""
    context = browser.new_context(viewport=VIEWPORT, locale=browser_locale)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def shot(page: object, name: str) -> Path:
    """Save a full-page PNG of ``page`` as ``screenshots/<name>.png`` and return its path."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "page"
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{stem}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def free_port() -> int:
    """A TCP port on the loopback address that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def _wait_until_up(port: int, alive: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers(port):
        if not alive():
            pytest.fail(f"{what} stopped before answering on port {port}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer on port {port} within {START_TIMEOUT_S} s")
        time.sleep(0.05)


def is_asgi(target: object) -> bool:
    """Whether ``target`` is an ASGI app (an async callable), not a server starter."""
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(type(target).__call__)


@contextlib.contextmanager
def serving(target: object, *, port: int | None = None) -> Iterator[str]:
    """Serve ``target`` on ``port`` (free one if None) and yield ``http://127.0.0.1:<port>``.

    ``target`` is an ASGI app, run by uvicorn in a daemon thread, or a callable
    ``start(port)`` that starts a server on that port of 127.0.0.1 and returns an object
    with ``stop()`` (see ``panel_server``). Waits until the port answers; stops the
    server when the block ends.
    """
    port = free_port() if port is None else port
    if is_asgi(target):
        import uvicorn

        server = uvicorn.Server(
            uvicorn.Config(target, host=HOST, port=port, log_level="warning", lifespan="auto")
        )
        thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
        thread.start()
        try:
            _wait_until_up(port, thread.is_alive, f"uvicorn serving {target!r}")
            yield f"http://{HOST}:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)
        return
    server = target(port)
    try:
        alive = getattr(server, "is_alive", lambda: True)
        _wait_until_up(port, alive, f"the server started by {target!r}")
        yield f"http://{HOST}:{port}"
    finally:
        server.stop()
        join = getattr(server, "join", None)
        if join is not None:
            join(timeout=10)


def panel_server(panels: object, **options: object) -> Callable[[int], object]:
    """A starter for ``serving``: ``panel.serve(panels)`` in a thread on a given port.

    ``panels`` is what ``panel.serve`` takes (a Panel object, a function returning one,
    or a dict of URL slug to either); a function gives each browser session its own
    objects. ``options`` go to ``panel.serve``.
    """

    def start(port: int) -> object:
        import panel as pn

        return pn.serve(
            panels,
            port=port,
            address=HOST,
            websocket_origin=[f"{HOST}:{port}", f"localhost:{port}"],
            threaded=True,
            start=True,
            show=False,
            verbose=False,
            **options,
        )

    return start
