"""Hand-worked examples of the published methods, reproduced to 1e-9 relative.

Each expected value is written as the literal arithmetic of the published formula on the
factor values of the library (GB/T 32150-2015, GB/T 32151.10-2015, GB/T 2589-2020,
MEE/NBS grid factors), so a reader can check it by hand.
"""

from __future__ import annotations

from numpy.testing import assert_allclose

from carbontwin.accounting import compute_inventory, indicator_table
from carbontwin.core.records import Statistic
from carbontwin.core.time import parse_period
from tests.conftest import entry, make_park

RTOL = 1e-9  # exact arithmetic of the published formulas; only float rounding differs


def S(id, method, carrier, scope=None, category=None, enterprise="E1", **kw):
    d = {"id": id, "enterprise": enterprise, "method": method, "carrier": carrier}
    if scope:
        d.update(scope=scope, category=category)
    d.update(kw)
    return d


def total(inv, by="year", col="gross_tco2e"):
    return float(inv.totals(by)[col].sum())


def test_gas_boiler():
    park = make_park([S("boiler", "fuel_combustion", "natural_gas", 1, "fuel_combustion")])
    inv = compute_inventory(park, "2025", entries=[entry("boiler", 120.0, "wNm3")])
    assert_allclose(total(inv), 120 * 389.31 * 0.0153 * 0.99 * 44 / 12, rtol=RTOL)


def test_mixed_coal_and_diesel():
    park = make_park(
        [
            S("coal", "fuel_combustion", "bituminous_coal", 1, "fuel_combustion"),
            S("diesel", "fuel_combustion", "diesel", 1, "fuel_combustion"),
        ]
    )
    inv = compute_inventory(
        park, "2025", entries=[entry("coal", 1000.0, "t"), entry("diesel", 50_000.0, "kg")]
    )
    expected = 1000 * 23.204 * 0.02618 * 0.93 * 44 / 12 + 50 * 43.33 * 0.0202 * 0.98 * 44 / 12
    assert_allclose(total(inv), expected, rtol=RTOL)


def test_purchased_electricity_named_grid_factor():
    park = make_park(
        [
            S(
                "elec",
                "purchased_electricity",
                "electricity",
                2,
                "purchased_electricity",
                params={"factor": "grid:hebei-2022"},
            )
        ]
    )
    inv = compute_inventory(park, "2025", entries=[entry("elec", 2_500_000.0, "kWh")])
    assert_allclose(total(inv), 2500 * 0.7252, rtol=RTOL)
    factors = inv.trace(source="elec").factors.iloc[0]
    assert "grid:hebei-2022@mee:2022=0.7252 tCO2/MWh" in factors


def test_purchased_steam_by_enthalpy():
    park = make_park(
        [
            S(
                "steam",
                "purchased_heat",
                "steam",
                2,
                "purchased_heat",
                params={"enthalpy_kj_per_kg": 2800.0},
            )
        ]
    )
    inv = compute_inventory(park, "2025", entries=[entry("steam", 1000.0, "t")])
    heat_gj = 1000 * (2800 - 83.74) * 1e-3
    assert_allclose(total(inv), heat_gj * 0.11, rtol=RTOL)
    ds = inv.dataset("year")
    assert_allclose(float(ds.energy_physical.sel(carrier="heat").sum()), heat_gj, rtol=RTOL)
    assert_allclose(float(ds.energy_tce.sel(carrier="heat").sum()), heat_gj * 0.03412, rtol=RTOL)


def test_exported_hot_water_is_deducted():
    park = make_park(
        [S("hw", "exported_heat", "hot_water", 2, "exported_heat", params={"temp_c": 90.0})]
    )
    inv = compute_inventory(park, "2025", entries=[entry("hw", 5000.0, "t")])
    assert_allclose(total(inv), -(5000 * (90 - 20) * 4.1868e-3 * 0.11), rtol=RTOL)


def test_co2_recovery_deduction():
    park = make_park(
        [S("rec", "co2_recovery", "co2", 1, "co2_recovery", params={"purity_frac": 0.98})]
    )
    inv = compute_inventory(park, "2025", entries=[entry("rec", 1_000_000.0, "Nm3")])
    assert_allclose(total(inv), -(100 * 0.98 * 19.77), rtol=RTOL)


def test_carbon_mass_balance_process():
    streams = [
        {"name": "natural_gas", "role": "input"},
        {"name": "methanol", "role": "product"},
        {"name": "residue", "role": "waste", "carbon_content": 0.6},
    ]
    park = make_park(
        [
            S(
                "mb",
                "carbon_mass_balance",
                "material:methanol",
                1,
                "process",
                params={"streams": streams},
            )
        ]
    )
    inv = compute_inventory(
        park,
        "2025",
        entries=[
            entry("mb", 500.0, "wNm3", stream="natural_gas"),
            entry("mb", 7000.0, "t", stream="methanol"),
            entry("mb", 20.0, "t", stream="residue"),
        ],
    )
    expected = (500 * 389.31 * 0.0153 - 7000 * 0.375 - 20 * 0.6) * 44 / 12
    assert_allclose(total(inv), expected, rtol=RTOL)
    # Feedstock energy is kept apart from consumption (GB/T 2589, 2021 policy).
    t = inv.totals("year")
    assert_allclose(float(t.feedstock_tce.iloc[0]), 500 * 389.31 / 29.3076, rtol=RTOL)
    assert float(t.energy_tce.iloc[0]) == 0.0


def test_adipic_acid_n2o_with_gwp_sar_and_ar5():
    src = [
        S(
            "ada",
            "nitrous_oxide",
            "material:adipic_acid",
            1,
            "process",
            params={"product": "adipic_acid", "removal_frac": 0.9, "utilisation_frac": 0.95},
        )
    ]
    n2o_t = 1000 * 293 * (1 - 0.9 * 0.95) * 1e-3
    for gwp_set, gwp in (("SAR", 310), ("AR5", 265), ("AR6", 273)):
        park = make_park(src, accounting={"gwp_set": gwp_set})
        inv = compute_inventory(park, "2025", entries=[entry("ada", 1000.0, "t")])
        ds = inv.dataset("year")
        assert_allclose(float(ds.emissions_t.sel(gas="N2O").sum()), n2o_t, rtol=RTOL)
        assert_allclose(total(inv), n2o_t * gwp, rtol=RTOL)


def test_green_electricity_location_vs_market_based():
    park = make_park(
        [
            S("grid", "purchased_electricity", "electricity", 2, "purchased_electricity"),
            {
                "id": "green",
                "enterprise": "E1",
                "kind": "offset",
                "method": "green_electricity",
                "carrier": "electricity",
                "params": {"instrument": "green_power"},
            },
        ]
    )
    inv = compute_inventory(
        park, "2025", entries=[entry("grid", 1000.0, "MWh"), entry("green", 300.0, "MWh")]
    )
    t = inv.totals("year").iloc[0]
    assert_allclose(t.scope2_location_tco2e, 1000 * 0.5617, rtol=RTOL)
    assert_allclose(t.scope2_market_tco2e, (1000 - 300) * 0.5856, rtol=RTOL)
    assert_allclose(t.offsets_tco2e, 300 * 0.5617, rtol=RTOL)
    assert_allclose(t.net_tco2e, 1000 * 0.5617 - 300 * 0.5617, rtol=RTOL)


def test_tce_by_both_electricity_methods():
    park = make_park(
        [
            S("e", "purchased_electricity", "electricity", 2, "purchased_electricity"),
            S("d", "fuel_combustion", "diesel", 1, "fuel_combustion"),
            S("g", "fuel_combustion", "natural_gas", 1, "fuel_combustion"),
        ],
        accounting={"electricity_equivalent_kgce_per_kwh": {2025: 0.300}},
    )
    inv = compute_inventory(
        park,
        "2025",
        entries=[entry("e", 1_000_000.0, "kWh"), entry("d", 100.0, "t"), entry("g", 50.0, "wNm3")],
    )
    t = inv.totals("year").iloc[0]
    fuels = 100 * 1.4571 + 50 * 1e4 * 1.33e-3  # GB/T 2589 appendix coefficients
    assert_allclose(t.energy_tce, 1_000_000 * 0.1229e-3 + fuels, rtol=RTOL)
    assert_allclose(t.energy_tce_equivalent, 1_000_000 * 0.300e-3 + fuels, rtol=RTOL)


def test_measured_ncv_and_carbon_content_take_precedence():
    park = make_park(
        [
            S(
                "c",
                "fuel_combustion",
                "bituminous_coal",
                1,
                "fuel_combustion",
                measured=[{"name": "ncv", "value": 21.0, "valid_from": "2025-07-01"}],
            ),
            S(
                "m",
                "fuel_combustion",
                "bituminous_coal",
                1,
                "fuel_combustion",
                params={"carbon_tc_per_t": 0.61},
            ),
        ]
    )
    inv = compute_inventory(
        park,
        "2025",
        entries=[
            entry("c", 181.0, "t", "2025-01-01", "2025-06-30"),
            entry("c", 184.0, "t", "2025-07-01", "2025-12-31"),
            entry("m", 100.0, "t"),
        ],
    )
    by_src = inv.trace().groupby("source").emissions_t.sum()
    assert_allclose(
        by_src["c"],
        181 * 23.204 * 0.02618 * 0.93 * 44 / 12 + 184 * 21.0 * 0.02618 * 0.93 * 44 / 12,
        rtol=RTOL,
    )
    assert_allclose(by_src["m"], 100 * 0.61 * 0.93 * 44 / 12, rtol=RTOL)
    # Energy by the measured NCV where there is one (GB/T 2589), the coefficient before.
    e = inv.dataset("year").energy_tce.sel(enterprise="E1", carrier="bituminous_coal").sum()
    assert float(e) > 0


def test_hfc_leak_with_gwp():
    park = make_park([S("hfc", "fugitive", "gas:HFC-134a", 1, "fugitive")])
    inv = compute_inventory(park, "2025", entries=[entry("hfc", 50.0, "kg")])
    assert_allclose(total(inv), 0.05 * 1300, rtol=RTOL)


def test_self_owned_plant_factor_and_park_cancellation():
    fac = [{"id": "CHP", "name": "chp", "enterprise": "E1", "kind": "power_plant"}]
    park = make_park(
        [
            S("coal", "fuel_combustion", "bituminous_coal", 1, "fuel_combustion", facility="CHP"),
            {
                "id": "out",
                "enterprise": "E1",
                "facility": "CHP",
                "kind": "memo",
                "method": "plant_generation",
                "carrier": "electricity",
            },
            S(
                "exp",
                "exported_electricity",
                "electricity",
                2,
                "exported_electricity",
                facility="CHP",
                params={"supplier": "plant:CHP"},
            ),
            S(
                "buy",
                "purchased_electricity",
                "electricity",
                2,
                "purchased_electricity",
                enterprise="E2",
                params={"supplier": "plant:CHP"},
            ),
        ],
        facilities=fac,
    )
    inv = compute_inventory(
        park,
        "2025",
        entries=[
            entry("coal", 10_000.0, "t"),
            entry("out", 20_000.0, "MWh", stream="electricity"),
            entry("out", 50_000.0, "GJ", stream="heat"),
            entry("exp", 5000.0, "MWh"),
            entry("buy", 5000.0, "MWh"),
        ],
    )
    burnt = 10_000 * 23.204 * 0.02618 * 0.93 * 44 / 12
    alpha = 20_000 * 3.6 / (20_000 * 3.6 + 50_000)
    ef_power = alpha * burnt / 20_000
    ds = inv.dataset("year")
    s2 = ds.emissions_tco2e.sel(scope=2).sum(("period", "category", "gas"))
    assert_allclose(float(s2.sel(enterprise="E2")), 5000 * ef_power, rtol=RTOL)
    assert_allclose(float(s2.sel(enterprise="E1")), -5000 * ef_power, rtol=RTOL)
    assert_allclose(total(inv), burnt, rtol=RTOL)  # intra-park supply cancels


def test_intensity_indicator_per_value_added():
    park = make_park([S("boiler", "fuel_combustion", "natural_gas", 1, "fuel_combustion")])
    inv = compute_inventory(park, "2025", entries=[entry("boiler", 120.0, "wNm3")])
    stats = [
        Statistic(
            entity="park",
            name="value_added",
            start=parse_period("2025").start,
            end=parse_period("2025").end,
            value=3.5,
            unit="yiCNY",
        ),
        Statistic(
            entity="park",
            name="output:methanol",
            start=parse_period("2025").start,
            end=parse_period("2025").end,
            value=8000,
            unit="t",
        ),
    ]
    table = indicator_table(
        inv.totals("year"),
        [parse_period("2025")],
        stats,
        custom={"gas_share": "scope1_tco2e / gross_tco2e"},
    )
    co2 = 120 * 389.31 * 0.0153 * 0.99 * 44 / 12
    assert_allclose(table.co2_per_wcny.iloc[0], co2 / 35_000, rtol=RTOL)
    assert_allclose(table.energy_tce_per_wcny.iloc[0], 120 * 1e4 * 1.33e-3 / 35_000, rtol=RTOL)
    assert_allclose(table.co2_per_t_methanol.iloc[0], co2 / 8000, rtol=RTOL)
    assert_allclose(table.gas_share.iloc[0], 1.0, rtol=RTOL)


def test_self_generated_renewables_avoided_by_default_offset_on_request():
    src = [
        S(
            "pv",
            "green_electricity",
            "electricity",
            kind="memo",
            params={"instrument": "self_generated"},
        ),
        S(
            "pv2",
            "green_electricity",
            "electricity",
            kind="offset",
            enterprise="E2",
            params={"instrument": "self_generated", "count_as_offset": True},
        ),
    ]
    park = make_park(src)
    inv = compute_inventory(
        park, "2025", entries=[entry("pv", 400.0, "MWh"), entry("pv2", 100.0, "MWh")]
    )
    t = inv.totals("year").iloc[0]
    assert_allclose(t.avoided_tco2e, 400 * 0.5617, rtol=RTOL)
    assert_allclose(t.offsets_tco2e, 100 * 0.5617, rtol=RTOL)
    assert_allclose(t.renewable_tce, 500_000 * 0.1229e-3, rtol=RTOL)
    assert t.gross_tco2e == 0.0
