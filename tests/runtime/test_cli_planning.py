"""The planning commands: strategy, scenario and reduce, on a stored demo history."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from carbontwin.cli import app
from carbontwin.runtime.accounting import resolve_park
from carbontwin.runtime.simulate import simulate_to_store
from carbontwin.store import Store

runner = CliRunner()
PARK = resolve_park("demo")


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "ct.db"
    with Store.open(f"sqlite:///{path}") as store:
        simulate_to_store(store, PARK, "2025-02-01", 43, recent_days=0)
    return f"sqlite:///{path}"


def run(*args: str):
    out = runner.invoke(app, list(args))
    return out


def test_a_strategy_from_proposal_to_decision(url):
    out = run("strategy", "propose", "--day", "2025-03-16", "--store", url, "--format", "json")
    assert out.exit_code == 0, out.output
    s = json.loads(out.stdout)
    assert s["status"] == "proposed" and s["steps"] == 96
    listed = run("strategy", "list", "--store", url)
    assert listed.exit_code == 0 and "proposed" in listed.stdout
    shown = run("strategy", "show", str(s["id"]), "--store", url, "--lang", "zh")
    assert shown.exit_code == 0 and "元" in shown.stdout
    refused = run("strategy", "reject", str(s["id"]), "--comment", " ", "--store", url)
    assert refused.exit_code == 2 and "needs a comment" in refused.output
    ok = run("strategy", "accept", str(s["id"]), "--as", "li", "--store", url)
    assert ok.exit_code == 0 and "accepted" in ok.stdout
    late = run("strategy", "dispatch", str(s["id"]), "--store", url)
    assert late.exit_code == 2 and "horizon ended" in late.output
    nothing = run("strategy", "run", "--store", url)
    assert nothing.exit_code == 0 and "Nothing due" in nothing.stdout


def test_too_little_history_is_a_clear_error(url):
    out = run("strategy", "propose", "--day", "2025-02-20", "--store", url)
    assert out.exit_code == 2 and "a strategy needs at least 42" in out.output


def test_scenario_run_and_compare(url):
    out = run("scenario", "run", "--store", url, "-n", "300", "--no-sensitivity", "-f", "json")
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert d["base_source"] == "shipped" and len(d["summary"]) == 3
    table = run("scenario", "compare", "--store", url, "-n", "200", "-f", "csv")
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[0].startswith("scenario,peak_year,peak_tco2e,2030")
    bad = run("scenario", "run", "--store", url, "-s", "hopeful")
    assert bad.exit_code == 2 and "unknown scenario" in bad.output


def test_reduce_macc_and_portfolio():
    curve = run("reduce", "macc", "-f", "csv")
    assert curve.exit_code == 0 and curve.stdout.startswith("id,")
    out = run("reduce", "portfolio", "--target", "150000", "--budget", "2e8", "-f", "json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["abatement_tco2e_per_yr"] >= 150_000
    bad = run("reduce", "portfolio", "--target", "5e6", "--budget", "1e6")
    assert bad.exit_code == 2 and "at most" in bad.output


def test_scenario_track_needs_an_accounted_year(url):
    out = run("scenario", "track", "--store", url)
    assert out.exit_code == 2 and "no complete accounted year" in out.output
