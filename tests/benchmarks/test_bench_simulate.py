"""The small simulate benchmark runs and writes the documented result shape (no timings)."""

import json

from benchmarks import simulate
from benchmarks._common import RESULTS_DIR, meets

FIGURES = {
    "seconds",
    "point_steps_per_s",
    "numpy_step_seconds",
    "vs_reference",
    "accounting_max_rel_diff",
}
KEYS = {"name", "figures", "targets", "met", "python", "machine", "when"}


def test_small_simulate_benchmark(tmp_path):
    before = {p.name for p in RESULTS_DIR.iterdir()} if RESULTS_DIR.exists() else set()
    outcome = simulate.run(small=True, out_dir=tmp_path)
    after = {p.name for p in RESULTS_DIR.iterdir()} if RESULTS_DIR.exists() else set()
    assert after == before, "a run with out_dir must not write into benchmarks/results"
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == ["simulate-small.json"]
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    assert set(doc) == KEYS and doc["name"] == "simulate"
    assert set(doc["figures"]) == FIGURES
    assert all(isinstance(v, float) for v in doc["figures"].values())
    assert doc["targets"] == {"seconds": "<= 60", "accounting_max_rel_diff": "<= 1e-3"}
    assert doc["met"] == {k: meets(doc["figures"][k], t) for k, t in doc["targets"].items()}
    f = doc["figures"]
    assert f["vs_reference"] == f["seconds"] / f["numpy_step_seconds"]
    assert f["accounting_max_rel_diff"] < 1e-9  # the history is the physics, exactly
    assert doc == outcome.document() | {"when": doc["when"]}
