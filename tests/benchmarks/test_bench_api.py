"""The small api benchmark runs end to end against a real server and answers every request.

Correctness only: no timing is asserted (benchmarks report, they do not fail).
"""

import json

from benchmarks import api
from benchmarks._common import meets


def test_small_api_benchmark_answers_every_request(tmp_path):
    outcome = api.run(small=True, out_dir=tmp_path)
    doc = json.loads((tmp_path / "api-small.json").read_text(encoding="utf-8"))
    f = doc["figures"]
    assert doc["name"] == "api"
    assert {"overview_p95_s", "inventory_p95_s", "trivial_p95_s", "error_rate"} <= set(f)
    assert f["error_rate"] == 0.0
    assert min(f["trivial_p95_s"], f["overview_p95_s"], f["inventory_p95_s"]) > 0
    assert doc["met"] == {k: meets(f[k], t) for k, t in doc["targets"].items()}
    assert outcome is not None
