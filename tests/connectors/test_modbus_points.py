"""The register map: built from the park's points, with clear errors."""

from __future__ import annotations

import pytest
from modbus_helpers import GATEWAY, modbus_park

from carbontwin.connectors.modbus import ModbusAddress, pdu_address, read_blocks, register_map
from carbontwin.core.errors import ValidationError


def _park_with(protocol: dict, point: str = "P-E04-ELEC"):
    park = modbus_park()
    points = [
        p.model_copy(update={"protocol": {**p.protocol, **protocol}}) if p.id == point else p
        for p in park.points
    ]
    return park.model_copy(update={"points": points})


def test_map_of_the_test_park():
    rmap = register_map(modbus_park())
    assert rmap.gateways() == [GATEWAY]
    e03 = rmap["P-E03-ELEC"]
    assert (e03.unit_id, e03.register, e03.format, e03.table, e03.scale) == (
        3, 100, "uint32", "input", 0.1,
    )  # fmt: skip
    assert rmap["P-E04-ELEC"].word_order == "CDAB"
    assert e03.interval_s == 900


def test_overlapping_registers_are_refused():
    park = _park_with({"unit_id": 3, "table": "input", "register": 101})
    with pytest.raises(ValidationError, match=r"P-E04-ELEC .*overlaps point P-E03-ELEC"):
        register_map(park)
    # the same register on another table or unit is fine
    register_map(_park_with({"unit_id": 3, "table": "holding", "register": 101}))


@pytest.mark.parametrize(
    ("protocol", "message"),
    [
        ({"format": "float64"}, r"point P-E04-ELEC: protocol.format\(='float64'\) is not"),
        ({"word_order": "ADBC"}, r"word_order\(='ADBC'\)"),
        ({"table": "coils"}, r"table\(='coils'\) must be 'holding' or 'input'"),
        ({"unit_id": 300}, r"unit_id\(=300\) must be 0..255"),
        ({"register": 65535}, r"register\(=65535\) must be 0..65534 for float32"),
        ({"scale": 0}, r"scale\(=0.0\) must not be 0"),
        ({"slave": 1}, r"unknown key\(s\) slave"),
    ],
)
def test_bad_protocol_names_point_field_and_fix(protocol, message):
    with pytest.raises(ValidationError, match=message):
        register_map(_park_with(protocol))


def test_missing_register():
    park = modbus_park()
    points = [
        p.model_copy(update={"protocol": {"type": "modbus", "gateway": "g", "unit_id": 1}})
        for p in park.points
    ]
    with pytest.raises(ValidationError, match="needs 'register'"):
        register_map(park.model_copy(update={"points": points}))


def test_register_references():
    assert pdu_address("40001") == (0, "holding")
    assert pdu_address(30010) == (9, "input")
    with pytest.raises(ValidationError, match="4xxxx"):
        pdu_address("10001")


def test_read_blocks_split_at_gaps_devices_and_125_registers():
    many = [ModbusAddress(f"p{i}", "g", 1, 2 * i) for i in range(70)]  # 140 registers
    blocks = read_blocks([*many, ModbusAddress("q", "g", 2, 0)])
    assert [(b.unit_id, b.start, b.count) for b in blocks] == [(1, 0, 124), (1, 124, 16), (2, 0, 2)]
    regs = list(range(124))
    assert blocks[0].values(regs)["p0"] == ModbusAddress("x", "g", 1, 0).decode([0, 1])
