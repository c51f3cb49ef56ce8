"""Forecasting the park's demand from the store: the use case, the CLI and the API."""

import datetime as dt
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from carbontwin.cli import app
from carbontwin.core.errors import ValidationError
from carbontwin.forecasting import cv_rmse
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.forecast import forecast_day, park_demand
from carbontwin.runtime.simulate import simulate_to_store
from carbontwin.store import Store

PARK = resolve_park("demo")
DAYS = 60  # 2025-03-01 .. 2025-04-29


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('fc') / 'ct.db'}"
    with Store.open(url) as store:
        simulate_to_store(store, PARK, "2025-03-01", DAYS, recent_days=0)
    return url


@pytest.fixture
def store(store_url):
    with Store.open(store_url) as s:
        yield s


def test_the_park_demand_is_the_hourly_sum_of_its_purchased_electricity(store):
    demand = park_demand(store, PARK, dt.date(2025, 3, 1), dt.date(2025, 3, 2))
    assert len(demand) == 48 and demand.index.tz.key == PARK.timezone
    assert (demand > 0).all()
    # Every hour is four quarter-hours: the day's sum equals the 15-min history's.
    by_day = demand.resample("D").sum()
    assert by_day.iloc[0] == pytest.approx(demand.iloc[:24].sum())


def test_a_day_ahead_forecast_against_the_stored_actuals(store):
    f = forecast_day(store, PARK, "2025-04-29", contracted_kw=1e6)
    frame = f.frame
    assert len(frame) == 24 and frame.index[0].hour == 0
    assert {"forecast", "q0.1", "q0.9", "actual"} <= set(frame.columns)
    assert frame["actual"].notna().all()
    assert (frame["q0.1"] <= frame["q0.9"]).all()
    assert cv_rmse(frame["actual"], frame["forecast"]) < 0.10
    assert f.peak["p_exceed"] == 0.0  # far below a 1 GW contract
    doc = f.to_dict()
    assert doc["unit"] == "kWh per hour" and len(doc["hours"]) == 24
    assert json.loads(json.dumps(doc))["peak"]["peak_hour"] == f.peak["peak_hour"]


def test_a_day_after_the_history_has_no_actuals_and_bad_requests_say_why(store):
    f = forecast_day(store, PARK, "2025-04-30", model="seasonal_naive")
    assert f.frame["actual"].isna().all() and np.isfinite(f.frame["forecast"]).all()
    with pytest.raises(ValidationError, match="unknown forecast model 'prophet'"):
        forecast_day(store, PARK, "2025-04-29", model="prophet")
    with pytest.raises(ValidationError, match=r"outside 1990-01-01\.\.2100-12-31"):
        forecast_day(store, PARK, "0001-01-01")
    with pytest.raises(ValidationError, match=r"holds \d+ day\(s\) of electricity history"):
        forecast_day(store, PARK, "2025-03-10", history_days=28)


def test_the_cli_prints_the_forecast_as_json(store_url):
    res = CliRunner().invoke(
        app,
        ["forecast", "demo", "--day", "2025-04-29", "--store", store_url, "--format", "json"],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output.strip().splitlines()[-1])
    assert doc["day"] == "2025-04-29" and doc["model"] == "gbm" and len(doc["hours"]) == 24
