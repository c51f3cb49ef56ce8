"""The simulator's use cases: history in the store, its accounting, what-if with emissions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from carbontwin.accounting.validation import validate_readings
from carbontwin.core import demo_park_path, load_park
from carbontwin.core.errors import ValidationError
from carbontwin.runtime.accounting import demo_activity_paths, import_activity
from carbontwin.runtime.simulate import (
    account_simulated,
    history_series,
    ledger_entries,
    load_interval_history,
    parse_step,
    simulate,
    simulate_to_store,
    simulated_streams,
    what_if,
)
from carbontwin.store import Store
from carbontwin.twin import AddPv


@pytest.fixture(scope="module")
def park():
    return load_park(demo_park_path())


@pytest.fixture(scope="module")
def month(park):
    """March 2025 of the demo park written to an in-memory store."""
    store = Store.open("sqlite://")
    ticks = []
    summary = simulate_to_store(
        store, park, "2025-03-01", 31, 60, seed=2025, recent_days=1,
        progress=lambda label, done, total: ticks.append((label, done, total)),
    )  # fmt: skip
    yield store, summary, ticks
    store.close()


def test_parse_step():
    assert [parse_step(s) for s in ("1min", "60", "60s", "15 min", "1h", 300)] == [
        60, 60, 60, 900, 3600, 300,
    ]  # fmt: skip
    for bad in ("7s", "fast", "0s"):
        with pytest.raises(ValidationError):
            parse_step(bad)


def test_which_sources_are_simulated_and_which_stay_in_the_ledger(park):
    sim = simulated_streams(park)
    assert {"E03-ELEC", "E01-CHP-COAL", "E01-CHP-OUT:electricity", "E02-STEAM", "E04-PV",
            "E06-DIESEL-GEN", "E08-WWT", "E10-LIMESTONE"} <= sim  # fmt: skip
    ledger = {"E03-HFC", "E03-S3-GOODS", "E01-CCER", "E04-DIESEL", "E05-HOTWATER",
              "E07-DIESEL", "E08-WWT:sludge"}  # fmt: skip
    assert not ledger & sim
    rows = import_activity(park, demo_activity_paths()).entries
    kept = ledger_entries(park, rows)
    assert {e.key for e in kept} == {e.key for e in rows} - sim
    assert {e.key for e in kept} >= ledger


def test_history_and_recent_raw_readings_are_in_the_store(month, park):
    store, summary, ticks = month
    assert ticks[-1] == ("simulate", 31, 31) and len(ticks) == 31
    assert summary.points == len(park.points) and summary.steps == 31 * 1440
    assert summary.history_rows == len(park.points) * 31 * 96
    lo = int(pd.Timestamp("2025-03-01", tz="Asia/Shanghai").value // 1_000_000)
    cut = int(pd.Timestamp("2025-03-31", tz="Asia/Shanghai").value // 1_000_000)
    hi = int(pd.Timestamp("2025-04-01", tz="Asia/Shanghai").value // 1_000_000)
    hist = store.readings(history_series("P-E03-ELEC"), lo, hi)
    assert len(hist) == 31 * 96 and hist[0][0] == lo
    assert store.readings("P-E03-KW", lo, cut) == []  # raw readings: the last day only
    assert 1300 < len(store.readings("P-E03-KW", cut, hi)) <= 1440
    assert store.audit_log(action="twin.simulate")


def test_accounting_of_the_simulated_history_agrees_with_the_simulator(month, park):
    """The acceptance: energy by carrier and emissions within 0.1 %."""
    store, summary, _ = month
    inv = account_simulated(store, park, "2025-03")
    acc = pd.Series(inv.activity.sum(axis=1), index=inv.streams)
    phys = summary.activity
    rel = ((acc[phys.index] - phys).abs() / phys.abs().clip(lower=1e-9)).max()
    assert rel < 1e-3
    # The simulator's own energy KPIs against what the accounting read from the meters.
    energy = summary.kpis.loc["park"]
    grid = [s.id for s in park.sources if s.method == "purchased_electricity"
            and not s.params.get("supplier")]  # fmt: skip
    gas = [k for k in inv.streams if park.source(k.split(":")[0]).carrier == "natural_gas"
           or k == "E01-MEOH-MB:natural_gas"]  # fmt: skip
    pairs = {
        "grid_import_kwh": acc[grid].sum(),
        "coal_t": acc["E01-CHP-COAL"],
        "coke_t": acc["E10-COKE"],
        "natural_gas_1e4nm3": acc[gas].sum(),
        "diesel_t": acc["E06-DIESEL-GEN"],
        "pv_kwh": acc["E04-PV"] + float(summary.kpis.loc["E05", "pv_kwh"]),
    }
    for kpi, value in pairs.items():
        assert abs(value / energy[kpi] - 1) < 1e-3, kpi
    # Emissions by scope and energy in tce: the simulator's (the accounting of its
    # physics) against the accounting of the stored history.
    t = inv.totals("year").iloc[0]
    assert abs(t.scope1_tco2e / energy.scope1_tco2e - 1) < 1e-3
    assert abs(t.scope2_location_tco2e / energy.scope2_tco2e - 1) < 1e-3
    assert abs(t.energy_tce / energy.energy_tce - 1) < 1e-3
    assert t.scope1_tco2e > 10_000  # a month of a chemical park


def test_the_history_reloads_as_interval_data(month, park):
    store, *_ = month
    data = load_interval_history(store, park, dt.date(2025, 3, 30), dt.date(2025, 3, 31))
    assert data.values.shape == (len(data.streams), 2 * 96)
    assert data.index[0] == pd.Timestamp("2025-03-30", tz="Asia/Shanghai")
    assert data.refs["E03-ELEC"] == "store:P-E03-ELEC/15min"
    e06 = data.values[data.streams.index("E06-ELEC")]
    assert 8_000 / 4 < e06.mean() < 16_000 / 4  # MWh meter, kWh per quarter-hour


def test_raw_readings_validate_to_the_same_activity(park):
    # Without faults, the accounting's own reading validation of the raw registers and
    # interval meters lands the same amounts as the simulator's accounting inputs.
    clean = park.model_copy(deep=True)
    clean.twin.faults = type(clean.twin.faults)()
    run = simulate(clean, "2025-05-01", 2, seed=9)
    readings = run.result.readings
    fiscal = {p.id for p in clean.points if p.source}
    frame = readings[readings.point.isin(fiscal)][["point", "ts", "value"]]
    data, result = validate_readings(clean, frame, today=pd.Timestamp("2026-01-01"))
    assert not result.quarantine
    day1 = data.to_frame().loc["2025-05-01"].sum()
    want = run.result.accounting.to_frame().loc["2025-05-01"].sum()
    assert_allclose(day1[want.index], want, rtol=1e-9)


def test_what_if_reports_emission_differences(park):
    study = what_if(park, [AddPv("E06", 4000.0)], "2025-06-02", 1, seed=3)
    k = study.kpis
    assert k.loc["scope2_tco2e", "difference"] < 0
    assert k.loc["emissions_tco2e", "difference"] == pytest.approx(
        k.loc["scope1_tco2e", "difference"] + k.loc["scope2_tco2e", "difference"]
    )
    grid = study.base.inventory.totals("year").iloc[0].scope2_location_tco2e
    assert np.isfinite(grid)
