"""Setpoint dispatch and the virtual BMS's heartbeat fallback, against a real server."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import pandas as pd
import pytest
from modbus_helpers import free_port

from carbontwin.connectors.dispatch import (
    Dispatcher,
    ModbusTarget,
    MqttTarget,
    SetpointRule,
    rules_from_setpoints,
)
from carbontwin.connectors.modbus import (
    STATUS_LOCAL,
    STATUS_REMOTE,
    ModbusAddress,
    ModbusClient,
    VirtualBms,
    VirtualGateway,
    register_map,
)
from carbontwin.core import demo_park_path, load_park
from carbontwin.store import Store
from carbontwin.twin.control import setpoints

GW = "gw-bms"
BESS, HALL, EV = "A-E03-BESS.power_kw", "A-E04-HALL.setpoint_c", "stuck.limit_kw"
ADDRESSES = {
    BESS: ModbusAddress(BESS, GW, 10, 100, "int16", scale=0.1),
    HALL: ModbusAddress(HALL, GW, 10, 101, "uint16", scale=0.01),
    EV: ModbusAddress(EV, GW, 10, 102, "uint16"),
}
HEARTBEAT = ModbusAddress("heartbeat", GW, 10, 0, "uint16")
STATUS = ModbusAddress("status", GW, 10, 1, "uint16")


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Audit:
    """An audit callable with Store.audit's signature that keeps the records."""

    def __init__(self) -> None:
        self.records: list[dict] = []

    def __call__(self, actor, action, object, detail=None, outcome="ok"):
        self.records.append(
            dict(actor=actor, action=action, object=object, detail=dict(detail), outcome=outcome)
        )
        return len(self.records)


@dataclass
class FakeSimulator:
    """Stands in for the twin's Simulator: records what is applied."""

    applied: list[dict] = field(default_factory=list)
    controller: object = None

    def apply(self, decisions):
        self.applied.append(dict(decisions))

    def control_state(self):
        return type("State", (), {"t": pd.Timestamp("2025-07-01 12:00", tz="Asia/Shanghai")})()


class LocalSchedule:
    def decide(self, state, t):
        return {BESS: -50.0, HALL: 26.0}


def _rules(**options):
    sp = setpoints(load_park(demo_park_path()))
    rules = rules_from_setpoints({k: sp[k] for k in (BESS, HALL)}, **options)
    rules[HALL] = SetpointRule(HALL, 16, 32, tolerance=0.005)  # 0.01 °C register steps
    rules[EV] = SetpointRule(EV, 0, 100)
    return rules


async def _start(clock, audit, **rule_options):
    rmap = register_map(load_park(demo_park_path()).model_copy(update={"points": []}),
                        [*ADDRESSES.values(), HEARTBEAT, STATUS])  # fmt: skip
    gw = VirtualGateway(rmap.values(), port=free_port(), ignore_writes=[EV])
    await gw.start()
    client = ModbusClient("127.0.0.1", gw.port, name=GW, timeout_s=0.5, backoff_s=0.05)
    targets = {n: ModbusTarget(client, a) for n, a in ADDRESSES.items()}
    dispatcher = Dispatcher(
        _rules(**rule_options), targets, audit, actor="planner",
        heartbeats=[ModbusTarget(client, HEARTBEAT)], clock=clock,
    )  # fmt: skip
    return gw, client, dispatcher


def test_limits_rate_limits_read_back_and_audit():
    clock, audit = FakeClock(), Audit()

    async def scenario():
        gw, client, d = await _start(clock, audit, min_interval_s=60, max_step={BESS: 150})
        try:
            out = []
            out.append(await d.dispatch(BESS, 600))  # above 500 kW
            assert gw.writes == []  # nothing left the platform
            out.append(await d.dispatch("nope.power_kw", 1))
            out.append(await d.dispatch(BESS, 100))
            assert await gw.get(BESS) == 100.0
            out.append(await d.dispatch(BESS, 120))  # too soon
            clock.t += 61
            out.append(await d.dispatch(BESS, 400))  # step 300 > 150
            out.append(await d.dispatch(BESS, -40.5))
            out.append(await d.dispatch(HALL, 24.5))
            out.append(await d.dispatch(EV, 42))  # the device ignores this register
            await gw.stop()
            clock.t += 61
            out.append(await d.dispatch(BESS, -10))  # device gone
            await d.beat()  # a heartbeat that cannot be written is audited, not raised
            return out
        finally:
            client.close()
            await gw.stop()

    results = asyncio.run(scenario())
    assert [r.outcome for r in results] == [
        "refused", "refused", "ok", "rate_limited", "rate_limited", "ok", "ok", "failed", "error",
    ]  # fmt: skip
    assert "outside -500.0..500.0" in results[0].reason
    assert "no dispatch rule" in results[1].reason
    assert results[2].confirmed and results[2].read_back == 100.0
    assert "at least 60 s between writes" in results[3].reason
    assert "exceeds max_step 150" in results[4].reason
    assert results[5].read_back == pytest.approx(-40.5, abs=1e-9)
    assert results[6].read_back == pytest.approx(24.5, abs=0.005)
    assert results[7].read_back == 0.0 and "read back 0 after writing 42" in results[7].reason
    assert "Modbus gateway gw-bms" in results[8].reason
    # every command is in the audit log with its outcome
    commands = [r for r in audit.records if r["action"] == "setpoint.dispatch"]
    assert len(commands) == len(results)
    for rec, res in zip(commands, results, strict=True):
        assert rec["actor"] == "planner" and rec["action"] == "setpoint.dispatch"
        assert rec["object"] == f"setpoint:{res.name}"
        assert rec["outcome"] == res.outcome
        assert rec["detail"]["value"] == res.value and rec["detail"]["reason"] == res.reason
    assert commands[2]["detail"]["target"] == "modbus:gw-bms/10/100"
    beat = audit.records[-1]
    assert (beat["action"], beat["object"], beat["outcome"]) == (
        "setpoint.heartbeat", "heartbeat:heartbeat", "error",
    )  # fmt: skip


def test_mqtt_command_through_a_transport_callable():
    sent: list[tuple[str, dict]] = []
    state = {"value": None}

    def send(topic, payload):
        sent.append((topic, dict(payload)))
        state["value"] = payload["value"]

    audit = Audit()
    rules = {"A-E05-HVAC.setpoint_c": SetpointRule("A-E05-HVAC.setpoint_c", 16, 32)}
    ok = MqttTarget("binhai/e05/hvac/set", send, lambda: state["value"], "A-E05-HVAC.setpoint_c")
    d = Dispatcher(rules, {"A-E05-HVAC.setpoint_c": ok}, audit)
    result = asyncio.run(d.dispatch("A-E05-HVAC.setpoint_c", 25))
    assert result.ok and result.confirmed
    assert sent == [("binhai/e05/hvac/set", {"setpoint": "A-E05-HVAC.setpoint_c", "value": 25.0})]
    # a device that reports something else: failed
    d.targets["A-E05-HVAC.setpoint_c"] = MqttTarget("t", send, lambda: 30.0)
    assert asyncio.run(d.dispatch("A-E05-HVAC.setpoint_c", 24)).outcome == "failed"
    assert [r["outcome"] for r in audit.records] == ["ok", "failed"]


def test_dispatch_audits_into_the_store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'audit.db'}")
    try:
        rules = {"x.power_kw": SetpointRule("x.power_kw", 0, 10)}
        d = Dispatcher(rules, {"x.power_kw": MqttTarget("t", lambda *_: None)}, store.audit)
        asyncio.run(d.dispatch("x.power_kw", 11))
        asyncio.run(d.dispatch("x.power_kw", 5))
        log = store.audit_log(action="setpoint.dispatch")
        assert [(r["object"], r["outcome"]) for r in reversed(log)] == [
            ("setpoint:x.power_kw", "refused"),
            ("setpoint:x.power_kw", "ok"),
        ]
    finally:
        store.close()


def test_bms_falls_back_when_the_heartbeat_stops(caplog):
    caplog.set_level(logging.WARNING, logger="carbontwin.connectors.modbus.bms")
    clock, audit = FakeClock(), Audit()
    sim = FakeSimulator(controller=LocalSchedule())

    async def scenario():
        gw, client, d = await _start(clock, audit)
        bms = VirtualBms(gw, sim, ADDRESSES, HEARTBEAT, STATUS, heartbeat_timeout_s=30, clock=clock)
        try:
            await d.beat()
            assert await bms.step() == "remote"
            assert sim.applied == []  # nothing written yet: the twin keeps its values
            assert (await d.dispatch(BESS, 200)).ok
            await bms.step()
            assert sim.applied[-1] == {BESS: 200.0}
            for _ in range(3):  # beats every 10 s keep it remote
                clock.t += 10
                await d.beat()
                assert await bms.step() == "remote"
            clock.t += 31  # the platform goes quiet
            assert await bms.step() == "local"
            assert sim.applied[-1] == {BESS: -50.0, HALL: 26.0}  # the local schedule
            assert await gw.get("status") == STATUS_LOCAL
            clock.t += 10
            assert await bms.step() == "local"  # stays local, logged once
            await d.beat()
            assert await bms.step() == "remote"
            assert await gw.get("status") == STATUS_REMOTE
            assert sim.applied[-1] == {BESS: 200.0}  # the platform's setpoint again
            return bms.events
        finally:
            client.close()
            await gw.stop()

    events = asyncio.run(scenario())
    assert [mode for _, mode in events] == ["local", "remote"]
    messages = [r.getMessage() for r in caplog.records]
    assert sum("falling back to the local schedule" in m for m in messages) == 1
    assert sum("heartbeat back" in m for m in messages) == 1
    assert [r["outcome"] for r in audit.records] == ["ok"]


def test_bms_with_the_heartbeat_loop_and_a_real_clock():
    sim = FakeSimulator(controller=LocalSchedule())

    async def scenario():
        gw, client, d = await _start(lambda: asyncio.get_running_loop().time(), Audit())
        bms = VirtualBms(gw, sim, ADDRESSES, HEARTBEAT, STATUS, heartbeat_timeout_s=0.3)
        stop_hb, stop_bms = asyncio.Event(), asyncio.Event()
        hb = asyncio.create_task(d.run_heartbeat(stop_hb, period_s=0.05))
        loop = asyncio.create_task(bms.run(stop_bms, period_s=0.05))
        try:
            await asyncio.sleep(0.4)
            assert bms.mode == "remote"
            stop_hb.set()
            await hb
            deadline = asyncio.get_running_loop().time() + 5
            while bms.mode != "local" and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
            assert bms.mode == "local"
        finally:
            stop_bms.set()
            await loop
            client.close()
            await gw.stop()

    asyncio.run(scenario())
    assert {BESS: -50.0, HALL: 26.0} in sim.applied


def test_bms_drives_the_twin_simulator():
    # The demo park's simulator, at its start (a fresh simpy environment, time 0): the
    # BMS applies the platform's setpoint, then the baseline schedule when beats stop.
    import simpy

    from carbontwin.twin.simulator import Simulator

    sim = Simulator(load_park(demo_park_path()), "2025-07-01", 1)
    sim.env = simpy.Environment()
    clock, audit = FakeClock(), Audit()

    async def scenario():
        gw, client, d = await _start(clock, audit)
        bms = VirtualBms(gw, sim, ADDRESSES, HEARTBEAT, STATUS, heartbeat_timeout_s=30, clock=clock)
        try:
            await d.beat()
            assert (await d.dispatch(BESS, 200)).ok
            assert (await d.dispatch(HALL, 27)).ok
            await bms.step()
            assert (sim.values[BESS], sim.values[HALL]) == (200.0, pytest.approx(27.0))
            clock.t += 31
            assert await bms.step() == "local"
        finally:
            client.close()
            await gw.stop()

    asyncio.run(scenario())
    state = sim.control_state()
    baseline = sim.controller.decide(state, state.t)
    assert sim.values[BESS] == sim.setpoint_specs[BESS].clip(baseline[BESS]) != 200.0
    assert sim.values[HALL] == baseline[HALL]
