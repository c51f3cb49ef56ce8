"""Connectors: files, Modbus, MQTT, the collector buffer and setpoint dispatch.

Protocol libraries are imported only at the edge (``mqtt/client.py``, ``modbus/client.py``
and ``modbus/server.py``); everything else speaks the shared :class:`ConnectorError`.
"""

from carbontwin.connectors.errors import ConnectorError

__all__ = ["ConnectorError"]
