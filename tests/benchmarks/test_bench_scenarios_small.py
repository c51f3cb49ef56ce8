"""The small scenarios benchmark runs, writes the documented result shape, and its Dask and
in-process results agree exactly. Correctness only: no timing is asserted."""

import json

from benchmarks import scenarios
from benchmarks._common import RESULTS_DIR, meets

FIGURES = {
    "seconds",
    "draws_per_s",
    "numpy_seconds",
    "vs_numpy",
    "dask_seconds",
    "dask_max_abs_diff",
    "kaya_max_rel_diff",
}
KEYS = {"name", "figures", "targets", "met", "python", "machine", "when"}


def _listing() -> set[str]:
    return {p.name for p in RESULTS_DIR.iterdir()} if RESULTS_DIR.exists() else set()


def test_small_scenarios_benchmark(tmp_path):
    before = _listing()
    outcome = scenarios.run(small=True, out_dir=tmp_path)
    assert _listing() == before, "a run with out_dir must not write into benchmarks/results"
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == ["scenarios-small.json"]
    doc = json.loads(files[0].read_text(encoding="utf-8"))

    assert set(doc) == KEYS
    assert doc["name"] == "scenarios"
    assert set(doc["figures"]) == FIGURES
    assert all(isinstance(v, float) for v in doc["figures"].values())
    assert doc["targets"] == scenarios.TARGETS
    assert doc["met"] == {k: meets(doc["figures"][k], t) for k, t in doc["targets"].items()}
    f = doc["figures"]
    assert f["vs_numpy"] == f["seconds"] / f["numpy_seconds"]
    assert f["draws_per_s"] == 3 * 1_000 / f["seconds"]
    assert doc == outcome.document() | {"when": doc["when"]}

    # Dask gives exactly the in-process result; the Kaya kernel agrees with bare numpy.
    assert f["dask_max_abs_diff"] == 0.0
    assert f["kaya_max_rel_diff"] < 1e-9


def test_reference_matches_the_kernel_on_a_few_draws():
    doc = scenarios.kaya_only(scenarios.demo_document())
    from carbontwin.scenarios import compile_scenario, load_study, monte_carlo

    study = load_study(doc)
    mc = monte_carlo(study, 50, seed=scenarios.SEED, scenarios=["policy"])
    comp = compile_scenario(study, "policy")
    ref = scenarios.numpy_kaya(comp, scenarios._draws(comp, 50, 1000))
    assert abs(mc.net_emissions_tco2e.values[0] - ref).max() / ref.max() < 1e-12
