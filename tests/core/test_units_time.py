"""Units (one pint registry) and time (periods, local days)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from carbontwin.core.errors import UnitError, ValidationError
from carbontwin.core.time import day_edges, parse_period, period_groups, to_utc
from carbontwin.core.units import conversion_factor, dimensionality, parse_unit


@pytest.mark.parametrize(
    ("src", "dst", "factor"),
    [
        ("tce", "GJ", 29.3076),
        ("kgce", "tce", 1e-3),
        ("万Nm3", "Nm3", 1e4),
        ("10^4 Nm3", "wNm3", 1.0),
        ("万元", "CNY", 1e4),
        ("亿元", "wCNY", 1e4),
        ("度", "kWh", 1.0),
        ("万千瓦时", "MWh", 10.0),
        ("吨", "kg", 1e3),
        ("MWh", "GJ", 3.6),
        ("吨标准煤", "kgce", 1e3),
        ("ktonne", "t", 1e3),
        ("kgCO2e", "tCO2e", 1e-3),
    ],
)
def test_conversions(src, dst, factor):
    assert conversion_factor(src, dst) == pytest.approx(factor, rel=1e-12)


def test_co2e_and_normal_volume_are_their_own_dimensions():
    with pytest.raises(UnitError, match="cannot be converted"):
        conversion_factor("tCO2e", "t")
    with pytest.raises(UnitError, match=r"\[normal_volume\]"):
        conversion_factor("Nm3", "m**3")
    assert dimensionality("kt") == "[length] / [time]"  # pint's kt is a knot: never guessed


def test_unknown_unit_message():
    with pytest.raises(UnitError, match="unit 'bushels of coal' is not known"):
        parse_unit("bushels of coal")
    with pytest.raises(UnitError, match="unit is empty"):
        parse_unit("  ")


def test_periods():
    assert parse_period("2024").days == 366
    assert parse_period("2025-Q4").start == dt.date(2025, 10, 1)
    p = parse_period("2025-02-10/2025-03")
    assert (p.start, p.end) == (dt.date(2025, 2, 10), dt.date(2025, 3, 31))
    with pytest.raises(ValidationError, match="not understood"):
        parse_period("last year")
    with pytest.raises(ValidationError, match=r"end .* is before start"):
        parse_period("2025-03/2025-01")
    with pytest.raises(ValidationError, match="not a valid date"):
        parse_period("2025-02-30")


def test_local_days_of_a_utc_index():
    idx = pd.date_range("2024-12-31 16:00", periods=96 * 2, freq="15min", tz="UTC")
    days, starts = day_edges(idx, "Asia/Shanghai")
    assert days == [dt.date(2025, 1, 1), dt.date(2025, 1, 2)]
    assert starts.tolist() == [0, 96]
    with pytest.raises(ValidationError, match="timezone-aware"):
        day_edges(idx.tz_localize(None), "Asia/Shanghai")
    values, tz = to_utc(idx.tz_convert("Asia/Shanghai"))
    assert tz == "Asia/Shanghai" and values.dtype == np.dtype("datetime64[ns]")


def test_period_groups():
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    labels, code = period_groups(days, "quarter")
    assert labels == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert np.bincount(code).tolist() == [90, 91, 92, 92]
    labels, code = period_groups(days, "custom", [parse_period("2025-03")])
    assert (code == 0).sum() == 31 and (code == -1).sum() == 334
    with pytest.raises(ValidationError, match="not a grouping"):
        period_groups(days, "fortnight")
