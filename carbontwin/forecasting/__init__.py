"""Forecasting: load and PV forecasters, backtests, peak prediction, target pre-allocation.

A compute package: it takes pandas series (timezone-aware, interval starts) and returns
pandas frames and xarray datasets; it imports only :mod:`carbontwin.core` and the
scientific stack. See ``docs/forecasting.md``.
"""

from carbontwin.forecasting.allocation import Allocation, allocate
from carbontwin.forecasting.backtest import BACKTEST_METRICS, day_ahead_origins, run
from carbontwin.forecasting.features import (
    calendar_features,
    check_series,
    design_matrix,
    lag_features,
    origin_features,
    weather_features,
)
from carbontwin.forecasting.metrics import cv_rmse, mae, mape, nmbe, pinball, rmse
from carbontwin.forecasting.models import (
    DEFAULT_QUANTILES,
    Forecaster,
    GradientBoosting,
    Sarimax,
    SeasonalNaive,
    quantile_column,
)
from carbontwin.forecasting.peak import (
    daily_peak_errors,
    peak_from_forecast,
    predict_month_peak,
    predict_peak,
)

__all__ = [
    "BACKTEST_METRICS",
    "DEFAULT_QUANTILES",
    "Allocation",
    "Forecaster",
    "GradientBoosting",
    "Sarimax",
    "SeasonalNaive",
    "allocate",
    "calendar_features",
    "check_series",
    "cv_rmse",
    "daily_peak_errors",
    "day_ahead_origins",
    "design_matrix",
    "lag_features",
    "mae",
    "mape",
    "nmbe",
    "origin_features",
    "peak_from_forecast",
    "pinball",
    "predict_month_peak",
    "predict_peak",
    "quantile_column",
    "rmse",
    "run",
    "weather_features",
]
