"""The small control benchmark runs both seasons in the closed loop and writes the documented
result shape; its figures are sane (same comfort, the battery's losses only, no fallback).
No timing is asserted."""

import json

from benchmarks import control
from benchmarks._common import RESULTS_DIR, meets

KEYS = {"name", "figures", "targets", "met", "python", "machine", "when"}


def test_small_control_benchmark(tmp_path):
    before = {p.name for p in RESULTS_DIR.iterdir()} if RESULTS_DIR.exists() else set()
    outcome = control.run(small=True, out_dir=tmp_path)
    after = {p.name for p in RESULTS_DIR.iterdir()} if RESULTS_DIR.exists() else set()
    assert after == before, "a run with out_dir must not write into benchmarks/results"
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == ["control-small.json"]
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    assert set(doc) == KEYS and doc["name"] == "control"
    assert doc == outcome.document() | {"when": doc["when"]}
    f = doc["figures"]
    assert all(isinstance(v, float) for v in f.values())
    assert set(doc["met"]) == set(doc["targets"]) <= set(f)
    assert doc["met"] == {k: meets(f[k], t) for k, t in doc["targets"].items()}
    for s in control.SEASONS:
        for k in control.KPIS:
            assert f"{s}_{k}" in f and f"{s}_baseline_{k}" in f
        assert f[f"{s}_cost_saving_frac"] == 1.0 - f[f"{s}_cost_cny"] / f[f"{s}_baseline_cost_cny"]
        # only the battery is driven differently: comfort is the baseline's exactly
        assert f[f"{s}_discomfort_increase_kh"] == 0.0
        assert f[f"{s}_discomfort_kh"] == f[f"{s}_baseline_discomfort_kh"]
        # the park's import differs from the baseline's only by E03's
        d_site = f[f"{s}_energy_kwh"] - f[f"{s}_baseline_energy_kwh"]
        d_park = f[f"{s}_park_energy_kwh"] - f[f"{s}_baseline_park_energy_kwh"]
        assert abs(d_park - d_site) <= 1e-6 * f[f"{s}_park_energy_kwh"]  # float sums
        # a 2 MWh battery moves E03's import by far less than 1 % over three days
        assert abs(d_site) <= 0.01 * f[f"{s}_baseline_energy_kwh"]
        ratio = f[f"{s}_emissions_tco2e"] / f[f"{s}_energy_kwh"]
        assert (
            abs(ratio - f[f"{s}_baseline_emissions_tco2e"] / f[f"{s}_baseline_energy_kwh"]) < 1e-12
        )
        # E03's peak is at least its import's mean and the battery cannot move it by > 500 kW
        assert f[f"{s}_peak_kw"] >= f[f"{s}_energy_kwh"] / (control.SMALL_DAYS * 24)
        assert abs(f[f"{s}_peak_kw"] - f[f"{s}_baseline_peak_kw"]) <= 500.0 + 1e-6
        assert f[f"{s}_fallbacks"] == 0.0
        assert 0.0 < f[f"{s}_forecast_cvrmse"] < 0.2
        assert f[f"{s}_time_ratio"] > 0.0 and f[f"{s}_baseline_time_ratio"] > 0.0
