"""The collector end to end: a real Modbus gateway, a real HTTP platform, a broken link."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pandas as pd
import pytest
import uvicorn
from typer.testing import CliRunner

from carbontwin.api import create_app
from carbontwin.cli import app as cli_app
from carbontwin.connectors.http import BatchPusher
from carbontwin.connectors.modbus import VirtualGateway, register_map
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.collect import CollectorAgent, load_collect_config, modbus_readings
from carbontwin.store import Store

KEY = "6b2d67772d7a32"
PARK = resolve_park("demo")
POINTS = ("P-E03-ELEC", "P-E04-ELEC")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Platform:
    """The platform's API served by uvicorn in a thread; stopped and restarted on one port."""

    def __init__(self, store: Store) -> None:
        self.app = create_app(store, PARK, {"gw-z2": bytes.fromhex(KEY)})
        self.port = free_port()
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the platform did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(10)
        assert not self.thread.is_alive()


class Gateway:
    """The virtual Modbus gateway, on an event loop of its own thread."""

    def __init__(self) -> None:
        self.gw = VirtualGateway(register_map(PARK).values(), port=free_port())
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def close(self) -> None:
        self.run(self.gw.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def gateway():
    g = Gateway()
    g.run(g.gw.start())
    yield g
    g.close()


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'platform.db'}")
    yield s
    s.close()


def write_config(tmp_path, platform_url, gateway_port, **extra):
    doc = {
        "collector": "gw-z2",
        "key": KEY,
        "buffer": "gw-z2.queue",
        "capacity_readings": 10_000,
        "platform": platform_url,
        "park": "demo",
        "interval_s": 0,
        "gateways": {"gw-z2": f"127.0.0.1:{gateway_port}"},
        "timeout_s": 2,
        **extra,
    }
    path = tmp_path / "collector.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_every_polled_reading_lands_once_across_a_link_outage(tmp_path, gateway, store):
    platform = Platform(store)
    platform.start()
    config = load_collect_config(write_config(tmp_path, platform.url, gateway.gw.port))
    assert config.buffer == tmp_path / "gw-z2.queue"
    t0 = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=1)).floor("s")
    clock = iter(t0 + pd.Timedelta(seconds=k) for k in range(1000))
    expected: dict[str, list[tuple[int, float]]] = {p: [] for p in POINTS}
    reports = []
    with CollectorAgent(config, now=lambda: next(clock)) as agent:

        def cycle(k: int) -> None:
            # float32 registers: quarter steps are exact
            values = {"P-E03-ELEC": 1000.0 + 12.25 * k, "P-E04-ELEC": 500.0 + 3.5 * k}
            gateway.run(gateway.gw.update(values))
            report = agent.cycle()
            ts = int((t0 + pd.Timedelta(seconds=k)).value // 1_000_000)
            for p, v in values.items():
                expected[p].append((ts, v))
            reports.append(report)

        for k in range(3):  # link up: each batch is acknowledged at once
            cycle(k)
        assert [(r.polled, r.sent, r.held, r.link_up) for r in reports] == [(2, 1, 0, True)] * 3

        platform.stop()  # link down: batches stay in the buffer
        for k in range(3, 7):
            cycle(k)
        down = reports[3:]
        assert [(r.sent, r.held, r.link_up) for r in down] == [
            (0, 2, False),
            (0, 4, False),
            (0, 6, False),
            (0, 8, False),
        ]
        assert "unreachable" in down[-1].error

        platform.start()  # link back: the backlog goes out in order, then the new batch
        cycle(7)
        assert (reports[-1].sent, reports[-1].held, reports[-1].link_up) == (5, 0, True)
        assert reports[-1].error == ""
        cycle(8)
        assert (reports[-1].sent, reports[-1].held) == (1, 0)
    platform.stop()

    for p in POINTS:
        got = [(t, v) for t, v, _ in store.readings(p, 0, 2**62)]
        assert got == expected[p]  # every polled reading, exactly once, in order
    assert store.quarantined(PARK.id) == []


def test_the_batch_of_a_lost_acknowledgement_lands_once(tmp_path, gateway, store):
    """The platform commits a batch but its answer is lost: the resend is a duplicate."""
    platform = Platform(store)
    platform.start()
    config = load_collect_config(write_config(tmp_path, platform.url, gateway.gw.port))
    gateway.run(gateway.gw.update({"P-E03-ELEC": 10.0, "P-E04-ELEC": 20.0}))
    pusher = BatchPusher(platform.url)
    answers = []

    def lossy(doc):
        pusher(doc)
        answers.append(pusher.last_answer)
        if len(answers) == 1:
            raise OSError("connection reset before the answer arrived")

    t0 = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=1)).floor("s")
    clock = iter([t0, t0 + pd.Timedelta(seconds=1)])
    with CollectorAgent(config, now=lambda: next(clock), send=lossy) as agent:
        first = agent.cycle()
        assert (first.sent, first.held, first.link_up) == (0, 2, False)
        second = agent.cycle()  # the kept batch again, then the new one
        assert (second.sent, second.held, second.link_up) == (2, 0, True)
    platform.stop()
    assert [(a["seq"], a["stored"], a["duplicate"]) for a in answers] == [
        (1, 2, 0),
        (1, 0, 2),
        (2, 2, 0),
    ]
    assert len(store.readings("P-E03-ELEC", 0, 2**62)) == 2


def test_unavailable_readings_are_not_forwarded():
    frame = pd.DataFrame(
        {
            "point": ["A", "B"],
            "ts": [pd.Timestamp("2025-03-01", tz="UTC")] * 2,
            "value": [1.5, float("nan")],
            "quality": ["good", "unavailable"],
        }
    )
    readings, skipped = modbus_readings(frame)
    assert readings == [{"point": "A", "ts": 1_740_787_200_000, "value": 1.5, "q": 0}]
    assert skipped == 1


def test_collect_command_runs_cycles_and_keeps_batches_while_the_platform_is_down(
    tmp_path, gateway
):
    gateway.run(gateway.gw.update({"P-E03-ELEC": 10.0, "P-E04-ELEC": 20.0}))
    down = f"http://127.0.0.1:{free_port()}"
    path = write_config(tmp_path, down, gateway.gw.port)
    result = CliRunner().invoke(cli_app, ["collect", str(path), "--cycles", "2"])
    assert result.exit_code == 0, result.output
    assert "cycle 2: 2 readings polled, 2 buffered" in result.output
    assert "4 readings still buffered" in result.output


def test_bad_configuration_names_the_field(tmp_path):
    path = write_config(tmp_path, "ftp://x", 502, key="zz")
    result = CliRunner().invoke(cli_app, ["collect", str(path), "--cycles", "1"])
    assert result.exit_code == 2
    assert "key" in result.output and "platform" in result.output
