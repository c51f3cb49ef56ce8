"""The inverse CDFs the draws go through agree with scipy.stats."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from carbontwin.core.errors import ValidationError
from carbontwin.scenarios import emission_bands, load_study, monte_carlo
from carbontwin.scenarios.projection import shifts
from tests.scenarios.builders import one_industry

U = np.linspace(0.001, 0.999, 999)


def test_normal_and_lognormal_shift():
    assert_allclose(shifts(0, 0.02, U), stats.norm(scale=0.02).ppf(U), rtol=1e-12, atol=1e-15)
    # lognormal: the shift is ln of the factor, so exp(shift) is lognormal with median 1
    assert_allclose(np.exp(shifts(1, 0.1, U)), stats.lognorm(s=0.1).ppf(U), rtol=1e-12)


def test_uniform_and_triangular_shift():
    assert_allclose(shifts(2, 5.0, U), stats.uniform(loc=-5, scale=10).ppf(U), rtol=1e-12)
    tri = stats.triang(c=0.5, loc=-0.1, scale=0.2)
    assert_allclose(shifts(3, 0.1, U), tri.ppf(U), rtol=1e-9, atol=1e-15)
    assert shifts(3, 0.1, np.array([0.5]))[0] == 0.0


def test_zero_spread_is_no_shift():
    for dist in range(4):
        assert not np.any(shifts(dist, 0.0, U))


def test_bands_need_paths():
    study = load_study(one_industry(va_uncertainty={"dist": "normal", "spread": 0.01}))
    mc = monte_carlo(study, 500, seed=1)
    bands = emission_bands(mc, [0.1, 0.5, 0.9])
    assert bands.dims == ("quantile", "scenario", "year")
    assert (bands.sel(quantile=0.1) <= bands.sel(quantile=0.9)).all()
    with pytest.raises(ValidationError, match="keep_paths"):
        emission_bands(monte_carlo(study, 10, keep_paths=False))
