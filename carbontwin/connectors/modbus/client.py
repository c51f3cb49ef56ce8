"""The asyncio Modbus TCP client: one connection per gateway, errors as ConnectorError.

The only module of the connector (with :mod:`~carbontwin.connectors.modbus.server`) that
imports pymodbus. Requests on one connection are serialised (Modbus TCP allows one
outstanding request per connection in practice); after a failure the client waits before
it tries again, the wait doubling from ``backoff_s`` up to ``backoff_max_s`` and resetting
on the first success.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from carbontwin.connectors.errors import ConnectorError
from carbontwin.core.errors import ValidationError

__all__ = ["ModbusClient"]

log = logging.getLogger(__name__)


class ModbusClient:
    """Reads and writes registers of the devices behind one Modbus TCP gateway.

    Parameters
    ----------
    host : str
        Gateway address.
    port : int, optional
        TCP port (502).
    timeout_s : float, optional
        Time allowed for one request [s].
    retries : int, optional
        Resends of one request before it fails (pymodbus resends with the same
        transaction id).
    backoff_s, backoff_max_s : float, optional
        First and largest wait after a failure before the next attempt [s].
    name : str, optional
        Gateway name used in messages.
    clock : callable, optional
        Monotonic seconds (for tests).

    Attributes
    ----------
    failures : int
        Consecutive failed attempts.
    backoff_history_s : list of float
        The waits imposed after each failure, in order [s].
    """

    def __init__(
        self,
        host: str,
        port: int = 502,
        *,
        timeout_s: float = 1.0,
        retries: int = 0,
        backoff_s: float = 0.5,
        backoff_max_s: float = 60.0,
        name: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout_s <= 0 or backoff_s <= 0 or backoff_max_s < backoff_s:
            msg = (
                f"timeout_s(={timeout_s}) and backoff_s(={backoff_s}) must be > 0 and "
                f"backoff_max_s(={backoff_max_s}) >= backoff_s"
            )
            raise ValidationError(msg)
        self.host, self.port = host, int(port)
        self.name = name or f"{host}:{port}"
        self.timeout_s, self.retries = float(timeout_s), int(retries)
        self.backoff_s, self.backoff_max_s = float(backoff_s), float(backoff_max_s)
        self.clock = clock
        self.failures = 0
        self.backoff_history_s: list[float] = []
        self._next_try = 0.0
        self._lock = asyncio.Lock()
        self._client: AsyncModbusTcpClient | None = None

    @property
    def connected(self) -> bool:
        """Whether the TCP connection is up."""
        return self._client is not None and bool(self._client.connected)

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _failed(self, what: str, cause: object) -> ConnectorError:
        self._drop()
        wait = min(self.backoff_s * 2**self.failures, self.backoff_max_s)
        self.failures += 1
        self.backoff_history_s.append(wait)
        self._next_try = self.clock() + wait
        msg = f"Modbus gateway {self.name}: {what} failed ({cause}); next attempt in {wait:g} s"
        return ConnectorError(msg)

    async def _ensure(self) -> AsyncModbusTcpClient:
        now = self.clock()
        if now < self._next_try:
            msg = (
                f"Modbus gateway {self.name} is unreachable; backing off "
                f"{self._next_try - now:.2f} s more after {self.failures} failure(s)"
            )
            raise ConnectorError(msg)
        if self._client is not None and self._client.connected:
            return self._client
        self._drop()
        client = AsyncModbusTcpClient(
            self.host,
            port=self.port,
            timeout=self.timeout_s,
            retries=self.retries,
            reconnect_delay=0,
            name=self.name,
        )
        try:
            ok = await client.connect()
        except (ModbusException, OSError) as exc:
            client.close()
            err = self._failed("connect", exc)
            raise err from exc
        if not ok:
            client.close()
            err = self._failed("connect", "connection refused or timed out")
            raise err
        self._client = client
        return client

    async def _call(self, what: str, fn: str, *args: object, **kwargs: object) -> list[int]:
        async with self._lock:
            client = await self._ensure()
            try:
                result = await getattr(client, fn)(*args, **kwargs)
            except (TimeoutError, ModbusException, OSError) as exc:
                raise self._failed(what, exc) from exc
            if result.isError():
                code = getattr(result, "exception_code", "?")
                msg = f"Modbus gateway {self.name}: {what} answered exception code {code}"
                self.failures = 0
                raise ConnectorError(msg)
            if self.failures:
                log.debug("Modbus gateway %s answers again", self.name)
            self.failures = 0
            return list(getattr(result, "registers", []) or [])

    async def read(self, unit_id: int, table: str, address: int, count: int) -> list[int]:
        """Return ``count`` registers from ``address`` of a ``holding`` or ``input`` table.

        Raises
        ------
        ConnectorError
            The gateway is unreachable (or backing off), timed out, or the device
            answered a Modbus exception.
        """
        fn = {"holding": "read_holding_registers", "input": "read_input_registers"}[table]
        what = f"read of {table} {address}+{count} from unit {unit_id}"
        return await self._call(what, fn, address, count=count, device_id=unit_id)

    async def write(self, unit_id: int, address: int, registers: list[int]) -> None:
        """Write holding registers from ``address`` (function 6 for one, 16 for several).

        Raises
        ------
        ConnectorError
            As for :meth:`read`.
        """
        what = f"write of holding {address}={registers} to unit {unit_id}"
        if len(registers) == 1:
            await self._call(what, "write_register", address, registers[0], device_id=unit_id)
        else:
            await self._call(what, "write_registers", address, registers, device_id=unit_id)

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        self._drop()
