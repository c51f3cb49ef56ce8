"""The small milp benchmark runs, writes the documented result shape and finds the published
optimum; the PDCD-1 data generator reproduces the benchmark's digests. No timing is asserted."""

import json

import pytest

from benchmarks import _pdcd, milp
from benchmarks._common import RESULTS_DIR, meets

KEYS = {"name", "figures", "targets", "met", "python", "machine", "when"}


@pytest.mark.parametrize("case", sorted(_pdcd.DIGESTS))
def test_generator_reproduces_the_published_digests(case):
    assert _pdcd.digest(_pdcd.case_data(case)) == _pdcd.DIGESTS[case]


def test_small_milp_benchmark(tmp_path):
    before = {p.name for p in RESULTS_DIR.iterdir()} if RESULTS_DIR.exists() else set()
    outcome = milp.run(small=True, out_dir=tmp_path)
    after = {p.name for p in RESULTS_DIR.iterdir()} if RESULTS_DIR.exists() else set()
    assert after == before, "a run with out_dir must not write into benchmarks/results"
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == ["milp-small.json"]
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    assert set(doc) == KEYS and doc["name"] == "milp"
    f = doc["figures"]
    assert {
        "total_s",
        "build_s",
        "raw_highspy_s",
        "linopy_s",
        "vs_raw_highspy",
        "vs_linopy",
        "peak_memory_mb",
        "mpc_overhead_s",
        "objective",
        "objective_rel_err",
        "max_violation",
        "objectives_max_rel_diff",
        "mpc_fresh_rel_diff",
    } <= set(f)
    assert all(isinstance(v, float) for v in f.values())
    assert set(doc["met"]) == set(doc["targets"]) <= set(f)
    assert doc["met"] == {k: meets(f[k], t) for k, t in doc["targets"].items()}
    assert f["vs_raw_highspy"] == f["total_s"] / f["raw_highspy_s"]
    assert f["vs_linopy"] == f["total_s"] / f["linopy_s"]
    assert doc == outcome.document() | {"when": doc["when"]}
    # correctness figures: the published optimum, a clean solution, every tool agreeing
    assert f["objective"] == pytest.approx(_pdcd.OPTIMA["d1_b10"], rel=1e-6)
    assert f["objective_rel_err"] <= 1e-6 and f["objectives_max_rel_diff"] <= 1e-6
    assert f["max_violation"] <= 1e-6 and f["binaries"] == 0.0
    assert f["mpc_fresh_rel_diff"] <= 1e-6
