"""A virtual Modbus gateway: a pymodbus TCP server serving the twin's values.

One :class:`VirtualGateway` per gateway of the register map. Each unit id behind it is a
``SimDevice`` with separate holding and input tables; only the mapped registers exist
(others answer exception 2, illegal address). The simulator pushes values with
:meth:`VirtualGateway.update`; clients (the dispatcher) write holding registers, which
:class:`~carbontwin.connectors.modbus.bms.VirtualBms` reads back and applies.

For tests the gateway can be stopped and started again on the same port (the device
disappears and returns, its registers kept), paused (requests hang until resumed, so a
client times out), and told to ignore writes to some points (the write is acknowledged
but the register keeps its value).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Mapping

import pandas as pd
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from carbontwin.connectors.errors import ConnectorError
from carbontwin.connectors.modbus.points import ModbusAddress

__all__ = ["VirtualGateway"]

_FC = {"holding": 3, "input": 4}
_WRITES = {6, 16}


class VirtualGateway:
    """A Modbus TCP server for the devices of one gateway.

    Parameters
    ----------
    addresses : iterable of ModbusAddress
        Everything the gateway serves (points, setpoints, heartbeat and status
        registers), all of one gateway.
    host : str, optional
        Address to listen on.
    port : int, optional
        TCP port.
    ignore_writes : iterable of str, optional
        Names whose registers acknowledge writes but keep their value.

    Attributes
    ----------
    writes : list of tuple
        ``(unit_id, address, registers)`` of every client write, in order.
    written : set of str
        Names whose registers a client has written.
    """

    def __init__(
        self,
        addresses: Iterable[ModbusAddress],
        *,
        host: str = "127.0.0.1",
        port: int = 502,
        ignore_writes: Iterable[str] = (),
    ) -> None:
        self.addresses = {a.name: a for a in addresses}
        gateways = {a.gateway for a in self.addresses.values()}
        if len(gateways) > 1:
            msg = f"a virtual gateway serves one gateway; got {', '.join(sorted(gateways))}"
            raise ConnectorError(msg)
        self.gateway = gateways.pop() if gateways else ""
        self.host, self.port = host, int(port)
        self.ignore_writes = set(ignore_writes)
        self.writes: list[tuple[int, int, list[int]]] = []
        self.written: set[str] = set()
        self.paused = False
        self._registers: dict[str, list[int]] = {
            n: [0] * a.count for n, a in self.addresses.items()
        }
        self._server: ModbusTcpServer | None = None

    # ------------------------------------------------------------------ building
    def _block(self, unit_id: int, table: str) -> list[SimData]:
        items = sorted(
            (a for a in self.addresses.values() if a.unit_id == unit_id and a.table == table),
            key=lambda a: a.register,
        )
        if not items:
            return [SimData(address=0, datatype=DataType.INVALID)]
        return [
            SimData(
                address=a.register,
                values=list(self._registers[a.name]),
                datatype=DataType.REGISTERS,
            )
            for a in items
        ]

    def _devices(self) -> list[SimDevice]:
        bits = [SimData(address=0, values=False, datatype=DataType.BITS)]
        return [
            SimDevice(
                id=unit_id,
                simdata=(
                    bits,
                    bits,
                    self._block(unit_id, "holding"),
                    self._block(unit_id, "input"),
                ),
                action=functools.partial(self._action, unit_id),
            )
            for unit_id in sorted({a.unit_id for a in self.addresses.values()})
        ]

    async def _action(
        self,
        unit_id: int,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> None:
        while self.paused:
            await asyncio.sleep(0.02)
        if function_code not in _WRITES or set_values is None:
            return
        values = [int(v) for v in set_values]
        self.writes.append((unit_id, address, values))
        for a in self.addresses.values():
            if a.unit_id != unit_id or a.table != "holding":
                continue
            if a.register >= address + count or a.end <= address:
                continue
            if a.name in self.ignore_writes:
                for r in range(max(a.register, address), min(a.end, address + count)):
                    set_values[r - address] = current_registers[r - start_address]
            else:
                self.written.add(a.name)

    # ------------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    async def start(self) -> None:
        """Start listening (again), with the registers as they were when it stopped."""
        if self._server is not None:
            return
        server = ModbusTcpServer(self._devices(), address=(self.host, self.port))
        try:
            await server.serve_forever(background=True)
        except (OSError, RuntimeError) as exc:
            msg = f"virtual gateway {self.gateway} cannot listen on {self.host}:{self.port}: {exc}"
            raise ConnectorError(msg) from exc
        self._server = server

    async def stop(self) -> None:
        """Stop listening; the registers are kept for the next :meth:`start`."""
        if self._server is None:
            return
        for name in self.addresses:
            self._registers[name] = await self.get_registers(name)
        server, self._server = self._server, None
        await server.shutdown()

    # ------------------------------------------------------------------ values
    def _address(self, name: str) -> ModbusAddress:
        try:
            return self.addresses[name]
        except KeyError:
            msg = f"{name!r} is not served by virtual gateway {self.gateway}"
            raise ConnectorError(msg) from None

    async def set_registers(self, name: str, registers: list[int]) -> None:
        """Set the raw registers of ``name``."""
        a = self._address(name)
        self._registers[name] = list(registers)
        if self._server is not None:
            await self._server.async_setValues(a.unit_id, _FC[a.table], a.register, list(registers))

    async def get_registers(self, name: str) -> list[int]:
        """Return the raw registers of ``name``."""
        a = self._address(name)
        if self._server is None:
            return list(self._registers[name])
        values = await self._server.async_getValues(a.unit_id, _FC[a.table], a.register, a.count)
        return [int(v) for v in values]

    async def update(self, values: Mapping[str, float]) -> None:
        """Set engineering values (encoded with each address's format and order)."""
        for name, value in values.items():
            await self.set_registers(name, self._address(name).encode(value))

    async def update_from_readings(self, readings: pd.DataFrame) -> None:
        """Serve the latest ``value`` of each served ``point`` of a readings frame.

        ``readings`` has ``point`` and ``value`` columns (a simulator chunk's readings);
        rows of other points and missing values are skipped.
        """
        rows = readings[readings["point"].isin(self.addresses) & readings["value"].notna()]
        latest = rows.groupby("point", sort=False)["value"].last()
        await self.update({str(k): float(v) for k, v in latest.items()})

    async def get(self, name: str) -> float:
        """Return the engineering value of ``name``."""
        return self._address(name).decode(await self.get_registers(name))
