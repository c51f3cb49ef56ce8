"""STIRPAT recovers known elasticities from synthetic data, with confidence intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbontwin.core.errors import ValidationError
from carbontwin.scenarios import fit_stirpat

TRUE = {"a": 1.5, "b": 0.8, "c": 0.6, "d": 1.1}


def synthetic(n=40, noise=0.01, seed=3):
    rng = np.random.default_rng(seed)
    years = np.arange(1990, 1990 + n)
    pop = 20_000 * np.exp(np.cumsum(rng.normal(0.02, 0.03, n)))
    gdp = pop * 5.0 * np.exp(np.cumsum(rng.normal(0.05, 0.04, n)))
    energy = gdp * 0.8 * np.exp(np.cumsum(rng.normal(-0.03, 0.03, n)))
    a_, t_ = gdp / pop, energy / gdp
    ln_i = TRUE["a"] + TRUE["b"] * np.log(pop) + TRUE["c"] * np.log(a_) + TRUE["d"] * np.log(t_)
    emissions = np.exp(ln_i + rng.normal(0, noise, n))
    return pd.DataFrame(
        {"population": pop, "gdp_1e4cny": gdp, "energy_tce": energy, "emissions_tco2e": emissions},
        index=pd.Index(years, name="year"),
    )


def test_fit_recovers_the_coefficients():
    fit = fit_stirpat(synthetic())
    assert list(fit.params.index) == ["a", "b", "c", "d"]
    for term, value in TRUE.items():
        # noise of 1 % on 40 years: the estimates sit within a few standard errors
        assert fit.params[term] == pytest.approx(value, abs=4 * fit.bse[term] + 1e-9)
        assert fit.conf_int.loc[term, "low"] <= value <= fit.conf_int.loc[term, "high"]
    assert fit.rsquared > 0.99 and fit.nobs == 40


def test_predict_with_interval():
    hist = synthetic()
    fit = fit_stirpat(hist)
    future = hist.tail(3).copy()
    out = fit.predict(future, interval=True)
    assert list(out.columns) == ["emissions_tco2e", "low", "high"]
    assert ((out.low < out.emissions_tco2e) & (out.emissions_tco2e < out.high)).all()
    np.testing.assert_allclose(out.emissions_tco2e, future.emissions_tco2e, rtol=0.05)


def test_explicit_columns_work_too():
    hist = synthetic()
    hist["gdp_per_capita_1e4cny"] = hist.gdp_1e4cny / hist.population
    hist["energy_intensity_tce_per_1e4cny"] = hist.energy_tce / hist.gdp_1e4cny
    a = fit_stirpat(
        hist[
            [
                "population",
                "gdp_per_capita_1e4cny",
                "energy_intensity_tce_per_1e4cny",
                "emissions_tco2e",
            ]
        ]
    )
    b = fit_stirpat(synthetic())
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9)


def test_short_or_bad_history_is_refused():
    with pytest.raises(ValidationError, match="at least 6"):
        fit_stirpat(synthetic(n=5))
    bad = synthetic()
    bad.loc[1995, "emissions_tco2e"] = 0.0
    with pytest.raises(ValidationError, match="> 0"):
        fit_stirpat(bad)
    with pytest.raises(ValidationError, match="population"):
        fit_stirpat(synthetic().drop(columns="population"))
