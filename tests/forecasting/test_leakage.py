"""No leakage: a day-ahead forecast issued at midnight cannot see the day it forecasts.

The CityLearn load (carbontwin/data/citylearn2022) with its weather; the target values inside
the forecast day (and after it) are perturbed: the forecast must not change at all. As a
check that the test can fail, perturbing the day before the origin does change it.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from carbontwin.forecasting import GradientBoosting, SeasonalNaive
from carbontwin.forecasting import run as backtest
from carbontwin.runtime.datasets import citylearn

ORIGIN = "2017-06-01"


@pytest.fixture(scope="module")
def data():
    load, weather = citylearn()
    origin = pd.Timestamp(ORIGIN, tz=load.index.tz)
    model = GradientBoosting(country="US", subdiv="CA", max_iter=150)
    model.fit(load[load.index < origin], weather)
    return load, weather, origin, model


def perturbed(load, start, stop, seed=7):
    rng = np.random.default_rng(seed)
    out = load.copy()
    sel = (out.index >= start) & (out.index < stop)
    out[sel] = out[sel] * rng.uniform(0.2, 5.0, int(sel.sum())) + 50.0
    return out


def test_perturbing_the_forecast_day_changes_nothing(data):
    load, weather, origin, model = data
    base = model.predict(origin, "24h", exog=weather, history=load)
    after = perturbed(load, origin, load.index[-1] + pd.Timedelta("1h"))
    assert not np.allclose(after[after.index >= origin], load[load.index >= origin])
    again = model.predict(origin, "24h", exog=weather, history=after)
    assert_array_equal(again.to_numpy(), base.to_numpy())


def test_perturbing_the_day_before_does_change_the_forecast(data):
    load, weather, origin, model = data
    base = model.predict(origin, "24h", exog=weather, history=load)
    before = perturbed(load, origin - pd.Timedelta("1D"), origin)
    changed = model.predict(origin, "24h", exog=weather, history=before)
    assert np.abs(changed["forecast"] - base["forecast"]).max() > 0.1


def test_backtest_forecast_of_a_day_ignores_that_day(data):
    load, weather, origin, _ = data
    models = {
        "gbm": GradientBoosting(country="US", subdiv="CA", max_iter=60),
        "naive": SeasonalNaive(),
    }
    origins = pd.DatetimeIndex([origin, origin + pd.Timedelta("1D")])
    kw = {"origins": origins, "refit_every": "7D"}
    base = backtest(models, load, weather, **kw)
    # perturb the second forecast day only: the first origin's forecast of it is unchanged
    # (it does not cover it), the second's cannot depend on it either
    after = perturbed(load, origins[1], origins[1] + pd.Timedelta("1D"))
    other = backtest(models, after, weather, **kw)
    assert_array_equal(other.forecast.values, base.forecast.values)
    assert not np.array_equal(other.actual.values, base.actual.values)
