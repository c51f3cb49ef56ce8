"""Influencing factors of the peak: tornado, Sobol indices and suggestions in plain words.

:func:`tornado` moves one uncertain driver at a time to a low and a high quantile of its
distribution (the others at their median, i.e. nominal) and records the peak year and peak
value. :func:`sobol_indices` estimates first-order and total Sobol indices of the peak year
and the peak value with SALib (Saltelli's sampling, Jansen's estimators as implemented in
``SALib.analyze.sobol``); every model run goes through the same vectorised kernel as the
Monte Carlo. :func:`suggestions` turns both into sentences in English and Chinese.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from carbontwin.core.errors import ValidationError
from carbontwin.scenarios._texts import driver_label, text
from carbontwin.scenarios.definition import Study
from carbontwin.scenarios.projection import CompiledScenario, compile_scenario, evaluate, shifts

__all__ = ["sobol_indices", "suggestions", "tornado"]


def _peaks(comp: CompiledScenario, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    net = evaluate(comp, u)["net_emissions_tco2e"]
    net = np.broadcast_to(net, (len(comp.years), u.shape[0]))
    idx = np.argmax(net, axis=0)
    return comp.years[idx].astype(float), net[idx, np.arange(u.shape[0])]


def _compiled(study: Study, scenario: str) -> CompiledScenario:
    comp = compile_scenario(study, scenario)
    if comp.n_uncertain == 0:
        msg = (
            f"scenario {scenario!r} has no uncertain driver; give some drivers an uncertainty "
            "with spread > 0 to rank them"
        )
        raise ValidationError(msg)
    return comp


def _driver_spec(comp: CompiledScenario, key: str) -> Any:
    if key.startswith("event:"):
        return next(ev for ev in comp.events if ev.key == key)
    return comp.paths[key]


def tornado(study: Study, scenario: str, *, low: float = 0.05, high: float = 0.95) -> pd.DataFrame:
    """One-at-a-time sensitivity of the peak to each uncertain driver.

    Parameters
    ----------
    study : Study
        The study.
    scenario : str
        The scenario.
    low, high : float
        The quantiles each driver is moved to (the others stay at the median, 0.5).

    Returns
    -------
    pandas.DataFrame
        One row per uncertain driver, sorted by the swing of the peak year, then of the
        peak value: ``driver``, ``unit`` (of the shift), ``mode`` (``rate``, ``values``,
        ``event``), ``shift_low``, ``shift_high`` [unit], ``peak_year_low``,
        ``peak_year_high``, ``peak_year_base`` [yr], ``peak_tco2e_low``, ``peak_tco2e_high``,
        ``peak_tco2e_base`` [tCO2e], ``peak_year_swing`` [yr], ``peak_tco2e_swing``
        [tCO2e], and the slopes ``peak_year_per_unit`` [yr / unit] and
        ``peak_tco2e_per_unit`` [tCO2e / unit] between the low and the high run.

    Raises
    ------
    ValidationError
        If the quantiles are not ``0 < low < 0.5 < high < 1`` or nothing is uncertain.
    """
    if not 0 < low < 0.5 < high < 1:
        msg = f"low(={low}) and high(={high}) must satisfy 0 < low < 0.5 < high < 1"
        raise ValidationError(msg)
    comp = _compiled(study, scenario)
    d = comp.n_uncertain
    u = np.full((1 + 2 * d, d), 0.5)
    for j in range(d):
        u[1 + 2 * j, j] = low
        u[2 + 2 * j, j] = high
    years, values = _peaks(comp, u)
    rows = []
    for j, key in enumerate(comp.uncertain):
        spec = _driver_spec(comp, key)
        s_lo, s_hi = shifts(spec.dist, spec.spread, np.array([low, high]))
        y_lo, y_hi = years[1 + 2 * j], years[2 + 2 * j]
        v_lo, v_hi = values[1 + 2 * j], values[2 + 2 * j]
        rows.append(
            {
                "driver": key,
                "unit": comp.units[key],
                "mode": comp.modes[key],
                "shift_low": s_lo,
                "shift_high": s_hi,
                "peak_year_low": y_lo,
                "peak_year_high": y_hi,
                "peak_year_base": years[0],
                "peak_tco2e_low": v_lo,
                "peak_tco2e_high": v_hi,
                "peak_tco2e_base": values[0],
                "peak_year_swing": abs(y_hi - y_lo),
                "peak_tco2e_swing": abs(v_hi - v_lo),
                "peak_year_per_unit": (y_hi - y_lo) / (s_hi - s_lo),
                "peak_tco2e_per_unit": (v_hi - v_lo) / (s_hi - s_lo),
            }
        )
    out = pd.DataFrame(rows).sort_values(
        ["peak_year_swing", "peak_tco2e_swing"], ascending=False, kind="stable"
    )
    out.attrs.update({"scenario": scenario, "low": low, "high": high})
    return out.reset_index(drop=True)


def sobol_indices(
    study: Study, scenario: str, *, n_base: int = 1024, seed: int = 0
) -> pd.DataFrame:
    """Variance-based (Sobol) indices of the peak year and the peak value per driver.

    Parameters
    ----------
    study : Study
        The study.
    scenario : str
        The scenario.
    n_base : int
        Base samples of Saltelli's scheme (a power of 2); the model runs
        ``n_base × (D + 2)`` times for ``D`` uncertain drivers.
    seed : int
        Seed of the scrambled Sobol sequence.

    Returns
    -------
    pandas.DataFrame
        One row per driver: ``S1_peak_year``, ``ST_peak_year``, ``S1_peak_tco2e``,
        ``ST_peak_tco2e`` [1] and their 95 % confidence half-widths (``*_conf``), sorted by
        ``ST_peak_year``. An output that does not vary gets indices of 0.

    Notes
    -----
    Each driver enters as its quantile ``u ∈ (0, 1)``, mapped through its distribution's
    inverse CDF, so the indices are those of the drivers' own distributions. First order
    ``S_i = V[E(Y | X_i)] / V(Y)``, total ``S_Ti = E[V(Y | X_~i)] / V(Y)``.

    References
    ----------
    Saltelli A. et al. (2010), Variance based sensitivity analysis of model output,
    Computer Physics Communications 181, 259–270.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    if n_base < 2 or n_base & (n_base - 1):
        msg = f"n_base(={n_base}) must be a power of 2 (e.g. 1024) for Sobol sequences"
        raise ValidationError(msg)
    comp = _compiled(study, scenario)
    d = comp.n_uncertain
    problem = {"num_vars": d, "names": list(comp.uncertain), "bounds": [[0.0, 1.0]] * d}
    u = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=seed)
    u = np.clip(u, 1e-9, 1 - 1e-9)
    years, values = _peaks(comp, u)
    out = pd.DataFrame({"driver": comp.uncertain})
    for name, y in (("peak_year", years), ("peak_tco2e", values)):
        if np.ptp(y) == 0:
            for col in ("S1", "ST", "S1_conf", "ST_conf"):
                out[f"{col}_{name}"] = 0.0
            continue
        res = sobol_analyze.analyze(
            problem, y, calc_second_order=False, seed=seed, print_to_console=False
        )
        out[f"S1_{name}"] = res["S1"]
        out[f"ST_{name}"] = res["ST"]
        out[f"S1_conf_{name}"] = res["S1_conf"]
        out[f"ST_conf_{name}"] = res["ST_conf"]
    out = out.sort_values("ST_peak_year", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs.update({"scenario": scenario, "n_base": n_base, "runs": len(u)})
    return out


# The step a suggestion speaks of, per unit of a shift, and its key in the texts.
_STEPS = {
    "frac/yr": (0.01, "step.rate"),
    "frac": (0.01, "step.frac"),
    "ln factor": (0.10, "step.factor"),
    "MW": (10.0, "step.mw"),
    "MWh": (10.0, "step.mwh"),
    "tCO2/MWh": (0.01, "step.grid"),
    "tCO2e/yr": (1000.0, "step.sink"),
    "1e4 CNY": (10000.0, "step.va"),
    "1e4 CNY/yr": (10000.0, "step.va"),
    "tce/1e4 CNY": (0.01, "step.intensity"),
    "tCO2/tce": (0.01, "step.ci"),
}


def suggestions(
    study: Study,
    scenario: str,
    *,
    lang: str = "en",
    top: int = 3,
    tornado_table: pd.DataFrame | None = None,
    sobol_table: pd.DataFrame | None = None,
) -> list[str]:
    """Suggestions in plain words from the tornado (and Sobol indices when given).

    Parameters
    ----------
    study : Study
        The study.
    scenario : str
        The scenario.
    lang : {"en", "zh"}
        The language.
    top : int
        How many drivers to speak of.
    tornado_table : pandas.DataFrame, optional
        A :func:`tornado` result; computed when omitted.
    sobol_table : pandas.DataFrame, optional
        A :func:`sobol_indices` result; adds each driver's share of the peak-year variance.

    Returns
    -------
    list of str
        One sentence per driver, most influential first, e.g. "Energy intensity of
        Chemicals moves the peak most: each extra 1 %/yr reduction brings the peak
        forward by about 1.5 years and lowers the peak by about 12,000 tCO2e."
    """
    tab = tornado(study, scenario) if tornado_table is None else tornado_table
    names = {k: (v.name, v.name_zh) for k, v in study.base.industries.items()}
    event_names = {f"event:{e.name}": (e.name, e.name_zh) for e in study.scenarios[scenario].events}
    sobol = None if sobol_table is None else sobol_table.set_index("driver")
    out: list[str] = []
    for rank, row in enumerate(tab.head(top).itertuples(index=False)):
        step, step_key = _STEPS.get(str(row.unit), (1.0, "step.unit"))
        kind = str(row.driver).split(":")[0]
        # speak of the low-carbon direction: less growth, lower intensities, more measures
        sign = -1.0 if kind in _LOWER_IS_GREENER else 1.0
        dy = sign * step * float(row.peak_year_per_unit)
        dv = sign * step * float(row.peak_tco2e_per_unit)
        label = driver_label(str(row.driver), lang, names, event_names)
        direction = "reduction" if sign < 0 else "increase"
        if kind == "value_added_1e4cny" and step_key == "step.rate":
            direction = "less_growth"
        what = text(f"{step_key}.{direction}", lang, unit=row.unit)
        if abs(dy) >= 0.05:
            year_part = text(
                "suggest.year.earlier" if dy < 0 else "suggest.year.later",
                lang,
                years=f"{abs(dy):.1f}",
            )
        else:
            year_part = text("suggest.year.none", lang)
        value_part = text(
            "suggest.value.lower" if dv < 0 else "suggest.value.higher",
            lang,
            value=f"{_round_sig(abs(dv)):,.0f}",
        )
        head = text("suggest.most" if rank == 0 else "suggest.next", lang, driver=label)
        sentence = text(
            "suggest.sentence", lang, head=head, what=what, year=year_part, value=value_part
        )
        if sobol is not None and row.driver in sobol.index:
            share = float(sobol.loc[row.driver, "ST_peak_year"])
            sentence += text("suggest.variance", lang, share=f"{100 * max(share, 0.0):.0f}")
        out.append(sentence)
    return out


def _round_sig(value: float, digits: int = 3) -> float:
    """Return ``value`` rounded to ``digits`` significant figures."""
    if value == 0 or not np.isfinite(value):
        return value
    return round(value, digits - 1 - int(np.floor(np.log10(abs(value)))))


_LOWER_IS_GREENER = (
    "value_added_1e4cny",
    "energy_intensity_tce_per_1e4cny",
    "carbon_intensity_tco2_per_tce",
    "grid_factor_tco2_per_mwh",
)
