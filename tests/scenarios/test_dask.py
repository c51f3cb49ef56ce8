"""The Monte Carlo on Dask gives exactly what it gives in process, for a seed."""

from __future__ import annotations

import pytest
import xarray as xr
from dask.distributed import Client, LocalCluster

from carbontwin.scenarios import monte_carlo


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_and_in_process_are_identical(client, demo_study):
    kw = {"seed": 2026, "block_draws": 400, "chunk_blocks": 2}
    local = monte_carlo(demo_study, 3000, **kw)
    on_dask = monte_carlo(demo_study, 3000, dask=client, **kw)
    xr.testing.assert_identical(local, on_dask)
    # a scheduler address works the same, and task grouping does not matter
    by_address = monte_carlo(
        demo_study, 3000, dask=client.scheduler.address, **(kw | {"chunk_blocks": 3})
    )
    xr.testing.assert_identical(local, by_address)
