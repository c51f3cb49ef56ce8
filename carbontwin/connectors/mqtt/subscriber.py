"""Subscribe to a park's data topics and hand decoded batches to a sink, acking after it.

Messages arrive on paho's network thread and are collected into a lot; when the lot
holds about ``max_readings`` readings, or its first message is ``max_wait_s`` old, it is
decoded and handed to the sink in one call — the sink commits it to the database — and
only then is each message acknowledged to the broker. A crash before the ack loses
nothing: the broker redelivers the messages to the same client id, and the store's
insert-ignore on (point, time) lands each reading once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from carbontwin.connectors.mqtt.client import BrokerSettings, Message, MqttClient
from carbontwin.connectors.mqtt.codec import BadMessage, Batch, decode_or_reject, subscription

__all__ = ["Sink", "Subscriber"]

_log = logging.getLogger(__name__)

#: What the subscriber calls with each lot of decoded messages; it must commit them
#: before returning.
Sink = Callable[[Sequence[Batch | BadMessage]], object]


class Subscriber:
    """Receive a park's readings over MQTT and hand them to ``sink``.

    Parameters
    ----------
    settings : BrokerSettings
        Broker address and the service's credentials.
    park_id : str
        Subscribes to ``carbontwin/<park_id>/+/data``.
    sink : callable
        Called with a list of :class:`Batch` and :class:`BadMessage`; when it returns
        the messages are acknowledged. If it raises, the lot is retried (after
        ``retry_s``) and not acknowledged meanwhile.
    client_id : str
        Fixed client id of this subscriber (the broker keeps its session).
    max_readings : int
        Hand over at most about this many readings at once.
    max_wait_s : float
        Hand over what arrived within this time [s] (the commit latency it adds).
    retry_s : float
        Wait before retrying a lot whose sink failed [s].
    """

    def __init__(
        self,
        settings: BrokerSettings,
        park_id: str,
        sink: Sink,
        *,
        client_id: str = "carbontwin-ingest",
        max_readings: int = 5000,
        max_wait_s: float = 0.1,
        retry_s: float = 1.0,
    ) -> None:
        self.sink = sink
        self.max_readings = int(max_readings)
        self.max_wait_s = float(max_wait_s)
        self.retry_s = float(retry_s)
        self.received = 0
        self.acked = 0
        self._lock = threading.Lock()
        self._lot: list[Message] = []
        self._lot_bytes = 0
        self._lot_since = 0.0
        self._retry_at = 0.0
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self.client = MqttClient(
            settings,
            client_id,
            on_message=self._arrived,
            subscriptions=(subscription(park_id),),
        )

    def start(self, timeout_s: float = 10.0) -> None:
        """Connect, subscribe and start handing batches to the sink."""
        self._stop.clear()
        self._timer = threading.Thread(target=self._tick, name="mqtt-ingest-timer", daemon=True)
        self._timer.start()
        self.client.start(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Hand over the lot in hand, then disconnect.

        Messages that arrive after it stay unacknowledged: the broker redelivers them to
        the next start with the same client id.
        """
        self._stop.set()
        if self._timer is not None:
            self._timer.join(timeout_s)
        with self._lock:
            self._flush(force=True)
        self.client.stop()

    def __enter__(self) -> Subscriber:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # The lot: collected on paho's network thread, handed over there when it is full
    # or old enough (one thread does the work, as a minimal subscriber would), and by a
    # timer when no further message arrives.
    def _arrived(self, message: Message) -> None:
        with self._lock:
            self.received += 1
            if not self._lot:
                self._lot_since = time.monotonic()
            self._lot.append(message)
            # ~40 bytes per reading in the JSON payload: a cheap size estimate.
            self._lot_bytes += len(message.payload)
            self._flush()

    def _tick(self) -> None:
        period = max(0.005, min(0.02, self.max_wait_s / 2))
        while not self._stop.wait(period):
            with self._lock:
                self._flush()

    def _flush(self, force: bool = False) -> None:
        """Hand the lot to the sink if it is due; ack it when the sink returns (lock held)."""
        if not self._lot:
            return
        now = time.monotonic()
        due = (
            force
            or self._lot_bytes >= self.max_readings * 40
            or now - self._lot_since >= self.max_wait_s
        )
        if not due or (now < self._retry_at and not force):
            return
        lot = self._lot
        items = [decode_or_reject(m.topic, m.payload) for m in lot]
        try:
            self.sink(items)
        except Exception:  # the sink failed: keep the lot, retry later, never ack
            _log.exception("ingesting %d messages failed; retrying in %s s", len(lot), self.retry_s)
            self._retry_at = now + self.retry_s
            return
        self._lot = []
        self._lot_bytes = 0
        for m in lot:
            self.client.ack(m)
        self.acked += len(lot)
