"""Polls the Modbus devices of a register map and hands the readings to a sink.

Each read block (contiguous registers of one device, table and interval, see
:func:`~carbontwin.connectors.modbus.points.read_blocks`) is read every ``interval_s`` of
its points. A batch is a DataFrame with ``point, ts, value, quality``: ``quality`` is
``good``, ``invalid`` (the registers do not decode, value NaN) or ``unavailable`` (the
device did not answer, value NaN). A device that goes silent is logged once when it is
lost and once when it answers again, never at every poll.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from carbontwin.connectors.errors import ConnectorError
from carbontwin.connectors.modbus.points import ModbusAddress, ReadBlock, read_blocks
from carbontwin.core.errors import ValidationError

__all__ = ["COLUMNS", "ModbusPoller"]

log = logging.getLogger(__name__)

COLUMNS = ["point", "ts", "value", "quality"]


def _utc_now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


class ModbusPoller:
    """Reads every mapped point at its interval.

    Parameters
    ----------
    addresses : iterable of ModbusAddress
        The points to read (a :class:`RegisterMap`'s values).
    clients : mapping of str to client
        Gateway → an object with ``async read(unit_id, table, address, count)`` (a
        :class:`~carbontwin.connectors.modbus.client.ModbusClient`).
    sink : callable
        Called with each batch DataFrame (``point, ts, value, quality``).
    now : callable, optional
        Returns the timezone-aware time stamped on readings (UTC now by default).

    Attributes
    ----------
    unavailable : set of tuple
        ``(gateway, unit_id)`` of the devices silent now.
    """

    def __init__(
        self,
        addresses: Iterable[ModbusAddress],
        clients: Mapping[str, Any],
        sink: Callable[[pd.DataFrame], Any],
        *,
        now: Callable[[], pd.Timestamp] = _utc_now,
    ) -> None:
        self.blocks = read_blocks(addresses)
        missing = sorted({b.gateway for b in self.blocks} - set(clients))
        if missing:
            msg = f"no Modbus client for gateway(s) {', '.join(missing)}; pass one per gateway"
            raise ValidationError(msg)
        self.clients, self.sink, self.now = clients, sink, now
        self.unavailable: set[tuple[str, int]] = set()
        self._due = [0.0] * len(self.blocks)

    async def _read(self, block: ReadBlock, ts: pd.Timestamp) -> list[tuple[Any, ...]]:
        device = (block.gateway, block.unit_id)
        client = self.clients[block.gateway]
        try:
            registers = await client.read(block.unit_id, block.table, block.start, block.count)
        except ConnectorError as exc:
            if device not in self.unavailable:
                self.unavailable.add(device)
                log.warning(
                    "Modbus device %s unit %s is unavailable: %s", block.gateway, block.unit_id, exc
                )
            return [(a.name, ts, math.nan, "unavailable") for a in block.points]
        if device in self.unavailable:
            self.unavailable.discard(device)
            log.warning("Modbus device %s unit %s is available again", block.gateway, block.unit_id)
        rows = []
        for a in block.points:
            try:
                value = a.decode(registers[a.register - block.start : a.end - block.start])
            except ValidationError:
                rows.append((a.name, ts, math.nan, "invalid"))
                continue
            quality = "good" if math.isfinite(value) else "invalid"
            rows.append((a.name, ts, value if quality == "good" else math.nan, quality))
        return rows

    async def poll_once(
        self, ts: pd.Timestamp | None = None, *, due_only: bool = False, clock: float = 0.0
    ) -> pd.DataFrame:
        """Read the blocks (all, or those due at monotonic time ``clock``) and sink one batch.

        Parameters
        ----------
        ts : pandas.Timestamp, optional
            Time stamped on the readings; ``now()`` by default.
        due_only : bool, optional
            Read only the blocks whose interval has elapsed at ``clock``.
        clock : float, optional
            Monotonic time [s] for ``due_only``.

        Returns
        -------
        pandas.DataFrame
            The batch handed to the sink (also when empty it is not sunk).
        """
        ts = ts if ts is not None else self.now()
        rows: list[tuple[Any, ...]] = []
        for i, block in enumerate(self.blocks):
            if due_only and clock < self._due[i]:
                continue
            self._due[i] = clock + block.interval_s
            rows.extend(await self._read(block, ts))
        frame = pd.DataFrame(rows, columns=COLUMNS)
        frame["value"] = frame["value"].astype(float)
        if len(frame):
            self.sink(frame)
        return frame

    async def run(self, stop: asyncio.Event, tick_s: float = 0.5) -> None:
        """Poll each block at its interval until ``stop`` is set (checked every ``tick_s``)."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            await self.poll_once(due_only=True, clock=loop.time())
            with_wait = min(self._due) - loop.time() if self._due else tick_s
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, min(tick_s, with_wait)))
            except TimeoutError:
                continue
