"""The MQTT payload codec against recorded payloads (see data/mqtt/README.md)."""

import json
import math
from pathlib import Path

import pytest

from carbontwin.connectors.mqtt import (
    BadMessage,
    ConnectorError,
    Metric,
    data_topic,
    decode,
    decode_or_reject,
    encode,
    parse_topic,
    subscription,
)

DATA = Path(__file__).parent / "data" / "mqtt"
TOPIC = "carbontwin/demo/gw-z2/data"
BASE = 1740758400000  # 2025-03-01 00:00 Asia/Shanghai, in ms


def payload(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_good_batch_decodes_every_metric():
    batch = decode(TOPIC, payload("good_batch.json"))
    raw = json.loads(payload("good_batch.json"))
    assert (batch.park, batch.gateway, batch.seq, batch.ts_ms) == ("demo", "gw-z2", 1, raw["ts"])
    assert batch.rejected == []
    assert len(batch) == len(batch.metrics) == 24
    first = raw["metrics"][0]
    assert batch.metrics[0] == Metric(first["point"], first["ts"], first["value"], 0)
    assert all(isinstance(m.value, float) and isinstance(m.ts_ms, int) for m in batch.metrics)


def test_encode_round_trips_the_recording():
    batch = decode(TOPIC, payload("good_batch.json"))
    topic, body = encode("demo", "gw-z2", batch.seq, batch.ts_ms, batch.metrics)
    assert topic == TOPIC
    assert decode(topic, body).metrics == batch.metrics
    # compact JSON, the same document as the recording
    assert json.loads(body) == json.loads(payload("good_batch.json"))
    assert b" " not in body


def test_mixed_types_keep_the_good_metrics_and_say_why_the_others_fail():
    batch = decode(TOPIC, payload("mixed_types.json"))
    assert batch.metrics == [
        Metric("P-E03-KW", BASE, 812.5, 0),
        Metric("P-E07-KW", BASE, 6.0, 0),
    ]
    rules = [r.rule for r in batch.rejected]
    assert rules == [
        "bad_value",  # "812.5" as a string
        "bad_value",  # null
        "missing_field",  # empty point
        "bad_time",  # seconds, not ms
        "bad_time",  # ISO text
        "bad_value",  # quality 1.5
        "bad_value",  # boolean value
        "bad_value",  # a string instead of an object
    ]
    reasons = [r.reason for r in batch.rejected]
    assert "value(='812.5') is str, not a number" in reasons[0]
    assert "value is null" in reasons[1]
    assert "point(='') must be a non-empty point id" in reasons[2]
    assert "not seconds or microseconds" in reasons[3]
    assert "must be an integer number of ms" in reasons[4]
    assert "q(=1.5)" in reasons[5]
    assert "value(=True) is bool" in reasons[6]
    assert "metric 8 is str, not an object" in reasons[7]
    assert batch.rejected[7].raw == "P-E06-KW=5"
    assert len(batch) == 10


def test_nan_and_infinity_are_rejected_metric_by_metric():
    batch = decode(TOPIC, payload("nan_values.json"))
    assert batch.metrics == [Metric("P-E04-KW", BASE, 101.0, 0)]
    assert [r.rule for r in batch.rejected] == ["bad_value", "bad_value"]
    assert all("not a finite number" in r.reason for r in batch.rejected)
    assert math.isnan(batch.rejected[0].raw["value"])


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("truncated.json", "is not valid JSON"),
        ("not_an_object.json", "is a JSON list, not an object"),
        ("no_metrics.json", "metrics(=None) must be a list"),
        ("latin1.bin", "is not UTF-8 text"),
    ],
)
def test_undecodable_payloads_raise_a_readable_connector_error(name, says):
    with pytest.raises(ConnectorError, match=r"message on carbontwin/demo/gw-z2/data") as err:
        decode(TOPIC, payload(name))
    assert says in str(err.value)
    assert isinstance(err.value, RuntimeError)
    bad = decode_or_reject(TOPIC, payload(name))
    assert isinstance(bad, BadMessage)
    assert bad.topic == TOPIC and says in bad.reason and bad.payload


@pytest.mark.parametrize(
    "topic",
    [
        "carbontwin/demo/data",
        "other/demo/gw/data",
        "carbontwin/demo/gw/state",
        "carbontwin//gw/data",
    ],
)
def test_topics_that_are_not_data_topics_are_refused(topic):
    with pytest.raises(ConnectorError, match="is not a data topic"):
        parse_topic(topic)
    assert isinstance(decode_or_reject(topic, payload("good_batch.json")), BadMessage)


def test_topic_helpers():
    assert data_topic("demo", "gw-z2") == TOPIC
    assert parse_topic(TOPIC) == ("demo", "gw-z2")
    assert subscription("demo") == "carbontwin/demo/+/data"
    for bad in ("", "a/b", "+", "#", " gw"):
        with pytest.raises(ConnectorError, match="must be a non-empty topic level"):
            data_topic("demo", bad)
