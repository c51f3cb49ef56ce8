"""The vectorised build: sizes, named blocks, and the matrix against a plain loop build."""

import numpy as np
import pytest
import scipy.sparse as sp

from carbontwin.optimizers import matrix

from .conftest import random_problem


def _loop_matrix(p):
    """The constraint matrix written entry by entry, the way one reads the formulation."""
    lay = matrix.Layout(p.n_b, p.steps, p.emissions_cap_tco2 is not None)
    a = sp.lil_matrix((lay.num_row, lay.num_col))
    b, dt = p.batteries, p.interval_h
    for t in range(p.steps):
        a[t, lay.imp + t] = 1.0
        a[t, lay.exp + t] = -1.0
        a[lay.peak_row + t, lay.imp + t] = 1.0
        a[lay.peak_row + t, lay.peak] = -1.0
        if lay.has_cap:
            a[lay.cap_row, lay.imp + t] = dt * p.grid_factor_tco2_per_mwh[t] / 1000
        for i in range(p.n_b):
            k = i * p.steps + t
            a[t, lay.charge + k] = -1.0
            a[t, lay.discharge + k] = 1.0
            a[lay.soc_row + k, lay.soc + k] = 1.0
            if t > 0:
                a[lay.soc_row + k, lay.soc + k - 1] = -1.0
            a[lay.soc_row + k, lay.charge + k] = -dt * b.charge_efficiency_frac[i]
            a[lay.soc_row + k, lay.discharge + k] = dt / b.discharge_efficiency_frac[i]
    return a.tocsc()


@pytest.mark.parametrize("cap", [None, 5.0])
def test_matrix_equals_a_loop_build(cap):
    p = random_problem(1, n_b=3, steps=7, emissions_cap_tco2=cap)
    fast = matrix.constraint_matrix(p)
    ref = _loop_matrix(p)
    assert fast.shape == ref.shape
    # same coefficients computed the same way: exact
    assert abs(fast - ref).max() == 0.0


def test_layout_and_single_pass():
    p = random_problem(2, n_b=4, steps=10)
    h = matrix.new_highs()
    lay = matrix.pass_problem(h, p)
    assert (h.getNumCol(), h.getNumRow()) == (lay.num_col, lay.num_row)
    assert lay.num_col == 3 * 40 + 2 * 10 + 1 and lay.num_row == 10 + 40 + 10
    assert list(lay.rows()) == ["Park-balance", "Battery-soc_kwh-dynamics", "Grid-peak_kw"]
    assert sum(len(r) for r in lay.cols().values()) == lay.num_col
    # binaries for two pairs: one column and two rows each
    cols = matrix.add_binaries(h, p, lay, np.array([0, 13]))
    assert list(cols) == [lay.num_col, lay.num_col + 1]
    assert (h.getNumCol(), h.getNumRow()) == (lay.num_col + 2, lay.num_row + 4)
