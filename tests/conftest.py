"""Shared fixtures: a small park builder and the demo park."""

from __future__ import annotations

import datetime as dt

import pytest

from carbontwin.core import demo_park_path, load_park, park_from_dict
from carbontwin.core.records import ActivityEntry

# Valid unified social credit codes (GB 32100 check character).
USCC = [
    "91320901MAAY4CL12R",
    "91320902MATH3BJ1X3",
    "91320903MAG612DD23",
    "91320904MA72HD1TJM",
    "91320905MA3Y7LLJYH",
]


def make_park(
    sources: list[dict],
    *,
    enterprises: int = 2,
    facilities: list[dict] | None = None,
    accounting: dict | None = None,
) -> object:
    """Build a small park: zones Z1/Z2, enterprises E1..En, the given sources."""
    doc = {
        "id": "t",
        "name": "test park",
        "timezone": "Asia/Shanghai",
        "accounting": {"grid_factor": "grid:east-2022", **(accounting or {})},
        "zones": [{"id": "Z1", "name": "zone 1"}, {"id": "Z2", "name": "zone 2"}],
        "enterprises": [
            {
                "id": f"E{i + 1}",
                "name": f"enterprise {i + 1}",
                "uscc": USCC[i],
                "industry": "C2614" if i % 2 == 0 else "C3973",
                "zone": "Z1" if i % 2 == 0 else "Z2",
            }
            for i in range(enterprises)
        ],
        "facilities": facilities or [],
        "sources": sources,
    }
    return park_from_dict({"park": doc}, file="test.yaml")


def entry(
    source: str,
    quantity: float,
    unit: str,
    start: str = "2025-01-01",
    end: str = "2025-12-31",
    stream: str = "",
) -> ActivityEntry:
    """An entry over a date range."""
    return ActivityEntry(
        source=source,
        stream=stream,
        start=dt.date.fromisoformat(start),
        end=dt.date.fromisoformat(end),
        quantity=quantity,
        unit=unit,
        ref=f"test {source}",
    )


@pytest.fixture(scope="session")
def demo_park():
    return load_park(demo_park_path())
