"""A simulated year of the demo park at 1-min steps, against a bare numpy step loop.

The simulator runs the shipped demo park (10 enterprises, 108 metering points) from
2025-01-01 for 365 days at 60 s steps: every step advances the zones, batteries and charge
points; every day the signals of every asset, the buses and plants, the meters' registers,
interval amounts and instantaneous values with noise and faults, the 15-min history and
the KPIs are computed; readings of the last 7 days are kept. The reference is a Python
loop over the same number of steps doing one numpy multiply-add per point per step.

Figures: ``seconds``, ``point_steps_per_s``, ``numpy_step_seconds``, ``vs_reference`` and
``accounting_max_rel_diff`` (see README.md).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from benchmarks._common import Outcome, best_of, small_requested
from carbontwin.accounting import compute_inventory
from carbontwin.core import demo_park_path, load_park
from carbontwin.twin import Simulator

NAME = "simulate"
TARGETS = {"seconds": "<= 60", "accounting_max_rel_diff": "<= 1e-3"}
UNITS = {"seconds": "s", "numpy_step_seconds": "s", "point_steps_per_s": "1/s"}
START = "2025-01-01"
STEP_S = 60
FULL_DAYS, SMALL_DAYS = 365, 3


def numpy_steps(n_steps: int, n_points: int) -> float:
    """The reference: one multiply-add per point per step, in a Python loop of steps."""
    rates = np.linspace(1.0, 2.0, n_points)
    acc = np.zeros(n_points)
    dt_h = STEP_S / 3600.0
    for _ in range(n_steps):
        acc += rates * dt_h
    return float(acc.sum())


def run(
    *, small: bool | None = None, out_dir: Path | str | None = None, repeat: int = 1
) -> Outcome:
    """Run the benchmark, write its result document and return the outcome.

    Parameters
    ----------
    small : bool, optional
        Three days instead of a year (seconds, for tests); default from ``BENCH_SMALL``.
    out_dir : path, optional
        Where to write the JSON; ``benchmarks/results`` by default. A small run writes
        ``simulate-small.json``.
    repeat : int
        Timed runs; the best counts.
    """
    small = small_requested() if small is None else small
    days = SMALL_DAYS if small else FULL_DAYS
    park = load_park(demo_park_path())
    holder: dict = {}

    def simulated() -> None:
        sim = Simulator(park, START, days, step_s=STEP_S, seed=2025, keep_readings_days=7)
        holder["result"] = sim.run()

    seconds, _ = best_of(simulated, repeat)
    res = holder["result"]
    n_points, n_steps = len(res.points), res.steps
    ref_s, _ = best_of(lambda: numpy_steps(n_steps, n_points), repeat)
    # The accounting of the simulated 15-min history against the physics' own totals.
    t0 = time.perf_counter()
    end = res.clock.timestamp(n_steps * STEP_S - 1).date()
    inv = compute_inventory(park, f"{START}/{end.isoformat()}", intervals=res.accounting)
    account_s = time.perf_counter() - t0
    acc = dict(zip(inv.streams, inv.activity.sum(axis=1), strict=True))
    phys = res.kpis.activity
    rel = float(max(abs(acc[k] - v) / max(abs(v), 1e-9) for k, v in phys.items()))
    outcome = Outcome(
        name=NAME,
        figures={
            "seconds": float(seconds),
            "point_steps_per_s": float(n_points * n_steps / seconds),
            "numpy_step_seconds": float(ref_s),
            "vs_reference": float(seconds / ref_s),
            "accounting_max_rel_diff": rel,
        },
        targets=dict(TARGETS),
        references={
            "seconds": f"numpy step loop {ref_s:.3g} s",
            "point_steps_per_s": f"{n_points} points × {n_steps:,} steps",
            "numpy_step_seconds": "one multiply-add per point per step",
            "vs_reference": "numpy loop = 1",
            "accounting_max_rel_diff": "inventory of the 15-min history vs physics totals",
        },
        units=UNITS,
        notes=[
            f"demo park, {days} days from {START} at {STEP_S} s steps, best of {repeat}; "
            f"{len(res.readings):,} readings kept (7 days), {len(res.faults):,} fault onsets; "
            f"inventory of the run {account_s:.2f} s"
        ],
    )
    outcome.write(out_dir, stem=f"{NAME}-small" if small else NAME)
    return outcome
