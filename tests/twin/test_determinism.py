"""The same seed gives identical readings; another seed does not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from carbontwin.twin import simulate


def test_same_seed_same_readings_and_kpis(demo):
    a = simulate(demo, "2025-04-01", 1, seed=42)
    b = simulate(demo, "2025-04-01", 1, seed=42)
    pd.testing.assert_frame_equal(a.readings, b.readings)
    pd.testing.assert_frame_equal(a.faults, b.faults)
    assert np.array_equal(a.intervals.values, b.intervals.values)
    pd.testing.assert_frame_equal(a.kpis.energy, b.kpis.energy)
    c = simulate(demo, "2025-04-01", 1, seed=43)
    assert not np.array_equal(a.intervals.values, c.intervals.values)


def test_what_is_kept_does_not_change_what_is_simulated(demo):
    # Keeping fewer readings drops rows, never changes a value or the random streams.
    full = simulate(demo, "2025-04-01", 2, seed=5)
    last = simulate(demo, "2025-04-01", 2, seed=5, keep_readings_days=1)
    cut = pd.Timestamp("2025-04-02", tz="Asia/Shanghai")
    tail = full.readings[full.readings.ts >= cut].reset_index(drop=True)
    # Interval points labelled before the cut but reported at it fall on either side.
    pd.testing.assert_frame_equal(
        tail[tail.ts >= cut + pd.Timedelta(hours=1)].reset_index(drop=True),
        last.readings[last.readings.ts >= cut + pd.Timedelta(hours=1)].reset_index(drop=True),
    )
    assert np.array_equal(full.intervals.values, last.intervals.values)
