"""The small accounting benchmark runs, writes the documented result shape and agrees with
a hand computation. Correctness only: no timing is asserted."""

import datetime as dt
import json

from benchmarks import accounting
from benchmarks._common import RESULTS_DIR, meets

FIGURES = {"seconds", "numpy_seconds", "vs_numpy", "peak_memory_ratio", "check_max_rel_diff"}
KEYS = {"name", "figures", "targets", "met", "python", "machine", "when"}


def _listing() -> set[str]:
    return {p.name for p in RESULTS_DIR.iterdir()} if RESULTS_DIR.exists() else set()


def test_small_accounting_benchmark(tmp_path):
    before = _listing()
    outcome = accounting.run(small=True, out_dir=tmp_path, repeat=1)
    assert _listing() == before, "a run with out_dir must not write into benchmarks/results"
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == ["accounting-small.json"]
    doc = json.loads(files[0].read_text(encoding="utf-8"))

    assert set(doc) == KEYS
    assert doc["name"] == "accounting"
    assert set(doc["figures"]) == FIGURES
    assert all(isinstance(v, float) for v in doc["figures"].values())
    assert doc["targets"] == {
        "vs_numpy": "<= 3",
        "peak_memory_ratio": "<= 2",
        "check_max_rel_diff": "<= 1e-9",
    }
    assert set(doc["met"]) == set(doc["targets"])
    assert all(isinstance(v, bool) for v in doc["met"].values())
    assert doc["met"] == {k: meets(doc["figures"][k], t) for k, t in doc["targets"].items()}
    f = doc["figures"]
    assert f["vs_numpy"] == f["seconds"] / f["numpy_seconds"]
    assert f["seconds"] > 0 and f["numpy_seconds"] > 0 and f["peak_memory_ratio"] > 0
    assert dt.datetime.fromisoformat(doc["when"]).utcoffset() == dt.timedelta(0)
    assert doc["python"].count(".") == 2 and "CPU" in doc["machine"]
    assert doc == outcome.document() | {"when": doc["when"]}

    # The inventory's yearly totals per enterprise and scope equal numpy's hand computation.
    assert f["check_max_rel_diff"] < 1e-9


def test_small_park_shape():
    park = accounting.build_park(accounting.SMALL)
    assert len(park.enterprises) == 20 and len(park.sources) == 200
    assert {e.zone for e in park.enterprises} == {"Z1", "Z2", "Z3"}
    cells = accounting.group_index(park)
    assert cells.max() < 20 * 3 * accounting.CELLS_PER_SCOPE
    assert {s.scope for s in park.sources} == {1, 2, 3}
    data = accounting.build_data(park, accounting.SMALL)
    assert data.values.shape == (200, 30 * 96) and data.values.flags.c_contiguous
    assert data.streams == [s.id for s in park.sources]


def test_meets():
    assert meets(3.0, "<= 3") and not meets(3.01, "<= 3")
    assert meets(2e4, ">= 1e4") and not meets(float("nan"), "<= 3")
