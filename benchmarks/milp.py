"""Day-ahead 15-min park dispatch (PDCD-1): build + solve time against raw highspy and linopy.

Cases of the PDCD-1 benchmark (``benchmarks/_pdcd.py``): ``d1_b100`` (main: 100 buildings,
one day at 15 min), ``d1_b10``, ``d7_b10`` (a week) and ``y1_b1`` (a year, hourly), all with
the charge/discharge binaries as specified. carbontwin solves them with
``carbontwin.optimizers.solve`` (the vectorised matrix path, LP first, binaries only where
needed). The references, measured in the same run, solve the benchmark's LP relaxation
(the binaries relaxed to [0, 1]; its optimum equals the MILP's on every case):

- ``raw_highspy``: a minimal matrix build written plainly below (numpy index arithmetic,
  a scipy CSC matrix, one ``passModel``, ``run``, primal values sliced back);
- ``linopy``: the same model in linopy, ``Model.to_highspy()`` then ``run``.

Each tool runs in a fresh process (``python -m benchmarks.milp --worker TOOL CASE``),
tools interleaved and rotated per repetition, medians reported. Data generation and
imports are outside the clock. ``peak_memory_mb`` is the peak RSS (``VmHWM``) of the
process that ran carbontwin's main case. ``mpc_overhead_s`` is the median time outside
HiGHS per re-solve of ``RollingDispatch`` (100 buildings, a 24 h window at 15 min, rolled
every 15 min with a measured SOC). Objectives are recomputed from each tool's arrays by the
benchmark's checker and compared with the published optima.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import _pdcd
from benchmarks._common import Outcome, small_requested

NAME = "milp"
MAIN = "d1_b100"
CASES = ("d1_b100", "d1_b10", "d7_b10", "y1_b1")
TOOLS = ("carbontwin", "raw_highspy", "linopy")
REPS = 3
TARGETS = {
    "total_s": "<= 2.5",
    "build_s": "<= 0.25",
    "vs_raw_highspy": "<= 1.3",
    "peak_memory_mb": "<= 200",
    "mpc_overhead_s": "<= 0.05",
    "objective_rel_err": "<= 1e-6",
    "max_violation": "<= 1e-6",
    "objectives_max_rel_diff": "<= 1e-6",
    "mpc_fresh_rel_diff": "<= 1e-6",
    "d7_b10_total_s": "<= 2",
    "y1_b1_total_s": "<= 3",
    "y1_b1_build_s": "<= 0.25",
}
UNITS = {"peak_memory_mb": "MB"}
ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------ tools
def _options(h) -> None:
    h.setOptionValue("output_flag", False)
    for k, v in _pdcd.HIGHS_OPTIONS.items():
        h.setOptionValue(k, v)


def run_carbontwin(d: dict) -> dict:
    """carbontwin's path: problem (validated) -> solve (build, LP first, extract, check)."""
    from carbontwin.optimizers import solve

    t0 = time.perf_counter()
    problem = _pdcd.to_problem(d)
    t1 = time.perf_counter()
    r = solve(problem, options=dict(_pdcd.HIGHS_OPTIONS))
    total = time.perf_counter() - t0
    return {
        "build_s": (t1 - t0) + r.stats.build_s,
        "solve_s": r.stats.solve_s,
        "total_s": total,
        "arrays": (r.import_kw, r.export_kw, r.charge_kw, r.discharge_kw, r.soc_kwh),
        "peak": r.peak_kw,
        "binaries": r.stats.num_binaries,
        "check_max_violation": r.check.max_violation,
    }


def run_raw_highspy(d: dict, with_u: bool = True) -> dict:
    """The reference: PDCD-1's LP relaxation as one sparse matrix, written plainly.

    ``with_u=False`` drops the relaxed ``u`` and its two row blocks: the same LP that
    carbontwin solves first, so the ratio to it is modelling overhead alone.
    """
    import highspy
    import scipy.sparse as sp

    t0 = time.perf_counter()
    n_b, steps, dt = d["n_b"], d["T"], d["dt"]
    nk = n_b * steps
    k = np.arange(nk)
    tk = k % steps
    t = np.arange(steps)
    nu = nk if with_u else 0
    # columns: pc, pd, soc (nk each), u (nu), imp, exp (T each), ppeak
    pc, pd, soc, u = 0, nk, 2 * nk, 3 * nk
    imp, exp, peak = 3 * nk + nu, 3 * nk + nu + steps, 3 * nk + nu + 2 * steps
    ncol = peak + 1
    # rows: balance (T), soc (nk), pc<=Pu (nu), pd<=P(1-u) (nu), imp<=ppeak (T), end soc (n_b)
    r_bal, r_soc, r_c, r_d = 0, steps, steps + nk, steps + nk + nu
    r_pk, r_end = steps + nk + 2 * nu, 2 * steps + nk + 2 * nu
    nrow = r_end + n_b
    p_k = np.repeat(d["p_max"], steps)
    nl = k[tk < steps - 1]
    last = k[tk == steps - 1]
    one_k, one_t = np.ones(nk), np.ones(steps)
    entries = [  # (rows, columns, values) of each block
        (r_bal + tk, pc + k, -one_k),  # balance: imp - exp - sum(pc - pd) = net
        (r_bal + tk, pd + k, one_k),
        (r_bal + t, imp + t, one_t),
        (r_bal + t, exp + t, -one_t),
        (r_soc + k, soc + k, one_k),  # soc - soc_prev - dt*(eta_c*pc - pd/eta_d) = soc0 | 0
        (r_soc + nl + 1, soc + nl, -np.ones(nl.size)),
        (r_soc + k, pc + k, np.full(nk, -dt * _pdcd.ETA_C)),
        (r_soc + k, pd + k, np.full(nk, dt / _pdcd.ETA_D)),
        (r_pk + t, imp + t, one_t),  # imp - ppeak <= 0
        (r_pk + t, np.full(steps, peak), -one_t),
        (r_end + np.arange(n_b), soc + last, np.ones(n_b)),  # soc[T-1] = soc0
    ]
    if with_u:
        entries += [
            (r_c + k, pc + k, one_k),  # pc - P*u <= 0
            (r_c + k, u + k, -p_k),
            (r_d + k, pd + k, one_k),  # pd + P*u <= P
            (r_d + k, u + k, p_k),
        ]
    rows = np.concatenate([e[0] for e in entries])
    cols = np.concatenate([e[1] for e in entries])
    vals = np.concatenate([e[2] for e in entries])
    a = sp.csc_matrix((vals, (rows, cols)), shape=(nrow, ncol))
    cost = np.zeros(ncol)
    cost[pc : pc + 2 * nk] = dt * _pdcd.DEG_COST
    cost[imp : imp + steps] = dt * d["c_imp"]
    cost[exp : exp + steps] = -dt * _pdcd.EXPORT_PRICE
    cost[peak] = d["dc"]
    lo = np.zeros(ncol)
    hi = np.full(ncol, highspy.kHighsInf)
    hi[pc : pc + nk] = p_k
    hi[pd : pd + nk] = p_k
    lo[soc : soc + nk] = np.repeat(d["soc_lo"], steps)
    hi[soc : soc + nk] = np.repeat(d["soc_hi"], steps)
    hi[u : u + nu] = 1.0
    hi[imp : imp + steps] = d["g_imp"]
    rlo = np.zeros(nrow)
    rhi = np.zeros(nrow)
    rlo[:steps] = rhi[:steps] = d["net"]
    rlo[r_soc + k[tk == 0]] = rhi[r_soc + k[tk == 0]] = d["soc0"]
    rlo[r_c : r_c + nu] = -highspy.kHighsInf
    rlo[r_d : r_d + nu] = -highspy.kHighsInf
    rhi[r_d : r_d + nu] = p_k[:nu]
    rlo[r_pk : r_pk + steps] = -highspy.kHighsInf
    rlo[r_end:] = rhi[r_end:] = d["soc0"]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, nrow
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lo, hi
    lp.row_lower_, lp.row_upper_ = rlo, rhi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    h = highspy.Highs()
    _options(h)
    h.passModel(lp)
    t1 = time.perf_counter()
    h.run()
    t2 = time.perf_counter()
    x = np.asarray(h.getSolution().col_value)
    shape = (n_b, steps)
    arrays = (
        x[imp : imp + steps],
        x[exp : exp + steps],
        x[pc : pc + nk].reshape(shape),
        x[pd : pd + nk].reshape(shape),
        x[soc : soc + nk].reshape(shape),
    )
    t3 = time.perf_counter()
    return {
        "build_s": t1 - t0,
        "solve_s": t2 - t1,
        "total_s": t3 - t0,
        "arrays": arrays,
        "peak": float(x[peak]),
    }


def run_linopy(d: dict) -> dict:
    """The same LP relaxation in linopy, passed with ``to_highspy()``."""
    import warnings

    import linopy
    import pandas as pd
    import xarray as xr

    warnings.filterwarnings("ignore", module="linopy")
    warnings.filterwarnings("ignore", message=".*absent slots.*")

    t0 = time.perf_counter()
    n_b, steps, dt = d["n_b"], d["T"], d["dt"]
    bi = pd.RangeIndex(n_b, name="b")
    ti = pd.RangeIndex(steps, name="t")
    grid = (np.ones((n_b, steps)), [bi, ti])
    p_b = xr.DataArray(d["p_max"], coords=[bi])
    m = linopy.Model()
    pc = m.add_variables(lower=0, upper=p_b * xr.DataArray(*grid), name="pc")
    pd_ = m.add_variables(lower=0, upper=p_b * xr.DataArray(*grid), name="pd")
    soc = m.add_variables(
        lower=xr.DataArray(d["soc_lo"], coords=[bi]) * xr.DataArray(*grid),
        upper=xr.DataArray(d["soc_hi"], coords=[bi]) * xr.DataArray(*grid),
        name="soc",
    )
    u = m.add_variables(lower=0, upper=1, coords=[bi, ti], name="u")
    imp = m.add_variables(lower=0, upper=d["g_imp"], coords=[ti], name="imp")
    exp = m.add_variables(lower=0, coords=[ti], name="exp")
    ppeak = m.add_variables(lower=0, name="ppeak")
    m.add_constraints(imp - exp - (pc - pd_).sum("b") == xr.DataArray(d["net"], coords=[ti]))
    first = xr.DataArray(np.zeros((n_b, steps)), coords=[bi, ti])
    first[:, 0] = d["soc0"]
    m.add_constraints(
        soc - soc.shift(t=1) - dt * _pdcd.ETA_C * pc + (dt / _pdcd.ETA_D) * pd_ == first
    )
    m.add_constraints(soc.isel(t=steps - 1) == xr.DataArray(d["soc0"], coords=[bi]))
    m.add_constraints(pc - p_b * u <= 0)
    m.add_constraints(pd_ + p_b * u <= p_b)
    m.add_constraints(imp - ppeak <= 0)
    m.add_objective(
        (dt * xr.DataArray(d["c_imp"], coords=[ti]) * imp).sum()
        - (dt * _pdcd.EXPORT_PRICE * exp).sum()
        + (dt * _pdcd.DEG_COST * (pc + pd_)).sum()
        + d["dc"] * ppeak
    )
    h = m.to_highspy()
    _options(h)
    t1 = time.perf_counter()
    h.run()
    t2 = time.perf_counter()
    x = np.asarray(h.getSolution().col_value)
    labels = np.asarray(m.matrices.vlabels)
    where = np.full(int(labels.max()) + 1, -1)
    where[labels] = np.arange(labels.size)

    def values(var) -> np.ndarray:
        return x[where[np.asarray(var.labels.values)]]

    arrays = (values(imp), values(exp), values(pc), values(pd_), values(soc))
    t3 = time.perf_counter()
    return {
        "build_s": t1 - t0,
        "solve_s": t2 - t1,
        "total_s": t3 - t0,
        "arrays": arrays,
        "peak": float(values(ppeak)),
    }


def run_mpc(n_b: int, resolves: int) -> dict:
    """Re-solves of a rolling 24 h window at 15 min; time outside HiGHS per re-solve."""
    from carbontwin.optimizers import RollingDispatch, solve

    d = _pdcd.make_data(2, n_b, 0.25)
    full = _pdcd.to_problem(d)
    window = 96
    rng = np.random.default_rng(7)

    def at(s: int):
        w = full.window(s, window)
        noise = 1 + 0.02 * rng.standard_normal((n_b, window))
        return w.replace(load_kw=np.maximum(w.load_kw * noise, 0.0))

    t0 = time.perf_counter()
    mpc = RollingDispatch(at(0), options=dict(_pdcd.HIGHS_OPTIONS))
    build = time.perf_counter() - t0
    overhead, solves, sources = [], [], []
    plan = mpc.solve()
    for s in range(1, resolves + 1):
        soc = plan.soc_kwh[:, 0] * (1 + 0.01 * rng.standard_normal(n_b))
        mpc.advance(soc_kwh=soc)
        t1 = time.perf_counter()
        w = at(s)
        plan = mpc.solve(w)
        total = time.perf_counter() - t1
        overhead.append(total - plan.solve_s)
        solves.append(plan.solve_s)
        sources.append(plan.source)
    fresh = solve(mpc.window_problem(w), options=dict(_pdcd.HIGHS_OPTIONS))
    return {
        "mpc_build_s": build,
        "mpc_overhead_s": statistics.median(overhead),
        "mpc_overhead_max_s": max(overhead),
        "mpc_resolve_s": statistics.median(solves),
        "mpc_time_ratio": statistics.median(
            [(o + s) / (0.25 * 3600) for o, s in zip(overhead, solves, strict=True)]
        ),
        "mpc_fresh_rel_diff": abs(plan.objective_cny - fresh.objective_cny)
        / abs(fresh.objective_cny),
        "mpc_all_optimal": float(all(s == "optimal" for s in sources)),
    }


def worker(tool: str, case: str) -> dict:
    """Run one tool on one case in this process and return its record."""
    if tool == "mpc":
        n_b, resolves = (100, 6) if case == "full" else (10, 3)
        out = run_mpc(n_b, resolves)
    else:
        d = _pdcd.case_data(case)
        ti = time.perf_counter()
        if tool == "carbontwin":
            import carbontwin.optimizers  # noqa: F401
        elif tool.startswith("raw_highspy"):
            import highspy  # noqa: F401
            import scipy.sparse  # noqa: F401
        else:
            import linopy  # noqa: F401
        import_s = time.perf_counter() - ti
        rec = {
            "carbontwin": run_carbontwin,
            "raw_highspy": run_raw_highspy,
            "raw_highspy_plain": lambda d: run_raw_highspy(d, with_u=False),
            "linopy": run_linopy,
        }[tool](d)
        imp, exp, pc, pd, soc = rec.pop("arrays")
        rec["objective"] = _pdcd.objective(d, imp, exp, pc, pd, rec.pop("peak"))
        rec["max_violation"] = _pdcd.max_violation(d, imp, exp, pc, pd, soc)
        rec["import_s"] = import_s
        out = rec
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def peak_rss_mb() -> float:
    """Peak resident memory of this process [MB].

    ``VmHWM`` from ``/proc/self/status`` where it exists: ``getrusage``'s ``ru_maxrss``
    survives ``exec`` on Linux, so a fresh worker would report its parent's peak when the
    parent was larger. Elsewhere ``getrusage``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _spawn(tool: str, case: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.milp", "--worker", tool, case],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {tool} {case} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ run
def _tools(case: str, main: str) -> tuple[str, ...]:
    """Tools run on ``case``: the plain raw LP only on the main case."""
    return (*TOOLS, "raw_highspy_plain") if case == main else TOOLS


def run(
    *, small: bool | None = None, out_dir: Path | str | None = None, reps: int | None = None
) -> Outcome:
    """Run the benchmark, write its result document and return the outcome.

    Parameters
    ----------
    small : bool, optional
        Only ``d1_b10``, one repetition, a 10-building MPC; default from ``BENCH_SMALL``.
    out_dir : path, optional
        Where to write the JSON; ``benchmarks/results`` by default (``milp-small.json``
        for a small run).
    reps : int, optional
        Repetitions per tool and case (default 3; 1 for a small run).
    """
    small = small_requested() if small is None else small
    cases = ("d1_b10",) if small else CASES
    main = cases[0]
    reps = reps if reps is not None else (1 if small else REPS)
    records: dict[tuple[str, str], list[dict]] = {}
    for rep in range(reps):
        for case in cases:
            tools = _tools(case, main)
            order = tools[rep % len(tools) :] + tools[: rep % len(tools)]
            for tool in order:
                records.setdefault((tool, case), []).append(_spawn(tool, case))
    mpc = _spawn("mpc", "small" if small else "full")

    def med(tool: str, case: str, key: str) -> float:
        return float(statistics.median(r[key] for r in records[(tool, case)]))

    figures: dict[str, float] = {}
    worst_rel = 0.0
    notes = [
        f"{'case':8} {'tool':17} {'build s':>8} {'HiGHS s':>8} {'total s':>8} "
        f"{'objective':>18} {'rel err':>9} {'max viol':>9} {'RSS MB':>7}"
    ]
    for case in cases:
        optimum = _pdcd.OPTIMA[case]
        prefix = "" if case == main else f"{case}_"
        for tool in _tools(case, main):
            rel = max(abs(r["objective"] - optimum) / optimum for r in records[(tool, case)])
            worst_rel = max(worst_rel, rel)
            notes.append(
                f"{case:8} {tool:17} {med(tool, case, 'build_s'):8.4f} "
                f"{med(tool, case, 'solve_s'):8.3f} {med(tool, case, 'total_s'):8.3f} "
                f"{records[(tool, case)][0]['objective']:18.9f} {rel:9.2e} "
                f"{max(r['max_violation'] for r in records[(tool, case)]):9.2e} "
                f"{med(tool, case, 'peak_rss_mb'):7.0f}"
            )
        ours = records[("carbontwin", case)]
        total = med("carbontwin", case, "total_s")
        figures[f"{prefix}total_s"] = total
        figures[f"{prefix}build_s"] = med("carbontwin", case, "build_s")
        figures[f"{prefix}solve_s"] = med("carbontwin", case, "solve_s")
        figures[f"{prefix}raw_highspy_s"] = med("raw_highspy", case, "total_s")
        figures[f"{prefix}linopy_s"] = med("linopy", case, "total_s")
        figures[f"{prefix}vs_raw_highspy"] = total / figures[f"{prefix}raw_highspy_s"]
        figures[f"{prefix}vs_linopy"] = total / figures[f"{prefix}linopy_s"]
        figures[f"{prefix}objective"] = ours[0]["objective"]
        figures[f"{prefix}objective_rel_err"] = max(
            abs(r["objective"] - optimum) / optimum for r in ours
        )
        figures[f"{prefix}max_violation"] = max(
            max(r["max_violation"], r["check_max_violation"]) for r in ours
        )
        figures[f"{prefix}binaries"] = float(max(r["binaries"] for r in ours))
        if case == main:
            figures["raw_highspy_plain_s"] = med("raw_highspy_plain", case, "total_s")
            figures["vs_raw_highspy_plain"] = total / figures["raw_highspy_plain_s"]
            figures["peak_memory_mb"] = med("carbontwin", case, "peak_rss_mb")
            figures["import_s"] = med("carbontwin", case, "import_s")
    figures["objectives_max_rel_diff"] = worst_rel
    for key in ("mpc_overhead_s", "mpc_resolve_s", "mpc_time_ratio", "mpc_fresh_rel_diff"):
        figures[key] = mpc[key]
    targets = {k: v for k, v in TARGETS.items() if k in figures}
    n_mpc = "10 buildings, 3" if small else "100 buildings, 6"
    references = {
        "total_s": f"{main}: problem + build + solve + extract + check, median of {reps}",
        "build_s": "DispatchProblem + matrix + passModel",
        "raw_highspy_s": "minimal matrix build + solve of the LP relaxation",
        "vs_raw_highspy": "total_s / raw_highspy_s",
        "raw_highspy_plain_s": "the same, without the relaxed u: carbontwin's first LP",
        "vs_raw_highspy_plain": "total_s / raw_highspy_plain_s: modelling overhead",
        "vs_linopy": "total_s / linopy (build + to_highspy + run + extract)",
        "peak_memory_mb": f"peak RSS of a fresh process running {main}",
        "objective_rel_err": f"vs the published optimum {_pdcd.OPTIMA[main]}",
        "max_violation": "benchmark checker and carbontwin's check_solution",
        "objectives_max_rel_diff": "every tool, case and repetition vs the optima",
        "mpc_overhead_s": f"median per re-solve, {n_mpc} re-solves, 96-step window",
        "mpc_resolve_s": "median HiGHS time per warm re-solve",
        "mpc_time_ratio": "compute time / 15-min control step",
        "mpc_fresh_rel_diff": "last in-place re-solve vs a fresh build",
    }
    outcome = Outcome(
        name=NAME,
        figures=figures,
        targets=targets,
        references=references,
        units=UNITS | {k: "s" for k in figures if k.endswith("_s")},
        notes=notes,
    )
    outcome.write(out_dir, stem=f"{NAME}-small" if small else NAME)
    return outcome


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], sys.argv[3])))
    else:
        from benchmarks.__main__ import main as _main

        sys.exit(_main([*sys.argv[1:], NAME]))
