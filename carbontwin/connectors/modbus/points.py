"""The register map: where each Modbus point of the park lives and how it is encoded.

A metering point is read over Modbus when its ``protocol`` says so::

    protocol: {type: modbus, gateway: gw-z2, unit_id: 3, register: 100, format: float32,
               word_order: ABCD, scale: 1, offset: 0, table: input}

``register`` is the 0-based PDU address (``40001``-style references go through
:func:`pdu_address`); ``table`` is ``holding`` (default) or ``input``; ``word_order``
defaults to ``ABCD``, ``scale`` to 1 and ``offset`` to 0.

Examples
--------
>>> from carbontwin.core import load_park, demo_park_path
>>> rmap = register_map(load_park(demo_park_path()))
>>> rmap["P-E03-ELEC"].gateway, rmap["P-E03-ELEC"].unit_id, rmap["P-E03-ELEC"].count
('gw-z2', 3, 2)
>>> pdu_address("40101")
(100, 'holding')
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from carbontwin.connectors.modbus.codec import FORMATS, ORDERS, decode, encode, register_count
from carbontwin.core.errors import ValidationError

__all__ = [
    "MAX_READ_REGISTERS",
    "ModbusAddress",
    "ReadBlock",
    "RegisterMap",
    "address_from_protocol",
    "pdu_address",
    "read_blocks",
    "register_map",
]

#: Modbus allows at most 125 registers in one read.
MAX_READ_REGISTERS = 125
TABLES = ("holding", "input")
_KEYS = {
    "type",
    "gateway",
    "unit_id",
    "register",
    "format",
    "word_order",
    "scale",
    "offset",
    "table",
}


@dataclass(frozen=True)
class ModbusAddress:
    """Where one value lives on a Modbus device, and its encoding.

    Attributes
    ----------
    name : str
        Point id (or setpoint name).
    gateway : str
        The gateway (one TCP endpoint) that serves it.
    unit_id : int
        Modbus unit (device) id behind the gateway, 0..255.
    register : int
        0-based PDU address of its first register.
    format : str
        ``float32``, ``int32``, ``uint32``, ``int16`` or ``uint16``.
    word_order : str
        ``ABCD``, ``CDAB``, ``BADC`` or ``DCBA``.
    scale, offset : float
        ``value = raw * scale + offset``.
    table : str
        ``holding`` or ``input``.
    interval_s : int
        Polling interval [s].
    """

    name: str
    gateway: str
    unit_id: int
    register: int
    format: str = "float32"
    word_order: str = "ABCD"
    scale: float = 1.0
    offset: float = 0.0
    table: str = "holding"
    interval_s: int = 900

    @property
    def count(self) -> int:
        """Number of registers the value takes."""
        return register_count(self.format)

    @property
    def end(self) -> int:
        """One past the last register."""
        return self.register + self.count

    def encode(self, value: float) -> list[int]:
        """Return the registers holding ``value``."""
        return encode(value, self.format, self.word_order, scale=self.scale, offset=self.offset)

    def decode(self, registers: list[int]) -> float:
        """Return the value held in ``registers``."""
        return decode(registers, self.format, self.word_order, scale=self.scale, offset=self.offset)


def pdu_address(reference: str | int) -> tuple[int, str]:
    """Convert a ``4xxxx``/``3xxxx`` register reference to ``(pdu_address, table)``.

    ``40001`` is holding register 0, ``30001`` input register 0 (the 5-digit form; the
    6-digit ``400001`` form is accepted too).

    Examples
    --------
    >>> pdu_address(30001), pdu_address("400101")
    ((0, 'input'), (100, 'holding'))
    """
    text = str(reference).strip()
    if not text.isdigit() or len(text) not in (5, 6) or text[0] not in "34" or int(text[1:]) < 1:
        msg = (
            f"register reference(={reference!r}) must be 4xxxx (holding) or 3xxxx (input), "
            "from 1; or give the 0-based PDU address as 'register'"
        )
        raise ValidationError(msg)
    return int(text[1:]) - 1, "holding" if text[0] == "4" else "input"


def address_from_protocol(
    name: str, protocol: Mapping[str, Any], interval_s: int = 900
) -> ModbusAddress:
    """Return the address of one point from its ``protocol`` mapping; errors name the point.

    Examples
    --------
    >>> address_from_protocol("p", {"gateway": "g", "unit_id": 1, "register": 4,
    ...                             "format": "uint16", "scale": 0.1}).scale
    0.1
    """
    where = f"point {name}: protocol"
    unknown = sorted(set(protocol) - _KEYS)
    if unknown:
        msg = f"{where} has unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}"
        raise ValidationError(msg)
    for key in ("gateway", "unit_id", "register"):
        if key not in protocol:
            msg = f"{where} needs {key!r} for a Modbus point"
            raise ValidationError(msg)
    fmt = str(protocol.get("format", "float32")).lower()
    if fmt not in FORMATS:
        msg = f"{where}.format(={fmt!r}) is not a Modbus format; use one of {', '.join(FORMATS)}"
        raise ValidationError(msg)
    order = str(protocol.get("word_order", "ABCD")).upper()
    if order not in ORDERS:
        msg = f"{where}.word_order(={order!r}) is not a word order; use one of {', '.join(ORDERS)}"
        raise ValidationError(msg)
    table = str(protocol.get("table", "holding")).lower()
    if table not in TABLES:
        msg = f"{where}.table(={table!r}) must be 'holding' or 'input'"
        raise ValidationError(msg)
    try:
        unit_id, register = int(protocol["unit_id"]), int(protocol["register"])
        scale, offset = float(protocol.get("scale", 1.0)), float(protocol.get("offset", 0.0))
    except (TypeError, ValueError) as exc:
        msg = f"{where}: unit_id and register must be integers, scale and offset numbers ({exc})"
        raise ValidationError(msg) from exc
    if not 0 <= unit_id <= 255:
        msg = f"{where}.unit_id(={unit_id}) must be 0..255"
        raise ValidationError(msg)
    count = register_count(fmt)
    if not 0 <= register <= 0x10000 - count:
        msg = f"{where}.register(={register}) must be 0..{0x10000 - count} for {fmt}"
        raise ValidationError(msg)
    if scale == 0:
        msg = f"{where}.scale(={scale}) must not be 0"
        raise ValidationError(msg)
    return ModbusAddress(
        name,
        str(protocol["gateway"]),
        unit_id,
        register,
        fmt,
        order,
        scale,
        offset,
        table,
        int(interval_s),
    )


class RegisterMap(dict[str, ModbusAddress]):
    """Modbus addresses by point id, checked for overlaps (see :func:`register_map`)."""

    def gateways(self) -> list[str]:
        """Return the gateways, sorted."""
        return sorted({a.gateway for a in self.values()})

    def of_gateway(self, gateway: str) -> list[ModbusAddress]:
        """Return the addresses served by ``gateway``."""
        return [a for a in self.values() if a.gateway == gateway]


def _check_overlaps(addresses: Iterable[ModbusAddress]) -> None:
    by_table: dict[tuple[str, int, str], list[ModbusAddress]] = {}
    for a in addresses:
        by_table.setdefault((a.gateway, a.unit_id, a.table), []).append(a)
    for (gateway, unit_id, table), items in by_table.items():
        items.sort(key=lambda a: a.register)
        for prev, cur in itertools.pairwise(items):
            if cur.register < prev.end:
                msg = (
                    f"point {cur.name} ({table} register {cur.register}) overlaps point "
                    f"{prev.name} (registers {prev.register}..{prev.end - 1}) on gateway "
                    f"{gateway} unit {unit_id}; move one of them"
                )
                raise ValidationError(msg)


def register_map(park: Any, extra: Iterable[ModbusAddress] = ()) -> RegisterMap:
    """Return the register map of the park's Modbus points.

    Parameters
    ----------
    park : Park
        Its points with ``protocol.type == "modbus"`` are mapped.
    extra : iterable of ModbusAddress, optional
        More addresses (setpoints, heartbeat) checked for overlaps with the points.

    Raises
    ------
    ValidationError
        Naming the point, for a missing or unknown key, an unknown format or order, or
        overlapping registers.
    """
    out = RegisterMap()
    for p in park.points:
        if str(p.protocol.get("type", "")).lower() != "modbus":
            continue
        out[p.id] = address_from_protocol(p.id, p.protocol, p.interval_s)
    for a in extra:
        if a.name in out:
            msg = f"address name {a.name!r} is already a point of the register map"
            raise ValidationError(msg)
        out[a.name] = a
    _check_overlaps(out.values())
    return out


@dataclass(frozen=True)
class ReadBlock:
    """Contiguous registers read in one request: ``count`` from ``start``."""

    gateway: str
    unit_id: int
    table: str
    start: int
    count: int
    interval_s: int
    points: tuple[ModbusAddress, ...]

    def values(self, registers: list[int]) -> dict[str, float]:
        """Decode every point of the block from its registers."""
        return {
            a.name: a.decode(registers[a.register - self.start : a.end - self.start])
            for a in self.points
        }


def read_blocks(
    addresses: Iterable[ModbusAddress], max_registers: int = MAX_READ_REGISTERS
) -> list[ReadBlock]:
    """Group addresses into read requests: same device, table and interval, no gaps.

    Examples
    --------
    >>> a = [ModbusAddress("a", "g", 1, 0), ModbusAddress("b", "g", 1, 2),
    ...      ModbusAddress("c", "g", 1, 10)]
    >>> [(b.start, b.count) for b in read_blocks(a)]
    [(0, 4), (10, 2)]
    """
    groups: dict[tuple[str, int, str, int], list[ModbusAddress]] = {}
    for a in addresses:
        groups.setdefault((a.gateway, a.unit_id, a.table, a.interval_s), []).append(a)
    out: list[ReadBlock] = []
    for (gateway, unit_id, table, interval_s), items in sorted(groups.items()):
        items.sort(key=lambda a: a.register)
        run: list[ModbusAddress] = []
        for a in [*items, None]:
            if run and (
                a is None or a.register != run[-1].end or a.end - run[0].register > max_registers
            ):
                out.append(
                    ReadBlock(
                        gateway,
                        unit_id,
                        table,
                        run[0].register,
                        run[-1].end - run[0].register,
                        interval_s,
                        tuple(run),
                    )
                )
                run = []
            if a is not None:
                run.append(a)
    return out
