"""The accounting use cases and the CLI, end to end on the demo park."""

from __future__ import annotations

import datetime as dt
import json
import runpy
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from carbontwin.accounting import SCHEMA
from carbontwin.cli import app
from carbontwin.core import ParkDefinitionError
from carbontwin.runtime.accounting import (
    account,
    demo_activity_paths,
    export_inventory,
    resolve_park,
    summary_table,
)

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_run():
    return account(resolve_park("demo"), "2025", activity=demo_activity_paths())


def test_demo_run_lands_good_rows_and_quarantines_bad_ones(demo_run):
    summary = demo_run.validation.summary()
    assert summary["accepted"] == 448
    assert summary["quarantined"] == 3
    assert {q.rule for q in demo_run.validation.quarantine} == {"unit", "duplicate", "negative"}


def test_self_owned_plant_supply_cancels_in_the_park_total(demo_run):
    ds = demo_run.inventory.dataset("year")
    s2 = ds.emissions_tco2e.sel(scope=2).sum(("period", "gas"))
    exported = float(
        s2.sel(enterprise="E01", category=["exported_electricity", "exported_heat"]).sum()
    )
    bought_from_plant = demo_run.inventory.trace(enterprise="E02")
    from_plant = bought_from_plant[bought_from_plant.source.isin(["E02-ELEC-CHP", "E02-STEAM"])]
    assert_allclose(-exported, from_plant.emissions_tco2e.sum(), rtol=1e-9)


def test_exited_enterprise_has_no_activity_after_exit(demo_run):
    ds = demo_run.inventory.dataset("month")
    e09 = ds.emissions_tco2e.sel(enterprise="E09").sum(("scope", "category", "gas"))
    assert float(e09.sel(period="2025-06")) > 0
    assert float(e09.sel(period=["2025-07", "2025-12"]).sum()) == 0


def test_json_document_shape_is_stable(demo_run):
    doc = json.loads(export_inventory(demo_run, "json", by="month", level="zone"))
    assert doc["schema"] == SCHEMA
    assert set(doc) == {
        "schema",
        "park",
        "period",
        "settings",
        "gwp",
        "totals",
        "emissions",
        "energy",
        "offsets",
        "plant_factors",
        "warnings",
        "levels",
        "validation",
    }
    assert set(doc["totals"][0]) == {
        "period",
        "scope1_tco2e",
        "scope2_location_tco2e",
        "scope2_market_tco2e",
        "scope3_tco2e",
        "gross_tco2e",
        "offsets_tco2e",
        "net_tco2e",
        "avoided_tco2e",
        "energy_tce",
        "energy_tce_equivalent",
        "feedstock_tce",
        "renewable_tce",
    }
    assert set(doc["emissions"][0]) == {
        "period",
        "enterprise",
        "scope",
        "category",
        "gas",
        "emissions_t",
        "emissions_tco2e",
    }
    assert set(doc["energy"][0]) == {
        "period",
        "enterprise",
        "carrier",
        "use",
        "amount",
        "unit",
        "energy_tce",
        "energy_tce_equivalent",
    }
    assert set(doc["levels"][0]) == {"period", "zone", "scope", "emissions_tco2e"}
    assert len(doc["totals"]) == 12
    # The cells add up to the totals.
    s1 = sum(c["emissions_tco2e"] for c in doc["emissions"] if c["scope"] == 1)
    assert_allclose(s1, sum(t["scope1_tco2e"] for t in doc["totals"]), rtol=1e-9)
    assert doc["validation"]["summary"]["quarantined"] == 3


def test_summary_table_levels(demo_run):
    park = summary_table(demo_run, "year", "park")
    zones = summary_table(demo_run, "year", "zone")
    ents = summary_table(demo_run, "year", "enterprise")
    for col in ("gross_tco2e", "energy_tce"):
        assert_allclose(zones[col].sum(), park[col].sum(), rtol=1e-9)
        assert_allclose(ents[col].sum(), park[col].sum(), rtol=1e-9)
    assert sorted(zones.level) == ["Z1", "Z2", "Z3"]


def test_xlsx_export_has_every_sheet(demo_run, tmp_path):
    out = tmp_path / "inv.xlsx"
    export_inventory(demo_run, "xlsx", by="quarter", path=out)
    sheets = pd.read_excel(out, sheet_name=None)
    assert set(sheets) == {"summary", "emissions", "energy", "trace", "quarantine"}
    assert len(sheets["summary"]) == 4
    assert len(sheets["quarantine"]) == 3


def test_cli_account_formats(tmp_path):
    activity = [str(p) for p in demo_activity_paths()]
    args = ["account", "demo", "--period", "2025-Q1", "--by", "month"]
    for a in activity:
        args += ["-a", a]
    res = runner.invoke(app, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [t["period"] for t in doc["totals"]] == ["2025-01", "2025-02", "2025-03"]
    res = runner.invoke(app, [*args, "--format", "csv", "--level", "enterprise"])
    assert res.exit_code == 0
    frame = pd.read_csv(pd.io.common.StringIO(res.stdout))
    assert set(frame.level) >= {"E01", "E09"}
    res = runner.invoke(app, [*args, "--format", "table", "--lang", "zh"])
    assert res.exit_code == 0
    assert "范围一" in res.stdout
    res = runner.invoke(app, [*args, "--format", "xlsx", "-o", str(tmp_path / "x.xlsx")])
    assert res.exit_code == 0 and (tmp_path / "x.xlsx").stat().st_size > 0


def test_cli_errors_are_readable(tmp_path):
    bad = tmp_path / "park.yaml"
    bad.write_text("park: {id: x, name: y, zones: [{id: Z1}]}", encoding="utf-8")
    res = runner.invoke(app, ["account", str(bad), "--period", "2025"])
    assert res.exit_code == 2
    assert "park.yaml: zones[0].name: required field is missing" in res.output
    res = runner.invoke(app, ["account", "demo", "--period", "last year"])
    assert res.exit_code == 2 and "not understood" in res.output


def test_resolve_park_runs_the_strict_checks(tmp_path):
    text = (
        Path(str(resolve_park.__globals__["demo_park_path"]()))
        .read_text(encoding="utf-8")
        .replace("params: {product: adipic_acid,", "params: {product: adipic_acid, colour: red,")
    )
    p = tmp_path / "demo.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ParkDefinitionError, match=r"demo\.yaml: sources\[\d+\]\.params"):
        resolve_park(p)


def test_cli_factors_list_and_show():
    res = runner.invoke(app, ["factors", "list", "--kind", "grid"])
    assert res.exit_code == 0 and "grid:east-2022" in res.stdout
    res = runner.invoke(app, ["factors", "show", "ncv:diesel"])
    assert res.exit_code == 0
    assert "ndrc-2015" in res.stdout and "yearbook-ncv" in res.stdout
    res = runner.invoke(app, ["factors", "show", "ncv:moonrock"])
    assert res.exit_code == 2


def test_store_round_trip_import_override_and_as_of(tmp_path):
    url = f"sqlite:///{tmp_path / 'ct.db'}"
    good, bad = (str(p) for p in demo_activity_paths())
    res = runner.invoke(app, ["import", "demo", good, bad, "--store", url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["import", "demo", good, "--store", url])  # again: all dupes
    assert res.exit_code == 0 and "duplicate" in res.stdout
    base = runner.invoke(
        app,
        [
            "account",
            "demo",
            "--period",
            "2025",
            "--by",
            "year",
            "--store",
            url,
            "--stored",
            "--format",
            "json",
        ],
    )
    assert base.exit_code == 0, base.output
    gross = json.loads(base.stdout)["totals"][0]["gross_tco2e"]
    res = runner.invoke(
        app,
        [
            "factors",
            "set",
            "demo",
            "grid:east-2022",
            "0.6",
            "tCO2/MWh",
            "--reason",
            "provincial factor adopted",
            "--store",
            url,
        ],
    )
    assert res.exit_code == 0, res.output
    new = runner.invoke(
        app,
        [
            "account",
            "demo",
            "--period",
            "2025",
            "--by",
            "year",
            "--store",
            url,
            "--stored",
            "--format",
            "json",
        ],
    )
    doc = json.loads(new.stdout)
    assert doc["totals"][0]["gross_tco2e"] > gross
    as_of = runner.invoke(
        app,
        [
            "account",
            "demo",
            "--period",
            "2025",
            "--by",
            "year",
            "--store",
            url,
            "--stored",
            "--as-of",
            dt.date.today().isoformat(),
            "--format",
            "json",
        ],
    )
    assert as_of.exit_code == 0, as_of.output
    from carbontwin.store import Store

    store = Store.open(url)
    actions = {r["action"] for r in store.audit_log(limit=50)}
    assert {"import"} <= actions
    assert store.verify_audit() is None
    assert len(store.quarantined("binhai")) >= 3
    store.close()


def test_example_script_runs(capsys):
    ns = runpy.run_path(str(ROOT / "examples" / "account_demo_park.py"))
    totals = ns["main"]()
    assert totals["gross_tco2e"] > 0
    assert "quarantined" in capsys.readouterr().out


def test_console_entry_point():
    exe = Path(sys.executable).with_name("carbontwin")
    out = subprocess.run(
        [str(exe), "factors", "show", "gwp:N2O"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "310" in out.stdout and "265" in out.stdout


def test_indicators_of_the_demo_park(demo_run):
    from carbontwin.runtime.accounting import demo_statistics_path, indicators, read_statistics

    stats, bad = read_statistics([demo_statistics_path()])
    assert not bad and len(stats) == 14
    park = indicators(demo_run, stats)
    t = demo_run.inventory.totals("year").iloc[0]
    assert_allclose(park.co2_per_wcny.iloc[0], t.gross_tco2e / 864_000, rtol=1e-9)
    e01 = indicators(
        demo_run, stats, entity="E01", custom={"s2_share": "scope2_location_tco2e / gross_tco2e"}
    )
    ds = demo_run.inventory.dataset("year").sel(enterprise="E01")
    gross = float(ds.emissions_tco2e.sel(scope=[1, 2]).sum())
    assert_allclose(e01.co2_per_t_methanol.iloc[0], gross / 336_000, rtol=1e-9)
    assert "s2_share" in e01.columns
    with pytest.raises(Exception, match="not an enterprise"):
        indicators(demo_run, stats, entity="E99")


def test_cli_indicators_and_bad_statistics(tmp_path):
    res = runner.invoke(
        app,
        [
            "indicators",
            "demo",
            "--period",
            "2025",
            "--format",
            "json",
            "--expr",
            "s1=scope1_tco2e / value_added_wcny",
        ],
    )
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout)[0]
    assert row["period"] == "2025" and row["s1"] > 0
    bad = tmp_path / "stats.csv"
    bad.write_text(
        "entity,name,start,end,value,unit\npark,value_added,2025-01-01,2025-12-31,"
        "lots,万元\npark,value_added,2025-01-01,2025-12-31,5,parsecs\n",
        encoding="utf-8",
    )
    from carbontwin.connectors.files import read_statistics_file

    stats, quarantined = read_statistics_file(bad)
    assert not stats and len(quarantined) == 2
    assert "row 2" in quarantined[0].reason and "row 3" in quarantined[1].reason
    assert "parsecs" in quarantined[1].reason
    res = runner.invoke(app, ["indicators", "demo", "--period", "2025", "--expr", "oops"])
    assert res.exit_code == 2 and "NAME=EXPRESSION" in res.output


def test_docs_park_reference_is_up_to_date():
    from carbontwin.runtime.accounting import park_reference

    current = (ROOT / "docs" / "park.md").read_text(encoding="utf-8")
    assert current == park_reference(), (
        "docs/park.md is out of date: run `carbontwin park-reference > docs/park.md`"
    )


def test_cli_simulate_then_account_the_simulated_history(tmp_path):
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    res = runner.invoke(
        app,
        ["simulate", "--start", "2025-03-01", "--days", "2", "--store", url, "--recent-days", "1"],
    )
    assert res.exit_code == 0, res.output
    assert "history rows" in res.stdout
    ledger = str(demo_activity_paths()[0])
    sim = runner.invoke(
        app,
        [
            "account",
            "demo",
            "--simulated",
            "--store",
            url,
            "--period",
            "2025-03-01/2025-03-02",
            "--by",
            "day",
            "-a",
            ledger,
            "--format",
            "json",
        ],
    )
    assert sim.exit_code == 0, sim.output
    doc = json.loads(sim.stdout)
    assert [t["period"] for t in doc["totals"]] == ["2025-03-01", "2025-03-02"]
    assert all(t["scope1_tco2e"] > 0 and t["scope2_location_tco2e"] > 0 for t in doc["totals"])
    # The simulated grid purchases replace the ledger's: the refs point at the store.
    from carbontwin.runtime.registry import account_history
    from carbontwin.store import Store

    store = Store.open(url)
    run = account_history(store, resolve_park("demo"), "2025-03-01/2025-03-02", activity=[ledger])
    refs = run.inventory.trace(source="E03-ELEC").activity_refs.iloc[0]
    assert refs.startswith("store:") and "ledger" not in refs
    store.close()


def test_cli_whatif():
    res = runner.invoke(
        app, ["whatif", "--start", "2025-07-01", "--days", "1", "--add-pv", "E04:500"]
    )
    assert res.exit_code == 0, res.output
    assert "pv_kwh" in res.stdout and "emissions_tco2e" in res.stdout
    res = runner.invoke(app, ["whatif", "--days", "1"])
    assert res.exit_code == 2 and "at least one" in res.output
    res = runner.invoke(app, ["whatif", "--days", "1", "--add-battery", "E03:100"])
    assert res.exit_code == 2 and "ENTERPRISE:KWH:KW" in res.output


def test_cli_demo_simulates_once_and_accounts_the_history(tmp_path, monkeypatch):
    monkeypatch.setenv("CARBONTWIN_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = runner.invoke(app, ["demo", "--days", "2", "--store", url])
    assert first.exit_code == 0, first.output
    assert "3 quarantined" in first.stdout and "simulated history" in first.stdout
    from carbontwin.store import Store

    store = Store.open(url)
    simulations = [r for r in store.audit_log(limit=100) if r["action"] == "twin.simulate"]
    assert len(simulations) == 1
    again = runner.invoke(app, ["demo", "--days", "2", "--store", url])
    assert again.exit_code == 0, again.output
    assert len([r for r in store.audit_log(limit=100) if r["action"] == "twin.simulate"]) == len(
        simulations
    )  # the history exists: no second simulation
    assert "Demo-Carbon-2025" in first.stdout and "manager" in first.stdout
    assert {u["username"] for u in store.users()} == {"manager", "energy", "operator", "e04"}
    stored = store.inventories("binhai")
    assert [(i["start"].isoformat(), i["status"]) for i in stored] == [("2025-01-01", "computed")]
    store.close()
