"""API sync: a scheduled pull from a real local HTTP server, resumable and idempotent."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from carbontwin.connectors.errors import ConnectorError
from carbontwin.connectors.http import RestPuller

PAGES = [
    [{"point": "P1", "ts": 1000 * k, "value": float(k), "q": 0} for k in range(i, i + 5)]
    for i in range(0, 15, 5)
]


@pytest.fixture
def source():
    state = {"fail": False, "auth": []}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            state["auth"].append(self.headers.get("Authorization"))
            if state["fail"]:
                self.send_response(503)
                self.end_headers()
                return
            after = parse_qs(urlparse(self.path).query).get("after", ["-1"])[0]
            page = int(after) + 1
            body = {
                "readings": PAGES[page] if page < len(PAGES) else [],
                "next": str(page) if page < len(PAGES) else after,
            }
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/readings", state
    server.shutdown()


def test_pull_all_pages_then_nothing_new_and_resume(source):
    url, state = source
    got = []
    puller = RestPuller(url, got.extend, token="t0k")
    assert puller.pull() == 15 and puller.cursor == "2"
    assert puller.pull() == 0  # nothing new
    assert state["auth"][0] == "Bearer t0k"
    resumed = RestPuller(url, got.extend, cursor="0")  # restart after the first page
    assert resumed.pull() == 10
    assert len({(r["point"], r["ts"]) for r in got}) == 15


def test_a_failing_source_keeps_the_cursor(source):
    url, state = source
    puller = RestPuller(url, lambda rows: None, cursor="0")
    state["fail"] = True
    with pytest.raises(ConnectorError, match="answered 503"):
        puller.pull()
    assert puller.cursor == "0"
    errors = []
    puller.run(0.0, on_error=errors.append, cycles=2)
    assert len(errors) == 2
    state["fail"] = False
    assert puller.pull() == 10


def test_unreachable_and_bad_bodies():
    with pytest.raises(ConnectorError, match="unreachable"):
        RestPuller("http://127.0.0.1:9/none", lambda rows: None, timeout_s=0.5).pull()
