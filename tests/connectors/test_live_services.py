"""The live ingestion services end to end: a real broker and a real HTTP source."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
from typer.testing import CliRunner

from carbontwin.cli import app
from carbontwin.connectors.mqtt import Metric, Publisher
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.live import listen_mqtt, pull_rest
from carbontwin.store import Store


def recent_ms(k):
    start = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=2)).floor("15min")
    return int((start + pd.Timedelta(minutes=15 * k)).value // 1_000_000)


def test_listen_mqtt_ingests_what_a_gateway_publishes(broker, tmp_path):
    park = resolve_park("demo")
    store = Store.open(f"sqlite:///{tmp_path / 'l.db'}")
    metrics = [Metric("P-E03-ELEC", recent_ms(k), 1000.0 + 10.0 * k) for k in range(8)]  # 2 h
    stop = threading.Event()

    def publish():
        with Publisher(broker.settings("gw-z2"), park.id, "gw-z2", batch_size=10) as pub:
            pub.publish(metrics)
            pub.flush()

    started = []

    def progress(total):
        if not started:  # the subscription is confirmed: now the gateway publishes
            started.append(threading.Thread(target=publish, daemon=True))
            started[0].start()
        if total.received >= len(metrics):
            stop.set()

    total = listen_mqtt(
        store, park, broker.settings("ingest"), stop=stop, seconds=20, on_summary=progress
    )
    assert total.received == 8 and total.stored == 8 and total.balanced
    store.close()


def test_pull_rest_and_the_cli(tmp_path):
    pages = [
        [
            {"point": "P-E04-ELEC", "ts": recent_ms(k), "value": 50.0 + k, "q": 0}
            for k in range(i, i + 3)
        ]
        for i in (0, 3)
    ]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            after = int(self.path.partition("after=")[2] or -1)
            page = after + 1
            body = {
                "readings": pages[page] if page < len(pages) else [],
                "next": str(page if page < len(pages) else after),
            }
            data = json.dumps(body).encode()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/readings"
    try:
        store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
        total, cursor = pull_rest(store, resolve_park("demo"), url)
        assert (total.received, total.stored, cursor) == (6, 6, "1")
        again, _ = pull_rest(store, resolve_park("demo"), url)
        assert again.stored == 0 and again.duplicate == 6
        store.close()
        res = CliRunner().invoke(
            app, ["pull", url, "--cursor", "0", "--store", f"sqlite:///{tmp_path / 'c.db'}"]
        )
        assert res.exit_code == 0, res.output
        assert "3 stored" in res.stdout and "cursor 1" in res.stdout
    finally:
        server.shutdown()
