"""Publish readings as a gateway would: batched metrics on the gateway's data topic.

:func:`simulated_readings` runs the park simulator (the virtual park) and returns its
readings; :class:`Publisher` sends any readings in messages of ``batch_size`` metrics,
flat out or paced to a rate.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence

import pandas as pd

from carbontwin.connectors.mqtt.client import BrokerSettings, MqttClient
from carbontwin.connectors.mqtt.codec import Metric, encode
from carbontwin.connectors.mqtt.errors import ConnectorError

__all__ = ["Publisher", "metrics_from_frame"]


def metrics_from_frame(frame: pd.DataFrame) -> list[Metric]:
    """Turn a ``point, ts, value[, quality]`` frame into metrics (ts aware or int ms)."""
    ts = frame["ts"]
    if not pd.api.types.is_integer_dtype(ts.dtype):
        ts = pd.Series(pd.DatetimeIndex(ts).tz_convert("UTC").as_unit("ms").asi8)
    q = frame["quality"] if "quality" in frame.columns else pd.Series(0, index=frame.index)
    return [
        Metric(str(p), int(t), float(v), int(qq))
        for p, t, v, qq in zip(
            frame["point"].tolist(), ts.tolist(), frame["value"].tolist(), q.tolist(), strict=True
        )
    ]


def _chunks(metrics: Sequence[Metric], size: int) -> Iterator[Sequence[Metric]]:
    for i in range(0, len(metrics), size):
        yield metrics[i : i + size]


class Publisher:
    """Send readings as one gateway, in batches, over a persistent QoS 1 session.

    Parameters
    ----------
    settings : BrokerSettings
        Broker address and the gateway's own credentials.
    park_id, gateway : str
        The topic is ``carbontwin/<park_id>/<gateway>/data``.
    batch_size : int
        Metrics per message (at least 10: one reading per message cannot keep pace).
    client_id : str, optional
        Fixed client id; ``<gateway>`` by default.
    """

    def __init__(
        self,
        settings: BrokerSettings,
        park_id: str,
        gateway: str,
        *,
        batch_size: int = 100,
        client_id: str | None = None,
    ) -> None:
        if batch_size < 10:
            msg = f"batch_size(={batch_size}) must be >= 10 readings per message"
            raise ConnectorError(msg)
        self.park_id = park_id
        self.gateway = gateway
        self.batch_size = int(batch_size)
        self.seq = 0
        self.client = MqttClient(settings, client_id or gateway)

    def start(self, timeout_s: float = 10.0) -> None:
        """Connect to the broker."""
        self.client.start(timeout_s)

    def stop(self) -> None:
        """Disconnect (call :meth:`flush` first to be sure everything arrived)."""
        self.client.stop()

    def __enter__(self) -> Publisher:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def send(self, metrics: Sequence[Metric]) -> int:
        """Send one message with ``metrics``; return its ``seq``."""
        self.seq += 1
        topic, payload = encode(
            self.park_id, self.gateway, self.seq, int(time.time() * 1000), metrics
        )
        self.client.publish(topic, payload)
        return self.seq

    def publish(self, metrics: Iterable[Metric], rate_per_s: float | None = None) -> int:
        """Send ``metrics`` in batches, flat out or paced to ``rate_per_s`` readings/s.

        Returns
        -------
        int
            The number of messages sent.
        """
        items = list(metrics)
        t0 = time.perf_counter()
        sent = 0
        n = 0
        for chunk in _chunks(items, self.batch_size):
            if rate_per_s:
                ahead = t0 + n / rate_per_s - time.perf_counter()
                if ahead > 0:
                    time.sleep(ahead)
            self.send(chunk)
            n += len(chunk)
            sent += 1
        return sent

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until the broker acknowledged every message sent.

        Raises
        ------
        ConnectorError
            If some are still unacknowledged after ``timeout_s``.
        """
        self.client.flush(timeout_s)
