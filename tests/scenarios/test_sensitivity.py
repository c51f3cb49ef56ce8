"""Tornado, Sobol indices and suggestions rank the drivers that move the peak."""

from __future__ import annotations

import pytest

from carbontwin.core.errors import ValidationError
from carbontwin.scenarios import load_study, sobol_indices, suggestions, tornado
from tests.scenarios.builders import one_industry


def two_drivers():
    doc = one_industry(va_uncertainty={"dist": "uniform", "spread": 0.02})
    drivers = doc["study"]["scenarios"]["only"]["drivers"]
    drivers["energy_intensity_tce_per_1e4cny"]["ind"]["uncertainty"] = {
        "dist": "normal",
        "spread": 0.0005,
    }
    return load_study(doc)


def test_tornado_ranks_and_slopes():
    tab = tornado(two_drivers(), "only")
    assert list(tab.driver) == [
        "value_added_1e4cny:ind",
        "energy_intensity_tce_per_1e4cny:ind",
    ]
    top = tab.iloc[0]
    assert top.shift_low == pytest.approx(-0.018) and top.shift_high == pytest.approx(0.018)
    # +1.8 %/yr growth moves the crossing of g* by 0.036 / 0.005 = 7.2 years: 7 or 8 here
    assert top.peak_year_high - top.peak_year_low in (7, 8)
    assert top.peak_year_per_unit > 0 and top.peak_tco2e_per_unit > 0
    assert top.peak_year_base == 2032


def test_sobol_first_and_total_order():
    tab = sobol_indices(two_drivers(), "only", n_base=256)
    big = tab.set_index("driver").loc["value_added_1e4cny:ind"]
    small = tab.set_index("driver").loc["energy_intensity_tce_per_1e4cny:ind"]
    assert big.ST_peak_tco2e > 0.9 and small.ST_peak_tco2e < 0.1
    assert big.S1_peak_year > 0.8
    assert tab.attrs["runs"] == 256 * 4


def test_suggestions_in_both_languages(demo_study):
    tab = tornado(demo_study, "policy")
    en = suggestions(demo_study, "policy", tornado_table=tab)
    zh = suggestions(demo_study, "policy", lang="zh", tornado_table=tab)
    assert len(en) == len(zh) == 3
    assert "moves the peak most" in en[0] and "peak" in en[1]
    assert "对达峰影响最大" in zh[0]
    assert "Chemicals" in en[0] and "化工" in zh[0]


def test_suggestion_wording_for_a_reduction():
    study = two_drivers()
    doc = study.model_dump()
    doc["scenarios"]["only"]["drivers"]["value_added_1e4cny"]["ind"]["uncertainty"]["spread"] = 0
    text = suggestions(load_study(doc), "only", top=1)[0]
    assert text.startswith("Energy intensity of Industry moves the peak most: each extra 1 %/yr")


def test_needs_uncertain_drivers():
    with pytest.raises(ValidationError, match="no uncertain driver"):
        tornado(load_study(one_industry()), "only")
    with pytest.raises(ValidationError, match="power of 2"):
        sobol_indices(two_drivers(), "only", n_base=100)
