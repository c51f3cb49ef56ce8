"""Peak prediction: next day's peak, the month's peak and the probability of exceeding a
contracted demand, on the demo park's simulated demand (120 days)."""

import numpy as np
import pandas as pd
import pytest

from benchmarks.forecast import demo_history
from carbontwin.core.errors import ValidationError
from carbontwin.forecasting import (
    GradientBoosting,
    Sarimax,
    daily_peak_errors,
    predict_month_peak,
    predict_peak,
)


@pytest.fixture(scope="module")
def demo():
    demand, weather, _ = demo_history(120)
    return demand, weather


def test_next_day_peak_and_exceedance(demo):
    demand, weather = demo
    origin = pd.Timestamp("2025-04-20", tz=demand.index.tz)
    model = GradientBoosting(calibration="28D", max_iter=150).fit(
        demand[demand.index < origin], weather
    )
    day = demand[(demand.index >= origin) & (demand.index < origin + pd.Timedelta("1D"))]
    actual = float(day.max())
    low = predict_peak(model, origin, weather, demand, contracted=0.97 * actual)
    high = predict_peak(model, origin, weather, demand, contracted=1.03 * actual)
    assert abs(low["peak"] - actual) / actual < 0.05
    assert low["peak_q0.1"] <= low["peak"] <= low["peak_q0.9"]
    assert low["p_exceed"] > 0.5 > high["p_exceed"]
    assert low["peak_time"].tz is not None and 0 <= low["peak_hour"] <= 23
    errors = daily_peak_errors(model.calibration_)
    assert len(errors) == 28  # one per calibration day


def test_month_peak(demo):
    demand, weather = demo
    origin = pd.Timestamp("2025-04-15", tz=demand.index.tz)
    model = GradientBoosting(horizon="31D", calibration="28D", max_iter=100).fit(
        demand[demand.index < origin], weather
    )
    april = demand[
        (demand.index >= origin.replace(day=1)) & (demand.index < origin + pd.Timedelta("16D"))
    ]
    actual = float(april.max())
    so_far = float(demand[(demand.index >= origin.replace(day=1)) & (demand.index < origin)].max())
    out = predict_month_peak(model, origin, weather, demand, contracted=1.05 * actual)
    assert out["observed_peak"] == so_far
    assert abs(out["peak"] - actual) / actual < 0.05
    assert out["peak"] >= so_far
    assert out["p_exceed"] < 0.5
    certain = predict_month_peak(model, origin, weather, demand, contracted=0.9 * so_far)
    assert certain["p_exceed"] == 1.0  # already exceeded this month


def test_peak_needs_calibration_and_horizon(demo):
    demand, weather = demo
    origin = pd.Timestamp("2025-04-15", tz=demand.index.tz)
    sarimax = Sarimax(window="14D").fit(demand[demand.index < origin])
    with pytest.raises(ValidationError, match="no calibration"):
        predict_peak(sarimax, origin)
    day_model = GradientBoosting(calibration="14D", max_iter=20).fit(
        demand[demand.index < origin], weather
    )
    with pytest.raises(ValidationError, match="horizon"):
        predict_month_peak(day_model, origin, weather, demand)
    assert np.isnan(predict_peak(day_model, origin, weather, demand)["p_exceed"])
