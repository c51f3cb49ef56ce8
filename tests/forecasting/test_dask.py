"""The backtest on Dask computes exactly what it computes in process."""

import pytest
import xarray as xr
from dask.distributed import Client, LocalCluster

from benchmarks.forecast import demo_history
from carbontwin.forecasting import GradientBoosting, Sarimax, SeasonalNaive
from carbontwin.forecasting import run as backtest

TIMINGS = ["fit_seconds", "predict_seconds"]


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_and_in_process_are_identical(client):
    demand, weather, _ = demo_history(120)
    models = {
        "gbm": GradientBoosting(calibration="28D", max_iter=80),
        "naive": SeasonalNaive(),
        "sarimax": Sarimax(exog_columns=["temp_air_c"]),
    }
    kw = {"start": "2025-04-20", "end": "2025-04-27", "refit_every": "4D"}
    local = backtest(models, demand, weather, **kw)
    on_dask = backtest(models, demand, weather, dask=client, **kw)
    xr.testing.assert_identical(local.drop_vars(TIMINGS), on_dask.drop_vars(TIMINGS))
    # a scheduler address works the same (one cheap model: the path, not the models)
    naive = {"naive": models["naive"]}
    by_address = backtest(naive, demand, weather, dask=client.scheduler.address, **kw)
    in_process = backtest(naive, demand, weather, **kw)
    xr.testing.assert_identical(in_process.drop_vars(TIMINGS), by_address.drop_vars(TIMINGS))
    assert local.sizes["origin"] == 8
    assert (local.fit_seconds > 0).all()
