"""Builders of small studies for the scenario tests."""

from __future__ import annotations

BASE_YEAR = 2025


def one_industry(
    *,
    g0: float = 0.08,
    k: float = 0.005,
    i: float = -0.03,
    c: float = -0.01,
    horizon: int = 2050,
    va_uncertainty: dict | None = None,
    e0: float = 1000.0,
) -> dict:
    """One industry burning fuel only (scope 1, no process, no electricity).

    Value added grows by ``g0 - k τ`` in year ``base + τ`` (one period a year), the energy
    intensity changes by ``i`` and the carbon intensity of energy by ``c`` per year, so
    emissions ``E_t = E0 Π_τ (1 + g0 - k τ)(1 + i)(1 + c)``.
    """
    periods = {
        f"{BASE_YEAR + t}-{BASE_YEAR + t}": g0 - k * t for t in range(1, horizon - BASE_YEAR + 1)
    }
    va = {"periods": periods}
    if va_uncertainty:
        va["uncertainty"] = va_uncertainty
    return {
        "study": {
            "id": "closed-form",
            "base_year": BASE_YEAR,
            "horizon": horizon,
            "base": {
                "grid_factor_tco2_per_mwh": 0.5,
                "industries": {
                    "ind": {
                        "name": "Industry",
                        "name_zh": "工业",
                        "value_added_1e4cny": 100.0,
                        "energy_tce": {1: e0 / 2.5, 2: 0.0},
                        "emissions_tco2e": {1: e0, 2: 0.0},
                    }
                },
            },
            "scenarios": {
                "only": {
                    "drivers": {
                        "value_added_1e4cny": {"ind": va},
                        "energy_intensity_tce_per_1e4cny": {"ind": {"periods": {"2026-2100": i}}},
                        "carbon_intensity_tco2_per_tce": {"ind": {"periods": {"2026-2100": c}}},
                    }
                }
            },
        }
    }


def zero_spreads(doc: object) -> object:
    """Return a copy of a study document with every uncertainty's spread set to 0."""
    if isinstance(doc, dict):
        return {k: (0.0 if k == "spread" else zero_spreads(v)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [zero_spreads(v) for v in doc]
    return doc
