"""Errors of the MQTT connector: the shared connector error, re-exported."""

from __future__ import annotations

from carbontwin.connectors.errors import ConnectorError

__all__ = ["ConnectorError"]
