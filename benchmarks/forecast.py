"""Rolling-origin backtest accuracy of the forecasters against seasonal naive and SARIMAX.

Two datasets, hourly day-ahead forecasts issued at local midnight:

- CityLearn 2022 (measured, ``carbontwin/data/citylearn2022``): the sum of buildings 1–10's
  equipment electric power [kWh per hour], the observed weather used as a perfect weather
  forecast; rolling origins over the last three months (2017-05-01 to 2017-07-30).
- The demo park simulated for 2025 at 1-min steps: its total electric demand (grid import
  plus CHP supply at every grid connection) [kWh per hour], the simulator's weather;
  rolling origins over the last three months (2025-10-01 to 2025-12-30). Peak prediction
  (the day's peak magnitude and hour) on the same days.

Models: ``gbm`` (GradientBoosting over calendar, holiday, weather and lag features),
``seasonal_naive`` (the same hour a week earlier) and ``sarimax`` (ARMA(2,1) errors around
daily harmonics, day type and temperature, fitted on the last 28 days), refitted every 7
days (``--small``: every 30 days and a 120-day demo run).

Figures: ``citylearn_cvrmse``, ``citylearn_seasonal_naive_cvrmse``,
``citylearn_sarimax_cvrmse``, ``improvement_vs_seasonal_naive``, ``citylearn_abs_nmbe``,
``demo_cvrmse``, ``demo_abs_nmbe``, ``peak_mape``, ``peak_hour_hit_rate``,
``train_seconds`` (GBM fits, both datasets), ``inference_seconds`` (GBM forecasts),
``simulate_seconds``.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from benchmarks._common import Outcome, small_requested
from carbontwin.core import demo_park_path, load_park
from carbontwin.core.units import conversion_factor
from carbontwin.forecasting import GradientBoosting, Sarimax, SeasonalNaive
from carbontwin.forecasting import run as backtest
from carbontwin.runtime.datasets import CITYLEARN_WEATHER, citylearn
from carbontwin.runtime.forecast import park_weather
from carbontwin.twin import Simulator

NAME = "forecast"
TARGETS = {
    "improvement_vs_seasonal_naive": ">= 0.25",
    "citylearn_cvrmse": "<= 0.33",
    "citylearn_abs_nmbe": "<= 0.05",
    "demo_cvrmse": "< 0.10",
    "demo_abs_nmbe": "<= 0.05",
    "peak_mape": "< 0.05",
    "peak_hour_hit_rate": ">= 0.8",
}
UNITS = {
    "train_seconds": "s",
    "inference_seconds": "s",
    "simulate_seconds": "s",
}

CITYLEARN_TEST = ("2017-05-01", "2017-07-30")
WEATHER = CITYLEARN_WEATHER
DEMO_START = "2025-01-01"
DEMO_TEST_FULL = ("2025-10-01", "2025-12-30")
SEED = 2025


# ------------------------------------------------------------------------------ data
def citylearn_models(small: bool = False) -> dict[str, object]:
    """The three models, with the US (California) holidays."""
    return {
        "gbm": GradientBoosting(horizon="24h", country="US", subdiv="CA"),
        "seasonal_naive": SeasonalNaive(season="7D"),
        "sarimax": Sarimax(exog_columns=["temp_air_c"], country="US", subdiv="CA"),
    }


def citylearn_backtest(refit_every: str = "7D", dask: object = None) -> xr.Dataset:
    """The CityLearn backtest (all three models, the last three months)."""
    load, weather = citylearn()
    return backtest(
        citylearn_models(),
        load,
        weather,
        start=CITYLEARN_TEST[0],
        end=CITYLEARN_TEST[1],
        refit_every=refit_every,
        dask=dask,
    )


def _hourly(result: object, roles: tuple[str, ...], kinds: tuple[str, ...]) -> pd.Series:
    """Sum of the true 15-min amounts of the meters with ``roles`` on assets of ``kinds``,
    in kWh, summed to local hours."""
    iv = result.intervals
    points = list(iv.point.values)
    rows, factors = [], []
    for asset in result.park.assets:
        if asset.kind not in kinds:
            continue
        for pid, role in asset.meters.items():
            i = points.index(pid)
            if role in roles and str(iv.kind.values[i]) != "instantaneous":
                rows.append(i)
                factors.append(conversion_factor(str(iv.unit.values[i]), "kWh"))
    values = (iv.values[rows] * np.asarray(factors)[:, None]).sum(axis=0)
    index = pd.DatetimeIndex(iv.time.values).tz_localize("UTC").tz_convert(iv.attrs["timezone"])
    return pd.Series(values, index=index, name="energy_kwh").resample("h").sum()


def park_electric_demand(result: object) -> pd.Series:
    """The park's total electric demand from a simulation [kWh per hour].

    The sum, over every grid connection of the park, of its ``import`` and ``supply``
    meters (electricity from the grid and from the park's CHP plant), from the true
    15-min amounts of the run (no meter noise or faults), summed to hours in local time.
    """
    return _hourly(result, ("import", "supply"), ("grid",))


def park_pv_output(result: object) -> pd.Series:
    """The park's PV output (AC energy meters of every PV asset) [kWh per hour]."""
    return _hourly(result, ("ac",), ("pv",))


@functools.lru_cache(maxsize=2)
def _demo_run(days: int) -> tuple[pd.Series, pd.Series, pd.DataFrame, float]:
    park = load_park(demo_park_path())
    t0 = time.perf_counter()
    result = Simulator(park, DEMO_START, days, seed=SEED, keep_readings_days=0).run()
    seconds = time.perf_counter() - t0
    demand = park_electric_demand(result)
    weather = park_weather(park, demand.index)
    return demand, park_pv_output(result), weather, seconds


def demo_history(days: int = 365) -> tuple[pd.Series, pd.DataFrame, float]:
    """The demo park's simulated demand from 2025-01-01, its weather and the run's seconds.

    The weather is the simulator's typical year (hour ``h`` of the year = the ``h``-th row)
    on the same local hours: the weather the park was simulated with. Runs are cached.
    """
    demand, _, weather, seconds = _demo_run(days)
    return demand, weather, seconds


def demo_pv(days: int = 365) -> tuple[pd.Series, pd.DataFrame]:
    """The demo park's simulated PV output [kWh per hour] and its weather (cached run)."""
    _, pv, weather, _ = _demo_run(days)
    return pv, weather


def demo_models(calibration: str = "56D") -> dict[str, object]:
    """The models of the demo park (China's holidays)."""
    return {
        "gbm": GradientBoosting(horizon="24h", country="CN", calibration=calibration),
        "seasonal_naive": SeasonalNaive(season="7D"),
        "sarimax": Sarimax(exog_columns=["temp_air_c"], country="CN"),
    }


def demo_backtest(
    days: int = 365,
    test: tuple[str, str] = DEMO_TEST_FULL,
    refit_every: str = "7D",
    calibration: str = "56D",
    dask: object = None,
) -> xr.Dataset:
    """The demo park backtest (all three models)."""
    demand, weather, _ = demo_history(days)
    return backtest(
        demo_models(calibration),
        demand,
        weather,
        start=test[0],
        end=test[1],
        refit_every=refit_every,
        dask=dask,
    )


# ------------------------------------------------------------------------- benchmark
def _table(name: str, ds: xr.Dataset) -> list[str]:
    s = ds.scores
    lines = [f"{name}: {ds.sizes['origin']} origins, {ds.attrs['horizon']} ahead"]
    metrics = ["cv_rmse", "nmbe", "mape", "pinball", "peak_mape", "peak_hour_hit_rate"]
    heads = ["CV(RMSE)", "NMBE", "MAPE", "pinball", "peak MAPE", "peak ±1h"]
    lines.append("  " + "model".ljust(15) + "".join(h.rjust(10) for h in heads))
    for model in ds.model.values:
        vals = "".join(f"{float(s.sel(model=model, metric=m)):10.3g}" for m in metrics)
        lines.append("  " + str(model).ljust(15) + vals)
    return lines


def run(*, small: bool | None = None, out_dir: Path | str | None = None) -> Outcome:
    """Run the benchmark, write its result document and return the outcome.

    Parameters
    ----------
    small : bool, optional
        Refit every 30 days, a 120-day demo run tested on its last 28 days; default from
        ``BENCH_SMALL``.
    out_dir : path, optional
        Where to write the JSON; ``benchmarks/results`` by default (``forecast-small.json``
        for a small run).
    """
    small = small_requested() if small is None else small
    refit = "30D" if small else "7D"
    cl = citylearn_backtest(refit_every=refit)
    if small:
        days, test, calibration = 120, ("2025-04-02", "2025-04-29"), "28D"
    else:
        days, test, calibration = 365, DEMO_TEST_FULL, "56D"
    demo = demo_backtest(days, test, refit, calibration)
    _, _, sim_s = demo_history(days)

    def score(ds: xr.Dataset, model: str, metric: str) -> float:
        return float(ds.scores.sel(model=model, metric=metric))

    cv = score(cl, "gbm", "cv_rmse")
    naive = score(cl, "seasonal_naive", "cv_rmse")
    sarimax = score(cl, "sarimax", "cv_rmse")
    figures = {
        "citylearn_cvrmse": cv,
        "citylearn_seasonal_naive_cvrmse": naive,
        "citylearn_sarimax_cvrmse": sarimax,
        "improvement_vs_seasonal_naive": 1.0 - cv / naive,
        "citylearn_abs_nmbe": abs(score(cl, "gbm", "nmbe")),
        "demo_cvrmse": score(demo, "gbm", "cv_rmse"),
        "demo_abs_nmbe": abs(score(demo, "gbm", "nmbe")),
        "demo_seasonal_naive_cvrmse": score(demo, "seasonal_naive", "cv_rmse"),
        "demo_sarimax_cvrmse": score(demo, "sarimax", "cv_rmse"),
        "peak_mape": score(demo, "gbm", "peak_mape"),
        "peak_hour_hit_rate": score(demo, "gbm", "peak_hour_hit_rate"),
        "train_seconds": float(cl.fit_seconds.sel(model="gbm") + demo.fit_seconds.sel(model="gbm")),
        "inference_seconds": float(
            cl.predict_seconds.sel(model="gbm") + demo.predict_seconds.sel(model="gbm")
        ),
        "simulate_seconds": sim_s,
    }
    n_fits = len(range(0, cl.sizes["origin"], int(refit[:-1]))) + len(
        range(0, demo.sizes["origin"], int(refit[:-1]))
    )
    outcome = Outcome(
        name=NAME,
        figures=figures,
        targets=dict(TARGETS),
        references={
            "citylearn_cvrmse": f"seasonal naive {naive:.3f}, SARIMAX {sarimax:.3f}",
            "citylearn_seasonal_naive_cvrmse": "same hour a week earlier",
            "citylearn_sarimax_cvrmse": "ARMA(2,1) + harmonics + temperature",
            "improvement_vs_seasonal_naive": "1 - CV(RMSE) / naive's",
            "citylearn_abs_nmbe": "ASHRAE G14, p = 0",
            "demo_cvrmse": f"seasonal naive {figures['demo_seasonal_naive_cvrmse']:.3f}",
            "demo_sarimax_cvrmse": "same SARIMAX on the demo park",
            "peak_mape": "daily peak magnitude, GBM",
            "peak_hour_hit_rate": "peak hour within ±1 h",
            "train_seconds": f"{n_fits} GBM refits (each 2 fits: calibration + final)",
            "inference_seconds": f"{cl.sizes['origin'] + demo.sizes['origin']} day-ahead forecasts",
            "simulate_seconds": f"demo park, {days} days at 1-min steps",
        },
        units=UNITS,
        notes=[*_table("CityLearn 2022 (buildings 1-10)", cl), *_table("demo park", demo)],
    )
    outcome.write(out_dir, stem=f"{NAME}-small" if small else NAME)
    return outcome
