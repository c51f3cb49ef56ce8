"""Monte Carlo carbon-peak study: 100,000 draws × 40 years × 3 scenarios, in process and on Dask.

The shipped demo study (``carbontwin/data/scenarios/demo.yaml``: baseline, policy,
enhanced low-carbon; 4 industries, 14-16 uncertain drivers per scenario) with its horizon
moved to 2064, so 40 years from the base year 2025.

Figures: ``seconds`` (best of 3, ``monte_carlo(study, 100_000, seed=2025)`` with the yearly
paths kept), ``draws_per_s`` (scenario-draws per second), ``numpy_seconds`` (the reference:
a bare, loop-free numpy Kaya projection over the same draws and years — value added ×
energy intensity × carbon intensity per industry by ``cumprod`` over full
``draw × year × industry`` arrays, plus purchased power at the base grid factor; no
measures), ``vs_numpy`` (``seconds / numpy_seconds``), ``dask_seconds`` (best of 2, the
same call on a running ``local_cluster`` of 2 single-threaded worker processes),
``dask_max_abs_diff``
(largest difference between the Dask and the in-process results, every variable) and
``kaya_max_rel_diff`` (the Kaya-only variant of the study through ``monte_carlo`` against
the bare numpy reference on the same quantiles).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks._common import Outcome, best_of, small_requested
from carbontwin.scenarios import (
    compile_scenario,
    demo_study_path,
    load_study,
    local_cluster,
    monte_carlo,
)
from carbontwin.scenarios.montecarlo import _rng
from carbontwin.scenarios.projection import shifts

NAME = "scenarios"
TARGETS = {
    "seconds": "< 2",
    "dask_max_abs_diff": "<= 0",
    "kaya_max_rel_diff": "<= 1e-9",
}
UNITS = {
    "seconds": "s",
    "numpy_seconds": "s",
    "dask_seconds": "s",
    "draws_per_s": "1/s",
}
SEED = 2025
HORIZON = 2064  # 40 years from 2025
KAYA = ("value_added_1e4cny", "energy_intensity_tce_per_1e4cny", "carbon_intensity_tco2_per_tce")


def demo_document() -> dict[str, Any]:
    """The demo study document with the benchmark's horizon."""
    doc = yaml.safe_load(demo_study_path().read_text(encoding="utf-8"))
    doc["study"]["horizon"] = HORIZON
    return doc


def kaya_only(doc: dict[str, Any]) -> dict[str, Any]:
    """The study with only the Kaya drivers (rates of value added and intensities)."""
    out = copy.deepcopy(doc)
    for sc in out["study"]["scenarios"].values():
        sc["drivers"] = {k: v for k, v in (sc.get("drivers") or {}).items() if k in KAYA}
        sc["events"] = []
    return out


def numpy_kaya(comp: Any, u: np.ndarray) -> np.ndarray:
    """Bare numpy, loop-free: net emissions (draw, year) of a Kaya-only compiled scenario.

    ``E_(n,t,i) = A0_i Π_(τ<=t) (1 + g_(τ,i) + δg_(n,i)) × ...`` by ``cumprod`` over the
    year axis of full (draw, year, industry) arrays; emissions are the combustion carbon
    intensity, the process part (with value added), purchased heat and power (with energy)
    at the base grid factor, less the base-year sinks.
    """
    n, t = u.shape[0], len(comp.years)
    idx = []
    for kind in KAYA:
        factor = np.ones((n, t, len(comp.industries)))
        for i, ind in enumerate(comp.industries):
            p = comp.paths[f"{kind}:{ind}"]
            r = np.broadcast_to(p.rate_of_year if p.mode == "rate" else np.zeros(t), (n, t))
            if p.column >= 0:
                assert p.mode == "rate" and p.dist != 1
                r = r + shifts(p.dist, p.spread, u[:, p.column])[:, None]
            factor[:, 1:, i] = np.maximum(1.0 + r[:, 1:], 1e-3)
        idx.append(np.cumprod(factor, axis=1))
    a, e = idx[0], idx[0] * idx[1]
    ec = e * idx[2]
    grid = comp.paths["grid_factor_tco2_per_mwh"].base
    sinks = comp.paths["sinks_tco2e"].base
    em = ec * comp.c0 + a * comp.p0 + e * (comp.h0 + comp.el0 * grid)
    return em.sum(axis=2) - sinks


def _draws(comp: Any, n: int, block: int) -> np.ndarray:
    return np.concatenate(
        [
            _rng(SEED, comp.stream, b).random((min(block, n - b * block), comp.n_uncertain))
            for b in range(-(-n // block))
        ]
    )


def _max_abs_diff(a: Any, b: Any) -> float:
    return float(
        max(
            np.max(np.abs(a[v].values.astype(float) - b[v].values.astype(float)))
            for v in a.data_vars
        )
    )


def run(*, small: bool | None = None, out_dir: Path | str | None = None) -> Outcome:
    """Run the benchmark, write its result document and return the outcome.

    Parameters
    ----------
    small : bool, optional
        1,000 draws, one timing each, and a thread-based ``LocalCluster``
        (``processes=False``); default from ``BENCH_SMALL``.
    out_dir : path, optional
        Where to write the JSON; ``benchmarks/results`` by default (``scenarios-small.json``
        for a small run).
    """
    from dask.distributed import Client, LocalCluster

    small = small_requested() if small is None else small
    n = 1_000 if small else 100_000
    repeat = 1 if small else 3
    doc = demo_document()
    study = load_study(doc)
    monte_carlo(study, 1000, seed=SEED)  # warm up

    seconds, local = best_of(lambda: monte_carlo(study, n, seed=SEED), repeat=repeat)

    comps = [compile_scenario(study, s) for s in study.scenarios]
    kaya_study = load_study(kaya_only(doc))
    kaya_comps = [compile_scenario(kaya_study, s) for s in kaya_study.scenarios]
    block = 1000
    # the reference's draws: the same quantile columns for the Kaya drivers
    ref_u = []
    for c, k in zip(comps, kaya_comps, strict=True):
        u = _draws(c, n, block)
        cols = [c.uncertain.index(key) for key in k.uncertain]
        ref_u.append(np.ascontiguousarray(u[:, cols]))
    numpy_seconds, _ = best_of(
        lambda: [numpy_kaya(k, u) for k, u in zip(kaya_comps, ref_u, strict=True)], repeat=repeat
    )

    n_check = min(n, 10_000)
    mc_kaya = monte_carlo(kaya_study, n_check, seed=SEED)
    rel = 0.0
    for i, k in enumerate(kaya_comps):
        ref = numpy_kaya(k, _draws(k, n_check, block))
        got = mc_kaya.net_emissions_tco2e.values[i]
        rel = max(rel, float(np.max(np.abs(got - ref) / np.abs(ref))))

    if small:
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        )
    else:
        cluster = local_cluster(n_workers=2)  # worker processes with WORKER_MALLOC
    client = Client(cluster)
    try:
        t0 = time.perf_counter()
        monte_carlo(study, 1000, seed=SEED, dask=client)  # workers warm
        warm = time.perf_counter() - t0
        dask_seconds, on_dask = best_of(
            lambda: monte_carlo(study, n, seed=SEED, dask=client), repeat=1 if small else 2
        )
    finally:
        client.close()
        cluster.close()
    diff = _max_abs_diff(local, on_dask)

    draws = n * len(study.scenarios)
    figures = {
        "seconds": seconds,
        "draws_per_s": draws / seconds,
        "numpy_seconds": numpy_seconds,
        "vs_numpy": seconds / numpy_seconds,
        "dask_seconds": dask_seconds,
        "dask_max_abs_diff": diff,
        "kaya_max_rel_diff": rel,
    }
    years = len(study.years)
    outcome = Outcome(
        name=NAME,
        figures=figures,
        targets=dict(TARGETS),
        references={
            "seconds": f"{n:,} draws × {years} years × {len(comps)} scenarios, paths kept",
            "draws_per_s": "scenario-draws per second, in process",
            "numpy_seconds": "bare numpy Kaya over the same draws (no measures)",
            "vs_numpy": "seconds / numpy_seconds",
            "dask_seconds": f"local_cluster, 2 workers × 1 thread (first call {warm:.2f} s)",
            "dask_max_abs_diff": "Dask vs in process, every variable",
            "kaya_max_rel_diff": f"Kaya-only study vs bare numpy, {n_check:,} draws",
        },
        units=UNITS,
    )
    outcome.write(out_dir, stem=f"{NAME}-small" if small else NAME)
    return outcome
