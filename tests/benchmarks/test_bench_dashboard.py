"""The small dashboard benchmark opens the real dashboard in chromium and signs in.

Correctness only: no timing is asserted (benchmarks report, they do not fail).
"""

import json

from benchmarks import dashboard
from benchmarks._common import meets


def test_small_dashboard_benchmark_measures_paint_and_pages(tmp_path):
    dashboard.run(small=True, out_dir=tmp_path)
    doc = json.loads((tmp_path / "dashboard-small.json").read_text(encoding="utf-8"))
    f = doc["figures"]
    assert doc["name"] == "dashboard"
    assert set(f) == {
        "first_paint_s",
        "sign_in_form_s",
        "overview_s",
        "trivial_first_paint_s",
        "vs_trivial",
    }
    assert all(v > 0 for v in f.values())
    assert doc["met"] == {k: meets(f[k], t) for k, t in doc["targets"].items()}
