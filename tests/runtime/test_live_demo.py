"""The live demo park: readings published over MQTT at accelerated time reach the store,
the live twin, the API and the dashboard."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import httpx2
import pandas as pd
from typer.testing import CliRunner

from carbontwin.cli import app
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.live_demo import LiveClock, VirtualPark, run_live
from carbontwin.store import Store

PARK = resolve_park("demo")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_virtual_park_releases_each_reading_once_when_its_time_comes():
    clock = LiveClock(pd.Timestamp("2026-12-01 04:00", tz="UTC"), speed=3600.0)
    park = VirtualPark(PARK, clock)
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 1.2
    while time.monotonic() < deadline:
        for _gateway, metrics in park.due():
            seen.extend((m.point, m.ts_ms) for m in metrics)
        time.sleep(0.1)
    assert len(seen) == len(set(seen)) > 100
    start_ms = int(clock.start.value // 1_000_000)
    assert min(t for _, t in seen) > start_ms
    assert max(t for _, t in seen) <= int(clock.now().value // 1_000_000)


def test_a_register_carries_on_across_midnight_and_the_start_backfills_the_day():
    # 23:50 in the park's zone, an hour of virtual time per second: the replay crosses into
    # the next day, whose simulated registers start lower; the live ones must not.
    clock = LiveClock(pd.Timestamp("2026-12-01 15:50", tz="UTC"), speed=3600.0)
    midnight = pd.Timestamp("2026-12-01", tz=PARK.timezone)
    park = VirtualPark(PARK, clock, since=midnight)
    seen: list[tuple[int, float]] = []
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        for _gateway, metrics in park.due():
            seen.extend((m.ts_ms, m.value) for m in metrics if m.point == "P-E03-ELEC")
        time.sleep(0.1)
    seen.sort()
    # The backfill starts at local midnight: a reading every 15 min of the day so far.
    assert seen[0][0] == int(midnight.value // 1_000_000) + 15 * 60_000
    cut = int(pd.Timestamp("2026-12-02", tz=PARK.timezone).value // 1_000_000)
    before = [v for t, v in seen if t < cut][-3:]
    after = [v for t, v in seen if t >= cut][:3]
    assert len(before) == 3 and len(after) == 3
    assert sorted(after)[1] >= sorted(before)[1]


def test_run_live_lands_readings_through_mosquitto(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'ct.db'}")
    seen = []
    summary = run_live(store, PARK, speed=1800, seconds=4, on_tick=seen.append)
    assert summary.via_mqtt and summary.published > 0
    # The Modbus points (P-E03-ELEC, P-E04-ELEC) come through the poller, not MQTT.
    assert summary.polled > 0
    assert store.readings("P-E03-ELEC", 0, 2**62)
    # Every reading lands or is quarantined (the twin's meters inject spikes on purpose).
    assert summary.stored + summary.quarantined == summary.published + summary.polled
    assert summary.quarantined <= 0.01 * summary.published
    assert store.verify_integrity().ok
    store.close()


def test_demo_live_serves_the_api_and_the_dashboard(tmp_path, monkeypatch):
    monkeypatch.setenv("CARBONTWIN_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    api_port, web_port = _free_port(), _free_port()
    answers: dict[str, int] = {}

    def probe() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(answers) < 2:
            for name, address in (
                ("api", f"http://127.0.0.1:{api_port}/api/v1/health"),
                ("web", f"http://127.0.0.1:{web_port}/"),
            ):
                with contextlib.suppress(httpx2.TransportError):
                    answers[name] = httpx2.get(address, timeout=1).status_code
            time.sleep(0.3)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    res = CliRunner().invoke(
        app,
        [
            "demo",
            "--days",
            "1",
            "--store",
            url,
            "--live",
            "--speed",
            "600",
            "--seconds",
            "8",
            "--api-port",
            str(api_port),
            "--dashboard-port",
            str(web_port),
        ],
    )
    thread.join(timeout=5)
    assert res.exit_code == 0, res.output
    assert "Live park at 600× real time" in res.stdout and "Live run ended" in res.stdout
    assert answers == {"api": 200, "web": 200}
