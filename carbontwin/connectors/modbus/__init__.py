"""Modbus TCP: register codec, register map, client, poller, virtual gateway and BMS."""

from carbontwin.connectors.errors import ConnectorError
from carbontwin.connectors.modbus.bms import STATUS_LOCAL, STATUS_REMOTE, VirtualBms
from carbontwin.connectors.modbus.client import ModbusClient
from carbontwin.connectors.modbus.codec import FORMATS, ORDERS, decode, encode, register_count
from carbontwin.connectors.modbus.points import (
    ModbusAddress,
    ReadBlock,
    RegisterMap,
    address_from_protocol,
    pdu_address,
    read_blocks,
    register_map,
)
from carbontwin.connectors.modbus.poller import ModbusPoller
from carbontwin.connectors.modbus.server import VirtualGateway

__all__ = [
    "FORMATS",
    "ORDERS",
    "STATUS_LOCAL",
    "STATUS_REMOTE",
    "ConnectorError",
    "ModbusAddress",
    "ModbusClient",
    "ModbusPoller",
    "ReadBlock",
    "RegisterMap",
    "VirtualBms",
    "VirtualGateway",
    "address_from_protocol",
    "decode",
    "encode",
    "pdu_address",
    "read_blocks",
    "register_count",
    "register_map",
]
