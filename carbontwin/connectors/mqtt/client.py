"""A thin wrapper around paho-mqtt: the only module of carbontwin that imports it.

It fixes the choices the platform relies on: MQTT 3.1.1 with the version-2 callback API,
a fixed client id with a persistent session (``clean_session=False``), QoS 1, acks sent
by the caller (``manual_ack``) once the readings are committed, and automatic reconnects.
paho's errors are translated into :class:`ConnectorError`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from carbontwin.connectors.mqtt.errors import ConnectorError

__all__ = ["BrokerSettings", "Message", "MqttClient"]

_log = logging.getLogger(__name__)
QOS = 1


@dataclass(frozen=True)
class BrokerSettings:
    """Where the broker is and how to log in.

    Attributes
    ----------
    host : str
        Broker host name or address.
    port : int
        Broker port (1883 plain, 8883 with TLS by convention).
    username, password : str, optional
        The device's or service's own credentials.
    ca_certs, certfile, keyfile : str, optional
        TLS: the CA bundle that signs the broker's certificate, and the client's own
        certificate and key for mutual TLS. TLS is on when ``ca_certs`` is given.
    keepalive_s : int
        Keep-alive interval [s].
    """

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    ca_certs: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    keepalive_s: int = 30

    def describe(self) -> str:
        """Return ``user@host:port`` (never the password)."""
        user = f"{self.username}@" if self.username else ""
        return f"{user}{self.host}:{self.port}{' (TLS)' if self.ca_certs else ''}"


@dataclass(frozen=True)
class Message:
    """A received message; hand it back to :meth:`MqttClient.ack` once it is committed."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    retain: bool = False


class MqttClient:
    """An MQTT client with a fixed id, a persistent session, QoS 1 and manual acks.

    Parameters
    ----------
    settings : BrokerSettings
        Broker address and credentials.
    client_id : str
        A fixed id: the broker keeps the session (subscriptions, unacknowledged
        messages) under it while the client is away.
    on_message : callable, optional
        Called with each :class:`Message` from paho's network thread; the caller acks.
    subscriptions : tuple of str
        Topic filters (re)subscribed at QoS 1 on every connect.
    clean_session : bool
        ``False`` (the default) keeps the session across disconnects.
    """

    def __init__(
        self,
        settings: BrokerSettings,
        client_id: str,
        *,
        on_message: Callable[[Message], None] | None = None,
        subscriptions: tuple[str, ...] = (),
        clean_session: bool = False,
    ) -> None:
        if not client_id:
            msg = "client_id must be a fixed, non-empty id so the broker keeps the session"
            raise ConnectorError(msg)
        self.settings = settings
        self.client_id = client_id
        self.subscriptions = subscriptions
        self._on_message = on_message
        self._connected = threading.Event()
        self._answered = threading.Event()
        self._refused: str | None = None
        self._was_connected = False
        self._stopping = False
        self._lock = threading.Lock()
        self._sent = 0
        self._subscribing = -1
        self._acked = 0
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            manual_ack=True,
        )
        if settings.username:
            client.username_pw_set(settings.username, settings.password)
        if settings.ca_certs:
            try:
                client.tls_set(settings.ca_certs, settings.certfile, settings.keyfile)
            except (OSError, ValueError) as exc:
                msg = (
                    f"TLS files for {settings.describe()} cannot be used ({exc}); check "
                    "ca_certs, certfile and keyfile"
                )
                raise ConnectorError(msg) from exc
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.on_publish = self._handle_publish
        client.on_subscribe = self._handle_subscribe
        self._client = client

    # paho callbacks --------------------------------------------------------------------
    def _handle_connect(
        self, client: mqtt.Client, _userdata: object, flags: object, reason: object, _p: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            self._refused = str(reason)
            self._answered.set()
            _log.warning(
                "broker %s refused %s: %s", self.settings.describe(), self.client_id, reason
            )
            return
        self._refused = None
        if self._was_connected:
            _log.info("%s reconnected to %s", self.client_id, self.settings.describe())
        self._was_connected = True
        if not self.subscriptions:
            self._ready()
            return
        # Connected once the broker confirms the subscriptions: before that, a message
        # published to a new session would not be queued for it.
        _, mid = client.subscribe([(topic, QOS) for topic in self.subscriptions])
        with self._lock:
            self._subscribing = mid

    def _ready(self) -> None:
        self._connected.set()
        self._answered.set()

    def _handle_subscribe(
        self, _client: mqtt.Client, _userdata: object, mid: int, reasons: object, _p: object
    ) -> None:
        with self._lock:
            mine = mid == self._subscribing
        if not mine:
            return
        failed = [r for r in reasons if getattr(r, "is_failure", False)]  # type: ignore[attr-defined]
        if failed:
            self._refused = f"subscription refused ({failed[0]})"
            self._answered.set()
            _log.warning(
                "broker %s refused the subscriptions of %s: %s",
                self.settings.describe(),
                self.client_id,
                failed[0],
            )
            return
        self._ready()

    def _handle_disconnect(
        self, _client: mqtt.Client, _userdata: object, _flags: object, reason: object, _p: object
    ) -> None:
        if self._connected.is_set() and not self._stopping:
            _log.warning("%s lost %s (%s)", self.client_id, self.settings.describe(), reason)
        self._connected.clear()

    def _handle_message(self, _client: mqtt.Client, _userdata: object, m: mqtt.MQTTMessage) -> None:
        if self._on_message is not None:
            self._on_message(Message(m.topic, bytes(m.payload), m.mid, m.qos, bool(m.retain)))

    def _handle_publish(
        self, _client: mqtt.Client, _userdata: object, mid: int, _reason: object, _p: object
    ) -> None:
        with self._lock:
            self._acked += 1

    # Public API ------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """Whether the client is connected now."""
        return self._connected.is_set()

    def start(self, timeout_s: float = 10.0) -> None:
        """Connect and run the network loop in a background thread (reconnecting itself).

        Raises
        ------
        ConnectorError
            If the broker cannot be reached or refuses the client within ``timeout_s``.
        """
        s = self.settings
        self._stopping = False
        try:
            self._client.connect(s.host, s.port, keepalive=s.keepalive_s)
        except (OSError, ValueError) as exc:
            msg = f"cannot reach the MQTT broker at {s.describe()} ({exc}); is it running?"
            raise ConnectorError(msg) from exc
        self._answered.clear()
        self._client.loop_start()
        self._answered.wait(timeout_s)
        if not self.connected:
            refused = self._refused
            self.stop()
            if refused:
                msg = (
                    f"the MQTT broker at {s.describe()} refused client {self.client_id} "
                    f"({refused}); check its username, password and ACL"
                )
            else:
                msg = f"no answer from the MQTT broker at {s.describe()} within {timeout_s} s"
            raise ConnectorError(msg)

    def wait_connected(self, timeout_s: float) -> bool:
        """Wait until connected; return whether it is."""
        return self._connected.wait(timeout_s)

    @property
    def unacknowledged(self) -> int:
        """Messages published that the broker has not acknowledged yet."""
        with self._lock:
            return max(0, self._sent - self._acked)

    def publish(self, topic: str, payload: bytes) -> int:
        """Queue ``payload`` on ``topic`` at QoS 1; paho resends it until the broker acks.

        A message published while the link is down is queued and sent on reconnect.

        Returns
        -------
        int
            The message id.

        Raises
        ------
        ConnectorError
            If paho refuses the message (payload too large, bad topic).
        """
        # paho calls on_publish holding its own locks: never hold ours around publish().
        try:
            info = self._client.publish(topic, payload, qos=QOS)
        except ValueError as exc:
            msg = f"cannot publish on {topic!r} ({exc})"
            raise ConnectorError(msg) from exc
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            msg = f"cannot publish on {topic!r} ({mqtt.error_string(info.rc)})"
            raise ConnectorError(msg)
        with self._lock:
            self._sent += 1
        return info.mid

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until the broker acknowledged every message published.

        Raises
        ------
        ConnectorError
            If some are still unacknowledged after ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while self.unacknowledged:
            if time.monotonic() > deadline:
                msg = (
                    f"{self.unacknowledged} messages of {self.client_id} were not "
                    f"acknowledged by the broker within {timeout_s} s"
                )
                raise ConnectorError(msg)
            time.sleep(0.005)

    def ack(self, message: Message) -> None:
        """Acknowledge ``message`` to the broker (after its readings are committed)."""
        if message.qos > 0:
            self._client.ack(message.mid, message.qos)

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self._stopping = True
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()
            self._connected.clear()
