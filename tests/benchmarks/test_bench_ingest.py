"""The small ingest benchmark runs against a real Mosquitto and writes the documented
result shape. Correctness only: no timing is asserted."""

import json
import os

import pytest

from benchmarks import ingest
from benchmarks._common import RESULTS_DIR, meets
from carbontwin.connectors.mqtt import find_mosquitto

FIGURES = {
    "readings_per_s",
    "p50_latency_s",
    "p99_latency_s",
    "capacity_readings_per_s",
    "minimal_pipeline_per_s",
    "vs_minimal_pipeline",
}
KEYS = {"name", "figures", "targets", "met", "python", "machine", "when"}


def test_small_ingest_benchmark(tmp_path):
    if find_mosquitto() is None:
        reason = "mosquitto is not installed (apt-get install mosquitto)"
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"{reason} — CI must provide it")
        pytest.skip(reason)
    before = {p.name for p in RESULTS_DIR.iterdir()} if RESULTS_DIR.exists() else set()
    outcome = ingest.run(small=True, out_dir=tmp_path)
    after = {p.name for p in RESULTS_DIR.iterdir()} if RESULTS_DIR.exists() else set()
    assert after == before, "a run with out_dir must not write into benchmarks/results"
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == ["ingest-small.json"]
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    assert set(doc) == KEYS and doc["name"] == "ingest"
    assert set(doc["figures"]) == FIGURES
    assert all(isinstance(v, float) for v in doc["figures"].values())
    assert doc["targets"] == {
        "p99_latency_s": "< 1",
        "vs_minimal_pipeline": ">= 0.5",
        "readings_per_s": ">= 19000",
    }
    assert doc["met"] == {k: meets(doc["figures"][k], t) for k, t in doc["targets"].items()}
    f = doc["figures"]
    assert f["vs_minimal_pipeline"] == f["capacity_readings_per_s"] / f["minimal_pipeline_per_s"]
    assert 0 < f["p50_latency_s"] <= f["p99_latency_s"]
    assert outcome.figures == f
