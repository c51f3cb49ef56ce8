"""Closed loop in the twin: the MPC against the rule-based baseline, a summer and a winter month.

For each season the demo park is first simulated for a 6-week warm-up under the baseline
controller, ending where the evaluated month starts; the enterprise's demand before its
battery (grid import plus the battery's net discharge, true 15-min means) is the history
the MPC's forecaster starts from. The month is then simulated twice from the same start
and seed (identical weather, loads, noise, EV arrivals and faults): once under
:class:`carbontwin.twin.control.BaselineController`, once under
:class:`carbontwin.runtime.mpc_control.MpcController`, which re-plans the battery
``A-E03-BESS`` every 15 min over the next 24 h and refits its load forecaster every local
midnight on what it has seen (warm-up plus the month's own measured past). Everything but
the battery follows the baseline in both runs.

KPIs as BOPTEST reports them (``docs/control.md``), per season, for the MPC and the
baseline (``<season>_baseline_<kpi>``): ``discomfort_kh`` (park, all zones),
``energy_kwh`` (E03's grid import) and ``park_energy_kwh``, ``cost_cny`` (E03's
electricity bill: energy plus demand charge), ``emissions_tco2e`` (E03's grid import ×
the grid factor), ``peak_kw`` (E03's highest 15-min import), ``time_ratio`` (controller
compute time ÷ simulated time); and ``cost_saving_frac`` (1 − MPC ÷ baseline cost),
``discomfort_increase_kh``, ``fallbacks``, ``forecast_cvrmse`` (the MPC's day-ahead
forecasts of E03's hourly demand against the measured demand of the month).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._common import Outcome, small_requested
from carbontwin.core import demo_park_path, load_park
from carbontwin.core.park import Park
from carbontwin.core.units import conversion_factor
from carbontwin.runtime.mpc_control import (
    MpcController,
    ValleyPeakBaseline,
    grid_factor_tco2_per_mwh,
)
from carbontwin.twin import Simulator
from carbontwin.twin.control import BaselineController, ControlState

NAME = "control"
SEED = 2025
WARMUP_DAYS = 42
SEASONS = {"summer": "2025-07-01", "winter": "2025-01-06"}
FULL_DAYS, SMALL_DAYS = 31, 3
BATTERY, ENTERPRISE = "A-E03-BESS", "E03"
KPIS = ("discomfort_kh", "energy_kwh", "park_energy_kwh", "cost_cny", "emissions_tco2e",
        "peak_kw", "time_ratio")  # fmt: skip
TARGETS = {
    **{f"{s}_cost_saving_frac": ">= 0" for s in SEASONS},
    **{f"{s}_discomfort_increase_kh": "<= 0" for s in SEASONS},
    **{f"{s}_time_ratio": "<= 0.01" for s in SEASONS},
}
_UNIT = {"discomfort_kh": "K·h", "energy_kwh": "kWh", "park_energy_kwh": "kWh",
         "cost_cny": "CNY", "emissions_tco2e": "tCO2e", "peak_kw": "kW"}  # fmt: skip
UNITS = {f"{s}{b}_{k}": u for s in SEASONS for b in ("", "_baseline") for k, u in _UNIT.items()} | {
    f"{s}_discomfort_increase_kh": "K·h" for s in SEASONS
}


class Timed:
    """A controller that times another one's decisions (wall seconds in ``compute_s``)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.compute_s = 0.0

    def decide(self, state: ControlState, t: pd.Timestamp) -> dict[str, float]:
        """Return the inner controller's decision, timed."""
        t0 = time.perf_counter()
        out = self.inner.decide(state, t)
        self.compute_s += time.perf_counter() - t0
        return out


def _amounts_kwh(result: Any, point: str) -> np.ndarray:
    iv = result.intervals
    i = list(iv.point.values).index(point)
    return iv.values[i] * conversion_factor(str(iv.unit.values[i]), "kWh")


def site_demand_kw(result: Any, enterprise: str = ENTERPRISE) -> pd.Series:
    """An enterprise's demand before its batteries from a run, 15-min means [kW].

    Grid import plus the batteries' discharge less their charge (true amounts, no meter
    noise), indexed by local interval start.
    """
    park = result.park
    kwh = np.zeros(result.intervals.sizes["time"])
    for a in park.assets:
        if a.enterprise != enterprise:
            continue
        for pid, role in a.meters.items():
            if (a.kind, role) == ("grid", "import") or (a.kind, role) == ("battery", "discharge"):
                kwh += _amounts_kwh(result, pid)
            elif (a.kind, role) == ("battery", "charge"):
                kwh -= _amounts_kwh(result, pid)
    iv = result.intervals
    index = pd.DatetimeIndex(iv.time.values).tz_localize("UTC").tz_convert(iv.attrs["timezone"])
    return pd.Series(kwh * 4.0, index=index, name="demand_kw")


def warmup_history(park: Park, start: str, days: int = WARMUP_DAYS) -> pd.Series:
    """E03's demand in the ``days`` before ``start`` under the baseline [kW, 15-min]."""
    first = (pd.Timestamp(start) - pd.Timedelta(days=days)).date().isoformat()
    res = Simulator(park, first, days, seed=SEED, keep_readings_days=0).run()
    return site_demand_kw(res)


def kpis(result: Any, compute_s: float, factor: float) -> dict[str, float]:
    """The BOPTEST-style figures of a run (see the module docstring)."""
    k = result.kpis
    cost = k.cost_cny.loc[ENTERPRISE]
    energy = float(k.energy.loc[ENTERPRISE, "grid_import_kwh"])
    return {
        "discomfort_kh": float(k.discomfort_kh.sum()),
        "energy_kwh": energy,
        "park_energy_kwh": float(k.energy.loc["park", "grid_import_kwh"]),
        "cost_cny": float(cost["electricity"] + cost["demand"] + cost["export"]),
        "emissions_tco2e": energy / 1000.0 * factor,
        "peak_kw": float(k.peak_kw[ENTERPRISE]),
        "time_ratio": compute_s / (result.steps * result.clock.step_s),
    }


@dataclass
class Season:
    """One season's closed-loop comparison."""

    name: str
    start: str
    days: int
    baseline: dict[str, float]
    mpc: dict[str, float]
    shaving: dict[str, float]
    controller: MpcController
    demand_kw: pd.Series
    seconds: float

    @property
    def cost_saving_frac(self) -> float:
        """1 − MPC cost ÷ baseline cost (E03's electricity bill) [1]."""
        return 1.0 - self.mpc["cost_cny"] / self.baseline["cost_cny"]

    def forecast_cvrmse(self) -> float:
        """CV(RMSE) of the midnight forecasts' first 24 h against the month's demand [1]."""
        actual = self.demand_kw.resample("h").mean()
        errs, obs = [], []
        for frame in self.controller.forecasts:
            day = frame["forecast"].iloc[:24]
            common = day.index.intersection(actual.index)
            errs.append(day.loc[common].to_numpy() - actual.loc[common].to_numpy())
            obs.append(actual.loc[common].to_numpy())
        if not errs:
            return float("nan")
        e, o = np.concatenate(errs), np.concatenate(obs)
        return float(np.sqrt(np.mean(e**2)) / np.mean(o))


def run_season(park: Park, name: str, start: str, days: int, **options: Any) -> Season:
    """Warm up, then run the month under the baseline and under the MPC."""
    t0 = time.perf_counter()
    factor = grid_factor_tco2_per_mwh(park)
    history = warmup_history(park, start)
    base_ctl = Timed(ValleyPeakBaseline(park))
    base = Simulator(park, start, days, seed=SEED, controller=base_ctl, keep_readings_days=0).run()
    shave_ctl = Timed(BaselineController(park))
    shave = Simulator(
        park, start, days, seed=SEED, controller=shave_ctl, keep_readings_days=0
    ).run()
    mpc_ctl = MpcController(park, history, battery=BATTERY, **options)
    mpc = Simulator(park, start, days, seed=SEED, controller=mpc_ctl, keep_readings_days=0).run()
    return Season(
        name,
        start,
        days,
        kpis(base, base_ctl.compute_s, factor),
        kpis(mpc, mpc_ctl.compute_s, factor),
        kpis(shave, shave_ctl.compute_s, factor),
        mpc_ctl,
        site_demand_kw(mpc),
        time.perf_counter() - t0,
    )


def _table(seasons: list[Season]) -> list[str]:
    heads = ["season", "controller", *KPIS]
    rows = []
    for s in seasons:
        for who, figs in (("baseline", s.baseline), ("MPC", s.mpc), ("shaving only", s.shaving)):
            rows.append([s.name, who, *(f"{figs[k]:.6g}" for k in KPIS)])
    widths = [max(len(r[i]) for r in [heads, *rows]) for i in range(len(heads))]
    lines = ["  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return lines


def run(*, small: bool | None = None, out_dir: Path | str | None = None) -> Outcome:
    """Run the benchmark, write its result document and return the outcome.

    Parameters
    ----------
    small : bool, optional
        Three days per season instead of 31 (the warm-up is the same); default from
        ``BENCH_SMALL``.
    out_dir : path, optional
        Where to write the JSON; ``benchmarks/results`` by default (``control-small.json``
        for a small run).
    """
    small = small_requested() if small is None else small
    days = SMALL_DAYS if small else FULL_DAYS
    park = load_park(demo_park_path())
    seasons = [run_season(park, name, start, days) for name, start in SEASONS.items()]
    figures: dict[str, float] = {}
    references: dict[str, str] = {}
    for s in seasons:
        for k in KPIS:
            figures[f"{s.name}_{k}"] = s.mpc[k]
            figures[f"{s.name}_baseline_{k}"] = s.baseline[k]
            references[f"{s.name}_{k}"] = f"baseline {s.baseline[k]:.6g}"
        figures[f"{s.name}_cost_saving_frac"] = s.cost_saving_frac
        figures[f"{s.name}_discomfort_increase_kh"] = (
            s.mpc["discomfort_kh"] - s.baseline["discomfort_kh"]
        )
        for k in ("cost_cny", "energy_kwh", "peak_kw"):
            figures[f"{s.name}_shaving_{k}"] = s.shaving[k]
        figures[f"{s.name}_cost_saving_vs_shaving_frac"] = (
            1.0 - s.mpc["cost_cny"] / s.shaving["cost_cny"]
        )
        references[f"{s.name}_shaving_cost_cny"] = "BaselineController: peak shaving only"
        figures[f"{s.name}_fallbacks"] = float(s.controller.fallbacks)
        figures[f"{s.name}_forecast_cvrmse"] = s.forecast_cvrmse()
        references[f"{s.name}_cost_saving_frac"] = "1 - MPC / baseline (E03 bill)"
        references[f"{s.name}_fallbacks"] = f"of {s.controller.decisions} decisions"
        references[f"{s.name}_forecast_cvrmse"] = "E03 hourly, day-ahead from midnight"
    notes = [
        f"demo park, {days} days from {s.start} ({s.name}), seed {SEED}, after a "
        f"{WARMUP_DAYS}-day baseline warm-up; MPC: {s.controller.refits} refits "
        f"({s.controller.forecast_s:.1f} s), {s.controller.decisions} windows "
        f"({s.controller.solve_s:.1f} s in RollingDispatch); season {s.seconds:.0f} s"
        for s in seasons
    ]
    outcome = Outcome(
        name=NAME,
        figures=figures,
        targets=dict(TARGETS),
        references=references,
        units=UNITS,
        notes=[*notes, *_table(seasons)],
    )
    outcome.write(out_dir, stem=f"{NAME}-small" if small else NAME)
    return outcome
