"""Fixtures of the twin tests: a small park, a calm weather year and a demo-park run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbontwin.core import demo_park_path, load_park, park_from_dict
from carbontwin.twin import simulate
from tests.conftest import USCC


def calm_weather(temp_c: float = 30.0, dni: float = 0.0, dhi: float = 0.0) -> pd.DataFrame:
    """A typical year of constant weather."""
    n = 8760
    return pd.DataFrame(
        {
            "temp_air_c": np.full(n, temp_c),
            "relative_humidity_pct": np.full(n, 50.0),
            "ghi_w_per_m2": np.full(n, dhi),
            "dni_w_per_m2": np.full(n, dni),
            "dhi_w_per_m2": np.full(n, dhi),
        }
    )


def small_park(
    assets: list[dict] | None = None,
    points: list[dict] | None = None,
    faults: dict | None = None,
    **twin: object,
):
    """One enterprise with a grid connection and whatever assets and points are given."""
    doc = {
        "id": "small",
        "name": "small test park",
        "timezone": "Asia/Shanghai",
        "zones": [{"id": "Z1", "name": "zone 1"}],
        "enterprises": [
            {"id": "E1", "name": "one", "uscc": USCC[0], "industry": "C2614", "zone": "Z1"}
        ],
        "sources": [
            {
                "id": "E1-ELEC",
                "enterprise": "E1",
                "scope": 2,
                "category": "purchased_electricity",
                "method": "purchased_electricity",
                "carrier": "electricity",
            }
        ],
        "points": [
            {
                "id": "M-GRID",
                "enterprise": "E1",
                "source": "E1-ELEC",
                "carrier": "electricity",
                "unit": "kWh",
                "kind": "cumulative",
                "interval_s": 900,
            },
            *(points or []),
        ],
        "assets": [
            {"id": "A-GRID", "kind": "grid", "enterprise": "E1", "meters": {"M-GRID": "import"}},
            *(assets or []),
        ],
        "twin": {"latitude_deg": 34.0, "longitude_deg": 120.2, "faults": faults or {}, **twin},
    }
    return park_from_dict({"park": doc}, file="small.yaml")


@pytest.fixture(scope="session")
def demo():
    return load_park(demo_park_path())


@pytest.fixture(scope="session")
def demo_run(demo):
    """Three summer days of the demo park with every signal traced."""
    return simulate(demo, "2025-07-07", 3, seed=7, trace=True)
