"""Accuracy acceptance on real data (CityLearn 2022) and on the demo park's simulation.

CityLearn: the sum of buildings 1-10's equipment electric power, hourly, day-ahead issued
at local midnight, rolling origins over the last three months (2017-05-01..07-30, 91
days); the observed weather stands in for a perfect weather forecast. Models are refitted
every 30 days here (every 7 days in the benchmark, which scores slightly better).

Demo park: 120 days simulated at 1-min steps (the benchmark simulates the year), the
park's total electric demand, day-ahead on the last 28 days.
"""

import pytest

from benchmarks.forecast import citylearn_backtest, demo_backtest


@pytest.fixture(scope="module")
def citylearn_scores():
    return citylearn_backtest(refit_every="30D").scores


@pytest.fixture(scope="module")
def demo():
    return demo_backtest(
        days=120, test=("2025-04-02", "2025-04-29"), refit_every="28D", calibration="28D"
    )


def test_citylearn_gbm_beats_seasonal_naive_by_a_quarter(citylearn_scores):
    cv = citylearn_scores.sel(metric="cv_rmse")
    gbm, naive = float(cv.sel(model="gbm")), float(cv.sel(model="seasonal_naive"))
    assert gbm <= 0.75 * naive
    assert gbm < 0.33  # clearly better than a quick GBM's ~0.36


def test_citylearn_gbm_beats_sarimax(citylearn_scores):
    cv = citylearn_scores.sel(metric="cv_rmse")
    assert float(cv.sel(model="gbm")) < float(cv.sel(model="sarimax"))
    pinball = citylearn_scores.sel(metric="pinball")
    assert float(pinball.sel(model="gbm")) < float(pinball.sel(model="sarimax"))


def test_citylearn_gbm_bias_within_five_percent(citylearn_scores):
    assert abs(float(citylearn_scores.sel(model="gbm", metric="nmbe"))) <= 0.05


def test_citylearn_seasonal_naive_matches_the_reference_level(citylearn_scores):
    # the reference: seasonal naive (a week earlier) ~0.45 on this data
    assert 0.40 < float(citylearn_scores.sel(model="seasonal_naive", metric="cv_rmse")) < 0.50


def test_demo_park_day_ahead_accuracy(demo):
    s = demo.scores.sel(model="gbm")
    assert float(s.sel(metric="cv_rmse")) < 0.10
    assert abs(float(s.sel(metric="nmbe"))) <= 0.05
    assert demo.sizes["origin"] == 28
    assert float(s.sel(metric="cv_rmse")) < float(
        demo.scores.sel(model="seasonal_naive", metric="cv_rmse")
    )


def test_demo_park_peak_magnitude_within_five_percent(demo):
    assert float(demo.scores.sel(model="gbm", metric="peak_mape")) < 0.05
    ape = abs(demo.peak_forecast.sel(model="gbm") - demo.peak_actual) / demo.peak_actual
    assert float(ape.median()) < 0.01
    naive = float(demo.scores.sel(model="seasonal_naive", metric="peak_mape"))
    assert float(demo.scores.sel(model="gbm", metric="peak_mape")) < naive


def test_demo_park_peak_hour_within_an_hour_on_80_percent_of_days(demo):
    # The issue asks for the peak hour within ±1 h on 80 % of days. The demo park's daily
    # peak comes with the data centre's evening traffic (docs/forecasting.md): the
    # benchmark's 91 days give 0.98; here, 28 days of the test run.
    hit = demo.scores.sel(metric="peak_hour_hit_rate")
    assert float(hit.sel(model="gbm")) >= 0.8
    err = demo.peak_hour_error_h.sel(model="gbm")
    assert float(hit.sel(model="gbm")) == pytest.approx(float((abs(err) <= 1).mean()))
    assert float(abs(err).max()) <= 23  # peaks are placed within the forecast day
