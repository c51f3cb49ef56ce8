"""Pre-allocating a park target from stored inventories: the use case, the CLI and the API."""

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from carbontwin.cli import app
from carbontwin.core.errors import ValidationError
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.targets import stored_history, suggest_allocation
from carbontwin.store import Store

PARK = resolve_park("demo")
#: Monthly emissions of the park's enterprises in 2024 and 2025 [t CO2e] (E04 grows in 2025);
#: E09 left the park in 2024 and takes no share.
MONTHLY = {"E01": 1_000.0, "E02": 3_000.0, "E04": 100.0} | {
    e: 10.0 for e in ("E03", "E05", "E06", "E07", "E08", "E10")
}


def put_year(store, year, grow=1.0):
    lines = []
    for m in range(1, 13):
        for ent, t in MONTHLY.items():
            value = t * (grow if ent == "E04" else 1.0) * (1.5 if m == 7 else 1.0)
            lines.append(
                {"kind": "emission", "month": f"{year}-{m:02d}", "enterprise": ent, "tco2e": value}
            )
    store.save_inventory(
        PARK.id,
        dt.date(year, 1, 1),
        dt.date(year, 12, 31),
        dt.date(year, 12, 31),
        {"schema": "test"},
        lines,
        "test",
    )


@pytest.fixture
def store_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'ct.db'}"
    with Store.open(url) as s:
        put_year(s, 2024)
        put_year(s, 2025, grow=1.2)
    return url


def test_the_stored_history_by_year_and_month(store_url):
    with Store.open(store_url) as store:
        yearly, monthly = stored_history(store, PARK, "emissions_tco2e")
    # 11 ordinary months and a July of 1.5: 12.5 months' worth a year.
    assert yearly.loc[2024, "E01"] == pytest.approx(12_500.0)
    assert yearly.loc[2025, "E04"] == pytest.approx(1_500.0)
    assert len(monthly) == 24


def test_the_parks_own_target_is_shared_exactly_with_months(store_url):
    with Store.open(store_url) as store:
        a = suggest_allocation(store, PARK, year=2026)  # the demo park's 2026 target
        frame = a.to_frame()
        assert a.target == 2_050_000
        assert frame["allocation"].sum() == 2_050_000
        # Two-year means: E01 12,500, E02 37,500, E04 1,375, six others 125 → of 52,125.
        assert frame.loc["E04", "allocation"] == pytest.approx(2_050_000 * 1_375 / 52_125, abs=1)
        assert "E09" not in frame.index
        months = a.monthly()
        assert months.sum().sum() == 2_050_000
        assert months.loc[7, "E01"] == pytest.approx(1.5 * months.loc[1, "E01"], abs=1)
        with pytest.raises(ValidationError, match="no emissions_tco2e target for 2030"):
            suggest_allocation(store, PARK, year=2030)
        with pytest.raises(ValidationError, match="no inventory before 2024"):
            suggest_allocation(store, PARK, year=2024, target=1.0e6)


def test_the_cli_pins_a_row_and_the_rest_share_the_remainder(store_url):
    res = CliRunner().invoke(
        app,
        [
            "allocate",
            "demo",
            "--year",
            "2026",
            "--target",
            "60000",
            "--fix",
            "E04=1000",
            "--store",
            store_url,
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output.strip().splitlines()[-1])
    rows = {r["enterprise"]: r for r in doc["rows"]}
    assert rows["E04"]["allocation"] == 1000 and rows["E04"]["fixed"]
    assert sum(r["allocation"] for r in doc["rows"]) == 60000
    assert rows["E02"]["allocation"] == pytest.approx(59_000 * 37_500 / 50_750, abs=1)
    bad = CliRunner().invoke(
        app, ["allocate", "--year", "2026", "--fix", "E04", "--store", store_url]
    )
    assert bad.exit_code != 0 and "must be ID=VALUE" in bad.output
