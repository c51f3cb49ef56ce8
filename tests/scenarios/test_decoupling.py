"""Tapio's eight states, their boundaries at 0.8 and 1.2, by year, period and level."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbontwin.core.errors import ValidationError
from carbontwin.scenarios import TAPIO_STATES, decoupling, tapio_elasticity, tapio_state

# (output change, emissions change) in % → state; the coupling bands include 0.8 and 1.2
CASES = [
    (10, -5, "strong_decoupling"),
    (10, 0, "weak_decoupling"),  # e = 0 exactly
    (10, 4, "weak_decoupling"),
    (10, 7.99, "weak_decoupling"),
    (10, 8, "expansive_coupling"),  # e = 0.8: on the boundary, coupling
    (10, 10, "expansive_coupling"),
    (10, 12, "expansive_coupling"),  # e = 1.2: on the boundary, coupling
    (10, 12.01, "expansive_negative_decoupling"),
    (10, 20, "expansive_negative_decoupling"),
    (-10, 5, "strong_negative_decoupling"),
    (-10, 0, "weak_negative_decoupling"),
    (-10, -4, "weak_negative_decoupling"),
    (-10, -8, "recessive_coupling"),  # e = 0.8
    (-10, -10, "recessive_coupling"),
    (-10, -12, "recessive_coupling"),  # e = 1.2
    (-10, -12.01, "recessive_decoupling"),
    (-10, -20, "recessive_decoupling"),
    (0, 5, "undefined"),
]


@pytest.mark.parametrize(("dg", "dc", "state"), CASES)
def test_tapio_state_of_each_region(dg, dc, state):
    c0, g0 = 1000.0, 500.0
    c1, g1 = c0 * (1 + dc / 100), g0 * (1 + dg / 100)
    e = tapio_elasticity(c0, c1, g0, g1)
    if dg:
        assert float(e) == pytest.approx(dc / dg, rel=1e-9, abs=1e-12)
    assert tapio_state(e, g1 - g0, c1 - c0).item() == state


def test_all_eight_states_are_reached():
    reached = {s for _, _, s in CASES}
    assert reached == set(TAPIO_STATES)


def test_exact_boundaries_given_as_elasticities():
    out = tapio_state([0.8, 1.2, 0.8, 1.2, 0.8 - 1e-6, 1.2 + 1e-6], [1, 1, -1, -1, 1, 1], 1)
    assert out.tolist()[:4] == ["expansive_coupling"] * 2 + ["recessive_coupling"] * 2
    assert out.tolist()[4:] == ["weak_decoupling", "expansive_negative_decoupling"]


def history():
    rows = []
    # two enterprises of two industries; E1 grows cleanly, E2 grows dirty
    for year, (c1, g1, c2, g2) in zip(
        range(2020, 2026),
        [
            (100, 50, 80, 20),
            (98, 55, 88, 21),
            (97, 60, 100, 22),
            (95, 66, 104, 22),
            (96, 70, 100, 21),
            (90, 75, 95, 20),
        ],
        strict=True,
    ):
        rows.append(
            {
                "year": year,
                "enterprise": "E1",
                "industry": "chem",
                "emissions_tco2e": c1,
                "value_added_1e4cny": g1,
            }
        )
        rows.append(
            {
                "year": year,
                "enterprise": "E2",
                "industry": "lime",
                "emissions_tco2e": c2,
                "value_added_1e4cny": g2,
            }
        )
    return pd.DataFrame(rows)


def test_decoupling_by_year_period_and_level():
    df = history()
    park = decoupling(df)
    assert list(park.start) == [2020, 2021, 2022, 2023, 2024]
    assert park.loc[0, "emissions_start"] == 180 and park.loc[0, "output_end"] == 76
    e = ((98 + 88) / 180 - 1) / (76 / 70 - 1)
    assert park.loc[0, "elasticity"] == pytest.approx(e, rel=1e-12)
    assert park.loc[0, "state"] == "weak_decoupling"

    by_period = decoupling(df, level="enterprise", periods=[(2020, 2023), (2023, 2025)])
    e1 = by_period.set_index(["entity", "start"])
    assert e1.loc[("E1", 2020), "state"] == "strong_decoupling"  # 100 → 95 while 50 → 66
    assert e1.loc[("E2", 2020), "state"] == "expansive_negative_decoupling"  # +30 % vs +10 %
    # 104 → 95 (-8.7 %) while 22 → 20 (-9.1 %): e = 0.95
    assert e1.loc[("E2", 2023), "state"] == "recessive_coupling"
    assert e1.loc[("E2", 2023), "elasticity"] == pytest.approx((95 / 104 - 1) / (20 / 22 - 1))
    by_industry = decoupling(df, level="industry", periods=[(2020, 2025)], lang="zh")
    names = dict(zip(by_industry.entity, by_industry.state_name, strict=True))
    assert names["chem"] == "强脱钩"


def test_state_names_in_both_languages():
    df = history()
    en = decoupling(df, periods=[(2020, 2021)])
    zh = decoupling(df, periods=[(2020, 2021)], lang="zh")
    assert en.state_name[0] == "weak decoupling" and zh.state_name[0] == "弱脱钩"


def test_bad_frames():
    with pytest.raises(ValidationError, match="missing"):
        decoupling(pd.DataFrame({"year": [2020]}))
    with pytest.raises(ValidationError, match="level"):
        decoupling(history(), level="zone")
    with pytest.raises(ValidationError, match="no data for 2019"):
        decoupling(history(), periods=[(2019, 2021)])
    assert np.isnan(tapio_elasticity(1.0, 2.0, 5.0, 5.0))
