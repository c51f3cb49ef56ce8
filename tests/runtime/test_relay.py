"""A dispatched strategy reaches the twin: stored setpoints → the connectors' dispatcher →
a Modbus gateway → the virtual BMS → the simulator, each answer recorded in the store."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket

import pandas as pd
import simpy

from carbontwin.connectors.dispatch import Dispatcher, ModbusTarget, rules_from_setpoints
from carbontwin.connectors.modbus import (
    ModbusAddress,
    ModbusClient,
    VirtualBms,
    VirtualGateway,
    register_map,
)
from carbontwin.runtime import strategies as S
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.relay import RELAY, relay_pending
from carbontwin.store import Store
from carbontwin.twin.control import setpoints
from carbontwin.twin.simulator import Simulator

PARK = resolve_park("demo")
GW = "gw-bms"
BESS = "A-E03-BESS.power_kw"
ADDRESS = ModbusAddress(BESS, GW, 10, 100, "int16", scale=0.1)
HEARTBEAT = ModbusAddress("heartbeat", GW, 10, 0, "uint16")
STATUS = ModbusAddress("status", GW, 10, 1, "uint16")
DAY = dt.date(2025, 7, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def a_strategy(store: Store) -> dict:
    start = pd.Timestamp(DAY).tz_localize(PARK.timezone).tz_convert("UTC").to_pydatetime()
    schedule = [-400.0] * 32 + [500.0] * 12 + [0.0] * 52
    s = store.add_strategy(
        PARK.id,
        {
            "mode": "dispatch",
            "start": start,
            "interval_s": 900,
            "steps": 96,
            "schedule": {BESS: schedule},
            "expected": {"day": DAY.isoformat()},
            "reasons": {"en": ["valley charge, peak discharge"], "zh": ["谷充峰放"]},
            "solver": {},
        },
        actor="energy",
    )
    S.decide(store, s["id"], accept=True, actor="energy")
    return s


def test_a_dispatched_strategy_drives_the_twin_through_the_dispatcher(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'ct.db'}")
    sim = Simulator(PARK, DAY.isoformat(), 1)
    sim.env = simpy.Environment()
    s = a_strategy(store)
    at_2am = s["start"] + dt.timedelta(hours=2, minutes=3)
    at_9am = s["start"] + dt.timedelta(hours=9, minutes=1)

    async def scenario() -> list[dict]:
        rmap = register_map(PARK.model_copy(update={"points": []}), [ADDRESS, HEARTBEAT, STATUS])
        gw = VirtualGateway(rmap.values(), port=free_port())
        await gw.start()
        client = ModbusClient("127.0.0.1", gw.port, name=GW, timeout_s=1.0, backoff_s=0.05)
        rules = rules_from_setpoints({BESS: setpoints(PARK)[BESS]})
        dispatcher = Dispatcher(
            rules,
            {BESS: ModbusTarget(client, ADDRESS)},
            store.audit,
            actor=RELAY,
            heartbeats=[ModbusTarget(client, HEARTBEAT)],
        )
        bms = VirtualBms(gw, sim, {BESS: ADDRESS}, HEARTBEAT, STATUS, heartbeat_timeout_s=60)
        answers = []
        try:
            await dispatcher.beat()
            S.dispatch(store, PARK, s["id"], actor="energy", now=at_2am)
            answers += await relay_pending(store, PARK, dispatcher, now=at_2am)
            await bms.step()
            assert sim.values[BESS] == -400.0  # charging in the valley
            S.issue_due(store, PARK, now=at_9am)
            await dispatcher.beat()
            answers += await relay_pending(store, PARK, dispatcher, now=at_9am)
            await bms.step()
            assert sim.values[BESS] == 500.0  # discharging at the peak
            again = await relay_pending(store, PARK, dispatcher, now=at_9am)
            assert again == []  # each goes out once
        finally:
            client.close()
            await gw.stop()
        return answers

    answers = asyncio.run(scenario())
    assert [(a["status"], a["readback"]) for a in answers] == [
        ("acknowledged", -400.0),
        ("acknowledged", 500.0),
    ]
    assert all(a["strategy"] == str(s["id"]) for a in answers)
    actions = [r["action"] for r in store.audit_log(limit=50)]
    assert actions.count("setpoint.dispatch") == 2
    assert actions.count("setpoints.acknowledge") == 2
    store.close()


def test_an_out_of_limit_or_superseded_setpoint_is_answered_failed(tmp_path):
    from carbontwin.runtime.control import issue_setpoints

    store = Store.open(f"sqlite:///{tmp_path / 'ct.db'}")

    class Refusing:
        description = "nowhere"

        async def write(self, value):  # never reached: the rule refuses first
            raise AssertionError

        async def read_back(self):
            return None

    rules = rules_from_setpoints({BESS: setpoints(PARK)[BESS]})
    rules[BESS] = rules[BESS].__class__(BESS, -100.0, 100.0)  # a stricter site rule
    dispatcher = Dispatcher(rules, {BESS: Refusing()}, store.audit, actor=RELAY)
    issue_setpoints(store, PARK, [{"setpoint": BESS, "value": 50}], actor="energy")
    issue_setpoints(store, PARK, [{"setpoint": BESS, "value": 300}], actor="energy")
    answers = asyncio.run(relay_pending(store, PARK, dispatcher, now=None))
    by_value = {a["value"]: a for a in answers}
    assert by_value[50.0]["status"] == "failed" and "superseded" in by_value[50.0]["detail"]
    assert by_value[300.0]["status"] == "failed" and "outside" in by_value[300.0]["detail"]
    store.close()
