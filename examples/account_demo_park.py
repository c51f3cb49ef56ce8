"""Account the demo park for 2025, roll it up, and trace one number to its sources.

Run with ``python examples/account_demo_park.py``; the test suite runs it too.
"""

from __future__ import annotations

from carbontwin.runtime.accounting import account, demo_activity_paths, resolve_park


def main() -> dict[str, float]:
    """Return the park's 2025 headline figures [tCO2e, tce]."""
    park = resolve_park("demo")
    run = account(park, "2025", activity=demo_activity_paths())
    totals = run.inventory.totals("year").iloc[0]
    by_zone = run.inventory.by_level("zone", by="year").emissions_tco2e.sum(
        ("period", "category", "gas")
    )
    trace = run.inventory.trace("2025-03", source="E01-CHP-COAL")
    print(f"gross {totals.gross_tco2e:,.0f} tCO2e, net {totals.net_tco2e:,.0f} tCO2e")
    print(by_zone.to_pandas().round(0))
    print(trace[["activity", "activity_unit", "emissions_tco2e", "factors"]].to_string())
    print("quarantined:", run.validation.summary())
    return {k: float(v) for k, v in totals.items()}


if __name__ == "__main__":
    main()
