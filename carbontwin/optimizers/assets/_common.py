"""Shared parts of the asset blocks: validated arrays and the matrix block of one asset.

Every asset module (:mod:`~carbontwin.optimizers.assets.hvac`, ``ev``, ``shift``,
``flexible``, ``thermal``) declares its data as a frozen dataclass of numpy arrays, validated
against the problem's number of steps by ``validated(steps)``, and writes its part of the
model three times from the same formulation: as a :class:`Block` of columns and rows for
the vectorised matrix path, as Pyomo components for the reference, and as a check of a
solution's arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from carbontwin.core.errors import ValidationError
from carbontwin.optimizers.problem import _as_array, _check_range

__all__ = ["Block", "BlockBuilder", "Context", "as_index", "as_steps", "as_units", "pos"]

_Array = np.ndarray


def as_units(name: str, value: object, n: int) -> _Array:
    """Return ``value`` as a read-only float64 array of shape ``(n,)`` (scalars broadcast)."""
    shape = np.shape(value)
    if shape not in ((), (n,)):
        msg = f"{name} has shape {shape} but must be a scalar or ({n},), one value per unit"
        raise ValidationError(msg)
    return _as_array(name, value, (n,))


def as_steps(name: str, value: object, n: int, steps: int) -> _Array:
    """Return ``value`` as a read-only ``(n, steps)`` array.

    A scalar, one value per unit ``(n,)``, one value per step ``(steps,)`` or a full
    ``(n, steps)`` array are accepted (when ``n == steps`` a 1-d array is read per unit).
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        msg = f"{name}(={value!r}) must be numbers; pass a float or an array of floats"
        raise ValidationError(msg) from exc
    if arr.ndim == 1 and arr.shape == (n,):
        arr = np.repeat(arr[:, None], steps, axis=1)
    elif arr.ndim == 1 and arr.shape == (steps,):
        arr = np.tile(arr, (n, 1))
    elif arr.ndim and arr.shape != (n, steps):
        msg = (
            f"{name} has shape {arr.shape} but must be a scalar, ({n},) one per unit, "
            f"({steps},) one per step, or ({n}, {steps})"
        )
        raise ValidationError(msg)
    return _as_array(name, arr, (n, steps))


def as_index(name: str, value: object, n: int) -> np.ndarray:
    """Return ``value`` as an int64 array of shape ``(n,)`` of whole numbers."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,):
        msg = f"{name} has shape {arr.shape} but must have shape ({n},); one value per entry"
        raise ValidationError(msg)
    try:
        f = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        msg = f"{name}(={value!r}) must be whole numbers of steps"
        raise ValidationError(msg) from exc
    if not np.isfinite(f).all() or (f != np.round(f)).any():
        idx = int(np.flatnonzero(~np.isfinite(f) | (f != np.round(f)))[0])
        msg = f"{name}(={f[idx]}) at index {idx} must be a whole number of steps"
        raise ValidationError(msg)
    out = f.astype(np.int64)
    out.setflags(write=False)
    return out


def nonneg(name: str, arr: _Array, what: str = "a quantity") -> None:
    """Refuse negative entries of ``arr``, naming ``what`` cannot be negative."""
    _check_range(name, arr, lo=0.0, fix=f"; {what} cannot be negative")


def pos(x: np.ndarray | float) -> float:
    """Largest positive part of ``x`` (0 when none is positive or ``x`` is empty)."""
    arr = np.asarray(x, dtype=np.float64)
    return float(max(0.0, arr.max())) if arr.size else 0.0


@dataclass(frozen=True)
class Context:
    """What a block needs to know of the model around it.

    Parameters
    ----------
    steps : int
        Steps ``T`` [1].
    interval_h : float
        Step length ``dt`` [h].
    carbon_price_cny_per_tco2 : numpy.ndarray, shape (T,)
        Carbon price [CNY/tCO2].
    col0, row0 : int
        First column and first row of the block.
    cap_row : int or None
        The emissions-cap row (fuel emissions count against it), ``None`` without a cap.
    """

    steps: int
    interval_h: float
    carbon_price_cny_per_tco2: np.ndarray
    col0: int
    row0: int
    cap_row: int | None = None


@dataclass(eq=False)
class Block:
    """An asset's columns and rows in the matrix model.

    Coordinates are global: a block may put entries in the ``Park-balance`` rows ``0..T-1``
    (the asset's electric consumption with coefficient -1, generation +1) and in the cap row.

    Parameters
    ----------
    name : str
        The asset block's name (``"hvac"``, ``"ev"``, ...).
    col0, row0 : int
        First column and row.
    cols : dict of str to tuple of (int, tuple)
        Variable name to (offset from ``col0``, shape).
    rows : dict of str to tuple of (int, int)
        Constraint name to (offset from ``row0``, count).
    cost, col_lo, col_hi : numpy.ndarray
        Objective coefficients and bounds of the block's columns.
    integer : numpy.ndarray of bool
        Which columns are integer (binaries).
    row_lo, row_hi : numpy.ndarray
        Bounds of the block's rows.
    coo : tuple of numpy.ndarray
        ``(rows, cols, values)`` of the block's matrix entries.
    """

    name: str
    col0: int
    row0: int
    cols: dict[str, tuple[int, tuple[int, ...]]]
    rows: dict[str, tuple[int, int]]
    cost: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    coo: tuple[np.ndarray, np.ndarray, np.ndarray] = field(repr=False)

    @property
    def num_col(self) -> int:
        """Columns of the block [1]."""
        return int(self.cost.size)

    @property
    def num_row(self) -> int:
        """Rows of the block [1]."""
        return int(self.row_lo.size)

    def col(self, name: str) -> int:
        """First global column of variable ``name``."""
        return self.col0 + self.cols[name][0]

    def row(self, name: str) -> int:
        """First global row of constraint ``name``."""
        return self.row0 + self.rows[name][0]

    def values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Slice the block's variables out of the primal vector ``x`` (copies)."""
        out = {}
        for name, (off, shape) in self.cols.items():
            n = int(np.prod(shape))
            start = self.col0 + off
            out[name] = np.array(x[start : start + n]).reshape(shape)
        return out


class BlockBuilder:
    """Collects columns, rows and entries of one block with numpy index arithmetic."""

    def __init__(self, name: str, ctx: Context) -> None:
        self.name = name
        self.ctx = ctx
        self._cols: dict[str, tuple[int, tuple[int, ...]]] = {}
        self._rows: dict[str, tuple[int, int]] = {}
        self._cost: list[np.ndarray] = []
        self._lo: list[np.ndarray] = []
        self._hi: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self._rlo: list[np.ndarray] = []
        self._rhi: list[np.ndarray] = []
        self._r: list[np.ndarray] = []
        self._c: list[np.ndarray] = []
        self._v: list[np.ndarray] = []
        self._nc = 0
        self._nr = 0

    def var(
        self,
        name: str,
        shape: tuple[int, ...],
        lo: np.ndarray | float,
        hi: np.ndarray | float,
        cost: np.ndarray | float = 0.0,
        integer: bool = False,
    ) -> np.ndarray:
        """Add a variable block; return its global column indices, shaped ``shape``."""
        n = int(np.prod(shape))
        self._cols[name] = (self._nc, shape)
        self._cost.append(np.broadcast_to(np.asarray(cost, dtype=np.float64), shape).ravel())
        self._lo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), shape).ravel())
        self._hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), shape).ravel())
        self._int.append(np.full(n, integer))
        idx = self.ctx.col0 + self._nc + np.arange(n).reshape(shape)
        self._nc += n
        return idx

    def con(self, name: str, n: int, lo: np.ndarray | float, hi: np.ndarray | float) -> np.ndarray:
        """Add ``n`` rows; return their global indices."""
        self._rows[name] = (self._nr, n)
        self._rlo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (n,)).ravel())
        self._rhi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (n,)).ravel())
        idx = self.ctx.row0 + self._nr + np.arange(n)
        self._nr += n
        return idx

    def entries(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray | float) -> None:
        """Add matrix entries (arrays broadcast together)."""
        r, c, v = np.broadcast_arrays(np.asarray(rows), np.asarray(cols), np.asarray(vals, float))
        self._r.append(r.ravel().astype(np.int64))
        self._c.append(c.ravel().astype(np.int64))
        self._v.append(v.ravel().astype(np.float64))

    def build(self) -> Block:
        """Return the :class:`Block`."""

        def cat(parts: list[np.ndarray], dtype: type = np.float64) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        return Block(
            name=self.name,
            col0=self.ctx.col0,
            row0=self.ctx.row0,
            cols=self._cols,
            rows=self._rows,
            cost=cat(self._cost),
            col_lo=cat(self._lo),
            col_hi=np.minimum(cat(self._hi), 1e30),
            integer=cat(self._int, bool),
            row_lo=np.maximum(cat(self._rlo), -1e30),
            row_hi=np.minimum(cat(self._rhi), 1e30),
            coo=(cat(self._r, np.int64), cat(self._c, np.int64), cat(self._v)),
        )


def required_within(
    need: np.ndarray, rate_max: np.ndarray, start: np.ndarray, end: np.ndarray, steps: int
) -> np.ndarray:
    """Least energy that must be delivered within the horizon so ``need`` is still reachable.

    ``rate_max`` [kWh per step] can be delivered at each step of ``[max(start, T), end)``
    after the horizon; a need due within the horizon (``end <= T``) is all required.
    """
    after = np.maximum(0, end - np.maximum(start, steps))
    return np.maximum(0.0, need - rate_max * after)


def pyomo_grid(var: Any, n: int, steps: int) -> np.ndarray:
    """Values of a Pyomo variable indexed ``(i, t)`` as an ``(n, steps)`` array."""
    out = np.zeros((n, steps))
    for (i, t), v in var.items():
        out[i, t] = v.value if v.value is not None else 0.0
    return out


def pyomo_series(var: Any, n: int) -> np.ndarray:
    """Values of a Pyomo variable indexed ``i`` as an ``(n,)`` array."""
    out = np.zeros(n)
    for i, v in var.items():
        out[i] = v.value if v.value is not None else 0.0
    return out
