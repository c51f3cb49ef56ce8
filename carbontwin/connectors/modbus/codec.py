"""Values to and from 16-bit Modbus registers, in the four word/byte orders.

A 32-bit value is the bytes ``A B C D`` (big-endian, ``A`` most significant). Vendors
put them in two registers in one of four orders:

========  ======================  ==========================
order     registers               also called
========  ======================  ==========================
``ABCD``  ``[AB, CD]``            big-endian, high word first
``CDAB``  ``[CD, AB]``            word-swapped, low word first
``BADC``  ``[BA, DC]``            byte-swapped
``DCBA``  ``[DC, BA]``            little-endian
========  ======================  ==========================

A 16-bit value ``A B`` is ``[AB]`` in ``ABCD``/``CDAB`` and ``[BA]`` in
``BADC``/``DCBA``. Integer formats carry ``scale`` and ``offset``: the engineering value
is ``raw * scale + offset``.

Examples
--------
>>> encode(123.5, "float32")
[17143, 0]
>>> encode(123.5, "float32", "CDAB")
[0, 17143]
>>> decode([65535, 65534], "int32")
-2.0
>>> decode([1234], "uint16", scale=0.1)
123.4
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from carbontwin.core.errors import ValidationError

__all__ = ["FORMATS", "ORDERS", "decode", "encode", "register_count"]

#: format → (struct code, number of registers, integer)
FORMATS: dict[str, tuple[str, int, bool]] = {
    "float32": ("f", 2, False),
    "int32": ("i", 2, True),
    "uint32": ("I", 2, True),
    "int16": ("h", 1, True),
    "uint16": ("H", 1, True),
}

#: order → permutation of the big-endian bytes (each is its own inverse)
ORDERS: dict[str, tuple[int, ...]] = {
    "ABCD": (0, 1, 2, 3),
    "CDAB": (2, 3, 0, 1),
    "BADC": (1, 0, 3, 2),
    "DCBA": (3, 2, 1, 0),
}

_LIMITS = {
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
}


def _check(fmt: str, order: str) -> tuple[str, int, bool]:
    if fmt not in FORMATS:
        msg = f"format(={fmt!r}) is not a Modbus format; use one of {', '.join(FORMATS)}"
        raise ValidationError(msg)
    if order not in ORDERS:
        msg = f"word_order(={order!r}) is not a word order; use one of {', '.join(ORDERS)}"
        raise ValidationError(msg)
    return FORMATS[fmt]


def _permute(data: bytes, order: str) -> bytes:
    if len(data) == 2:  # one register: only the byte swap matters
        return data if order in {"ABCD", "CDAB"} else data[::-1]
    return bytes(data[i] for i in ORDERS[order])


def register_count(fmt: str) -> int:
    """Return how many 16-bit registers a value of format ``fmt`` takes.

    Examples
    --------
    >>> register_count("float32"), register_count("int16")
    (2, 1)
    """
    return _check(fmt, "ABCD")[1]


def encode(
    value: float,
    fmt: str,
    order: str = "ABCD",
    *,
    scale: float = 1.0,
    offset: float = 0.0,
) -> list[int]:
    """Return the registers that hold ``value``.

    Parameters
    ----------
    value : float
        Engineering value (in the point's unit).
    fmt : str
        ``float32``, ``int32``, ``uint32``, ``int16`` or ``uint16``.
    order : str, optional
        ``ABCD`` (default), ``CDAB``, ``BADC`` or ``DCBA``.
    scale, offset : float, optional
        ``value = raw * scale + offset``; integers are rounded to the nearest raw value.

    Returns
    -------
    list of int
        One or two register values, each 0..65535.

    Raises
    ------
    ValidationError
        For an unknown format or order, a zero scale, or a value out of the format's range.

    Examples
    --------
    >>> encode(-2, "int32", "DCBA")
    [65279, 65535]
    >>> encode(12.3, "uint16", scale=0.1)
    [123]
    """
    code, _, integer = _check(fmt, order)
    if scale == 0:
        msg = f"scale(={scale}) must not be 0"
        raise ValidationError(msg)
    raw = (float(value) - offset) / scale
    if integer:
        if not math.isfinite(raw):
            msg = f"value(={value}) cannot be encoded as {fmt}"
            raise ValidationError(msg)
        raw = round(raw)
        lo, hi = _LIMITS[fmt]
        if not lo <= raw <= hi:
            msg = f"value(={value}) is out of the range of {fmt} (raw {raw} not in {lo}..{hi})"
            raise ValidationError(msg)
    try:
        data = _permute(struct.pack(">" + code, raw), order)
    except (OverflowError, struct.error) as exc:
        msg = f"value(={value}) cannot be encoded as {fmt}: {exc}"
        raise ValidationError(msg) from exc
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def decode(
    registers: Sequence[int],
    fmt: str,
    order: str = "ABCD",
    *,
    scale: float = 1.0,
    offset: float = 0.0,
) -> float:
    """Return the engineering value held in ``registers``.

    Parameters
    ----------
    registers : sequence of int
        Exactly ``register_count(fmt)`` register values, each 0..65535.
    fmt, order, scale, offset
        As for :func:`encode`.

    Returns
    -------
    float
        ``raw * scale + offset``.

    Examples
    --------
    >>> decode([0, 17143], "float32", "CDAB")
    123.5
    >>> decode([0xFFFF], "int16")
    -1.0
    """
    code, n, _ = _check(fmt, order)
    if len(registers) != n:
        msg = f"{fmt} takes {n} register(s); got {len(registers)}: {list(registers)}"
        raise ValidationError(msg)
    for r in registers:
        if not 0 <= int(r) <= 0xFFFF:
            msg = f"register value(={r}) must be 0..65535"
            raise ValidationError(msg)
    data = _permute(b"".join(int(r).to_bytes(2, "big") for r in registers), order)
    raw = struct.unpack(">" + code, data)[0]
    return float(raw) * scale + offset if (scale != 1.0 or offset != 0.0) else float(raw)
