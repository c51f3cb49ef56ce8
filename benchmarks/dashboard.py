"""The dashboard's first paint and page times in a real headless browser.

The dashboard is served by Panel's server on a store with a month of the demo park's
simulated history and its stored inventory; Debian's chromium (``CARBONTWIN_CHROMIUM``, else
``chromium`` on ``PATH``) opens it in a fresh context per sample, the way a new visitor
does. The reference is a trivial Panel app (one Markdown pane) on the same server kind in
the same run: what Panel and Bokeh cost before any of ours.

Figures (medians of the samples): ``first_paint_s`` (the browser's first contentful paint
of the dashboard), ``sign_in_form_s`` (navigation start to the sign-in form visible),
``overview_s`` (from the click on "Sign in" to the carbon overview with its ranking shown),
``trivial_first_paint_s`` and ``vs_trivial`` (first paint against the trivial app's).
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from benchmarks._common import Outcome, small_requested

NAME = "dashboard"
TARGETS = {"first_paint_s": "< 2", "sign_in_form_s": "< 2"}
UNITS = {
    "first_paint_s": "s",
    "sign_in_form_s": "s",
    "overview_s": "s",
    "trivial_first_paint_s": "s",
}
PASSWORD = "Bench-Carbon-2025"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]


def _chromium() -> str:
    path = os.environ.get("CARBONTWIN_CHROMIUM") or shutil.which("chromium")
    if not path:
        msg = "the dashboard benchmark needs chromium: apt-get install -y chromium"
        raise RuntimeError(msg)
    return path


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _first_paint(page: object) -> float:
    # The paint entry is buffered: an observer gets it even after the fact.
    value = page.evaluate(
        """() => new Promise((resolve, reject) => {
            new PerformanceObserver((list) => {
                const e = list.getEntriesByName('first-contentful-paint')[0];
                if (e) resolve(e.startTime);
            }).observe({type: 'paint', buffered: true});
            setTimeout(() => reject(new Error('no first-contentful-paint')), 10000);
        })"""
    )
    return float(value) / 1000.0


def _wait_up(port: int) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    msg = f"the server on port {port} did not answer"
    raise RuntimeError(msg)


def run(*, small: bool | None = None, out_dir: Path | str | None = None) -> Outcome:
    """Run the benchmark, write its result document and return the outcome."""
    import panel as pn
    from playwright.sync_api import expect, sync_playwright

    from carbontwin.dashboard import Dashboard
    from carbontwin.dashboard import serve as serve_dashboard
    from carbontwin.runtime import integrity
    from carbontwin.runtime import simulate as sim
    from carbontwin.runtime.accounting import resolve_park
    from carbontwin.runtime.auth import Authenticator, AuthSettings, fast_hasher
    from carbontwin.store import Store

    small = small_requested() if small is None else small
    samples = 3 if small else 7
    days = 2 if small else 31
    park = resolve_park("demo")
    directory = Path(tempfile.mkdtemp(prefix="carbontwin-bench-dash-"))
    store = Store.open(f"sqlite:///{directory / 'ct.db'}")
    sim.simulate_to_store(store, park, "2025-01-01", days)
    integrity.save_inventory(store, park, "2025-01", actor="bench")
    auth = Authenticator(store, AuthSettings(secret="b" * 40, hasher=fast_hasher()))
    auth.add_user("manager", "park_manager", password=PASSWORD, actor="bench", park_id=park.id)
    board_port, trivial_port = _free_port(), _free_port()
    board = serve_dashboard(Dashboard(store, park, auth), port=board_port, threaded=True)
    trivial = pn.serve(
        {"/": lambda: pn.pane.Markdown("# ready")},
        port=trivial_port,
        address="127.0.0.1",
        show=False,
        threaded=True,
        start=True,
        websocket_origin="*",
    )
    paints, forms, overviews, trivial_paints = [], [], [], []
    try:
        _wait_up(board_port)
        _wait_up(trivial_port)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS
            )
            for i in range(samples + 1):  # the first of each is a warm-up
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                t0 = time.perf_counter()
                page.goto(f"http://127.0.0.1:{board_port}/")
                expect(page.get_by_label("User name")).to_be_visible(timeout=30_000)
                form = time.perf_counter() - t0
                paint = _first_paint(page)
                page.get_by_label("User name").fill("manager")
                page.get_by_label("Password").fill(PASSWORD)
                t1 = time.perf_counter()
                page.get_by_role("button", name="Sign in").click()
                expect(page.get_by_text("Enterprise ranking")).to_be_visible(timeout=30_000)
                overview = time.perf_counter() - t1
                context.close()
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{trivial_port}/")
                expect(page.get_by_text("ready")).to_be_visible(timeout=30_000)
                trivial_paint = _first_paint(page)
                context.close()
                if i:
                    paints.append(paint)
                    forms.append(form)
                    overviews.append(overview)
                    trivial_paints.append(trivial_paint)
            browser.close()
    finally:
        stopper = threading.Thread(target=lambda: (board.stop(), trivial.stop()), daemon=True)
        stopper.start()
        stopper.join(timeout=10)
        store.close()
        shutil.rmtree(directory, ignore_errors=True)
    paint, trivial_paint = statistics.median(paints), statistics.median(trivial_paints)
    outcome = Outcome(
        name=NAME,
        figures={
            "first_paint_s": paint,
            "sign_in_form_s": statistics.median(forms),
            "overview_s": statistics.median(overviews),
            "trivial_first_paint_s": trivial_paint,
            "vs_trivial": paint / trivial_paint,
        },
        targets=dict(TARGETS),
        references={
            "first_paint_s": f"trivial Panel app {trivial_paint:.3f} s",
            "sign_in_form_s": "navigation start to the sign-in form visible",
            "overview_s": "click on Sign in to the ranking shown",
            "trivial_first_paint_s": "one Markdown pane, same server kind",
            "vs_trivial": "trivial app = 1",
        },
        units=UNITS,
        notes=[
            f"median of {samples} fresh browser contexts after one warm-up; headless chromium "
            f"and the server on the same machine; {days} days of history, one stored month"
        ],
    )
    outcome.write(out_dir, stem=f"{NAME}-small" if small else NAME)
    return outcome
