"""MQTT ingestion: Sparkplug-style batches of readings, QoS 1, acks after the commit."""

from carbontwin.connectors.mqtt.broker import LocalBroker, find_mosquitto, free_port
from carbontwin.connectors.mqtt.client import BrokerSettings, Message, MqttClient
from carbontwin.connectors.mqtt.codec import (
    BadMessage,
    Batch,
    Metric,
    RejectedMetric,
    data_topic,
    decode,
    decode_or_reject,
    encode,
    parse_topic,
    subscription,
)
from carbontwin.connectors.mqtt.errors import ConnectorError
from carbontwin.connectors.mqtt.publisher import Publisher, metrics_from_frame
from carbontwin.connectors.mqtt.subscriber import Sink, Subscriber

__all__ = [
    "BadMessage",
    "Batch",
    "BrokerSettings",
    "ConnectorError",
    "LocalBroker",
    "Message",
    "Metric",
    "MqttClient",
    "Publisher",
    "RejectedMetric",
    "Sink",
    "Subscriber",
    "data_topic",
    "decode",
    "decode_or_reject",
    "encode",
    "find_mosquitto",
    "free_port",
    "metrics_from_frame",
    "parse_topic",
    "subscription",
]
