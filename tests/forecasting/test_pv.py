"""PV output from weather: the same gradient boosting with irradiance and temperature as
exog, on the demo park's simulated PV output (120 days, the simulator's weather used as a
perfect forecast), day-ahead over the last 28 days."""

import pytest

from benchmarks.forecast import demo_pv
from carbontwin.forecasting import GradientBoosting, SeasonalNaive
from carbontwin.forecasting import run as backtest


@pytest.fixture(scope="module")
def pv():
    power, weather = demo_pv(120)
    models = {
        "gbm": GradientBoosting(calibration="28D", max_iter=150),
        "naive": SeasonalNaive(season="1D"),
    }
    return backtest(models, power, weather, start="2025-04-02", end="2025-04-29", refit_every="28D")


def test_pv_forecast_from_weather_beats_yesterday(pv):
    cv = pv.scores.sel(metric="cv_rmse")
    assert float(cv.sel(model="gbm")) < 0.5 * float(cv.sel(model="naive"))
    assert abs(float(pv.scores.sel(model="gbm", metric="nmbe"))) <= 0.05


def test_pv_band_is_near_zero_at_night(pv):
    night = (pv.lead.dt.total_seconds() / 3600 < 4).values  # 00:00-04:00 local
    band = pv.quantile_forecast.sel(model="gbm").isel(lead=night)
    assert float(abs(pv.actual.isel(lead=night)).max()) == 0.0
    assert float(abs(band).max()) < 0.01 * float(pv.actual.max())
