"""The collector (edge agent): poll local Modbus devices, buffer, forward to the platform.

One :meth:`CollectorAgent.cycle` polls every mapped point once, puts the good readings in
the on-disk :class:`~carbontwin.connectors.collector.CollectorBuffer` as one signed batch,
and forwards the pending batches, oldest first, to the platform's
``/api/v1/collectors/batches``. A batch is acknowledged (deleted) only on a 200 answer; when
the link is down the batches stay buffered and go out, in order, once it is back.

Readings a device could not give (``unavailable``, ``invalid``) are not forwarded: the
platform sees a gap, and the cycle report counts them.

The configuration is a small YAML or JSON file::

    collector: gw-z2                 # id registered on the platform
    key: 6b2d...                     # the collector's secret, hexadecimal
    buffer: gw-z2.queue              # SQLite file of the buffer (relative to this file)
    capacity_readings: 700000        # at least a week of the points' readings
    platform: http://platform:8000   # the platform's base URL
    park: park.yaml                  # park file with the register map, or 'demo'
    interval_s: 60                   # seconds between polls
    gateways: {gw-z2: "10.0.0.12:502"}  # Modbus TCP address of each gateway
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from carbontwin.connectors.collector import Collector, CollectorBuffer
from carbontwin.connectors.errors import ConnectorError
from carbontwin.connectors.http import BatchPusher
from carbontwin.connectors.modbus import ModbusClient, ModbusPoller, register_map
from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.runtime.accounting import resolve_park

__all__ = [
    "CollectConfig",
    "CollectorAgent",
    "CycleReport",
    "load_collect_config",
    "modbus_readings",
]

_log = logging.getLogger(__name__)


class CollectConfig(BaseModel):
    """The collector's configuration."""

    model_config = ConfigDict(extra="forbid")
    collector: str = Field(min_length=1, description="the collector's id on the platform")
    key: str = Field(min_length=2, description="the collector's secret, hexadecimal")
    buffer: Path = Field(description="SQLite file of the store-and-forward buffer")
    capacity_readings: int = Field(gt=0, description="most readings buffered at once [1]")
    platform: str = Field(description="the platform's base URL, http(s)://host:port")
    park: str = Field("demo", description="park YAML file with the register map, or 'demo'")
    interval_s: float = Field(60.0, ge=0, description="time between polls [s]")
    gateways: dict[str, str] = Field(description="Modbus TCP host:port of each gateway")
    timeout_s: float = Field(10.0, gt=0, description="timeout of a request to the platform [s]")
    modbus_timeout_s: float = Field(1.0, gt=0, description="timeout of a Modbus request [s]")

    @field_validator("key")
    @classmethod
    def _hex(cls, value: str) -> str:
        try:
            bytes.fromhex(value)
        except ValueError:
            msg = "must be hexadecimal, e.g. 6b2d0f..."
            raise ValueError(msg) from None
        return value

    @field_validator("platform")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            msg = f"{value!r} must start with http:// or https://"
            raise ValueError(msg)
        return value

    @field_validator("gateways")
    @classmethod
    def _addresses(cls, value: dict[str, str]) -> dict[str, str]:
        for name, address in value.items():
            host, _, port = str(address).rpartition(":")
            if not host or not port.isdigit():
                msg = f"gateway {name}: {address!r} must be host:port, e.g. 10.0.0.12:502"
                raise ValueError(msg)
        return value


def load_collect_config(path: str | Path) -> CollectConfig:
    """Read a collector configuration (YAML or JSON); relative paths are the file's.

    Raises
    ------
    ValidationError
        Naming the file, the field and what is wrong.
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        msg = f"collector configuration {path.name} cannot be read ({exc})"
        raise ValidationError(msg) from None
    if not isinstance(doc, dict):
        msg = f"collector configuration {path.name} must be a mapping of settings"
        raise ValidationError(msg)
    try:
        config = CollectConfig.model_validate(doc)
    except PydanticValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        msg = f"collector configuration {path.name}: {details}"
        raise ValidationError(msg) from None
    updates: dict[str, Any] = {}
    if not config.buffer.is_absolute():
        updates["buffer"] = path.parent / config.buffer
    if config.park != "demo" and not Path(config.park).is_absolute():
        updates["park"] = str(path.parent / config.park)
    return config.model_copy(update=updates)


def modbus_readings(frame: pd.DataFrame) -> tuple[list[dict[str, Any]], int]:
    """Turn a poller batch into collector readings; return them and the readings left out.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``point, ts, value, quality`` as :class:`ModbusPoller` gives it.

    Returns
    -------
    readings : list of dict
        ``{"point", "ts" [ms since 1970 UTC], "value" [the device's unit], "q": 0}`` of the
        good readings.
    skipped : int
        Readings not forwarded (the device was unavailable or the registers did not
        decode).
    """
    out = []
    skipped = 0
    for point, ts, value, quality in frame[["point", "ts", "value", "quality"]].itertuples(
        index=False
    ):
        if quality != "good" or not math.isfinite(value):
            skipped += 1
            continue
        ms = int(pd.Timestamp(ts).value // 1_000_000)
        out.append({"point": str(point), "ts": ms, "value": float(value), "q": 0})
    return out, skipped


@dataclass(frozen=True)
class CycleReport:
    """What one cycle did.

    Attributes
    ----------
    polled : int
        Readings the poll gave.
    buffered : int
        Good readings put in the buffer (0 when the buffer was full).
    skipped : int
        Readings not forwarded (device unavailable, registers invalid).
    sent : int
        Batches the platform acknowledged.
    held : int
        Readings still buffered after the cycle, waiting for the platform.
    link_up : bool
        Whether the last send succeeded.
    error : str
        Why the last send failed ('' when it did not).
    """

    polled: int
    buffered: int
    skipped: int
    sent: int
    held: int
    link_up: bool
    error: str = ""


class CollectorAgent:
    """The collector: Modbus poller, on-disk buffer and HTTP uplink.

    Parameters
    ----------
    config : CollectConfig
        The configuration.
    park : Park, optional
        The park whose register map is polled; ``config.park`` is loaded by default.
    now : callable, optional
        Returns the aware time stamped on the readings (UTC now by default).
    send : callable, optional
        Sends one batch document; an HTTP POST to ``config.platform`` by default.

    Raises
    ------
    ValidationError
        If the park has no Modbus points or a gateway of its map has no address.
    """

    def __init__(
        self,
        config: CollectConfig,
        park: Park | None = None,
        *,
        now: Callable[[], pd.Timestamp] | None = None,
        send: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.config = config
        self.park = park if park is not None else resolve_park(config.park)
        rmap = register_map(self.park)
        if not rmap:
            msg = f"park {self.park.id} has no Modbus points; the collector has nothing to poll"
            raise ValidationError(msg)
        needed = sorted({a.gateway for a in rmap.values()})
        missing = [g for g in needed if g not in config.gateways]
        if missing:
            msg = (
                f"gateway(s) {', '.join(missing)} of park {self.park.id} have no address; add "
                "them under gateways as host:port"
            )
            raise ValidationError(msg)
        self.clients = {}
        for g in needed:
            host, _, port = config.gateways[g].rpartition(":")
            self.clients[g] = ModbusClient(
                host, int(port), name=g, timeout_s=config.modbus_timeout_s
            )
        options: dict[str, Any] = {"now": now} if now is not None else {}
        self.poller = ModbusPoller(rmap.values(), self.clients, lambda _frame: None, **options)
        self.buffer = CollectorBuffer(
            config.buffer,
            collector=config.collector,
            key=bytes.fromhex(config.key),
            capacity_readings=config.capacity_readings,
        )
        self.pusher = BatchPusher(config.platform, timeout_s=config.timeout_s)
        self._send = send or self.pusher
        self._error = ""
        self._polled = self._good = self._skipped = 0
        self._loop = asyncio.new_event_loop()
        self.collector = Collector(self.buffer, self._read, self._forward)

    def _read(self) -> list[dict[str, Any]]:
        frame = self._loop.run_until_complete(self.poller.poll_once())
        readings, self._skipped = modbus_readings(frame)
        self._polled, self._good = len(frame), len(readings)
        return readings

    def _forward(self, doc: dict[str, Any]) -> None:
        try:
            self._send(doc)
        except (ConnectorError, OSError) as exc:
            if str(exc) != self._error:
                _log.warning("collector %s: %s", self.config.collector, exc)
            self._error = str(exc)
            raise
        if self._error:
            _log.warning("collector %s: the platform is reachable again", self.config.collector)
        self._error = ""

    def cycle(self) -> CycleReport:
        """Poll once, buffer the readings, forward what is pending; return what happened."""
        refused_before = self.collector.refused
        sent = self.collector.cycle()
        full = self.collector.refused > refused_before
        return CycleReport(
            polled=self._polled,
            buffered=0 if full else self._good,
            skipped=self._skipped,
            sent=sent,
            held=self.buffer.size,
            link_up=self.collector.link_up,
            error=self._error,
        )

    def run(
        self,
        cycles: int | None = None,
        on_cycle: Callable[[CycleReport], object] | None = None,
    ) -> None:
        """Run a cycle every ``config.interval_s`` seconds; ``cycles`` of them, or forever."""
        done = 0
        while cycles is None or done < cycles:
            started = time.monotonic()
            report = self.cycle()
            if on_cycle is not None:
                on_cycle(report)
            done += 1
            if cycles is None or done < cycles:
                time.sleep(max(0.0, self.config.interval_s - (time.monotonic() - started)))

    def close(self) -> None:
        """Close the Modbus connections, the event loop and the buffer."""
        for client in self.clients.values():
            client.close()
        self._loop.run_until_complete(asyncio.sleep(0))
        self._loop.close()
        self.buffer.close()

    def __enter__(self) -> CollectorAgent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
