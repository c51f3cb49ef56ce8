"""The register codec: recorded register dumps, round trips for every format and order."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymodbus.client import AsyncModbusTcpClient

from carbontwin.connectors.modbus.codec import FORMATS, ORDERS, decode, encode, register_count
from carbontwin.core.errors import ValidationError

# Register dumps as devices send them: (value, format, scale, {order: registers}).
# float32 123.5 = 0x42F70000, int32 -2 = 0xFFFFFFFE, uint32 0x12345678, 1.0 = 0x3F800000.
DUMPS = [
    (123.5, "float32", 1.0, {"ABCD": [0x42F7, 0x0000], "CDAB": [0x0000, 0x42F7],
                             "BADC": [0xF742, 0x0000], "DCBA": [0x0000, 0xF742]}),
    (1.0, "float32", 1.0, {"ABCD": [0x3F80, 0x0000], "CDAB": [0x0000, 0x3F80],
                           "BADC": [0x803F, 0x0000], "DCBA": [0x0000, 0x803F]}),
    (-2.0, "int32", 1.0, {"ABCD": [0xFFFF, 0xFFFE], "CDAB": [0xFFFE, 0xFFFF],
                          "BADC": [0xFFFF, 0xFEFF], "DCBA": [0xFEFF, 0xFFFF]}),
    (305419896.0, "uint32", 1.0, {"ABCD": [0x1234, 0x5678], "CDAB": [0x5678, 0x1234],
                                  "BADC": [0x3412, 0x7856], "DCBA": [0x7856, 0x3412]}),
    (123.4, "uint16", 0.1, {"ABCD": [0x04D2], "CDAB": [0x04D2], "BADC": [0xD204],
                            "DCBA": [0xD204]}),
    (-1.0, "int16", 1.0, {"ABCD": [0xFFFF], "CDAB": [0xFFFF], "BADC": [0xFFFF],
                          "DCBA": [0xFFFF]}),
    (-300.0, "int16", 1.0, {"ABCD": [0xFED4], "CDAB": [0xFED4], "BADC": [0xD4FE],
                            "DCBA": [0xD4FE]}),
]  # fmt: skip


@pytest.mark.parametrize(("value", "fmt", "scale", "dumps"), DUMPS)
def test_recorded_dumps(value, fmt, scale, dumps):
    for order, registers in dumps.items():
        assert encode(value, fmt, order, scale=scale) == registers, order
        # 1e-12 relative: 123.4 = 1234 * 0.1 is not exact in binary floating point
        assert decode(registers, fmt, order, scale=scale) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "fmt", "datatype"),
    [(123.5, "float32", "FLOAT32"), (-2, "int32", "INT32"), (4_000_000_000, "uint32", "UINT32"),
     (-7, "int16", "INT16"), (65000, "uint16", "UINT16")],
)  # fmt: skip
def test_big_endian_agrees_with_pymodbus(value, fmt, datatype):
    dt = getattr(AsyncModbusTcpClient.DATATYPE, datatype)
    assert encode(value, fmt) == AsyncModbusTcpClient.convert_to_registers(value, dt)


def _raw_values(fmt: str) -> st.SearchStrategy:
    if fmt == "float32":
        return st.floats(width=32, allow_nan=False, allow_infinity=False)
    bits = 32 if fmt.endswith("32") else 16
    if fmt.startswith("u"):
        return st.integers(0, 2**bits - 1)
    return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("fmt", list(FORMATS))
@given(data=st.data())
def test_round_trip(fmt, order, data):
    raw = data.draw(_raw_values(fmt))
    if fmt == "float32":
        regs = encode(raw, fmt, order)
        assert decode(regs, fmt, order) == raw  # float32 values are exact
    else:
        scale = data.draw(st.sampled_from([1.0, 0.1, 0.01, 2.0]))
        offset = data.draw(st.sampled_from([0.0, -40.0, 1000.0]))
        value = raw * scale + offset
        regs = encode(value, fmt, order, scale=scale, offset=offset)
        back = decode(regs, fmt, order, scale=scale, offset=offset)
        # the raw integer survives; the value up to one rounding of raw * scale + offset
        assert math.isclose(back, value, rel_tol=1e-12, abs_tol=1e-9)
        assert encode(back, fmt, order, scale=scale, offset=offset) == regs
    assert len(regs) == register_count(fmt)
    assert all(0 <= r <= 0xFFFF for r in regs)


@pytest.mark.parametrize("order", list(ORDERS))
@given(regs=st.lists(st.integers(0, 0xFFFF), min_size=2, max_size=2))
def test_registers_round_trip_int32(order, regs):
    for fmt in ("int32", "uint32"):
        assert encode(decode(regs, fmt, order), fmt, order) == regs


def test_errors_name_the_problem():
    with pytest.raises(ValidationError, match="format"):
        encode(1, "float64")
    with pytest.raises(ValidationError, match="word_order"):
        encode(1, "float32", "ABDC")
    with pytest.raises(ValidationError, match="out of the range of uint16"):
        encode(70000, "uint16")
    with pytest.raises(ValidationError, match="takes 2 register"):
        decode([1], "float32")
    with pytest.raises(ValidationError, match=r"0\.\.65535"):
        decode([70000], "uint16")
