"""Exceptions of the Modbus connector (the shared connector error)."""

from __future__ import annotations

from carbontwin.connectors.errors import ConnectorError

__all__ = ["ConnectorError"]
