"""Properties of the inventory that must hold for any activity data (hypothesis)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from carbontwin.accounting import compute_inventory
from carbontwin.core.records import ActivityEntry, FactorOverride
from tests.conftest import make_park

SOURCES = [
    {
        "id": "ng1",
        "enterprise": "E1",
        "scope": 1,
        "category": "fuel_combustion",
        "method": "fuel_combustion",
        "carrier": "natural_gas",
    },
    {
        "id": "el1",
        "enterprise": "E1",
        "scope": 2,
        "category": "purchased_electricity",
        "method": "purchased_electricity",
        "carrier": "electricity",
    },
    {
        "id": "ng2",
        "enterprise": "E2",
        "scope": 1,
        "category": "fuel_combustion",
        "method": "fuel_combustion",
        "carrier": "natural_gas",
    },
    {
        "id": "co2",
        "enterprise": "E2",
        "scope": 1,
        "category": "process",
        "method": "carbonates",
        "carrier": "material:limestone",
        "params": {"carbonate": "caco3"},
    },
    {
        "id": "el3",
        "enterprise": "E3",
        "scope": 2,
        "category": "purchased_electricity",
        "method": "purchased_electricity",
        "carrier": "electricity",
    },
]
PARK = make_park(SOURCES, enterprises=3)
CANON = {"ng1": "wNm3", "ng2": "wNm3", "el1": "kWh", "el3": "kWh", "co2": "t"}
ALT = {"wNm3": ("Nm3", 1e4), "kWh": ("MWh", 1e-3), "t": ("kg", 1e3)}
Y0 = dt.date(2025, 1, 1)

entries_st = st.lists(
    st.tuples(
        st.sampled_from(sorted(CANON)),
        st.integers(0, 364),
        st.integers(0, 60),
        st.floats(0, 1e5, allow_nan=False),
    ),
    min_size=1,
    max_size=25,
)


def build(rows, alt=False):
    out = []
    for i, (src, start, length, q) in enumerate(rows):
        unit = CANON[src]
        quantity = q
        if alt:
            unit, factor = ALT[unit]
            quantity = q * factor
        a = Y0 + dt.timedelta(days=start)
        b = min(a + dt.timedelta(days=length), dt.date(2025, 12, 31))
        out.append(
            ActivityEntry(id=f"r{i}", source=src, start=a, end=b, quantity=quantity, unit=unit)
        )
    return out


@settings(max_examples=40, deadline=None)
@given(entries_st)
def test_months_and_quarters_sum_to_the_year(rows):
    inv = compute_inventory(PARK, "2025", entries=build(rows))
    year = inv.dataset("year").emissions_tco2e.sum("period")
    for by in ("month", "quarter", "day"):
        assert_allclose(inv.dataset(by).emissions_tco2e.sum("period"), year, rtol=1e-9, atol=1e-6)
    custom = inv.dataset("custom", ["2025-01-01/2025-05-10", "2025-05-11/2025-12-31"])
    assert_allclose(custom.emissions_tco2e.sum("period"), year, rtol=1e-9, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(entries_st)
def test_enterprises_sum_to_park_zone_and_industry(rows):
    inv = compute_inventory(PARK, "2025", entries=build(rows))
    ds = inv.dataset("month")
    park = inv.by_level("park", ds=ds).emissions_tco2e.sum()
    ent = ds.emissions_tco2e.sum()
    assert_allclose(float(park), float(ent), rtol=1e-9, atol=1e-6)
    for level in ("zone", "industry"):
        lv = inv.by_level(level, ds=ds).emissions_tco2e
        assert_allclose(float(lv.sum()), float(ent), rtol=1e-9, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(entries_st)
def test_units_of_the_inputs_do_not_change_results(rows):
    a = compute_inventory(PARK, "2025", entries=build(rows)).dataset("month")
    b = compute_inventory(PARK, "2025", entries=build(rows, alt=True)).dataset("month")
    assert_allclose(a.emissions_tco2e, b.emissions_tco2e, rtol=1e-9, atol=1e-6)
    assert_allclose(a.energy_tce, b.energy_tce, rtol=1e-9, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    entries_st,
    st.floats(300.0, 450.0).filter(lambda v: abs(v - 389.31) > 1e-6),  # not the default
    st.sampled_from(["park", "enterprise", "source"]),
)
def test_override_changes_exactly_the_values_that_depend_on_it(rows, ncv, applies_to):
    rows = [*rows, ("ng1", 0, 364, 10.0), ("ng2", 0, 364, 10.0)]
    base = compute_inventory(PARK, "2025", entries=build(rows)).dataset("month")
    target = {"park": "", "enterprise": "E1", "source": "ng1"}[applies_to]
    o = FactorOverride(
        id="o1",
        factor="ncv:natural_gas",
        value=ncv,
        unit="GJ/wNm3",
        applies_to=applies_to,
        target=target,
        reason="test lab value",
    )
    new = compute_inventory(PARK, "2025", entries=build(rows), overrides=[o]).dataset("month")
    changed = ~np.isclose(
        base.emissions_tco2e.values, new.emissions_tco2e.values, rtol=1e-12, atol=0
    )
    e = base.emissions_tco2e
    depends = np.zeros(e.shape, dtype=bool)
    ents = ["E1", "E2"] if applies_to == "park" else ["E1"]
    ng = base.emissions_tco2e.sel(scope=1, category="fuel_combustion", gas="CO2")
    for ent in ents:
        ei = list(e.enterprise.values).index(ent)
        has = np.abs(ng.sel(enterprise=ent).values) > 0
        depends[has, ei, 0, list(e.category.values).index("fuel_combustion"), 0] = True
    assert np.array_equal(changed, depends)
