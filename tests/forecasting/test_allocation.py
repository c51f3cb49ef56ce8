"""Target pre-allocation (T2): hand-computed cases per method, exact sums, pins, months, errors.

Every expected number below is computed by hand in the comments; allocations are compared
with ``==`` because the largest-remainder rounding makes them exact integers (resolution 1 t).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Target
from carbontwin.forecasting.allocation import (
    Allocation,
    allocate,
    growth_adjusted,
    historical_share,
    industry_map,
    intensity_benchmark,
    largest_remainder,
    monthly_profile,
    monthly_split,
    total_from_intensity,
)
from tests.conftest import make_park

INDUSTRY = pd.Series({"E1": "C2614", "E2": "C2619", "E3": "C3011"})

# 2021 lies outside the 3-year base period 2022–2024 and must be ignored.
HISTORY = pd.DataFrame(
    {
        "E1": [999.0, 100.0, 110.0, 120.0],  # mean 2022–2024 = 110
        "E2": [999.0, 200.0, 190.0, 210.0],  # mean 200
        "E3": [999.0, 300.0, 290.0, 310.0],  # mean 300; park 610
    },
    index=[2021, 2022, 2023, 2024],
)


def alloc(a: Allocation) -> dict[str, float]:
    return a.frame["allocation"].to_dict()


# ---------------------------------------------------------------------------------------
# historical_share
# ---------------------------------------------------------------------------------------
def test_historical_share_hand_computed():
    # quotas 1000 × (110, 200, 300) / 610 = 180.328, 327.869, 491.803; floors sum to 998;
    # the 2 t left go to the largest fractions (.869 E2, .803 E3) → 180, 328, 492.
    a = historical_share(1000.0, HISTORY, INDUSTRY, year=2025)
    assert alloc(a) == {"E1": 180.0, "E2": 328.0, "E3": 492.0}
    assert a.frame["allocation"].sum() == 1000.0
    assert a.frame["weight"].to_dict() == {"E1": 110.0, "E2": 200.0, "E3": 300.0}
    assert a.frame["share"]["E3"] == 0.492
    assert a.method == "historical_share"
    assert a.params["base_period"] == [2022, 2023, 2024]
    assert a.params["base_years"] == 3
    assert not a.frame["fixed"].any()


def test_historical_share_reasoning_in_both_languages():
    a = historical_share(1000.0, HISTORY, INDUSTRY, year=2025)
    en, zh = a.frame.loc["E1", "reason_en"], a.frame.loc["E1", "reason_zh"]
    # 110 / 610 = 18.03 %
    assert en == (
        "3-year mean 110 t CO2e (2022–2024); share 18.0 % of the park's total × "
        "the park target 1,000 t CO2e"
    )
    assert zh == "2022–2024 年 3 年平均 110 tCO2e；占园区合计 18.0 % × 园区目标 1,000 tCO2e"
    assert a.frame["reason_en"].str.len().gt(0).all()
    assert a.frame["reason_zh"].str.contains("园区").all()


def test_historical_share_base_years_parameter():
    # base_years=1: only 2024 → 120, 210, 310 (Σ 640); 640 × 1 → exactly the history.
    a = historical_share(640.0, HISTORY, INDUSTRY, year=2025, base_years=1)
    assert alloc(a) == {"E1": 120.0, "E2": 210.0, "E3": 310.0}
    assert "1-year mean 120 t CO2e (2024)" in a.frame.loc["E1", "reason_en"]


def test_historical_share_default_year_and_target_model():
    target = Target(indicator="energy_tce", year=2025, value=1000.0)
    a = historical_share(target, HISTORY, INDUSTRY)
    assert a.year == 2025 and a.indicator == "energy_tce"
    assert alloc(a) == {"E1": 180.0, "E2": 328.0, "E3": 492.0}
    assert "tce" in a.frame.loc["E1", "reason_en"]
    # no year and a number: the year after the last history
    assert historical_share(1000.0, HISTORY, INDUSTRY).year == 2025


def test_historical_share_ignores_years_from_the_target_year_on():
    later = pd.concat([HISTORY, pd.DataFrame({"E1": [1e6], "E2": [0.0], "E3": [0.0]}, [2025])])
    a = historical_share(1000.0, later, INDUSTRY, year=2025)
    assert alloc(a) == {"E1": 180.0, "E2": 328.0, "E3": 492.0}


def test_historical_share_industry_level():
    # C2614 and C2619 are separate 4-digit industries here: rows are the three codes.
    # Group E1 and E2 into C26 to have a two-enterprise industry:
    ind = pd.Series({"E1": "C26", "E2": "C26", "E3": "C30"})
    # C26 = 110 + 200 = 310, C30 = 300; quotas 508.197, 491.803 → 508, 492.
    a = historical_share(1000.0, HISTORY, ind, year=2025, level="industry")
    assert a.frame.index.name == "industry"
    assert alloc(a) == {"C26": 508.0, "C30": 492.0}
    assert a.members == {"C26": ["E1", "E2"], "C30": ["E3"]}
    assert "of its 2 enterprises" in a.frame.loc["C26", "reason_en"]
    assert "2 家企业合计" in a.frame.loc["C26", "reason_zh"]


def test_historical_share_late_entrant_uses_its_own_years():
    # E4 entered in 2024: mean over its one year = 50. Σ = 110 + 200 + 300 + 50 = 660.
    hist = HISTORY.assign(E4=[np.nan, np.nan, np.nan, 50.0])
    ind = pd.concat([INDUSTRY, pd.Series({"E4": "C3011"})])
    # 660 × (110, 200, 300, 50) / 660 → exactly the weights.
    a = historical_share(660.0, hist, ind, year=2025)
    assert alloc(a) == {"E1": 110.0, "E2": 200.0, "E3": 300.0, "E4": 50.0}
    assert "1-year mean 50 t CO2e (2024)" in a.frame.loc["E4", "reason_en"]


# ---------------------------------------------------------------------------------------
# Planner's pins
# ---------------------------------------------------------------------------------------
def test_fixed_allocation_redistributes_the_rest():
    # E3 pinned at 500: rest 500 over E1, E2 by 110 : 200 → 177.419, 322.581 → 177, 323.
    a = historical_share(1000.0, HISTORY, INDUSTRY, year=2025, fixed={"E3": 500})
    assert alloc(a) == {"E1": 177.0, "E2": 323.0, "E3": 500.0}
    assert a.frame["allocation"].sum() == 1000.0
    assert a.frame["fixed"].to_dict() == {"E1": False, "E2": False, "E3": True}
    assert a.params["fixed"] == {"E3": 500.0} and a.params["remaining"] == 500.0
    # pinned row: what the method would have given (492, from the unpinned case)
    assert a.frame.loc["E3", "reason_en"].startswith(
        "fixed by the planner at 500 t CO2e (the method suggested 492 t CO2e"
    )
    assert a.frame.loc["E3", "reason_zh"].startswith("规划人员固定为 500 tCO2e（方法建议 492 tCO2e")
    # 110 / 310 = 35.5 % of the unpinned rows
    assert (
        "share 35.5 % of the unfixed rows' total × the remaining 500 t CO2e"
        in (a.frame.loc["E1", "reason_en"])
    )
    assert "剩余 500 tCO2e" in a.frame.loc["E1", "reason_zh"]


def test_fixed_everything_or_all_but_one():
    a = historical_share(1000.0, HISTORY, INDUSTRY, year=2025, fixed={"E1": 0, "E2": 1000})
    assert alloc(a) == {"E1": 0.0, "E2": 1000.0, "E3": 0.0}
    a = historical_share(
        1000.0, HISTORY, INDUSTRY, year=2025, fixed={"E1": 100, "E2": 400, "E3": 500}
    )
    assert a.frame["allocation"].sum() == 1000.0


def test_fixed_at_industry_level_names_industries():
    ind = pd.Series({"E1": "C26", "E2": "C26", "E3": "C30"})
    a = historical_share(1000.0, HISTORY, ind, year=2025, level="industry", fixed={"C30": 600})
    assert alloc(a) == {"C26": 400.0, "C30": 600.0}
    with pytest.raises(ValidationError, match=r"fixed names industr.*\['E3'\]"):
        historical_share(1000.0, HISTORY, ind, year=2025, level="industry", fixed={"E3": 1})


def test_fixed_refusals():
    with pytest.raises(ValidationError, match=r"fixed names enterprise\(s\) \['E9'\]"):
        historical_share(1000.0, HISTORY, INDUSTRY, year=2025, fixed={"E9": 10})
    with pytest.raises(ValidationError, match=r"fixed allocations sum to 1,100 t CO2e, more"):
        historical_share(1000.0, HISTORY, INDUSTRY, year=2025, fixed={"E1": 600, "E2": 500})
    with pytest.raises(ValidationError, match=r"fixed\['E1'\]\(=-5.0\) must be"):
        historical_share(1000.0, HISTORY, INDUSTRY, year=2025, fixed={"E1": -5})
    with pytest.raises(ValidationError, match=r"not a multiple of the resolution"):
        historical_share(1000.0, HISTORY, INDUSTRY, year=2025, fixed={"E1": 10.5})
    with pytest.raises(ValidationError, match=r"leave 100 t CO2e of the target with no row"):
        historical_share(
            1000.0, HISTORY, INDUSTRY, year=2025, fixed={"E1": 300, "E2": 300, "E3": 300}
        )


# ---------------------------------------------------------------------------------------
# intensity_benchmark
# ---------------------------------------------------------------------------------------
BENCHMARK = pd.Series({"C26": 2.0, "C2619": 1.5, "C30": 4.0})  # t CO2e / 10^4 CNY
ACTIVITY = pd.Series({"E1": 100.0, "E2": 200.0, "E3": 50.0})  # 10^4 CNY, planned 2025


def test_intensity_benchmark_hand_computed():
    # E1 C2614 → C26 2.0 × 100 = 200; E2 C2619 (longest key) 1.5 × 200 = 300;
    # E3 C3011 → C30 4.0 × 50 = 200; Σ 700; target 630 → k = 0.9 → 180, 270, 180.
    a = intensity_benchmark(630.0, ACTIVITY, INDUSTRY, BENCHMARK, year=2025)
    assert alloc(a) == {"E1": 180.0, "E2": 270.0, "E3": 180.0}
    assert a.frame["weight"].to_dict() == {"E1": 200.0, "E2": 300.0, "E3": 200.0}
    assert math.isclose(a.params["scale"], 0.9, rel_tol=1e-12)
    en = a.frame.loc["E2", "reason_en"]
    assert en == (
        "benchmark 1.5 t CO2e/10^4 CNY (C2619) × planned 200 10^4 CNY = 300 t CO2e; "
        "scaled ×0.9000 so the rows sum to the park target 630 t CO2e"
    )
    zh = a.frame.loc["E2", "reason_zh"]
    assert zh == (
        "行业基准 1.5 tCO2e/万元（C2619）× 计划 200 万元 = 300 tCO2e；按系数 0.9000 缩放，"
        "使合计等于园区目标 630 tCO2e"
    )


def test_intensity_target_basis():
    # intensity 1.8 t/10^4 CNY × Σ value added 350 = 630 t → same as above.
    a = allocate(
        "intensity_benchmark",
        1.8,
        industry=INDUSTRY,
        activity=ACTIVITY,
        benchmark=BENCHMARK,
        year=2025,
        target_basis="intensity",
    )
    assert a.target == 630.0
    assert alloc(a) == {"E1": 180.0, "E2": 270.0, "E3": 180.0}
    assert a.params["target_basis"] == "intensity"
    assert a.params["value_added_1e4cny"] == 350.0
    # 0.85 × 1000.5 = 850.425 → rounded down to 850 (a ceiling)
    assert total_from_intensity(0.85, 1000.5) == 850.0


def test_intensity_benchmark_new_entrant_needs_only_activity():
    # A new entrant without history is allocated by its benchmark alone.
    ind = pd.concat([INDUSTRY, pd.Series({"E4": "C3011"})])
    act = pd.concat([ACTIVITY, pd.Series({"E4": 25.0})])  # 4.0 × 25 = 100; Σ 800
    a = intensity_benchmark(800.0, act, ind, BENCHMARK, year=2025)
    assert alloc(a) == {"E1": 200.0, "E2": 300.0, "E3": 200.0, "E4": 100.0}
    assert "scaled ×1.0000" in a.frame.loc["E4", "reason_en"]


def test_intensity_benchmark_refusals():
    with pytest.raises(ValidationError, match=r"no benchmark for industry \['C3011'\].*\['E3'\]"):
        intensity_benchmark(630.0, ACTIVITY, INDUSTRY, BENCHMARK.drop("C30"), year=2025)
    with pytest.raises(ValidationError, match=r"enterprise\(s\) \['E3'\] have no planned activity"):
        intensity_benchmark(630.0, ACTIVITY.drop("E3"), INDUSTRY, BENCHMARK, year=2025)
    with pytest.raises(ValidationError, match=r"activity of E2 is nan"):
        intensity_benchmark(630.0, ACTIVITY.replace(200.0, np.nan), INDUSTRY, BENCHMARK, year=2025)
    with pytest.raises(ValidationError, match="year is required"):
        intensity_benchmark(630.0, ACTIVITY, INDUSTRY, BENCHMARK)
    # the pinned enterprise needs no activity
    a = intensity_benchmark(
        630.0, ACTIVITY.drop("E3"), INDUSTRY, BENCHMARK, year=2025, fixed={"E3": 130}
    )
    # 500 over 200 : 300 → 200, 300
    assert alloc(a) == {"E1": 200.0, "E2": 300.0, "E3": 130.0}


# ---------------------------------------------------------------------------------------
# growth_adjusted
# ---------------------------------------------------------------------------------------
GROWTH_HISTORY = pd.DataFrame(
    {
        "E1": [100.0, 110.0, 121.0],  # CAGR (121/100)^(1/2) - 1 = +10 % → 2025: 133.1
        "E2": [400.0, 320.0, 256.0],  # (256/400)^(1/2) - 1 = -20 %, capped -10 % → 230.4
        "E3": [50.0, 60.0, 70.0],  # overridden by the given forecast 136.5
    },
    index=[2022, 2023, 2024],
)


def test_growth_adjusted_hand_computed():
    # Σ forecasts 133.1 + 230.4 + 136.5 = 500; target 1000 → 266.2, 460.8, 273.0;
    # floors 266 + 460 + 273 = 999, 1 t to the largest fraction (.8, E2) → 266, 461, 273.
    a = growth_adjusted(
        1000.0, GROWTH_HISTORY, INDUSTRY, forecast=pd.Series({"E3": 136.5}), year=2025
    )
    assert alloc(a) == {"E1": 266.0, "E2": 461.0, "E3": 273.0}
    np.testing.assert_allclose(  # float powers: rtol 1e-12
        a.frame["weight"].to_numpy(), [133.1, 230.4, 136.5], rtol=1e-12
    )
    en = a.frame["reason_en"]
    assert en["E1"].startswith(
        "121 t CO2e in 2024 × (1 +10.0 %)^1 = 133.1 t CO2e forecast for 2025 "
        "(compound annual growth 2022–2024)"
    )
    assert "capped at ±10.0 %" in en["E2"] and "-10.0 %" in en["E2"]
    assert en["E3"].startswith("forecast 2025 136.5 t CO2e (given)")
    assert "2025 年预测 136.5 tCO2e（给定）" in a.frame.loc["E3", "reason_zh"]
    assert "复合增长率，限幅 ±10.0 %" in a.frame.loc["E2", "reason_zh"]
    assert a.params["forecast_given"] == ["E3"] and a.params["growth_cap"] == 0.10


def test_growth_adjusted_two_year_horizon_and_cap():
    # growth_cap 0.5: E2 keeps -20 %; year 2026 (h = 2): E1 121 × 1.21 = 146.41,
    # E2 256 × 0.64 = 163.84, E3 given 189.75; Σ 500 → ×2: 292.82, 327.68, 379.5;
    # floors 292 + 327 + 379 = 998; 2 t to .82 (E1) and .68 (E2); .5 (E3) misses.
    a = growth_adjusted(
        1000.0,
        GROWTH_HISTORY,
        INDUSTRY,
        forecast={"E3": 189.75},
        year=2026,
        growth_cap=0.5,
    )
    assert alloc(a) == {"E1": 293.0, "E2": 328.0, "E3": 379.0}


def test_growth_adjusted_forecasts_only():
    a = allocate(
        "growth_adjusted", 90.0, industry=INDUSTRY, forecast={"E1": 1, "E2": 2, "E3": 6}, year=2025
    )
    assert alloc(a) == {"E1": 10.0, "E2": 20.0, "E3": 60.0}


def test_growth_adjusted_new_entrant_must_be_fixed():
    ind = pd.concat([INDUSTRY, pd.Series({"E5": "C3011"})])
    with pytest.raises(ValidationError, match=r"growth_adjusted: enterprise\(s\) \['E5'\]"):
        growth_adjusted(1000.0, GROWTH_HISTORY, ind, year=2025)
    a = growth_adjusted(1000.0, GROWTH_HISTORY, ind, year=2025, fixed={"E5": 100})
    assert a.frame["allocation"].sum() == 1000.0 and a.frame.loc["E5", "allocation"] == 100.0


# ---------------------------------------------------------------------------------------
# Entry point and Park
# ---------------------------------------------------------------------------------------
def test_allocate_dispatches_to_the_methods():
    a = allocate("historical_share", 1000.0, industry=INDUSTRY, history=HISTORY, year=2025)
    b = historical_share(1000.0, HISTORY, INDUSTRY, year=2025)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    frame = a.to_frame()
    assert list(frame.columns) == [
        "allocation",
        "share",
        "weight",
        "reason_en",
        "reason_zh",
        "fixed",
    ]
    assert frame.attrs["method"] == "historical_share" and frame.attrs["year"] == 2025
    with pytest.raises(ValidationError, match=r"method\(='quota'\) is not known"):
        allocate("quota", 1000.0, industry=INDUSTRY, history=HISTORY)
    with pytest.raises(ValidationError, match="intensity_benchmark needs activity"):
        allocate("intensity_benchmark", 1000.0, industry=INDUSTRY, year=2025)
    with pytest.raises(ValidationError, match="historical_share needs history"):
        allocate("historical_share", 1000.0, industry=INDUSTRY)


def test_industry_from_a_park():
    park = make_park([], enterprises=3)  # E1, E3: C2614; E2: C3973
    ind = industry_map(park)
    assert ind.to_dict() == {"E1": "C2614", "E2": "C3973", "E3": "C2614"}
    hist = pd.DataFrame({"E1": [10.0], "E2": [20.0], "E3": [30.0]}, index=[2024])
    a = historical_share(60.0, hist, park, level="industry")
    assert alloc(a) == {"C2614": 40.0, "C3973": 20.0}


# ---------------------------------------------------------------------------------------
# Monthly split
# ---------------------------------------------------------------------------------------
def _monthly() -> pd.DataFrame:
    idx = pd.date_range("2023-01-01", periods=24, freq="MS", tz="Asia/Shanghai")
    e1 = [10.0] * 12 + [10.0] * 6 + [30.0] * 6  # 2023 flat; 2024 1/24 then 1/8
    e2 = [np.nan] * 12 + [15.0] * 12  # only 2024, flat
    return pd.DataFrame({"E1": e1, "E2": e2}, index=idx)  # E3: none → park profile


def test_monthly_split_hand_computed():
    a = historical_share(1000.0, HISTORY, INDUSTRY, year=2025, monthly_history=_monthly())
    m = a.monthly()
    assert list(m.index) == list(range(1, 13)) and list(m.columns) == ["E1", "E2", "E3"]
    # E1 profile: Jan–Jun (1/12 + 1/24)/2 = 1/16, Jul–Dec (1/12 + 1/8)/2 = 5/48.
    # 180 t → 11.25 × 6 and 18.75 × 6; floors 174, 6 t to the .75s → 11 × 6, 19 × 6.
    assert m["E1"].tolist() == [11.0] * 6 + [19.0] * 6
    # E2 flat: 328 / 12 = 27.33; 4 t left, ties → earliest months.
    assert m["E2"].tolist() == [28.0] * 4 + [27.0] * 8
    # E3 none: park profile; park 2023 = E1 only (flat), 2024 = 25 × 6, 45 × 6 (Σ 420):
    # Jan–Jun (1/12 + 25/420)/2 = 1/14, Jul–Dec (1/12 + 45/420)/2 = 2/21;
    # 492 → 35.14 × 6, 46.86 × 6; floors 486, 6 t to the .86s → 35 × 6, 47 × 6.
    assert m["E3"].tolist() == [35.0] * 6 + [47.0] * 6
    assert (m.sum() == a.frame["allocation"]).all()
    assert m.attrs["fallback"] == ["E3"]


def test_monthly_at_industry_level_and_for_the_park():
    ind = pd.Series({"E1": "C26", "E2": "C26", "E3": "C30"})
    a = historical_share(
        1000.0, HISTORY, ind, year=2025, level="industry", monthly_history=_monthly()
    )
    m = a.monthly()
    assert list(m.columns) == ["C26", "C30"]
    assert (m.sum() == a.frame["allocation"]).all()
    # the park's own total, by the park profile (1/14, 2/21): 1400 → 100 × 6, 133.33 × 6
    park = _monthly().sum(axis=1).rename("park")
    split = monthly_split(1400.0, park, years=2)
    assert split["park"].sum() == 1400.0
    assert split["park"].tolist() == [100.0] * 6 + [134.0, 134.0] + [133.0] * 4


def test_monthly_profile_sums_to_one_and_respects_before():
    prof = monthly_profile(_monthly(), years=3)
    np.testing.assert_allclose(prof.sum().to_numpy(), 1.0, rtol=1e-12)  # shares of a year
    prof = monthly_profile(_monthly(), before=2024)  # only 2023: E1 flat, E2 none → park
    np.testing.assert_allclose(prof.to_numpy(), 1 / 12, rtol=1e-12)
    assert prof.attrs["fallback"] == ["E2"]


def test_monthly_needs_history():
    a = historical_share(1000.0, HISTORY, INDUSTRY, year=2025)
    with pytest.raises(ValidationError, match="no monthly history"):
        a.monthly()
    empty = _monthly().iloc[:5]
    with pytest.raises(ValidationError, match="no complete year"):
        a.monthly(empty)
    with pytest.raises(ValidationError, match="monthly DatetimeIndex or PeriodIndex"):
        a.monthly(pd.DataFrame({"E1": [1.0]}, index=[0]))


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("target", "match"),
    [
        (0.0, r"target\(=0.0\) must be a finite number > 0"),
        (-5.0, r"target\(=-5.0\) must be a finite number > 0"),
        (float("nan"), r"target\(=nan\) must be a finite number > 0"),
        (1000.5, r"target\(=1000.5\) is not a multiple of the resolution 1.0"),
    ],
)
def test_bad_target(target, match):
    with pytest.raises(ValidationError, match=match):
        historical_share(target, HISTORY, INDUSTRY, year=2025)


def test_bad_history():
    with pytest.raises(ValidationError, match="history is empty"):
        historical_share(1000.0, pd.DataFrame(), INDUSTRY, year=2025)
    with pytest.raises(ValidationError, match="no year before the target year 2021"):
        historical_share(1000.0, HISTORY, INDUSTRY, year=2021)
    gap = HISTORY.copy()
    gap.loc[2023, "E2"] = np.nan
    with pytest.raises(ValidationError, match=r"history of E2 has no value for 2023"):
        historical_share(1000.0, gap, INDUSTRY, year=2025)
    neg = HISTORY.copy()
    neg.loc[2024, "E1"] = -1.0
    with pytest.raises(ValidationError, match=r"history of E1 in 2024 is -1.0"):
        historical_share(1000.0, neg, INDUSTRY, year=2025)
    inf = HISTORY.copy()
    inf.loc[2024, "E3"] = np.inf
    with pytest.raises(ValidationError, match=r"history of E3 in 2024 is inf"):
        historical_share(1000.0, inf, INDUSTRY, year=2025)
    with pytest.raises(ValidationError, match=r"history names enterprise\(s\) \['E7'\]"):
        historical_share(1000.0, HISTORY.assign(E7=1.0), INDUSTRY, year=2025)
    zero = HISTORY * 0
    with pytest.raises(ValidationError, match="history sums to zero"):
        historical_share(1000.0, zero, INDUSTRY, year=2025)


def test_new_entrant_without_history_is_named():
    ind = pd.concat([INDUSTRY, pd.Series({"E6": "C3011"})])
    with pytest.raises(ValidationError) as info:
        historical_share(1000.0, HISTORY, ind, year=2025)
    text = str(info.value)
    assert "['E6'] have no history in 2022–2024" in text
    assert "fixed={'E6': ...}" in text and "intensity_benchmark" in text
    # pinned by the planner: accepted, the rest by history
    a = historical_share(1100.0, HISTORY, ind, year=2025, fixed={"E6": 100})
    assert alloc(a) == {"E1": 180.0, "E2": 328.0, "E3": 492.0, "E6": 100.0}
    # at industry level its industry has other enterprises with history: accepted (zero weight)
    b = historical_share(1000.0, HISTORY, ind, year=2025, level="industry")
    assert b.frame["allocation"].sum() == 1000.0


def test_other_refusals():
    with pytest.raises(ValidationError, match=r"level\(='zone'\)"):
        historical_share(1000.0, HISTORY, INDUSTRY, year=2025, level="zone")
    with pytest.raises(ValidationError, match="belongs to enterprise 'E1'"):
        historical_share(
            Target(indicator="emissions_tco2e", year=2025, value=10.0, enterprise="E1"),
            HISTORY,
            INDUSTRY,
        )
    with pytest.raises(ValidationError, match=r"year\(=2026\) disagrees"):
        historical_share(
            Target(indicator="emissions_tco2e", year=2025, value=10.0),
            HISTORY,
            INDUSTRY,
            year=2026,
        )
    with pytest.raises(ValidationError, match=r"forecast of E1 is nan"):
        growth_adjusted(1000.0, GROWTH_HISTORY, INDUSTRY, forecast={"E1": np.nan}, year=2025)
    with pytest.raises(ValidationError, match=r"growth_cap\(=-0.1\)"):
        growth_adjusted(1000.0, GROWTH_HISTORY, INDUSTRY, growth_cap=-0.1)
    with pytest.raises(
        ValidationError, match=r"industry code missing for enterprise\(s\) \['E2'\]"
    ):
        historical_share(1000.0, HISTORY, INDUSTRY.replace("C2619", None), year=2025)
    with pytest.raises(ValidationError, match="weights must be finite"):
        largest_remainder(10.0, pd.Series({"a": -1.0, "b": 2.0}))


# ---------------------------------------------------------------------------------------
# Exactness properties
# ---------------------------------------------------------------------------------------
@st.composite
def cases(draw):
    n = draw(st.integers(1, 8))
    years = draw(st.integers(1, 5))
    values = draw(
        st.lists(
            st.lists(st.floats(0, 1e6, allow_nan=False), min_size=n, max_size=n),
            min_size=years,
            max_size=years,
        )
    )
    names = [f"E{i}" for i in range(n)]
    hist = pd.DataFrame(values, columns=names, index=range(2024 - years + 1, 2025))
    if hist.iloc[-min(3, years) :].to_numpy().sum() <= 0:
        hist.iloc[-1, 0] = 1.0
    ind = pd.Series({e: draw(st.sampled_from(["C2614", "C3011", "D4411"])) for e in names})
    resolution = draw(st.sampled_from([1.0, 10.0, 1000.0]))
    target = draw(st.integers(1, 10**8)) * resolution
    return hist, ind, target, resolution


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), level=st.sampled_from(["enterprise", "industry"]))
def test_historical_share_sums_exactly(case, level):
    hist, ind, target, resolution = case
    a = historical_share(target, hist, ind, year=2025, level=level, resolution=resolution)
    values = a.frame["allocation"]
    assert values.sum() == target
    assert (values >= 0).all()
    assert ((values / resolution) == np.round(values / resolution)).all()
    # each row within one step of its exact quota
    w = a.frame["weight"]
    quota = target * w / w.sum()
    assert ((values - quota).abs() < resolution * (1 + 1e-9)).all()


@settings(max_examples=100, deadline=None)
@given(case=cases(), data=st.data())
def test_growth_adjusted_sums_exactly_with_pins(case, data):
    hist, ind, target, resolution = case
    pin = data.draw(st.sampled_from(list(ind.index)))
    pinned = data.draw(st.integers(0, int(target / resolution))) * resolution
    try:
        a = growth_adjusted(
            target, hist, ind, year=2025, resolution=resolution, fixed={pin: pinned}
        )
    except ValidationError as exc:
        # only refusal possible here: the rest has no one to take it (all others zero)
        assert "with no row to take it" in str(exc)
        others = hist.drop(columns=pin).iloc[-1]  # last year, the base of the forecasts
        assert pinned < target and (len(others) == 0 or others.sum() == 0)
        return
    assert a.frame["allocation"].sum() == target
    assert a.frame.loc[pin, "allocation"] == pinned


@settings(max_examples=100, deadline=None)
@given(
    total=st.integers(0, 10**9),
    weights=st.lists(st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=30),
)
def test_largest_remainder_is_exact(total, weights):
    w = pd.Series(weights)
    if w.sum() == 0:
        w.iloc[0] = 1.0
    out = largest_remainder(float(total), w)
    assert out.sum() == total
    assert ((out - total * w / w.sum()).abs() < 1 + 1e-9).all()


@settings(max_examples=60, deadline=None)
@given(
    annual=st.lists(st.integers(0, 10**7), min_size=1, max_size=4),
    months=st.lists(st.floats(0.1, 1e5), min_size=24, max_size=24),
)
def test_monthly_split_is_exact(annual, months):
    idx = pd.period_range("2023-01", periods=24, freq="M")
    cols = [f"E{i}" for i in range(len(annual))]
    hist = pd.DataFrame({c: np.roll(months, i) for i, c in enumerate(cols)}, index=idx)
    out = monthly_split(pd.Series(dict(zip(cols, map(float, annual), strict=True))), hist)
    assert (out.sum() == pd.Series(dict(zip(cols, map(float, annual), strict=True)))).all()
    assert (out >= 0).all().all()
