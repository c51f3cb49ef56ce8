"""The real-time ingestion pipeline without a broker: rules, units, dedupe, twin state."""

import math

import pandas as pd
import pytest

from carbontwin.connectors.mqtt import BadMessage, Batch, Metric, decode
from carbontwin.core import demo_park_path, load_park
from carbontwin.core.errors import ValidationError
from carbontwin.runtime.ingest import Ingestor, IngestSummary
from carbontwin.store import Store
from carbontwin.twin.state import TwinState

NOW = pd.Timestamp("2025-03-01 12:00", tz="UTC")
T0 = int(pd.Timestamp("2025-03-01 11:00", tz="UTC").value // 1_000_000)
MIN = 60_000


@pytest.fixture(scope="module")
def park():
    return load_park(demo_park_path())


@pytest.fixture
def store():
    with Store.open("sqlite://") as s:
        yield s


def ingestor(store, park, **kw):
    return Ingestor(store, park, kw.pop("state", None), clock=lambda: NOW, **kw)


def batch(metrics, gateway="gw-z2", park_id="binhai", seq=1):
    return Batch(park_id, gateway, seq, T0, list(metrics))


def test_good_readings_land_once_and_reach_the_twin(store, park):
    state = TwinState.for_park(park)
    ing = ingestor(store, park, state=state)
    good = [Metric("P-E03-KW", T0 + i * MIN, 800.0 + i, 0) for i in range(5)]
    s = ing.ingest(batch(good))
    assert (s.received, s.stored, s.duplicate, s.quarantined) == (5, 5, 0, 0)
    assert store.readings("P-E03-KW", T0, T0 + 10 * MIN) == [
        (T0 + i * MIN, 800.0 + i, 0) for i in range(5)
    ]
    snap = state.snapshot()
    assert snap.loc["P-E03-KW", "value"] == 804.0
    # the same batch again (a redelivery): all already stored, nothing new
    again = ing.ingest(batch(good, seq=1))
    assert (again.stored, again.duplicate, again.quarantined) == (0, 5, 0)
    assert ing.total.received == 10 and ing.total.stored == 5 and ing.total.balanced


def test_each_rule_quarantines_with_its_reason(store, park):
    ing = ingestor(store, park)
    metrics = [
        Metric("P-E03-KW", T0, 800.0, 0),  # good
        Metric("P-E03-KWW", T0, 1.0, 0),  # unknown point
        Metric("P-E03-KW", T0 + 10 * 86_400_000, 1.0, 0),  # far future
        Metric("P-E03-KW", T0 - 90 * 86_400_000, 1.0, 0),  # too old
        Metric("P-E04-PV-KW", T0, 950.0, 0),  # above max_value 400
        Metric("P-E04-PV", T0, -3.0, 0),  # negative interval amount
        Metric("P-E05-KW", T0, math.nan, 0),  # not finite
        Metric("P-E05-KW", T0 + MIN, 1.0, 99999),  # quality out of range
        Metric("P-E06-KW", T0, 2.0, 0),  # good
        Metric("P-E06-KW", T0, 2.0, 0),  # repeated: duplicate
        Metric("P-E07-KW", T0, 3.0, 0),  # good, then a conflicting copy
        Metric("P-E07-KW", T0, 4.0, 0),
    ]
    s = ing.ingest(batch(metrics))
    assert s.received == 12
    assert (s.stored, s.duplicate, s.quarantined) == (3, 1, 8)
    assert s.rules == {
        "unknown_source": 1,
        "bad_time": 2,
        "range": 1,
        "negative": 1,
        "bad_value": 2,
        "conflict": 1,
    }
    assert s.balanced
    held = store.quarantined("binhai")
    reasons = {q["rule"]: [] for q in held}
    for q in held:
        reasons[q["rule"]].append(q["reason"])
        assert q["origin"] == "meter"
    assert "did you mean P-E03-KW" in reasons["unknown_source"][0]
    assert any("is in the future" in r for r in reasons["bad_time"])
    assert any("older than the 31 days" in r for r in reasons["bad_time"])
    assert "above the highest plausible value 400 kW" in reasons["range"][0]
    assert "is negative" in reasons["negative"][0]
    assert "the first was kept" in reasons["conflict"][0]
    assert store.readings("P-E07-KW", T0, T0 + 1) == [(T0, 3.0, 0)]


def test_a_register_above_its_rollover_is_quarantined(store, park):
    # P-E03-ELEC rolls over at 99,999,999 kWh: a reading above it cannot be a register value.
    s = ingestor(store, park).ingest(
        batch([Metric("P-E03-ELEC", T0, 12_345.0, 0), Metric("P-E03-ELEC", T0 + MIN, 1.2e9, 0)])
    )
    assert (s.stored, s.quarantined, s.rules) == (1, 1, {"range": 1})
    (held,) = store.quarantined("binhai")
    assert "above the register's rollover 99999999 kWh" in held["reason"]


def test_a_bad_reading_delivered_again_is_a_duplicate_not_a_second_quarantine(store, park):
    ing = ingestor(store, park)
    bad = Metric("P-E04-PV-KW", T0, 950.0, 0)  # above max_value 400
    first = ing.ingest(batch([bad, Metric("P-E03-KW", T0, 800.0, 0)]))
    again = ing.ingest(batch([bad, Metric("P-E03-KW", T0, 800.0, 0)], seq=2))  # redelivered
    assert (first.stored, first.quarantined) == (1, 1)
    assert (again.stored, again.quarantined, again.duplicate) == (0, 0, 2)
    assert again.balanced
    assert len(store.quarantined("binhai")) == 1


def test_watchers_see_the_stored_lot_and_one_that_fails_loses_nothing(store, park, caplog):
    seen = []

    def broken(_lot):
        raise RuntimeError("detector down")

    ing = ingestor(store, park, watchers=[broken, seen.append])
    s = ing.ingest(
        batch([Metric("P-E03-KW", T0, 800.0, 0), Metric("P-E03-KW", T0 + MIN, 801.0, 0)])
    )
    assert s.stored == 2
    assert store.readings("P-E03-KW", T0, T0 + 2 * MIN) == [(T0, 800.0, 0), (T0 + MIN, 801.0, 0)]
    (lot,) = seen
    assert lot["point"].tolist() == ["P-E03-KW"] * 2 and lot["ts"].tolist() == [T0, T0 + MIN]
    assert "a watcher of the ingestion failed" in caplog.text


def test_rejected_metrics_and_bad_messages_are_quarantined(store, park):
    ing = ingestor(store, park)
    raw = (
        b'{"seq": 1, "ts": %d, "metrics": [{"point": "P-E03-KW", "ts": %d, "value": 1.5},'
        b' {"point": "P-E03-KW", "ts": %d, "value": "x"}]}' % (T0, T0, T0 + MIN)
    )
    bad = BadMessage("carbontwin/binhai/gw-z2/data", '{"seq": 1,', "message is not valid JSON")
    s = ing.ingest([decode("carbontwin/binhai/gw-z2/data", raw), bad])
    assert (s.messages, s.received, s.stored, s.quarantined) == (2, 3, 1, 2)
    held = store.quarantined("binhai")
    assert [q["rule"] for q in held] == ["bad_value", "bad_value"]
    assert held[1]["row"] == {"topic": bad.topic, "payload": bad.payload}
    assert held[0]["row"]["value"] == "x"


def test_gateway_rules_refuse_unknown_sources_and_audit_once(store, park):
    ing = ingestor(store, park, gateways={"gw-z2"})
    m = [Metric("P-E03-KW", T0, 1.0, 0), Metric("P-E04-KW", T0, 2.0, 0)]
    s = ing.ingest([batch(m, gateway="gw-rogue"), batch(m, gateway="gw-rogue", seq=2)])
    # The second message repeats the first: its readings are duplicates of those held.
    assert (s.stored, s.quarantined, s.duplicate) == (0, 2, 2)
    assert s.rules == {"unknown_source": 2}
    other = ing.ingest(batch(m, park_id="elsewhere"))
    assert other.quarantined == 2
    refused = store.audit_log(action="ingest.refused")
    assert len(refused) == 2 and {r["outcome"] for r in refused} == {"denied"}
    assert "gw-rogue is not registered" in store.quarantined("binhai")[0]["reason"]
    # P-E03-ELEC is wired to gw-z2 in the demo park: not accepted from another gateway
    open_ing = ingestor(store, park)
    s = open_ing.ingest(batch([Metric("P-E03-ELEC", T0, 5.0, 0)], gateway="gw-z9"))
    assert s.rules == {"unknown_source": 1}
    assert open_ing.ingest(batch([Metric("P-E03-ELEC", T0, 5.0, 0)])).stored == 1


def test_device_unit_converts_with_one_factor_per_point(store, park):
    watts = park.point("P-E03-KW").model_copy(update={"protocol": {"type": "mqtt", "unit": "W"}})
    points = [watts if p.id == "P-E03-KW" else p for p in park.points]
    ing = ingestor(store, park.model_copy(update={"points": points}))
    ing.ingest(batch([Metric("P-E03-KW", T0, 812_500.0, 0)]))
    [(_ts, value, _)] = store.readings("P-E03-KW", T0, T0 + 1)
    assert value == pytest.approx(812.5, rel=1e-12)  # W -> kW is exactly 1e-3
    bad = watts.model_copy(update={"protocol": {"unit": "t"}})
    with pytest.raises(ValidationError, match="protocol unit 't' cannot be converted"):
        Ingestor(store, park.model_copy(update={"points": [bad]}))


def test_frames_go_through_the_same_rules(store, park):
    ing = ingestor(store, park)
    frame = pd.DataFrame(
        {
            "point": ["P-E03-KW", "P-E03-KW", "P-E04-KW"],
            "ts": pd.to_datetime(
                ["2025-03-01 11:00", "2025-03-01 11:01", "2025-03-01 11:00"], utc=True
            ),
            "value": [1.0, float("nan"), 2.0],
            "quality": [0, 0, 0],
        }
    )
    s = ing.ingest(frame)
    assert (s.stored, s.quarantined, s.rules) == (2, 1, {"bad_value": 1})
    with pytest.raises(ValidationError, match="value missing"):
        ing.ingest(frame[["point", "ts"]])
    assert IngestSummary().balanced
