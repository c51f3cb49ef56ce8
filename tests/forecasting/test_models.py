"""Forecasters: seasonal naive exactness, the interface, features and bad input."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from carbontwin.core.errors import ValidationError
from carbontwin.forecasting import (
    GradientBoosting,
    Sarimax,
    SeasonalNaive,
    calendar_features,
    check_series,
    lag_features,
)
from carbontwin.forecasting import run as backtest

TZ = "Asia/Shanghai"


def synthetic(days=120, freq="1h", seed=1):
    """Weekday working hours, a response to weather that changes day to day, AR(1) noise."""
    n = days * pd.Timedelta("1D") // pd.Timedelta(freq)
    idx = pd.date_range("2025-01-01", periods=n, freq=freq, tz=TZ)
    rng = np.random.default_rng(seed)
    hour = np.asarray(idx.hour + idx.minute / 60)
    day = np.asarray((idx - idx[0]) // pd.Timedelta("1D"))
    spells = rng.normal(0, 5, days + 1)  # each day's weather anomaly [K]
    temp = 15 + spells[day] + 4 * np.sin(2 * np.pi * (hour - 9) / 24)
    noise = np.zeros(n)
    for k in range(1, n):
        noise[k] = 0.8 * noise[k - 1] + rng.normal(0, 0.5)
    work = ((hour >= 8) & (hour < 20)) & np.asarray(idx.day_of_week < 5)
    y = 100 + 20 * work + 2.0 * np.abs(temp - 18) + noise
    return pd.Series(y, index=idx), pd.DataFrame({"temp_air_c": temp}, index=idx)


def test_seasonal_naive_is_the_value_a_week_earlier():
    y, _ = synthetic(days=30)
    origin = pd.Timestamp("2025-01-25", tz=TZ)
    model = SeasonalNaive(season="7D").fit(y[y.index < origin])
    fc = model.predict(origin, "24h", history=y)
    assert_array_equal(fc["forecast"].to_numpy(), y.shift(168).reindex(fc.index).to_numpy())
    # beyond the season it repeats the last observed week
    long = model.predict(origin, "10D")
    week_ago = y[(y.index >= origin - pd.Timedelta("7D")) & (y.index < origin)].to_numpy()
    assert_array_equal(long["forecast"].to_numpy()[168:240], week_ago[:72])
    q = fc[["q0.1", "q0.5", "q0.9"]].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0)  # quantiles never cross


def test_gradient_boosting_beats_seasonal_naive_and_gives_a_band():
    y, ex = synthetic(days=130)
    ds = backtest(
        {"gbm": GradientBoosting(calibration="28D", max_iter=150), "naive": SeasonalNaive()},
        y,
        ex,
        start="2025-04-20",
        end="2025-05-09",
        refit_every="30D",
    )
    cv = ds.scores.sel(metric="cv_rmse")
    assert float(cv.sel(model="gbm")) < 0.8 * float(cv.sel(model="naive"))
    coverage = float(ds.scores.sel(model="gbm", metric="coverage"))
    assert 0.5 < coverage < 0.98  # an 80 % band, calibrated out of sample
    assert ds.sizes["origin"] == 20
    assert ds.scores.dims == ("model", "metric")


def test_intraday_rolling_15min_forecast():
    y, ex = synthetic(days=100, freq="15min")
    model = GradientBoosting(horizon="4h", calibration="21D", max_iter=100)
    assert min(model.lags) >= pd.Timedelta("4h")
    origins = pd.date_range("2025-04-05 06:00", periods=12, freq="15min", tz=TZ)
    ds = backtest(
        {"intraday": model, "naive": SeasonalNaive(season="1D")},
        y,
        ex,
        origins=origins,
        horizon="4h",
        refit_every="30D",
    )
    assert ds.sizes["lead"] == 16
    cv = ds.scores.sel(metric="cv_rmse")
    assert float(cv.sel(model="intraday")) < float(cv.sel(model="naive"))


def test_sarimax_forecasts_with_gaussian_band():
    y, ex = synthetic(days=40)
    origin = pd.Timestamp("2025-02-05", tz=TZ)
    model = Sarimax(window="21D").fit(y[y.index < origin], ex)
    fc = model.predict(origin, "24h", exog=ex, history=y)
    assert list(fc.columns) == ["forecast", "q0.1", "q0.5", "q0.9"]
    assert_allclose(fc["q0.5"], fc["forecast"], rtol=1e-12)  # Gaussian: median = mean
    assert np.all(fc["q0.9"] > fc["q0.1"])
    actual = y.reindex(fc.index)
    assert np.sqrt(np.mean((fc["forecast"] - actual) ** 2)) < 0.1 * actual.mean()


def test_calendar_features_use_local_time_and_holidays():
    # 2025-10-01 00:30 in Shanghai is 2025-09-30 16:30 UTC: local hour 0, a holiday
    utc = pd.DatetimeIndex(["2025-09-30 16:30"], tz="UTC")
    local = utc.tz_convert(TZ)
    f = calendar_features(local)
    assert f["hour"].iloc[0] == 0.5
    assert f["holiday"].iloc[0] == 1.0
    assert f["day_of_week"].iloc[0] == 2.0  # Wednesday
    assert calendar_features(utc)["holiday"].iloc[0] == 0.0  # 30 September in UTC
    with pytest.raises(ValidationError, match="timezone-aware"):
        calendar_features(pd.DatetimeIndex(["2025-01-01"]))


def test_lag_features_mask_what_the_origin_cannot_know():
    y, _ = synthetic(days=5)
    step = pd.Timedelta("1h")
    targets = pd.date_range("2025-01-04", periods=24, freq="h", tz=TZ)
    origins = pd.DatetimeIndex([targets[0]] * 24)
    f = lag_features(y, targets, origins, [pd.Timedelta("3h"), pd.Timedelta("24h")], step)
    assert f["lag_3h"].notna().sum() == 3  # only the first three targets' lags are known
    assert f["lag_24h"].notna().all()
    assert_array_equal(f["lag_24h"].to_numpy(), y.shift(24).reindex(targets).to_numpy())


def test_bad_series_are_rejected_with_a_clear_message():
    y, _ = synthetic(days=10)
    with pytest.raises(ValidationError, match="timezone-aware"):
        check_series(y.tz_localize(None))
    with pytest.raises(ValidationError, match="strictly increasing"):
        check_series(y.iloc[::-1])
    with pytest.raises(ValidationError, match="strictly increasing"):
        check_series(pd.concat([y.iloc[:5], y.iloc[4:]]))
    with pytest.raises(ValidationError, match="not regular"):
        check_series(y.drop(y.index[50]))
    holed = y.copy()
    holed.iloc[30] = np.nan
    with pytest.raises(ValidationError, match="1 missing or non-finite values"):
        SeasonalNaive().fit(holed)
    with pytest.raises(ValidationError, match="pandas Series"):
        check_series(y.to_frame())


def test_too_little_history_and_bad_requests():
    y, ex = synthetic(days=40)
    with pytest.raises(ValidationError, match="needs at least"):
        GradientBoosting().fit(y, ex)
    with pytest.raises(ValidationError, match="two seasons"):
        SeasonalNaive().fit(y.iloc[:200])
    with pytest.raises(ValidationError, match="shorter than the horizon"):
        GradientBoosting(horizon="24h", lags=["12h", "7D"])
    model = SeasonalNaive().fit(y)
    nxt = y.index[-1] + pd.Timedelta("1h")
    with pytest.raises(ValidationError, match="timezone-aware"):
        model.predict(nxt.tz_localize(None), "24h")
    with pytest.raises(ValidationError, match="history must reach the origin"):
        model.predict(nxt + pd.Timedelta("5h"), "24h")
    with pytest.raises(ValidationError, match="multiple"):
        model.predict(nxt, "90min")
    with pytest.raises(ValidationError, match="not fitted"):
        SeasonalNaive().predict(nxt, "24h")
    gbm = GradientBoosting(horizon="24h", calibration="14D", max_iter=20)
    gbm.fit(*synthetic(days=80))
    y80, ex80 = synthetic(days=80)
    nxt = y80.index[-1] + pd.Timedelta("1h")
    with pytest.raises(ValidationError, match="exceeds"):
        gbm.predict(nxt, "48h", exog=ex80)
    with pytest.raises(ValidationError, match="give exog"):
        gbm.predict(nxt, "24h")
    with pytest.raises(ValidationError, match=r"exog has no row|does not cover"):
        gbm.predict(nxt, "24h", exog=ex80)


def test_backtest_bad_arguments():
    y, _ = synthetic(days=30)
    with pytest.raises(ValidationError, match="models is empty"):
        backtest({}, y, start="2025-01-20")
    with pytest.raises(ValidationError, match="origins= or start="):
        backtest({"n": SeasonalNaive()}, y)
    with pytest.raises(ValidationError, match="no origin"):
        backtest({"n": SeasonalNaive()}, y, start="2025-03-01")
    with pytest.raises(ValidationError, match="dask"):
        backtest({"n": SeasonalNaive()}, y, start="2025-01-20", dask=3)
