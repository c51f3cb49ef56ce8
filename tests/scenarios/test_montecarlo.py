"""Monte Carlo: zero spread gives the projection; a uniform driver gives the analytic pmf;
seeds, chunking, threads and Dask give identical draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from numpy.testing import assert_allclose
from scipy.stats import chisquare

from carbontwin.core.errors import ValidationError
from carbontwin.scenarios import (
    load_study,
    monte_carlo,
    peak_summary,
    peak_year_pmf,
    prob_peak_by,
    project,
)
from tests.scenarios.builders import BASE_YEAR, one_industry, zero_spreads

G0, K, EI_RATE, C = 0.08, 0.005, -0.03, -0.01
SPREAD = 0.02


def test_zero_spread_draws_equal_the_projection(demo_doc):
    study = load_study(zero_spreads(demo_doc))
    mc = monte_carlo(study, 300, seed=3, block_draws=128)
    det = project(study)
    for name in study.scenarios:
        paths = mc.net_emissions_tco2e.sel(scenario=name)
        ref = det.net_emissions_tco2e.sel(scenario=name)
        # same kernel, summed over industries in the same order: equal to rounding
        assert_allclose(paths, np.broadcast_to(ref, paths.shape), rtol=1e-12)
        assert (mc.peak_year.sel(scenario=name) == int(det.peak_year.sel(scenario=name))).all()
        assert_allclose(
            mc.energy_tce.sel(scenario=name)[0], det.total_energy_tce.sel(scenario=name), rtol=1e-12
        )


def analytic_pmf(years):
    """P(peak year) when every growth rate is shifted by δ ~ U(-s, s).

    The peak is at τ*(δ) = ceil((g0 + δ - g*) / k) - 1, so τ* = m for
    δ ∈ (k m + g* - g0, k (m + 1) + g* - g0].
    """
    g_star = 1 / ((1 + EI_RATE) * (1 + C)) - 1
    pmf = []
    for year in years:
        m = year - BASE_YEAR
        lo = max(K * m + g_star - G0, -SPREAD)
        hi = min(K * (m + 1) + g_star - G0, SPREAD)
        pmf.append(max(hi - lo, 0.0) / (2 * SPREAD))
    return np.array(pmf)


def test_uniform_growth_gives_the_analytic_peak_year_pmf():
    study = load_study(
        one_industry(
            g0=G0, k=K, i=EI_RATE, c=C, va_uncertainty={"dist": "uniform", "spread": SPREAD}
        )
    )
    n = 20_000
    mc = monte_carlo(study, n, seed=11, keep_paths=False)
    pmf = peak_year_pmf(mc).sel(scenario="only")
    ref = analytic_pmf(pmf.peak_year.values)
    assert ref.sum() == pytest.approx(1.0)
    # binomial standard error of a share is at most 0.5 / sqrt(n) = 0.0035: 5 of them
    assert np.max(np.abs(pmf.values - ref)) < 5 * 0.5 / math.sqrt(n)
    seen = ref > 0
    stat = chisquare(pmf.values[seen] * n, ref[seen] * n)
    assert stat.pvalue > 1e-3
    assert bool(mc.peaked.all())
    # probability of peaking by 2031: τ* <= 6 ⇔ δ <= 7 k + g* - g0
    g_star = 1 / ((1 + EI_RATE) * (1 + C)) - 1
    p = (7 * K + g_star - G0 + SPREAD) / (2 * SPREAD)
    assert float(prob_peak_by(mc, 2031).sel(scenario="only")) == pytest.approx(p, abs=0.02)


def test_seed_chunking_and_threads_do_not_change_results(demo_study):
    a = monte_carlo(demo_study, 2500, seed=5, block_draws=500, chunk_blocks=1, threads=1)
    b = monte_carlo(demo_study, 2500, seed=5, block_draws=500, chunk_blocks=3, threads=2)
    xr.testing.assert_identical(a, b)
    c = monte_carlo(demo_study, 2500, seed=6, block_draws=500)
    assert not np.array_equal(a.peak_tco2e.values, c.peak_tco2e.values)
    # a scenario's draws do not depend on the other scenarios run with it
    d = monte_carlo(demo_study, 2500, seed=5, block_draws=500, scenarios=["policy"])
    xr.testing.assert_identical(a.sel(scenario=["policy"]), d)


def test_summary_and_pmf(demo_study):
    mc = monte_carlo(demo_study, 1000, seed=1)
    pmf = peak_year_pmf(mc)
    assert_allclose(pmf.sum("peak_year"), 1.0)
    s = peak_summary(mc, by_year=2030)
    assert s.peak_year_quantile.dims == ("quantile", "scenario")
    assert set(s.data_vars) >= {"peak_tco2e_mean", "peaked_frac", "prob_peak_by"}
    p = prob_peak_by(mc, 2030)
    assert float(p.sel(scenario="enhanced")) >= float(p.sel(scenario="baseline"))


def test_bad_arguments(demo_study):
    with pytest.raises(ValidationError, match="n_draws"):
        monte_carlo(demo_study, 0)
    with pytest.raises(ValidationError, match="scenario"):
        monte_carlo(demo_study, 10, scenarios=["nope"])
    with pytest.raises(ValidationError, match="dask"):
        monte_carlo(demo_study, 10, dask=3.5)


def test_kernel_never_writes_into_the_compiled_paths(demo_study):
    from carbontwin.scenarios import compile_scenario, evaluate

    comp = compile_scenario(demo_study, "enhanced")
    before = {k: (p.index.copy(), p.nominal.copy()) for k, p in comp.paths.items()}
    for rows in (1, 3):
        u = np.random.default_rng(0).random((rows, comp.n_uncertain))
        evaluate(comp, u)
        evaluate(comp, u, detail=True)
    evaluate(comp, None, detail=True)
    for k, p in comp.paths.items():
        np.testing.assert_array_equal(p.index, before[k][0])
        np.testing.assert_array_equal(p.nominal, before[k][1])


def test_a_last_block_of_one_draw_matches_the_kernel(demo_study):
    from carbontwin.scenarios import compile_scenario, evaluate
    from carbontwin.scenarios.montecarlo import _rng

    mc = monte_carlo(demo_study, 1001, seed=4, block_draws=1000, scenarios=["policy"])
    comp = compile_scenario(demo_study, "policy")
    u = _rng(4, comp.stream, 1).random((1, comp.n_uncertain))
    last = evaluate(comp, u)["net_emissions_tco2e"][:, 0]
    np.testing.assert_array_equal(mc.net_emissions_tco2e.values[0, -1], last)
