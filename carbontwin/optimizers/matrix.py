"""Vectorised build of the dispatch LP: numpy index arithmetic into one sparse matrix for HiGHS.

The model of :mod:`carbontwin.optimizers.dispatch` is written here as arrays, not as
algebra: every column and row has a computed index, the constraint matrix is assembled from
coordinate triplets into a :class:`scipy.sparse.csc_matrix`, and the whole model goes to
HiGHS in one ``passModel`` call of a :class:`highspy.HighsLp`. For 100 buildings and 96
steps (39k columns, 29k rows) that takes a few tens of milliseconds.

Column blocks (``b`` building, ``t`` step, ``k = b*T + t``): ``charge_kw[k]``,
``discharge_kw[k]``, ``soc_kwh[k]``, ``import_kw[t]``, ``export_kw[t]``, ``peak_kw``.
Row blocks: ``Park-balance[t]``, ``Battery-soc_kwh-dynamics[k]``, ``Grid-peak_kw[t]`` and,
with an emissions cap, ``Grid-emissions_tco2-cap``. :class:`Layout` names the blocks, so a
row or column is found by its name and index.

The binaries that forbid charging and discharging at once are not part of the base model:
:func:`add_binaries` appends them for chosen ``(building, step)`` pairs only.

A problem with other assets (HVAC zones, EV sessions, shiftable and flexible loads, boilers
and CHP; :mod:`carbontwin.optimizers.assets`) gets one block of columns and rows per asset
after the battery model, built the same way; a problem without them builds exactly the
battery model above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import highspy
import numpy as np
import scipy.sparse as sp

from carbontwin.optimizers.problem import DispatchProblem

if TYPE_CHECKING:
    from carbontwin.optimizers.assets import Block

__all__ = [
    "HIGHS_OPTIONS",
    "Layout",
    "add_binaries",
    "asset_blocks",
    "build_lp",
    "extract",
    "extract_assets",
    "new_highs",
    "pass_problem",
]

#: HiGHS options used unless overridden: tight MIP gaps, one thread, a fixed seed, silent.
HIGHS_OPTIONS: dict[str, object] = {
    "mip_rel_gap": 1e-9,
    "mip_abs_gap": 1e-9,
    "time_limit": 600.0,
    "random_seed": 0,
    "threads": 1,
    "output_flag": False,
}

_INF = highspy.kHighsInf


@dataclass(frozen=True)
class Layout:
    """Where each block of columns and rows sits in the model.

    Parameters
    ----------
    n_b, steps : int
        Buildings and steps of the problem [1].
    has_cap : bool
        Whether the model has the emissions-cap row.
    blocks : tuple of Block
        The asset blocks after the battery model (see :func:`asset_blocks`).
    """

    n_b: int
    steps: int
    has_cap: bool = False
    blocks: tuple[Block, ...] = field(default=(), compare=False, repr=False)

    def block(self, name: str) -> Block:
        """Return the asset block ``name`` (``"hvac"``, ``"ev"``, ...)."""
        for b in self.blocks:
            if b.name == name:
                return b
        msg = f"the model has no {name!r} block; its blocks are {[b.name for b in self.blocks]}"
        raise KeyError(msg)

    @property
    def integer_cols(self) -> np.ndarray:
        """Global indices of the asset blocks' integer columns."""
        parts = [b.col0 + np.flatnonzero(b.integer) for b in self.blocks]
        return np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, np.int32)

    @property
    def nk(self) -> int:
        """Number of (building, step) pairs [1]."""
        return self.n_b * self.steps

    # columns
    @property
    def charge(self) -> int:
        """First column of ``charge_kw`` (``n_b*T`` columns, building-major)."""
        return 0

    @property
    def discharge(self) -> int:
        """First column of ``discharge_kw``."""
        return self.nk

    @property
    def soc(self) -> int:
        """First column of ``soc_kwh``."""
        return 2 * self.nk

    @property
    def imp(self) -> int:
        """First column of ``import_kw`` (``T`` columns)."""
        return 3 * self.nk

    @property
    def exp(self) -> int:
        """First column of ``export_kw``."""
        return 3 * self.nk + self.steps

    @property
    def peak(self) -> int:
        """The ``peak_kw`` column."""
        return 3 * self.nk + 2 * self.steps

    @property
    def battery_num_col(self) -> int:
        """Columns of the battery and grid model [1]."""
        return 3 * self.nk + 2 * self.steps + 1

    @property
    def num_col(self) -> int:
        """Columns of the base model (without binaries), asset blocks included [1]."""
        return self.battery_num_col + sum(b.num_col for b in self.blocks)

    # rows
    @property
    def balance_row(self) -> int:
        """First ``Park-balance`` row (``T`` rows)."""
        return 0

    @property
    def soc_row(self) -> int:
        """First ``Battery-soc_kwh-dynamics`` row (``n_b*T`` rows, building-major)."""
        return self.steps

    @property
    def peak_row(self) -> int:
        """First ``Grid-peak_kw`` row (``T`` rows)."""
        return self.steps + self.nk

    @property
    def cap_row(self) -> int:
        """The ``Grid-emissions_tco2-cap`` row (only when ``has_cap``)."""
        return 2 * self.steps + self.nk

    @property
    def battery_num_row(self) -> int:
        """Rows of the battery and grid model [1]."""
        return 2 * self.steps + self.nk + int(self.has_cap)

    @property
    def num_row(self) -> int:
        """Rows of the base model, asset blocks included [1]."""
        return self.battery_num_row + sum(b.num_row for b in self.blocks)

    def rows(self) -> dict[str, range]:
        """Row ranges by constraint name."""
        out = {
            "Park-balance": range(self.balance_row, self.balance_row + self.steps),
            "Battery-soc_kwh-dynamics": range(self.soc_row, self.soc_row + self.nk),
            "Grid-peak_kw": range(self.peak_row, self.peak_row + self.steps),
        }
        if self.has_cap:
            out["Grid-emissions_tco2-cap"] = range(self.cap_row, self.cap_row + 1)
        for b in self.blocks:
            for name, (off, n) in b.rows.items():
                out[name] = range(b.row0 + off, b.row0 + off + n)
        return out

    def cols(self) -> dict[str, range]:
        """Column ranges by variable name."""
        return {
            "charge_kw": range(self.charge, self.charge + self.nk),
            "discharge_kw": range(self.discharge, self.discharge + self.nk),
            "soc_kwh": range(self.soc, self.soc + self.nk),
            "import_kw": range(self.imp, self.imp + self.steps),
            "export_kw": range(self.exp, self.exp + self.steps),
            "peak_kw": range(self.peak, self.peak + 1),
        } | {
            f"{b.name}.{name}": range(b.col0 + off, b.col0 + off + int(np.prod(shape)))
            for b in self.blocks
            for name, (off, shape) in b.cols.items()
        }


def column_costs(problem: DispatchProblem) -> np.ndarray:
    """Objective coefficients of the base columns [CNY per kW of the column over a step].

    ``dt*c_b`` on charge and discharge, ``dt*(price_t + cp_t*ef_t/1000)`` on import,
    ``-dt*export_price_t`` on export, the demand charge on the peak, 0 on SOC.
    """
    lay = Layout(problem.n_b, problem.steps)
    dt = problem.interval_h
    cost = np.zeros(lay.num_col)
    thr = np.repeat(dt * problem.batteries.throughput_cost_cny_per_kwh, problem.steps)
    cost[lay.charge : lay.charge + lay.nk] = thr
    cost[lay.discharge : lay.discharge + lay.nk] = thr
    cost[lay.imp : lay.imp + lay.steps] = dt * problem.import_cost_cny_per_kwh
    cost[lay.exp : lay.exp + lay.steps] = -dt * problem.export_price_cny_per_kwh
    cost[lay.peak] = problem.demand_charge_cny_per_kw
    return cost


def column_bounds(problem: DispatchProblem) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the base columns [kW or kWh]."""
    lay = Layout(problem.n_b, problem.steps)
    bat = problem.batteries
    steps = problem.steps
    lo = np.zeros(lay.num_col)
    hi = np.empty(lay.num_col)
    p = np.repeat(bat.power_kw, steps)
    hi[lay.charge : lay.charge + lay.nk] = p
    hi[lay.discharge : lay.discharge + lay.nk] = p
    soc_lo = np.repeat(bat.soc_min_kwh, steps).reshape(bat.n_b, steps)
    soc_hi = np.repeat(bat.soc_max_kwh, steps).reshape(bat.n_b, steps)
    soc_lo[:, -1] = bat.soc_end_kwh
    soc_hi[:, -1] = bat.soc_end_kwh
    lo[lay.soc : lay.soc + lay.nk] = soc_lo.ravel()
    hi[lay.soc : lay.soc + lay.nk] = soc_hi.ravel()
    hi[lay.imp : lay.imp + steps] = np.minimum(problem.import_limit_kw, _INF)
    hi[lay.exp : lay.exp + steps] = np.minimum(problem.export_limit_kw, _INF)
    lo[lay.peak] = problem.peak_floor_kw
    hi[lay.peak] = _INF
    return lo, hi


def row_bounds(problem: DispatchProblem) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the base rows (the right-hand sides) [kW, kWh or tCO2]."""
    lay = Layout(problem.n_b, problem.steps, problem.emissions_cap_tco2 is not None)
    lo = np.zeros(lay.num_row)
    hi = np.zeros(lay.num_row)
    net = problem.net_kw + problem.fixed_asset_kw if problem.shift is not None else problem.net_kw
    lo[: lay.steps] = net
    hi[: lay.steps] = net
    first = lay.soc_row + np.arange(problem.n_b) * problem.steps
    lo[first] = problem.batteries.soc_start_kwh
    hi[first] = problem.batteries.soc_start_kwh
    lo[lay.peak_row : lay.peak_row + lay.steps] = -_INF
    if lay.has_cap:
        lo[lay.cap_row] = -_INF
        hi[lay.cap_row] = problem.emissions_cap_tco2
    return lo, hi


def constraint_matrix(problem: DispatchProblem) -> sp.csc_matrix:
    """Return the constraint matrix of the base model, built from index arithmetic.

    Returns
    -------
    scipy.sparse.csc_matrix
        Shape ``(Layout.num_row, Layout.num_col)``.
    """
    n_b, steps = problem.n_b, problem.steps
    lay = Layout(n_b, steps, problem.emissions_cap_tco2 is not None)
    dt = problem.interval_h
    bat = problem.batteries
    k = np.arange(lay.nk)
    t_of_k = np.tile(np.arange(steps), n_b)
    t = np.arange(steps)
    soc_rows = lay.soc_row + k
    not_last = k[t_of_k < steps - 1]
    rows = [
        # charge: balance -1, dynamics -dt*eta_c
        t_of_k,
        soc_rows,
        # discharge: balance +1, dynamics +dt/eta_d
        t_of_k,
        soc_rows,
        # soc: own dynamics row +1, next step's row -1
        soc_rows,
        lay.soc_row + not_last + 1,
        # import: balance +1, peak row +1; export: balance -1; peak: peak rows -1
        t,
        lay.peak_row + t,
        t,
        lay.peak_row + t,
    ]
    cols = [
        lay.charge + k,
        lay.charge + k,
        lay.discharge + k,
        lay.discharge + k,
        lay.soc + k,
        lay.soc + not_last,
        lay.imp + t,
        lay.imp + t,
        lay.exp + t,
        np.full(steps, lay.peak),
    ]
    vals = [
        np.full(lay.nk, -1.0),
        np.repeat(-dt * bat.charge_efficiency_frac, steps),
        np.full(lay.nk, 1.0),
        np.repeat(dt / bat.discharge_efficiency_frac, steps),
        np.ones(lay.nk),
        np.full(not_last.size, -1.0),
        np.ones(steps),
        np.ones(steps),
        np.full(steps, -1.0),
        np.full(steps, -1.0),
    ]
    if lay.has_cap:
        rows.append(np.full(steps, lay.cap_row))
        cols.append(lay.imp + t)
        vals.append(dt * problem.grid_factor_tco2_per_mwh * 1e-3)
    return sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(lay.num_row, lay.num_col),
    )


def asset_blocks(problem: DispatchProblem) -> tuple[Block, ...]:
    """Build the asset blocks of ``problem``, stacked after the battery model."""
    if not problem.assets:
        return ()
    from carbontwin.optimizers.assets import ASSETS, Context

    base = Layout(problem.n_b, problem.steps, problem.emissions_cap_tco2 is not None)
    col0, row0 = base.battery_num_col, base.battery_num_row
    blocks = []
    for kind in ASSETS:
        asset = getattr(problem, kind.name)
        if asset is None:
            continue
        ctx = Context(
            steps=problem.steps,
            interval_h=problem.interval_h,
            carbon_price_cny_per_tco2=problem.carbon_price_cny_per_tco2,
            col0=col0,
            row0=row0,
            cap_row=base.cap_row if base.has_cap else None,
        )
        block = kind.block(asset, ctx)
        blocks.append(block)
        col0 += block.num_col
        row0 += block.num_row
    return tuple(blocks)


def build_lp(problem: DispatchProblem) -> tuple[highspy.HighsLp, Layout]:
    """Return the base LP (no battery binaries) as a :class:`highspy.HighsLp` and its layout.

    With asset blocks, their integer columns are marked by :func:`pass_problem`.
    """
    blocks = asset_blocks(problem)
    lay = Layout(problem.n_b, problem.steps, problem.emissions_cap_tco2 is not None, blocks)
    a = constraint_matrix(problem)
    col_lo, col_hi = column_bounds(problem)
    row_lo, row_hi = row_bounds(problem)
    cost = column_costs(problem)
    if blocks:
        coo = a.tocoo()
        rows = [coo.row, *(b.coo[0] for b in blocks)]
        cols = [coo.col, *(b.coo[1] for b in blocks)]
        vals = [coo.data, *(b.coo[2] for b in blocks)]
        a = sp.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(lay.num_row, lay.num_col),
        )
        cost = np.concatenate([cost, *(b.cost for b in blocks)])
        col_lo = np.concatenate([col_lo, *(b.col_lo for b in blocks)])
        col_hi = np.concatenate([col_hi, *(b.col_hi for b in blocks)])
        row_lo = np.concatenate([row_lo, *(b.row_lo for b in blocks)])
        row_hi = np.concatenate([row_hi, *(b.row_hi for b in blocks)])
    lp = highspy.HighsLp()
    lp.num_col_ = lay.num_col
    lp.num_row_ = lay.num_row
    lp.col_cost_ = cost
    lp.col_lower_ = col_lo
    lp.col_upper_ = col_hi
    lp.row_lower_ = row_lo
    lp.row_upper_ = row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = lay.num_col
    lp.a_matrix_.num_row_ = lay.num_row
    lp.a_matrix_.start_ = a.indptr.astype(np.int32, copy=False)
    lp.a_matrix_.index_ = a.indices.astype(np.int32, copy=False)
    lp.a_matrix_.value_ = a.data
    return lp, lay


def new_highs(options: dict[str, object] | None = None) -> highspy.Highs:
    """Return a silent :class:`highspy.Highs` with :data:`HIGHS_OPTIONS` and ``options`` set."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for key, value in {**HIGHS_OPTIONS, **(options or {})}.items():
        h.setOptionValue(key, value)
    return h


def pass_problem(h: highspy.Highs, problem: DispatchProblem) -> Layout:
    """Build the base LP of ``problem`` and pass it to ``h`` in one ``passModel`` call."""
    lp, lay = build_lp(problem)
    status = h.passModel(lp)
    if status == highspy.HighsStatus.kError:  # pragma: no cover - a build bug, not user input
        msg = "HiGHS refused the dispatch model (passModel returned an error)"
        raise RuntimeError(msg)
    ints = lay.integer_cols
    if ints.size:
        h.changeColsIntegrality(ints.size, ints, np.ones(ints.size, dtype=np.uint8))
    return lay


def add_binaries(
    h: highspy.Highs, problem: DispatchProblem, lay: Layout, pairs: np.ndarray
) -> np.ndarray:
    """Append binaries ``u`` that forbid charging and discharging at once for ``pairs``.

    For each pair ``k = b*T + t``: a column ``u_k`` in {0, 1} and the rows
    ``charge_kw[k] - P_b*u_k <= 0`` and ``discharge_kw[k] + P_b*u_k <= P_b``.

    Parameters
    ----------
    h : highspy.Highs
        The model (base LP, possibly with binaries from earlier calls).
    problem : DispatchProblem
        The problem the model was built from.
    lay : Layout
        Its layout.
    pairs : numpy.ndarray of int
        Flat indices ``k`` of the (building, step) pairs.

    Returns
    -------
    numpy.ndarray of int
        The new columns' indices.
    """
    pairs = np.asarray(pairs, dtype=np.int64)
    m = pairs.size
    first = h.getNumCol()
    h.addCols(
        m,
        np.zeros(m),
        np.zeros(m),
        np.ones(m),
        0,
        np.zeros(m, dtype=np.int32),
        np.zeros(0, dtype=np.int32),
        np.zeros(0),
    )
    new = np.arange(first, first + m, dtype=np.int32)
    h.changeColsIntegrality(m, new, np.ones(m, dtype=np.uint8))
    p = np.repeat(problem.batteries.power_kw, problem.steps)[pairs]
    # rows 2i (charge) and 2i+1 (discharge), two entries each
    lower = np.full(2 * m, -_INF)
    upper = np.zeros(2 * m)
    upper[1::2] = p
    starts = np.arange(0, 4 * m, 2, dtype=np.int32)
    index = np.empty(4 * m, dtype=np.int32)
    value = np.empty(4 * m)
    index[0::4] = lay.charge + pairs
    index[1::4] = new
    index[2::4] = lay.discharge + pairs
    index[3::4] = new
    value[0::4] = 1.0
    value[1::4] = -p
    value[2::4] = 1.0
    value[3::4] = p
    h.addRows(2 * m, lower, upper, 4 * m, starts, index, value)
    return new


def extract_assets(
    problem: DispatchProblem, lay: Layout, x: np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """Return each asset block's result arrays (see the asset modules' ``*_outputs``)."""
    from carbontwin.optimizers.assets import ASSETS

    kinds = {k.name: k for k in ASSETS}
    return {
        b.name: kinds[b.name].outputs(getattr(problem, b.name), b.values(x), problem.interval_h)
        for b in lay.blocks
    }


def extract(h: highspy.Highs, lay: Layout, x: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Return the primal values of the base columns as arrays.

    ``x`` is the full primal vector when the caller already has it (else it is read).

    Returns
    -------
    dict of str to numpy.ndarray
        ``charge_kw``, ``discharge_kw``, ``soc_kwh`` of shape ``(n_b, T)`` [kW, kWh];
        ``import_kw``, ``export_kw`` of shape ``(T,)`` [kW]; ``peak_kw`` a 0-d array [kW].
    """
    if x is None:
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    shape = (lay.n_b, lay.steps)
    return {
        "charge_kw": x[lay.charge : lay.charge + lay.nk].reshape(shape),
        "discharge_kw": x[lay.discharge : lay.discharge + lay.nk].reshape(shape),
        "soc_kwh": x[lay.soc : lay.soc + lay.nk].reshape(shape),
        "import_kw": x[lay.imp : lay.imp + lay.steps],
        "export_kw": x[lay.exp : lay.exp + lay.steps],
        "peak_kw": x[lay.peak : lay.peak + 1].reshape(()),
    }
