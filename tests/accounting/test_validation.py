"""Checks on activity data as it enters: one bad input per rule, the demo files, readings."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import math
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from carbontwin.accounting.validation import (
    RULES,
    ValidationResult,
    validate_entries,
    validate_readings,
)
from carbontwin.connectors.files import read_activity_file
from carbontwin.core import MeteringPoint, ValidationError, demo_park_path, load_park
from carbontwin.core.records import ActivityEntry
from carbontwin.core.time import parse_period

TODAY = dt.date(2026, 1, 31)
NOW = dt.datetime(2026, 1, 31, 12, 0)
TZ = "Asia/Shanghai"


@functools.cache
def demo_park():
    return load_park(demo_park_path())


def demo_rows(name):
    path = resources.files("carbontwin.data").joinpath(f"activity/{name}")
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@functools.cache
def demo_entries():
    result = validate_entries(demo_park(), demo_rows("demo_2025.csv"), today=TODAY)
    return tuple(result.entries)


def row(**kw):
    base = {
        "source": "E04-DIESEL",
        "stream": "",
        "start": "2025-03-01",
        "end": "2025-03-31",
        "quantity": "12",
        "unit": "t",
        "ref": "ledger 2025-03 E04-DIESEL",
    }
    base.update(kw)
    return base


def monthly(source="E04-DIESEL", quantity="12", months=(1, 2, 3), **kw):
    rows = []
    for m in months:
        start = dt.date(2025, m, 1)
        end = (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date()
        rows.append(
            row(
                source=source,
                start=str(start),
                end=str(end),
                quantity=quantity,
                ref=f"ledger 2025-{m:02d} {source}",
                **kw,
            )
        )
    return rows


def run(rows, **kw):
    kw.setdefault("today", TODAY)
    return validate_entries(demo_park(), rows, **kw)


def last_quarantined(rows, **kw):
    result = run(rows, **kw)
    assert len(result.entries) + len(result.quarantine) == len(rows)
    assert result.quarantine, "expected the last row to be quarantined"
    return result.quarantine[-1]


# One bad input per rule: (rule, rows, key phrase of the reason); the last row is the bad one.
CASES = [
    ("missing_field", [row(quantity="", unit=None)], "quantity, unit are missing"),
    ("missing_field", [{"source": "E04-DIESEL", "start": "2025-03-01"}], "end, quantity, unit"),
    ("unknown_source", [row(source="E04-DISEL")], "did you mean E04-DIESEL"),
    ("unknown_source", [row(source="Z99-NOTHING-LIKE-IT")], "no source id is close"),
    (
        "unknown_source",
        [row(source="E01-CHP-OUT", stream="elec", unit="MWh")],
        "its streams are 'electricity', 'heat'",
    ),
    ("unknown_source", [row(stream="heat")], "has no stream 'heat'"),
    ("bad_time", [row(start="yesterday")], "start 'yesterday' is not a date"),
    ("bad_time", [row(end="2025-02-30")], "is not a calendar date"),
    ("bad_time", [row(start="2025-03-31", end="2025-03-01")], "end 2025-03-01 is before start"),
    ("bad_time", [row(start="2026-01-01", end="2026-02-28")], "is in the future"),
    ("bad_value", [row(quantity="12 t")], "quantity '12 t' is not a number"),
    ("bad_value", [row(quantity="nan")], "is not a finite number"),
    ("bad_value", [row(quantity=math.inf)], "is not a finite number"),
    ("bad_value", [row(quality="guessed")], "quality 'guessed' is not one of"),
    ("bad_value", [row(origin="fax")], "origin 'fax' is not one of"),
    ("unit", [row(unit="kt")], "unit 'kt' is a speed ([length]/[time])"),
    ("unit", [row(unit="kWh")], "E04-DIESEL takes mass in t"),
    ("unit", [row(source="E04-ELEC", unit="t")], "is a mass ([mass]); E04-ELEC takes energy"),
    ("unit", [row(unit="bananas")], "unit 'bananas' is not known"),
    ("negative", [row(quantity="-2500")], "quantity -2500 is negative; activity is never negative"),
    (
        "range",
        [row(source="E01-CHP-COAL", quantity="100000")],
        "more than the 1920 t/day its metering points can measure",
    ),
    ("range", [row(source="E04-PV", unit="MWh", quantity="2000")], "P-E04-PV max_value 400"),
    (
        "outside_registry",
        [
            row(
                source="E09-ELEC",
                start="2025-06-01",
                end="2025-07-31",
                unit="kWh",
                quantity="800000",
            )
        ],
        "after enterprise E09 left the park on 2025-06-30",
    ),
    (
        "outside_registry",
        [row(start="2015-12-01", end="2015-12-31")],
        "before enterprise E04 entered the park on 2016-01-01",
    ),
    ("duplicate", [row(), row(ref="typed twice")], "duplicates row 1 (ledger 2025-03"),
    ("duplicate", [row(), row(quantity="12000", unit="kg")], "same source E04-DIESEL"),
    ("conflict", [row(), row(quantity="13")], "is already entered as 12 t"),
    (
        "overlap",
        [row(), row(start="2025-03-15", end="2025-04-14")],
        "2025-03-15 to 2025-04-14 overlaps 2025-03-01 to 2025-03-31",
    ),
    (
        "outlier",
        [*monthly(), row(start="2025-04-01", end="2025-04-30", quantity="500")],
        "more than 10 times the median",
    ),
    (
        "outlier",
        [*monthly(), row(start="2025-04-01", end="2025-04-30", quantity="0.1")],
        "less than 1/10 of the median",
    ),
]


@pytest.mark.parametrize(
    ("rule", "rows", "phrase"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_rule_quarantines_with_a_readable_reason(rule, rows, phrase):
    q = last_quarantined(rows)
    assert q.rule == rule
    assert phrase in q.reason
    assert q.reason.startswith(f"row {len(rows)}")
    assert q.row == rows[-1]
    assert rule in RULES


def test_every_rule_has_a_bad_input_test():
    entry_rules = {c[0] for c in CASES}
    elsewhere = {"decreasing", "file", "gap", "rollover"}  # readings, reader and findings below
    assert entry_rules | elsewhere == set(RULES)


def test_reason_names_ref_field_value_and_fix():
    q = last_quarantined([row(source="E10-COKE", quantity="-2500", ref="ledger 2025-08 E10")])
    assert q.reason == (
        "row 1 (ledger 2025-08 E10): quantity -2500 is negative; activity is "
        "never negative — enter exports and recoveries on their own sources"
    )
    assert q.ref == "ledger 2025-08 E10"
    assert q.origin == "file"


def test_reason_without_ref_names_the_row_number():
    q = last_quarantined([row(), row(ref="", quantity="x")])
    assert q.reason.startswith("row 2: quantity 'x' is not a number")


def test_rows_stop_at_the_first_rule_in_order():
    # Unknown source and a bad quantity: the source is checked first.
    assert last_quarantined([row(source="NOPE", quantity="x")]).rule == "unknown_source"
    # Future dates and a negative quantity: bad_time comes before negative.
    assert last_quarantined([row(end="2027-01-31", quantity="-1")]).rule == "bad_time"
    # A wrong unit on a duplicate: unit comes first.
    assert last_quarantined([row(), row(unit="kWh")]).rule == "unit"


def test_duplicate_of_an_existing_entry():
    existing = [
        ActivityEntry(
            id="A1",
            source="E04-DIESEL",
            start=dt.date(2025, 3, 1),
            end=dt.date(2025, 3, 31),
            quantity=12.0,
            unit="t",
            ref="ledger",
        )
    ]
    q = last_quarantined([row()], existing=existing)
    assert q.rule == "duplicate"
    assert "existing entry A1 (ledger)" in q.reason


def test_existing_entries_in_another_unit_are_compared_in_canonical_units():
    existing = [
        ActivityEntry(
            source="E04-DIESEL",
            start=dt.date(2025, 3, 1),
            end=dt.date(2025, 3, 31),
            quantity=12000.0,
            unit="kg",
        )
    ]
    assert last_quarantined([row()], existing=existing).rule == "duplicate"


def test_accepted_entries_are_converted_to_the_canonical_unit():
    rows = [
        row(quantity="12000", unit="kg", ref="kg ledger", id="X1", entered_by="li"),
        row(source="E03-NG-BOILER", quantity="150000", unit="Nm3"),
        row(source="E04-ELEC", quantity="1,355.2", unit="MWh", quality="invoice"),
        row(source="E01-CHP-OUT", stream="electricity", quantity="36136.3", unit="兆瓦时"),
    ]
    result = run(rows)
    assert result.quarantine == []
    diesel, gas, elec, chp = result.entries
    assert (diesel.unit, diesel.ref, diesel.id, diesel.entered_by) == ("t", "kg ledger", "X1", "li")
    assert_allclose(diesel.quantity, 12.0, rtol=1e-12)  # exact power-of-ten conversion
    assert gas.unit == "wNm3"
    assert_allclose(gas.quantity, 15.0, rtol=1e-12)
    assert (elec.unit, elec.quality, elec.origin) == ("kWh", "invoice", "file")
    assert_allclose(elec.quantity, 1_355_200.0, rtol=1e-12)
    assert (chp.key, chp.unit) == ("E01-CHP-OUT:electricity", "kWh")
    assert diesel.quality == "measured"


def test_typed_values_and_slash_dates_are_accepted():
    rows = [
        row(start=dt.datetime(2025, 1, 1), end=dt.date(2025, 1, 31), quantity=12.0),
        row(start="2025/02/01", end="2025/02/28", quantity=12),
        row(start=pd.Timestamp("2025-03-01"), end="2025-03-31 00:00:00", quantity=np.float64(12)),
    ]
    result = run(rows)
    assert result.quarantine == []
    assert [e.start for e in result.entries] == [dt.date(2025, m, 1) for m in (1, 2, 3)]


def test_origin_of_the_row_wins_over_the_default():
    result = run([row(origin="manual"), row(start="2025-04-01", end="2025-04-30")], origin="api")
    assert [e.origin for e in result.entries] == ["manual", "api"]


def test_outlier_needs_three_other_entries():
    rows = [*monthly(months=(1, 2)), row(start="2025-04-01", end="2025-04-30", quantity="500")]
    assert run(rows).quarantine == []
    # A larger factor lets the same entry through.
    rows = [*monthly(), row(start="2025-04-01", end="2025-04-30", quantity="500")]
    assert run(rows, outlier_factor=100).quarantine == []


def test_outlier_factor_must_exceed_one():
    with pytest.raises(ValidationError, match="outlier_factor"):
        run([row()], outlier_factor=1.0)


def test_summary_counts_each_rule():
    rows = [row(), row(), row(quantity="-1", start="2025-04-01", end="2025-04-30"), row(unit="")]
    summary = run(rows).summary()
    assert summary == {
        "accepted": 1,
        "quarantined": 3,
        "missing_field": 1,
        "negative": 1,
        "duplicate": 1,
        "findings": 0,
    }


def test_gap_findings_for_months_without_entries():
    rows = monthly(source="E05-HOTWATER", quantity="3000")
    result = run(rows, period=parse_period("2025-Q2"))
    assert result.quarantine == []
    gaps = [f for f in result.findings if f.rule == "gap"]
    assert [f.source for f in gaps] == ["E05-HOTWATER"] * 3
    assert "E05-HOTWATER has no activity entry for 2025-04" in gaps[0].reason
    assert result.summary()["gap"] == 3


def test_no_gap_findings_after_the_enterprise_left():
    rows = monthly(source="E09-ELEC", unit="kWh", quantity="800000", months=range(1, 7))
    result = run(rows, period=parse_period("2025"))
    assert result.quarantine == []
    assert result.findings == []


def test_existing_entries_cover_months_for_gaps():
    existing = run(monthly(months=(4, 5, 6))).entries
    result = run(monthly(), existing=existing, period=parse_period("2025-01/2025-06"))
    assert result.findings == []


# The demo data ---------------------------------------------------------------------------
def test_demo_file_is_accepted_whole():
    rows = demo_rows("demo_2025.csv")
    result = validate_entries(demo_park(), rows, today=TODAY)
    assert result.summary()["quarantined"] == 0, [q.reason for q in result.quarantine]
    assert len(result.entries) == len(rows)


def test_demo_manual_file_quarantines_its_three_bad_rows():
    rows = demo_rows("demo_2025_manual.csv")
    result = validate_entries(demo_park(), rows, today=TODAY, existing=demo_entries())
    assert result.entries == []
    assert sorted(q.rule for q in result.quarantine) == ["duplicate", "negative", "unit"]
    by_rule = {q.rule: q for q in result.quarantine}
    assert "unit 'kt' is a speed ([length]/[time])" in by_rule["unit"].reason
    assert "E04-DIESEL takes mass in t" in by_rule["unit"].reason
    assert "E07-DIESEL" in by_rule["duplicate"].reason
    assert "-2500 is negative" in by_rule["negative"].reason
    assert all(q.origin == "manual" for q in result.quarantine)


def test_file_rule_for_an_unreadable_file(tmp_path):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(b"this is not a workbook")
    rows, problems = read_activity_file(path)
    assert rows == []
    assert [p.rule for p in problems] == ["file"]
    assert "is not a readable XLSX workbook" in problems[0].reason


# Property: nothing is dropped silently ----------------------------------------------------
_SOURCES = st.sampled_from(
    ["E04-DIESEL", "E01-CHP-OUT", "E08-WWT", "E09-ELEC", "E04-PV", "E01-CHP-COAL", "NOPE", ""]
)
_DAY = st.dates(min_value=dt.date(2014, 1, 1), max_value=dt.date(2026, 12, 31))
_DATES = st.one_of(
    _DAY,
    _DAY.map(str),
    _DAY.map(lambda d: d.strftime("%Y/%m/%d")),
    st.datetimes(min_value=dt.datetime(2014, 1, 1), max_value=dt.datetime(2026, 12, 31)),
    st.text(max_size=10),
    st.none(),
)
_QUANTITIES = st.one_of(
    st.floats(),
    st.integers(-(10**6), 10**9),
    st.floats().map(str),
    st.sampled_from(["12", "1,200.5", "-0", "", "nan", "1e400"]),
    st.text(max_size=8),
    st.none(),
)
_UNITS = st.one_of(
    st.sampled_from(
        [
            "t",
            "kg",
            "kt",
            "kWh",
            "MWh",
            "万Nm3",
            "10^4 Nm3",
            "GJ",
            "tCO2e",
            "m/s",
            "",
            "吨",
            "度",
            "t*km",
        ]
    ),
    st.text(max_size=6),
)
_SPANS = st.sampled_from(
    [
        (dt.date(2025, m, 1), (pd.Timestamp(2025, m, 1) + pd.offsets.MonthEnd(0)).date())
        for m in range(1, 13)
    ]
    + [(dt.date(2025, 3, 15), dt.date(2025, 4, 14))]
)


@st.composite
def _rows(draw):
    """Mostly plausible rows, each field now and then replaced by a bad value or left out."""
    start, end = draw(_SPANS)
    good = {
        "source": draw(st.sampled_from(["E04-DIESEL", "E07-DIESEL", "E04-PV", "E09-ELEC"])),
        "stream": "",
        "start": draw(st.sampled_from([start, str(start), start.strftime("%Y/%m/%d")])),
        "end": draw(st.sampled_from([end, str(end), dt.datetime.combine(end, dt.time())])),
        "quantity": draw(st.sampled_from(["12", "12.0", 12, "60", "500", "0.1", "1,200.5"])),
        "unit": draw(st.sampled_from(["t", "kg", "吨"])),
    }
    if good["source"] in ("E04-PV", "E09-ELEC"):
        good["unit"] = draw(st.sampled_from(["kWh", "MWh", "度"]))
    bad = {
        "source": _SOURCES,
        "stream": st.sampled_from(["electricity", "heat", "sludge", "x"]),
        "start": _DATES,
        "end": _DATES,
        "quantity": _QUANTITIES,
        "unit": _UNITS,
    }
    row = {}
    for key, value in good.items():
        choice = draw(st.sampled_from(["good"] * 6 + ["bad", "absent"]))
        if choice == "good":
            row[key] = value
        elif choice == "bad":
            row[key] = draw(bad[key])
    for key, values in (
        ("quality", st.sampled_from(["", "measured", "invoice", "bad"])),
        ("origin", st.sampled_from(["", "manual", "file", "fax"])),
        ("ref", st.text(max_size=5)),
        ("id", st.one_of(st.text(max_size=4), st.integers(), st.none())),
    ):
        if draw(st.booleans()):
            row[key] = draw(values)
    return row


_ROWS = _rows()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_ROWS, max_size=25), n_existing=st.integers(0, 20))
def test_every_row_lands_or_is_quarantined(rows, n_existing):
    existing = demo_entries()[:n_existing]
    result = validate_entries(
        demo_park(), rows, today=TODAY, existing=existing, period=parse_period("2025")
    )
    assert len(result.entries) + len(result.quarantine) == len(rows)
    assert all(q.rule in RULES and q.reason for q in result.quarantine)
    summary = result.summary()
    assert summary["accepted"] + summary["quarantined"] == len(rows)
    for e in result.entries:
        assert e.unit in {"t", "kWh", "GJ", "wNm3", "tCO2e", "t*km", "wCNY"}


# Readings --------------------------------------------------------------------------------
def readings(point, values, start="2025-03-01 00:00", freq="15min"):
    ts = pd.date_range(start, periods=len(values), freq=freq, tz=TZ)
    return pd.DataFrame({"point": point, "ts": ts, "value": values})


def park_with(*points):
    park = demo_park().model_copy(deep=True)
    park.points.extend(points)
    return park


def test_cumulative_register_rollover_and_reset():
    values = [99_999_000, 99_999_500, 200, 300, 50, 80]
    data, result = validate_readings(demo_park(), readings("P-E03-ELEC", values), today=NOW)
    assert [q.rule for q in result.quarantine] == ["decreasing"]
    q = result.quarantine[0]
    assert "register value 50 kWh is below the previous reading 300" in q.reason
    assert "differencing restarts from this reading" in q.reason
    assert q.ref.startswith("P-E03-ELEC 2025-03-01T01:00:00")
    assert [f.rule for f in result.findings] == ["rollover"]
    assert "rolled over at 99999999 kWh" in result.findings[0].reason
    summary = result.summary()
    assert (summary["rollover"], summary["decreasing"], summary["accepted"]) == (1, 1, 5)
    assert data.streams == ["E03-ELEC"]
    assert data.refs == {"E03-ELEC": "points:P-E03-ELEC"}
    assert data.interval_h == 0.25
    # t0 → t1: 500; t1 → t2 wraps: 99999999 - 99999500 + 200 = 699; t2 → t3: 100;
    # t3 → t4 is the reset (unknown); t4 → t5: 30 (from the reset reading). Exact integers.
    # The index ends at t4, the start of the last known amount.
    assert_allclose(data.values[0], [500, 699, 100, 0, 30], rtol=0, atol=1e-6)
    assert data.index[0] == pd.Timestamp("2025-03-01 00:00", tz=TZ)
    assert data.index[-1] == pd.Timestamp("2025-03-01 01:00", tz=TZ)


def test_a_decrease_near_the_top_is_not_a_rollover():
    values = [99_999_000, 99_999_500, 99_998_000, 99_998_100]
    data, result = validate_readings(demo_park(), readings("P-E03-ELEC", values), today=NOW)
    assert [q.rule for q in result.quarantine] == ["decreasing"]
    assert "differencing restarts from this reading" in result.quarantine[0].reason
    assert result.findings == []
    assert_allclose(data.values[0], [500, 0, 100], rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("values", "bad", "expected"),
    [
        # A reading that drops out low (a dip) between two that agree.
        ([1_000, 1_500, 0, 1_600, 1_700], 2, [500, 100, 0, 100]),
        # A reading ten times too high (a spike) between two that agree.
        ([1_000, 1_500, 15_000, 1_600, 1_700], 2, [500, 100, 0, 100]),
    ],
)
def test_a_single_faulty_register_reading_is_bridged(values, bad, expected):
    data, result = validate_readings(demo_park(), readings("P-E03-ELEC", values), today=NOW)
    assert [q.rule for q in result.quarantine] == ["decreasing"]
    q = result.quarantine[0]
    assert q.ref.startswith(f"P-E03-ELEC {readings('P-E03-ELEC', values)['ts'][bad].isoformat()}")
    assert "a single faulty reading" in q.reason
    # The register's total is kept: the amounts add up to last minus first.
    assert_allclose(data.values[0], expected, rtol=0, atol=1e-9)
    assert data.values[0].sum() == values[-1] - values[0]


def test_interval_point_in_mwh_lands_in_kwh():
    point = MeteringPoint(
        id="P-E06-MWH",
        enterprise="E06",
        source="E06-ELEC",
        carrier="electricity",
        unit="MWh",
        kind="interval",
        interval_s=900,
    )
    data, result = validate_readings(
        park_with(point), readings("P-E06-MWH", [1.5, 2.0, 0.25]), today=NOW
    )
    assert result.quarantine == []
    assert data.streams == ["E06-ELEC"]
    assert_allclose(data.values[0], [1500.0, 2000.0, 250.0], rtol=1e-12)  # factor 1000 exact


def test_cumulative_point_in_mwh_is_differenced_and_converted():
    data, result = validate_readings(
        demo_park(), readings("P-E06-ELEC", [10.0, 10.5, 11.25]), today=NOW
    )
    assert result.quarantine == []
    assert_allclose(data.values[0], [500.0, 750.0], rtol=1e-12)


def test_points_feeding_one_stream_are_summed_on_the_smallest_interval():
    hourly = MeteringPoint(
        id="P-E03-ELEC-2",
        enterprise="E03",
        source="E03-ELEC",
        carrier="electricity",
        unit="kWh",
        kind="interval",
        interval_s=3600,
    )
    frame = pd.concat(
        [
            readings("P-E03-ELEC", [0.0, 10.0, 30.0, 60.0, 100.0]),
            readings("P-E03-ELEC-2", [7.0, 9.0], freq="1h"),
        ],
        ignore_index=True,
    )
    data, result = validate_readings(park_with(hourly), frame, today=NOW)
    assert data.refs == {"E03-ELEC": "points:P-E03-ELEC,P-E03-ELEC-2"}
    assert data.interval_h == 0.25
    assert_allclose(data.values[0], [17, 20, 30, 40, 9], rtol=0, atol=1e-9)
    assert result.quarantine == []
    assert result.findings == []  # hourly readings one hour apart leave no gap


def test_naive_timestamps_are_bad_time_for_every_row():
    frame = readings("P-E04-PV", [1.0, 2.0, 3.0])
    frame["ts"] = frame["ts"].dt.tz_localize(None)
    data, result = validate_readings(demo_park(), frame, today=NOW)
    assert data is None
    assert [q.rule for q in result.quarantine] == ["bad_time"] * 3
    assert "has no time zone; localise" in result.quarantine[0].reason
    assert "tz_localize('Asia/Shanghai')" in result.quarantine[0].reason


def test_conflicting_readings_are_all_quarantined_and_duplicates_once():
    frame = readings("P-E04-PV", [1.0, 2.0, 3.0])
    extra = pd.DataFrame(
        {"point": ["P-E04-PV", "P-E04-PV"], "ts": [frame.ts[1], frame.ts[2]], "value": [2.5, 3.0]}
    )
    data, result = validate_readings(
        demo_park(), pd.concat([frame, extra], ignore_index=True), today=NOW
    )
    rules = [q.rule for q in result.quarantine]
    assert sorted(rules) == ["conflict", "conflict", "duplicate"]
    conflict = next(q for q in result.quarantine if q.rule == "conflict")
    assert "has different values (2, 2.5)" in conflict.reason
    assert_allclose(data.values[0], [1.0, 0.0, 3.0], rtol=0)


def test_reading_rules_unknown_point_future_value_range_negative():
    frame = pd.concat(
        [
            readings("P-E04-PV", [1.0, "x", 500.0, -1.0, np.nan]),
            readings("P-NOPE", [1.0]),
            readings("P-E10-CEMS", [1.0]),
            readings("P-E04-PV", [1.0], start="2026-06-01"),
        ],
        ignore_index=True,
    )
    frame["quality"] = ["good", "", "", "", "", "", "", ""]
    data, result = validate_readings(demo_park(), frame, today=NOW)
    by_rule = {}
    for q in result.quarantine:
        by_rule.setdefault(q.rule, []).append(q.reason)
    assert by_rule.keys() == {"bad_value", "range", "negative", "unknown_source", "bad_time"}
    assert "value 'x' is not a finite number" in by_rule["bad_value"][0]
    assert "above the highest plausible value 400 kWh" in by_rule["range"][0]
    assert "value -1 kWh is negative" in by_rule["negative"][0]
    assert any("point 'P-NOPE' is not in park" in r for r in by_rule["unknown_source"])
    assert any("measures no source" in r for r in by_rule["unknown_source"])
    assert "is in the future" in by_rule["bad_time"][0]
    assert result.readings == 1
    assert data.streams == ["E04-PV"]


def test_meter_quality_flag_quarantines_the_reading():
    frame = readings("P-E04-PV", [1.0, 2.0])
    frame["quality"] = ["good", "unavailable"]
    _, result = validate_readings(demo_park(), frame, today=NOW)
    assert [q.rule for q in result.quarantine] == ["bad_value"]
    assert "flagged the value 2 as 'unavailable'" in result.quarantine[0].reason


def test_missing_columns_quarantine_every_reading():
    frame = pd.DataFrame({"point": ["P-E04-PV"], "value": [1.0]})
    data, result = validate_readings(demo_park(), frame, today=NOW)
    assert data is None
    assert [q.rule for q in result.quarantine] == ["missing_field"]
    assert "column ts is missing" in result.quarantine[0].reason


def test_gap_finding_for_missing_intervals():
    frame = readings("P-E04-PV", [1.0, 2.0, 3.0, 4.0])
    frame = frame.drop(index=[1, 2])
    data, result = validate_readings(demo_park(), frame, today=NOW)
    assert [f.rule for f in result.findings] == ["gap"]
    assert "(2 interval(s) of 900 s); those intervals count as zero" in result.findings[0].reason
    assert_allclose(data.values[0], [1.0, 0.0, 0.0, 4.0], rtol=0)


_READING_VALUES = st.one_of(
    st.floats(min_value=-10, max_value=1e8),
    st.sampled_from([np.nan, math.inf, "x", 99_999_990.0, 0.0]),
)


@settings(max_examples=100, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.sampled_from(["P-E03-ELEC", "P-E04-PV", "P-E06-ELEC", "P-E10-CEMS", "P-NOPE"]),
            st.integers(0, 40),
            _READING_VALUES,
        ),
        max_size=60,
    )
)
def test_every_reading_lands_or_is_quarantined(data):
    start = pd.Timestamp("2025-03-01", tz=TZ)
    frame = pd.DataFrame(
        {
            "point": [d[0] for d in data],
            "ts": pd.DatetimeIndex(
                [start + pd.Timedelta(minutes=15 * d[1]) for d in data],
                dtype=f"datetime64[ns, {TZ}]",
            ),
            "value": pd.Series([d[2] for d in data], dtype=object),
        }
    )
    out, result = validate_readings(demo_park(), frame, today=NOW)
    assert isinstance(result, ValidationResult)
    assert result.readings + len(result.quarantine) == len(frame)
    if out is not None:
        assert out.values.shape == (len(out.streams), len(out.index))
        assert np.isfinite(out.values).all()
