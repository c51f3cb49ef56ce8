"""Helpers of the Modbus tests: a free port, a small Modbus park, waiting on a condition."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

from carbontwin.core import demo_park_path, load_park

GATEWAY = "gw-test"


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def modbus_park():
    """The demo park reduced to two Modbus fiscal meters on one test gateway.

    P-E03-ELEC: uint32 in 0.1 kWh, input table, unit 3 (rolls over at 99999999 kWh).
    P-E04-ELEC: float32 word-swapped (CDAB), holding table, unit 4.
    """
    park = load_park(demo_park_path())
    pts = {p.id: p for p in park.points}
    e03 = pts["P-E03-ELEC"].model_copy(
        update={
            "protocol": {"type": "modbus", "gateway": GATEWAY, "unit_id": 3, "register": 100,
                         "format": "uint32", "scale": 0.1, "table": "input"},
        }
    )  # fmt: skip
    e04 = pts["P-E04-ELEC"].model_copy(
        update={
            "protocol": {"type": "modbus", "gateway": GATEWAY, "unit_id": 4, "register": 100,
                         "format": "float32", "word_order": "CDAB"},
        }
    )  # fmt: skip
    return park.model_copy(update={"points": [e03, e04]})


async def wait_until(
    condition: Callable[[], Awaitable[bool]], timeout_s: float = 10.0, every_s: float = 0.05
) -> None:
    """Await ``condition()`` until it is true; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(every_s)
