"""Exceptions shared by every connector (Modbus, MQTT, files, HTTP)."""

from __future__ import annotations

__all__ = ["ConnectorError"]


class ConnectorError(RuntimeError):
    """A device, broker or transport failed; the message names the endpoint and the cause.

    Connectors translate their libraries' exceptions into this one at the edge, so
    callers never see a protocol library's types.
    """
