"""Payload format of the MQTT connector: Sparkplug-style batches of readings in JSON.

A gateway publishes on ``carbontwin/<park>/<gateway>/data`` a JSON object

.. code-block:: json

    {"seq": 17, "ts": 1740787200000,
     "metrics": [{"point": "P-E03-ELEC", "ts": 1740787200000, "value": 1234.5, "q": 0}]}

``seq`` counts the gateway's messages, ``ts`` is when the message was built and each
metric carries the point id, its own timestamp [ms since 1970-01-01 UTC], the value in
the unit the device reports and a quality code (0 = good; optional). :func:`decode` turns
a message into a :class:`Batch`; a payload that cannot be read at all raises
:class:`ConnectorError`, while a single metric that cannot be read is kept in
:attr:`Batch.rejected` with its reason, so the rest of the batch still lands.

Examples
--------
>>> batch = decode(
...     "carbontwin/demo/gw-1/data",
...     b'{"seq": 1, "ts": 1740787200000, "metrics": '
...     b'[{"point": "P1", "ts": 1740787200000, "value": 2.5}]}',
... )
>>> batch.gateway, batch.metrics
('gw-1', [Metric(point='P1', ts_ms=1740787200000, value=2.5, quality=0)])
>>> topic, payload = encode("demo", "gw-1", 2, 1740787201000, batch.metrics)
>>> topic, decode(topic, payload).metrics == batch.metrics
('carbontwin/demo/gw-1/data', True)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from carbontwin.connectors.mqtt.errors import ConnectorError

__all__ = [
    "QUALITY_RANGE",
    "TOPIC_PREFIX",
    "BadMessage",
    "Batch",
    "Metric",
    "RejectedMetric",
    "data_topic",
    "decode",
    "decode_or_reject",
    "encode",
    "parse_topic",
    "subscription",
]

#: First level of every carbontwin topic.
TOPIC_PREFIX = "carbontwin"
#: Allowed quality codes (the store keeps them as a 16-bit integer).
QUALITY_RANGE = (-32768, 32767)
#: Timestamps before this are not milliseconds (seconds, or an unset clock): 2000-01-01.
_MIN_MS = 946_684_800_000
#: Timestamps after this are not milliseconds either (microseconds): 2100-01-01.
_MAX_MS = 4_102_444_800_000


class Metric(NamedTuple):
    """One reading: point id, time [ms since 1970 UTC], value [device unit], quality."""

    point: str
    ts_ms: int
    value: float
    quality: int = 0


@dataclass(frozen=True)
class RejectedMetric:
    """A metric that could not be read, with the rule it broke and why."""

    rule: str
    reason: str
    raw: object


@dataclass
class Batch:
    """A decoded message: where it came from and its readings.

    Attributes
    ----------
    park, gateway : str
        From the topic ``carbontwin/<park>/<gateway>/data``.
    seq : int
        The gateway's message counter.
    ts_ms : int
        When the gateway built the message [ms since 1970 UTC].
    metrics : list of Metric
        The readable metrics, in message order.
    rejected : list of RejectedMetric
        The metrics that could not be read.
    """

    park: str
    gateway: str
    seq: int
    ts_ms: int
    metrics: list[Metric] = field(default_factory=list)
    rejected: list[RejectedMetric] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.metrics) + len(self.rejected)


@dataclass(frozen=True)
class BadMessage:
    """A message that could not be decoded at all: its topic, payload text and why."""

    topic: str
    payload: str
    reason: str


def decode_or_reject(topic: str, payload: bytes | str) -> Batch | BadMessage:
    """Return :func:`decode`'s batch, or a :class:`BadMessage` with the reason it failed."""
    try:
        return decode(topic, payload)
    except ConnectorError as exc:
        if isinstance(payload, bytes | bytearray):
            payload = bytes(payload).decode("utf-8", errors="replace")
        return BadMessage(topic, payload[:2000], str(exc))


def data_topic(park: str, gateway: str) -> str:
    """Return the data topic of ``gateway`` in ``park``: ``carbontwin/<park>/<gateway>/data``."""
    for name, value in (("park", park), ("gateway", gateway)):
        if not value or any(c in value for c in "/+#") or value.strip() != value:
            msg = (
                f"{name}(={value!r}) must be a non-empty topic level without '/', '+', '#' "
                "or surrounding spaces"
            )
            raise ConnectorError(msg)
    return f"{TOPIC_PREFIX}/{park}/{gateway}/data"


def subscription(park: str) -> str:
    """Return the filter that matches every gateway's data topic of ``park``."""
    return f"{TOPIC_PREFIX}/{park}/+/data"


def parse_topic(topic: str) -> tuple[str, str]:
    """Return ``(park, gateway)`` of a data topic.

    Raises
    ------
    ConnectorError
        If the topic is not ``carbontwin/<park>/<gateway>/data``.
    """
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != TOPIC_PREFIX or parts[3] != "data" or not all(parts):
        msg = (
            f"topic {topic!r} is not a data topic; gateways publish on "
            f"{TOPIC_PREFIX}/<park>/<gateway>/data"
        )
        raise ConnectorError(msg)
    return parts[1], parts[2]


def _integer(value: object) -> int | None:
    """Return ``value`` as an int when it is an integral JSON number, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _metric(i: int, raw: object) -> Metric | RejectedMetric:
    """Read metric ``i`` of a message, or say why it cannot be read."""
    where = f"metric {i}"
    if not isinstance(raw, Mapping):
        return RejectedMetric(
            "bad_value", f"{where} is {type(raw).__name__}, not an object; send objects", raw
        )
    point = raw.get("point")
    if not isinstance(point, str) or not point.strip():
        return RejectedMetric(
            "missing_field", f"{where}: point(={point!r}) must be a non-empty point id", raw
        )
    where = f"{where} ({point})"
    if "ts" not in raw or raw["ts"] is None:
        return RejectedMetric("missing_field", f"{where}: ts is missing; give ms since 1970", raw)
    ts = _integer(raw["ts"])
    if ts is None:
        reason = f"{where}: ts(={raw['ts']!r}) must be an integer number of ms since 1970 UTC"
        return RejectedMetric("bad_time", reason, raw)
    if not _MIN_MS <= ts <= _MAX_MS:
        reason = (
            f"{where}: ts(={ts}) is not a time in ms between 2000 and 2100; "
            "send milliseconds since 1970 UTC (not seconds or microseconds)"
        )
        return RejectedMetric("bad_time", reason, raw)
    if "value" not in raw:
        return RejectedMetric("missing_field", f"{where}: value is missing", raw)
    value = raw["value"]
    if value is None:
        reason = f"{where}: value is null; send a number, or leave the metric out"
        return RejectedMetric("bad_value", reason, raw)
    if isinstance(value, bool) or not isinstance(value, int | float):
        reason = (
            f"{where}: value(={value!r}) is {type(value).__name__}, not a number; "
            "send the reading as a JSON number"
        )
        return RejectedMetric("bad_value", reason, raw)
    number = float(value)
    if not math.isfinite(number):
        reason = f"{where}: value(={value!r}) is not a finite number; check the device"
        return RejectedMetric("bad_value", reason, raw)
    q = raw.get("q", 0)
    quality = _integer(q)
    if quality is None or not QUALITY_RANGE[0] <= quality <= QUALITY_RANGE[1]:
        reason = (
            f"{where}: q(={q!r}) must be an integer quality code between "
            f"{QUALITY_RANGE[0]} and {QUALITY_RANGE[1]} (0 = good)"
        )
        return RejectedMetric("bad_value", reason, raw)
    return Metric(point, ts, number, quality)


def decode(topic: str, payload: bytes | str) -> Batch:
    """Decode one message.

    JSON's ``NaN`` and ``Infinity`` are read (some gateways send them) and land among
    the rejected metrics.

    Parameters
    ----------
    topic : str
        The topic it arrived on.
    payload : bytes or str
        The UTF-8 JSON payload.

    Returns
    -------
    Batch

    Raises
    ------
    ConnectorError
        If the topic is not a data topic, or the payload is not UTF-8 JSON of the form
        ``{"seq": int, "ts": ms, "metrics": [...]}``.
    """
    park, gateway = parse_topic(topic)
    where = f"message on {topic}"
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes | bytearray) else payload
        doc = json.loads(text)
    except UnicodeDecodeError as exc:
        msg = f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start}); send UTF-8 JSON"
        raise ConnectorError(msg) from None
    except json.JSONDecodeError as exc:
        msg = (
            f"{where} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            'send {"seq": n, "ts": ms, "metrics": [...]}'
        )
        raise ConnectorError(msg) from None
    if not isinstance(doc, dict):
        msg = f'{where} is a JSON {type(doc).__name__}, not an object {{"seq", "ts", "metrics"}}'
        raise ConnectorError(msg)
    metrics = doc.get("metrics")
    if not isinstance(metrics, list):
        msg = f"{where}: metrics(={metrics!r:.40}) must be a list of metric objects"
        raise ConnectorError(msg)
    seq = _integer(doc.get("seq", 0))
    if seq is None or seq < 0:
        msg = f"{where}: seq(={doc.get('seq')!r}) must be a non-negative integer"
        raise ConnectorError(msg)
    ts = _integer(doc.get("ts", 0))
    if ts is None:
        msg = f"{where}: ts(={doc.get('ts')!r}) must be an integer number of ms since 1970 UTC"
        raise ConnectorError(msg)
    batch = Batch(park, gateway, seq, ts)
    good = batch.metrics
    qmin, qmax = QUALITY_RANGE
    for i, raw in enumerate(metrics):
        # Fast path for a well-formed metric; anything unusual takes the checks below.
        if type(raw) is dict:
            p, t, v, q = raw.get("point"), raw.get("ts"), raw.get("value"), raw.get("q", 0)
            if (
                type(p) is str
                and p
                and type(t) is int
                and _MIN_MS <= t <= _MAX_MS
                and (type(v) is float or type(v) is int)
                and type(q) is int
                and qmin <= q <= qmax
            ):
                number = float(v)
                if number - number == 0.0:  # finite
                    good.append(Metric(p, t, number, q))
                    continue
        item = _metric(i, raw)
        if isinstance(item, Metric):
            batch.metrics.append(item)
        else:
            batch.rejected.append(item)
    return batch


def encode(
    park: str, gateway: str, seq: int, ts_ms: int, metrics: Sequence[Metric]
) -> tuple[str, bytes]:
    """Encode readings as one message; return ``(topic, payload)``.

    Parameters
    ----------
    park, gateway : str
        Where the message comes from.
    seq : int
        The gateway's message counter.
    ts_ms : int
        When the message is built [ms since 1970 UTC].
    metrics : sequence of Metric
        The readings.
    """
    body = {
        "seq": int(seq),
        "ts": int(ts_ms),
        "metrics": [
            {"point": m.point, "ts": int(m.ts_ms), "value": m.value, "q": int(m.quality)}
            for m in metrics
        ],
    }
    return data_topic(park, gateway), json.dumps(body, separators=(",", ":")).encode("utf-8")
