"""The whole Modbus path against a real pymodbus TCP server started in the test."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pandas as pd
import pytest
from modbus_helpers import GATEWAY, free_port, modbus_park, wait_until

from carbontwin.accounting.validation import validate_readings
from carbontwin.connectors.errors import ConnectorError
from carbontwin.connectors.modbus import (
    ModbusClient,
    ModbusPoller,
    VirtualGateway,
    register_map,
)

TZ = "Asia/Shanghai"
T0 = pd.Timestamp("2025-03-01 00:00", tz=TZ)


def _setup(**client_options):
    park = modbus_park()
    rmap = register_map(park)
    gw = VirtualGateway(rmap.values(), port=free_port())
    options = {"timeout_s": 0.3, "backoff_s": 0.05, "backoff_max_s": 0.2, **client_options}
    client = ModbusClient("127.0.0.1", gw.port, name=GATEWAY, **options)
    batches: list[pd.DataFrame] = []
    poller = ModbusPoller(rmap.values(), {GATEWAY: client}, batches.append)
    return park, rmap, gw, client, poller, batches


def test_poll_a_virtual_device_end_to_end():
    async def scenario():
        _, rmap, gw, client, poller, batches = _setup()
        await gw.start()
        try:
            await gw.update({"P-E03-ELEC": 12345.6, "P-E04-ELEC": 789.25})
            # the registers on the wire are the codec's: 123456 = 0x0001E240 in ABCD
            assert await client.read(3, "input", 100, 2) == [0x0001, 0xE240]
            assert await client.read(4, "holding", 100, 2) == rmap["P-E04-ELEC"].encode(789.25)
            stop = asyncio.Event()
            task = asyncio.create_task(poller.run(stop, tick_s=0.05))

            async def got_batch() -> bool:
                return bool(batches)

            await wait_until(got_batch)
            stop.set()
            await task
        finally:
            client.close()
            await gw.stop()
        frame = batches[0]
        assert list(frame.columns) == ["point", "ts", "value", "quality"]
        got = frame.set_index("point")
        assert (got["quality"] == "good").all()
        # 0.1 kWh resolution of the uint32 register; float32 789.25 is exact
        assert got.loc["P-E03-ELEC", "value"] == pytest.approx(12345.6, abs=1e-6)
        assert got.loc["P-E04-ELEC", "value"] == 789.25
        assert frame["ts"].dt.tz is not None

    asyncio.run(scenario())


def test_unmapped_register_is_a_connector_error():
    async def scenario():
        _, _, gw, client, _, _ = _setup()
        await gw.start()
        try:
            with pytest.raises(ConnectorError, match="exception code 2"):
                await client.read(3, "input", 500, 2)
        finally:
            client.close()
            await gw.stop()

    asyncio.run(scenario())


@pytest.mark.parametrize("fault", ["stopped", "paused"])
def test_silent_device_goes_unavailable_and_recovers(fault, caplog):
    caplog.set_level(logging.WARNING, logger="carbontwin.connectors.modbus.poller")

    async def scenario():
        _, _, gw, client, poller, _ = _setup()
        await gw.start()
        try:
            await gw.update({"P-E03-ELEC": 10.0, "P-E04-ELEC": 20.0})
            assert set((await poller.poll_once())["quality"]) == {"good"}
            if fault == "stopped":
                await gw.stop()  # connection refused
            else:
                gw.paused = True  # requests hang: the client times out

            async def three_failed_attempts() -> bool:
                # poll while silent: no crash, no log flood, every point unavailable
                frame = await poller.poll_once()
                assert set(frame["quality"]) == {"unavailable"}
                assert frame["value"].isna().all()
                return len(client.backoff_history_s) >= 3

            await wait_until(three_failed_attempts)
            assert poller.unavailable == {(GATEWAY, 3), (GATEWAY, 4)}
            if fault == "stopped":
                await gw.start()  # the device returns on the same port, registers kept
            else:
                gw.paused = False

            async def recovered() -> bool:
                return set((await poller.poll_once())["quality"]) == {"good"}

            await wait_until(recovered)
            frame = await poller.poll_once()
            assert frame.set_index("point").loc["P-E04-ELEC", "value"] == 20.0
            assert poller.unavailable == set()
            # exponential back-off between attempts, capped
            waits = client.backoff_history_s
            assert waits[:3] == [0.05, 0.1, 0.2]
            assert max(waits) == 0.2
        finally:
            client.close()
            await gw.stop()

    asyncio.run(scenario())
    messages = [r.getMessage() for r in caplog.records]
    for unit in (3, 4):
        assert sum(f"unit {unit} is unavailable" in m for m in messages) == 1
        assert sum(f"unit {unit} is available again" in m for m in messages) == 1


def test_rollover_and_reset_through_validation():
    # E03 rolls over at 99999999 kWh; E04 is reset to 20 kWh (a meter swap or fault)
    e03 = [99_999_000.0, 99_999_500.0, 200.0, 300.0]
    e04 = [5000.0, 5100.0, 20.0, 50.0]

    batches: list[pd.DataFrame] = []

    async def scenario():
        _, _, gw, client, poller, sunk = _setup()
        await gw.start()
        try:
            for k, (a, b) in enumerate(zip(e03, e04, strict=True)):
                await gw.update({"P-E03-ELEC": a, "P-E04-ELEC": b})
                await poller.poll_once(T0 + pd.Timedelta(minutes=15 * k))
        finally:
            client.close()
            await gw.stop()
        batches.extend(sunk)

    asyncio.run(scenario())
    park = modbus_park()
    frame = pd.concat(batches, ignore_index=True)
    assert len(frame) == 8 and set(frame["quality"]) == {"good"}
    data, result = validate_readings(park, frame, today=dt.datetime(2025, 6, 1))
    assert [(q.rule, q.ref.split()[0]) for q in result.quarantine] == [("decreasing", "P-E04-ELEC")]
    assert [f.rule for f in result.findings] == ["rollover"]
    assert "P-E03-ELEC" in result.findings[0].reason or "99999999" in result.findings[0].reason
    summary = result.summary()
    assert (summary["rollover"], summary["decreasing"]) == (1, 1)
    e03_kwh = data.values[data.streams.index("E03-ELEC")]
    # 500, then the wrap 99999999 - 99999500 + 200 = 699, then 100; 0.1 kWh register steps
    assert e03_kwh[:3] == pytest.approx([500, 699, 100], abs=0.2)


def test_gateway_serves_the_latest_simulator_readings():
    readings = pd.DataFrame(
        {
            "point": ["P-E03-ELEC", "P-E04-ELEC", "P-E03-ELEC", "P-OTHER"],
            "value": [100.0, 7.5, 150.5, 1.0],
        }
    )

    async def scenario():
        _, _, gw, client, poller, _ = _setup()
        await gw.start()
        try:
            await gw.update_from_readings(readings)
            return (await poller.poll_once()).set_index("point")["value"].to_dict()
        finally:
            client.close()
            await gw.stop()

    got = asyncio.run(scenario())
    assert got == pytest.approx({"P-E03-ELEC": 150.5, "P-E04-ELEC": 7.5}, abs=1e-6)
